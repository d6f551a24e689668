"""Axis ranges for live curves that change only when they must.

pyqtgraph's automatic range follows the data on every update, and every change of
range makes it lay out that axis again: 11 ms to repaint the three live plots instead
of 3 ms with ranges that hold still (bench/gui_responsiveness.py). A sticky range
holds until the data leaves it or fills less than a third of it, and then leaves
headroom, so a run changes its ranges a handful of times rather than every update.
"""

from __future__ import annotations

import math

HEADROOM = 0.2  # of the data's span, left free when a range is refitted
SNUG = 1 / 3  # refit when the data fills less than this share of the range


def sticky_range(
    current: tuple[float, float], low: float, high: float, log: bool = False
) -> tuple[float, float] | None:
    """A new y range for data in [low, high], or None to keep `current`.

    On a linear axis data that is ≥ 0 is shown from 0, so a constant reads as a level
    and a falling loss as a fall. On a log axis `current` is in decades (log10), as
    pyqtgraph's view ranges are, and the data must be > 0.
    """
    if log:
        low, high = math.log10(low), math.log10(high)
        span = max(high - low, 0.5)  # at least half a decade
        wanted = (low - HEADROOM * span, high + HEADROOM * span)
        shown_low = low
    else:
        shown_low = min(low, 0.0)
        span = (high - shown_low) or abs(high) or 1.0
        below = HEADROOM * span if shown_low < 0 else 0.0
        wanted = (shown_low - below, high + HEADROOM * span)
    bottom, top = current
    inside = bottom <= shown_low and high <= top
    snug = (high - shown_low) >= SNUG * (top - bottom)
    return None if inside and snug else wanted
