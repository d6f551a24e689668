"""How Try a sample fits the space it has: the width a layout gives a widget when it
has room, and the probability chart's gist as one line of text."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtWidgets import QWidget


def natural_width(widget: QWidget) -> int:
    """The width a layout gives `widget` when it has room: its hint within its limits."""
    return (
        widget.sizeHint().boundedTo(widget.maximumSize()).expandedTo(widget.minimumSize()).width()
    )


def likeliest(
    scores: np.ndarray, name: Callable[[int], str], fits: Callable[[str], bool], count: int = 3
) -> str:
    """The classes the model finds likeliest, in words: "down 35% · up 27% · left 20%";
    at least one, and no more than `fits` one line."""
    line = ""
    for k in np.argsort(scores)[::-1][:count]:
        longer = f"{line} · " if line else ""
        longer += f"{name(int(k))} {scores[k]:.0%}"
        if line and not fits(longer):
            break
        line = longer
    return line
