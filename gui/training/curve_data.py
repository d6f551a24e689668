"""The numbers behind the live curves, apart from drawing them: where a point sits on
the epoch axis (batch b of B in epoch e at e - 1 + b / B), the x range a whole run
needs, the smoothed loss, and which series each of the three plots draws.

Qt-free: imports numpy and the runs history's records only (gui.training.curves draws).
"""

from __future__ import annotations

import numpy as np

from engine.history.runs import EpochRecord

# Room after the last epoch, so its point shows whole: a share of the run, at least this.
X_MARGIN_SHARE = 0.04
X_MARGIN_MIN = 0.25


def x_range(epochs: int) -> tuple[float, float]:
    """The x range that shows a whole run of `epochs`, with a margin after the last."""
    return 0.0, epochs + max(X_MARGIN_MIN, X_MARGIN_SHARE * epochs)


def finite_points(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The points whose value is a finite number (a diverged loss is not drawn)."""
    keep = np.isfinite(y)
    return (x, y) if keep.all() else (x[keep], y[keep])


def batch_positions(rows: list[EpochRecord]) -> tuple[np.ndarray, np.ndarray]:
    """Where a recorded run's batch losses sit on the epoch axis, and the losses."""
    x: list[float] = []
    y: list[float] = []
    for row in sorted((r for r in rows if r.batch_losses), key=lambda r: r.epoch):
        count = max(row.batches, len(row.batch_losses))
        x.extend(row.epoch - 1 + (b + 1) / count for b in range(len(row.batch_losses)))
        y.extend(row.batch_losses)
    return np.asarray(x, dtype=float), np.asarray(y, dtype=float)


class Smoother:
    """An exponential moving average, corrected for its start at zero (as Adam does)."""

    def __init__(self, span: float) -> None:
        self.decay = 1.0 - 1.0 / max(span, 1.0)
        self.average = 0.0
        self.weight = 0.0

    def smooth(self, values: np.ndarray) -> np.ndarray:
        out = np.empty(len(values))
        average, weight, decay = self.average, self.weight, self.decay
        for i, value in enumerate(values):
            average = decay * average + (1 - decay) * value
            weight = decay * weight + (1 - decay)
            out[i] = average / weight
        self.average, self.weight = average, weight
        return out


# Every series drawn, by name (each a PeakSeries and, once plots exist, a curve).
CURVES = (
    "batch_loss",
    "smooth_loss",
    "train_loss",
    "val_loss",
    "batch_metric",
    "train_metric",
    "val_metric",
    "lr",
)


LOSS_CURVES = ("batch_loss", "smooth_loss", "train_loss", "val_loss")
METRIC_CURVES = ("batch_metric", "train_metric", "val_metric")
LR_CURVES = ("lr",)
GROUPS = (LOSS_CURVES, METRIC_CURVES, LR_CURVES)  # one plot each, one plot per redraw
