"""Histograms with a bounded number of bins: numpy only, so a window that never imports
torch can hold and draw what a trainer process measured."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BINS = 40


@dataclass(frozen=True)
class Histogram:
    counts: np.ndarray  # (bins,) int64
    edges: np.ndarray  # (bins + 1,) float64


def histogram(values: np.ndarray, bins: int = BINS) -> Histogram:
    """The finite values' distribution over `bins` equal bins from their min to their max."""
    finite = values[np.isfinite(values)].astype(np.float64).ravel()
    if finite.size == 0:
        return Histogram(np.zeros(bins, dtype=np.int64), np.linspace(0.0, 1.0, bins + 1))
    low, high = float(finite.min()), float(finite.max())
    if low == high:  # one value everywhere: a bin around it
        low, high = low - 0.5, high + 0.5
    counts, edges = np.histogram(finite, bins=bins, range=(low, high))
    return Histogram(counts.astype(np.int64), edges)
