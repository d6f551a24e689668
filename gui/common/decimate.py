"""A growing series of points that stays cheap to draw at millions of points.

pyqtgraph's own peak downsampling walks every point on every update (~100 ms at 10⁶
points); a live curve redrawn 10 times a second cannot afford that. `PeakSeries`
keeps every point and, beside them, a pyramid of minima and maxima: level k holds the
min and max of each run of 8 × 2^k consecutive points, updated only for the points that
arrive (appending costs O(new points), whatever the length). A view of any x range
asks for at most `max_points` points (two per pixel column is all a screen shows):
it reads the level whose buckets are just finer than that, so a view costs
O(max_points), never O(points in range), and a spike is never thinned away. Pure numpy.
"""

from __future__ import annotations

import math

import numpy as np

INITIAL_CAPACITY = 1024
# The finest level's buckets: finer ones would cost more to keep up (a few numpy calls
# per level per append) than a view saves by reading them instead of ≤ 8 × its points.
BASE_BUCKET = 8


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


class PeakSeries:
    """Points with increasing x, plus min/max over buckets of 8, 16, 32, … points."""

    def __init__(self, max_buckets: int = 1024) -> None:
        self.max_buckets = max_buckets  # a full `view()` draws ≤ 2 × this many points (+4)
        self.x = _Growing()
        self.y = _Growing()
        # levels[k]: (minima, maxima) of buckets of BASE_BUCKET × 2^k points (complete ones)
        self.levels: list[tuple[_Growing, _Growing]] = []
        self.low = math.inf
        self.high = -math.inf

    def __len__(self) -> int:
        return self.x.size

    @property
    def bucket(self) -> int:
        """Points per min/max pair in a full view with the default number of points."""
        size = 1
        while math.ceil(len(self) / size) > self.max_buckets:
            size *= 2
        return size

    def extend(self, x: np.ndarray, y: np.ndarray) -> None:
        """Append points (x must keep increasing; NaN must already be filtered out)."""
        if len(x) == 0:
            return
        y = np.asarray(y, dtype=float)
        self.x.extend(np.asarray(x, dtype=float))
        self.y.extend(y)
        self.low = min(self.low, float(y.min()))
        self.high = max(self.high, float(y.max()))
        below_lo = below_hi = self.y.values
        level, merge = 0, BASE_BUCKET
        while len(below_lo) >= merge:
            if level == len(self.levels):
                self.levels.append((_Growing(), _Growing()))
            lo, hi = self.levels[level]
            complete = len(below_lo) // merge
            if complete == lo.size:
                break  # no bucket completed here, so none above either
            new = slice(merge * lo.size, merge * complete)
            lo.extend(below_lo[new].reshape(-1, merge).min(axis=1))
            hi.extend(below_hi[new].reshape(-1, merge).max(axis=1))
            below_lo, below_hi = lo.values, hi.values
            level, merge = level + 1, 2

    def view(
        self, x0: float | None = None, x1: float | None = None, max_points: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """At most ~max_points points (default 2 × max_buckets) to draw the x range
        [x0, x1] (None: everything): the points themselves when they are few enough,
        else a max and a min per bucket, spikes kept."""
        max_points = max(4, max_points or 2 * self.max_buckets)
        x, y = self.x.values, self.y.values
        i0 = 0 if x0 is None else max(int(np.searchsorted(x, x0)) - 1, 0)
        i1 = len(x) if x1 is None else min(int(np.searchsorted(x, x1)) + 1, len(x))
        if i1 - i0 <= max_points:
            return x[i0:i1], y[i0:i1]
        pairs = max_points // 2 - 1  # one pair is kept for the points past the last bucket
        finest = int(math.log2((i1 - i0) / pairs))  # buckets of 2^finest points fit
        level = min(finest - BASE_BUCKET.bit_length() + 1, len(self.levels) - 1)
        if level < 0:  # few enough points to read them all (< 16 × max_points)
            size, lo, hi = 1, y, y
        else:
            size = BASE_BUCKET * 2**level
            lo, hi = self.levels[level][0].values, self.levels[level][1].values
        b0, b1 = i0 // size, min(-(-i1 // size), len(lo))
        group = -(-(b1 - b0) // pairs)  # buckets of this level per pair drawn (1-2; raw ≤ 16)
        lows, highs, starts = [], [], []
        whole = (b1 - b0) // group * group
        if whole:
            lows.append(lo[b0 : b0 + whole].reshape(-1, group).min(axis=1))
            highs.append(hi[b0 : b0 + whole].reshape(-1, group).max(axis=1))
            starts.append(np.arange(b0, b0 + whole, group) * size)
        for first, last in ((b0 + whole, b1), (b1, None)):  # leftover buckets, raw tail
            begin, end = first * size, i1 if last is None else last * size
            if begin < end:
                lows.append(y[begin:end].min(keepdims=True))
                highs.append(y[begin:end].max(keepdims=True))
                starts.append(np.array([begin]))
        span = group * size
        centres = np.minimum(np.concatenate(starts) + span // 2, i1 - 1)
        xs = np.repeat(x[centres], 2)
        ys = np.empty(len(xs))
        ys[0::2] = np.concatenate(highs)
        ys[1::2] = np.concatenate(lows)
        return xs, ys

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
        return self.high if len(self) else None

    def minimum(self) -> float | None:
        return self.low if len(self) else None

    @property
    def last(self) -> float | None:
        return float(self.y.values[-1]) if len(self) else None
