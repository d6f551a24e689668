"""The values a runs database stores, packed and checked as they are read back.

Every column read from disk may hold something other than what was written (a damaged
file, another program's edits): each check here raises `Damaged` saying what the column
holds instead, in words ("a JSON list, not a JSON object"), which the runs history turns
into one line naming the run and the column. Plain Python: no sqlite3, no Qt.
"""

from __future__ import annotations

import json
import math
import sys
from array import array
from collections.abc import Sequence
from typing import Any

LOSS_BYTES = 4  # one float32 per batch in a batch_losses blob
MESSAGE_CHARS = 200  # of SQLite's own words quoted in a RunStoreError


class Damaged(ValueError):
    """One stored value is not what was written: says which and how."""


def pack(losses: Sequence[float]) -> bytes:
    packed = array("f", losses)
    if sys.byteorder != "little":
        packed.byteswap()
    return packed.tobytes()


def unpack(blob: object) -> tuple[float, ...]:
    if not isinstance(blob, bytes):
        raise Damaged(f"not bytes but {kind(blob)}")
    if len(blob) % LOSS_BYTES:
        raise Damaged(f"{len(blob)} bytes, not a whole number of {LOSS_BYTES}-byte losses")
    packed = array("f")
    packed.frombytes(blob)
    if sys.byteorder != "little":
        packed.byteswap()
    return tuple(packed)


def kind(value: object) -> str:
    """What a stored value is, in words: "a number", "text", "a JSON list"."""
    kinds = {str: "text", bytes: "bytes", type(None): "nothing", int: "a number"}
    kinds |= {float: "a number", bool: "true/false", list: "a JSON list", dict: "a JSON object"}
    return kinds.get(type(value), type(value).__name__)


def shown(value: object) -> str:
    """A damaged scalar as a message shows it: a number or short text as it is, else
    what it is."""
    if isinstance(value, (int, float, str)) and not isinstance(value, bool):
        return f"{value!r:.40}"
    return kind(value)


def json_object(text: object) -> dict[str, Any]:
    """A stored JSON object, or Damaged saying what the column holds instead."""
    if not isinstance(text, str):
        raise Damaged(f"not text but {kind(text)}")
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as err:
        raise Damaged(f"not JSON: {err}") from None
    if not isinstance(value, dict):
        raise Damaged(f"{kind(value)}, not a JSON object")
    return value


def metric_values(text: object) -> dict[str, float]:
    metrics = json_object(text)
    for name, value in metrics.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise Damaged(f"{name!r} is {kind(value)}, not a number")
    return metrics


def is_seconds(value: object, latest: float = math.inf) -> bool:
    real = isinstance(value, (int, float)) and not isinstance(value, bool)
    return real and math.isfinite(value) and 0 <= value <= latest  # type: ignore[operator]


def one_line(text: str, most: int = MESSAGE_CHARS) -> str:
    """SQLite's message about a damaged schema quotes the schema's SQL, lines and all."""
    flat = " ".join(text.split())
    return flat if len(flat) <= most else flat[: most - 1] + "…"


def decode_text(data: bytes) -> str:
    # Damaged bytes in a text column read as U+FFFD: the column's own check names them.
    return data.decode("utf-8", errors="replace")
