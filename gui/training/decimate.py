"""A growing series of points that stays cheap to draw at millions of points.

pyqtgraph's own peak downsampling walks every point on every update (~100 ms at 10⁶
points); a live curve redrawn 30 times a second cannot afford that. `PeakSeries` keeps
every point and, beside them, the minimum and maximum of each bucket of `bucket`
consecutive points, updated only for the points that arrive. A full view draws the
envelope (≤ 2 × max_buckets points, spikes kept); a zoomed view draws the raw points
in range, thinned the same way when there are still too many. Pure numpy.
"""

from __future__ import annotations

import numpy as np

INITIAL_CAPACITY = 1024


class _Growing:
    """A float64 array that doubles its capacity as values are appended."""

    def __init__(self) -> None:
        self.data = np.empty(INITIAL_CAPACITY)
        self.size = 0

    def extend(self, values: np.ndarray) -> None:
        needed = self.size + len(values)
        if needed > len(self.data):
            grown = np.empty(max(needed, 2 * len(self.data)))
            grown[: self.size] = self.data[: self.size]
            self.data = grown
        self.data[self.size : needed] = values
        self.size = needed

    def replace(self, values: np.ndarray) -> None:
        self.size = 0
        self.extend(values)

    @property
    def values(self) -> np.ndarray:
        return self.data[: self.size]


def peak_thin(x: np.ndarray, y: np.ndarray, max_points: int) -> tuple[np.ndarray, np.ndarray]:
    """At most ~max_points points: each run of `step` points becomes its max and its min."""
    step = int(np.ceil(2 * len(x) / max_points)) if len(x) > max_points else 1
    if step <= 1:
        return x, y
    buckets = len(x) // step
    body = y[: buckets * step].reshape(buckets, step)
    xs = np.repeat(x[step // 2 : buckets * step : step], 2)
    ys = np.empty(2 * buckets)
    ys[0::2] = body.max(axis=1)
    ys[1::2] = body.min(axis=1)
    return np.concatenate([xs, x[buckets * step :]]), np.concatenate([ys, y[buckets * step :]])


class PeakSeries:
    """Points with increasing x, plus a min/max envelope of fixed-size buckets."""

    def __init__(self, max_buckets: int = 1024) -> None:
        self.max_buckets = max_buckets
        self.x = _Growing()
        self.y = _Growing()
        self.bucket = 1  # points per envelope bucket; doubles as the series grows
        self.env_x = _Growing()
        self.env_lo = _Growing()
        self.env_hi = _Growing()
        self.covered = 0  # points summarised by complete buckets

    def __len__(self) -> int:
        return self.x.size

    def extend(self, x: np.ndarray, y: np.ndarray) -> None:
        """Append points (x must keep increasing; NaN must already be filtered out)."""
        if len(x) == 0:
            return
        self.x.extend(np.asarray(x, dtype=float))
        self.y.extend(np.asarray(y, dtype=float))
        self._summarise()

    def _summarise(self) -> None:
        size = self.bucket
        complete = (self.x.size - self.covered) // size
        if complete:
            end = self.covered + complete * size
            ys = self.y.values[self.covered : end].reshape(complete, size)
            self.env_x.extend(self.x.values[self.covered + size // 2 : end : size])
            self.env_lo.extend(ys.min(axis=1))
            self.env_hi.extend(ys.max(axis=1))
            self.covered = end
        while self.env_x.size > self.max_buckets:
            self._coarsen()

    def _coarsen(self) -> None:
        """Merge buckets pairwise: the envelope halves, each bucket doubles."""
        pairs = self.env_x.size // 2
        lo, hi = self.env_lo.values, self.env_hi.values
        merged_lo = np.minimum(lo[0 : 2 * pairs : 2], lo[1 : 2 * pairs : 2])
        merged_hi = np.maximum(hi[0 : 2 * pairs : 2], hi[1 : 2 * pairs : 2])
        self.bucket *= 2
        self.covered = pairs * self.bucket
        centres = self.x.values[self.bucket // 2 : self.covered : self.bucket]
        self.env_x.replace(centres)
        self.env_lo.replace(merged_lo)
        self.env_hi.replace(merged_hi)
        self._summarise()  # the odd bucket left over is raw tail again

    def view(
        self, x0: float | None = None, x1: float | None = None, max_points: int = 4096
    ) -> tuple[np.ndarray, np.ndarray]:
        """Points to draw for the x range [x0, x1] (None: everything), spikes kept."""
        x, y = self.x.values, self.y.values
        i0 = 0 if x0 is None else max(int(np.searchsorted(x, x0)) - 1, 0)
        i1 = len(x) if x1 is None else min(int(np.searchsorted(x, x1)) + 1, len(x))
        if i1 - i0 <= max_points:
            return x[i0:i1], y[i0:i1]
        # Wide enough that the envelope holds enough buckets (≥ half of all it keeps, or
        # a quarter of max_points): draw those; narrower views thin the raw points.
        if (i1 - i0) // self.bucket >= min(max_points // 4, self.max_buckets // 2):
            return self._envelope_view(i0, i1)
        return peak_thin(x[i0:i1], y[i0:i1], max_points)

    def _envelope_view(self, i0: int, i1: int) -> tuple[np.ndarray, np.ndarray]:
        b0, b1 = i0 // self.bucket, min(i1 // self.bucket + 1, self.env_x.size)
        xs = np.repeat(self.env_x.values[b0:b1], 2)
        ys = np.empty(2 * (b1 - b0))
        ys[0::2] = self.env_hi.values[b0:b1]
        ys[1::2] = self.env_lo.values[b0:b1]
        tail = slice(max(self.covered, i0), i1)
        return (
            np.concatenate([xs, self.x.values[tail]]),
            np.concatenate([ys, self.y.values[tail]]),
        )

    def nearest(self, at: float) -> tuple[float, float] | None:
        """The point whose x is closest to `at` (for a crosshair read-out)."""
        x = self.x.values
        if not len(x):
            return None
        i = int(np.searchsorted(x, at))
        if i > 0 and (i == len(x) or at - x[i - 1] <= x[i] - at):
            i -= 1
        return float(x[i]), float(self.y.values[i])

    def maximum(self) -> float | None:
        """The largest y, read from the envelope and the raw tail (not every point)."""
        if not len(self):
            return None
        tail = self.y.values[self.covered :]
        parts = [self.env_hi.values.max(initial=-np.inf), tail.max(initial=-np.inf)]
        return float(max(parts))

    def minimum(self) -> float | None:
        if not len(self):
            return None
        tail = self.y.values[self.covered :]
        parts = [self.env_lo.values.min(initial=np.inf), tail.min(initial=np.inf)]
        return float(min(parts))

    @property
    def last(self) -> float | None:
        return float(self.y.values[-1]) if len(self) else None
