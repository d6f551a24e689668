"""Argument types the commands share: parsed by argparse, refused in its one-line form
(`argument --epochs: expected an integer ≥ 1, got 0`)."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def integer_at_least(low: int) -> Callable[[str], int]:
    """An argparse `type` taking a whole number ≥ `low`."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer ≥ {low}, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"expected an integer ≥ {low}, got {value}")
        return value

    return parse
