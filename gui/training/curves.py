"""Live training curves: loss per batch (raw and smoothed) with per-epoch train and
validation points, the task's metric, and the learning rate.

The x axis is in epochs (batch b of B in epoch e sits at e - 1 + b / B), so batch and
epoch values line up and runs of different lengths compare. Points arrive through
`add` at most ~30 times a second; redraws are spaced further apart when drawing gets
expensive, and every batch series is a `PeakSeries`, so 10⁶ points stay fluid.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QTimer, Slot
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from gui.training import plot_style as style
from gui.training.decimate import PeakSeries
from gui.training.records import Progress, RunStarted

MIN_REDRAW_S = 1 / 30
REDRAW_COST_FACTOR = 3.0  # wait at least 3× the last redraw's cost before the next one
LOG_FLOOR = 1e-12  # log scale cannot show 0: such values are drawn at this floor


def _finite(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keep = np.isfinite(y)
    return (x, y) if keep.all() else (x[keep], y[keep])


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


def _metric_title(metric: str) -> str:
    return metric.replace("_", " ").capitalize()


class LiveCurves(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.metric = "metric"
        self.batches = 1
        self.smoother = Smoother(5)
        self.series: dict[str, PeakSeries] = {}
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.last_redraw_cost = 0.0
        self._next_redraw = 0.0
        self._redraw_timer = QTimer(self)
        self._redraw_timer.setSingleShot(True)
        self._redraw_timer.timeout.connect(self.redraw)

        self.readout = QLabel("Move the pointer over a plot to read its values.")
        self.readout.setObjectName("curveReadout")
        self.log_scale = QCheckBox("Log scale")
        self.log_scale.setToolTip("Show loss and learning rate on a logarithmic axis")
        self.log_scale.toggled.connect(self.set_log_scale)
        header = QHBoxLayout()
        header.addWidget(self.readout, 1)
        header.addWidget(self.log_scale)

        self.plot_row = QHBoxLayout()
        self.plot_row.setSpacing(6)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 6)
        layout.addLayout(header)
        layout.addLayout(self.plot_row, 1)
        self.series = {name: PeakSeries() for name in CURVES}
        self.plots: tuple[pg.PlotWidget, ...] = ()
        self.crosshairs: list[pg.InfiniteLine] = []

    def ensure_plots(self) -> None:
        """Make the plots (when first seen or first needed: a window that never trains
        does not pay ~50 ms for them) and draw what is there."""
        if not self.plots:
            self._build_plots()
            self.redraw()

    def _build_plots(self) -> None:
        self.loss_plot = style.styled_plot("Loss", bottom="epoch")
        self.metric_plot = style.styled_plot(_metric_title(self.metric), bottom="epoch")
        self.lr_plot = style.styled_plot("Learning rate", bottom="epoch")
        self.plots = (self.loss_plot, self.metric_plot, self.lr_plot)
        for plot in self.plots[1:]:
            plot.setXLink(self.loss_plot)
        for plot in self.plots:
            plot.getPlotItem().setDownsampling(auto=True, mode="peak")
            plot.getPlotItem().setClipToView(True)
        self._add_curves()
        for plot in self.plots:
            line = pg.InfiniteLine(angle=90, movable=False, pen=style.pen(style.CROSSHAIR, 1))
            line.hide()
            plot.addItem(line, ignoreBounds=True)
            self.crosshairs.append(line)
            plot.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.loss_plot.getViewBox().sigXRangeChanged.connect(self._on_range_changed)
        self.plot_row.addWidget(self.loss_plot, 2)
        self.plot_row.addWidget(self.metric_plot, 1)
        self.plot_row.addWidget(self.lr_plot, 1)
        self.set_log_scale(self.log_scale.isChecked())

    def _add_curves(self) -> None:
        for plot, corner in ((self.loss_plot, (-8, 8)), (self.metric_plot, (-8, -8))):
            plot.addLegend(
                offset=corner, brush=style.brush(style.BACKGROUND, 200), labelTextColor="#c9ced6"
            )
        c = self.curves
        c["batch_loss"] = style.fast_curve(self.loss_plot, style.TRAIN, 1, 90, "batch loss")
        c["smooth_loss"] = style.fast_curve(self.loss_plot, style.TRAIN_SMOOTH, 2, 255, "smoothed")
        c["train_loss"] = style.epoch_points(self.loss_plot, style.TRAIN, "train (epoch)", False)
        c["val_loss"] = style.epoch_points(self.loss_plot, style.VAL, "validation")
        c["batch_metric"] = style.fast_curve(self.metric_plot, style.METRIC_TRAIN, 1, 110)
        c["train_metric"] = style.epoch_points(self.metric_plot, style.METRIC_TRAIN, "train")
        c["val_metric"] = style.epoch_points(self.metric_plot, style.VAL, "validation")
        c["lr"] = style.fast_curve(self.lr_plot, style.LR, 1.5)

    # --------------------------------------------------------------- data

    @property
    def batch_count(self) -> int:
        return len(self.series["batch_loss"])

    @property
    def epoch_count(self) -> int:
        return len(self.series["train_loss"])

    def reset(self, started: RunStarted | None = None) -> None:
        self.series = {name: PeakSeries() for name in CURVES}
        self.metric = started.metric if started else "metric"
        self.batches = started.batches if started else 1
        self.smoother = Smoother(min(max(self.batches / 4, 5), 100))
        if self.plots:
            self.metric_plot.getPlotItem().setTitle(
                _metric_title(self.metric), color="#e3e6eb", size="9.5pt"
            )
        for plot in self.plots:
            plot.getPlotItem().enableAutoRange()
        if self.plots:
            self.lr_plot.getViewBox().enableAutoRange(y=self.log_scale.isChecked())
        for line in self.crosshairs:
            line.hide()
        self.redraw()

    @Slot(object)
    def add(self, progress: Progress) -> None:
        if progress.batches:
            self._add_batches(progress)
        for event in progress.epochs:
            x = np.array([float(event.epoch)])
            self._extend("train_loss", x, [event.train.loss], floor=True)
            self._extend("train_metric", x, [event.train.metrics.get(self.metric, math.nan)])
            if event.val is not None:
                self._extend("val_loss", x, [event.val.loss], floor=True)
                self._extend("val_metric", x, [event.val.metrics.get(self.metric, math.nan)])
        self.request_redraw()

    def _add_batches(self, progress: Progress) -> None:
        events = progress.batches
        x = np.array([e.epoch - 1 + e.batch / e.batches for e in events])
        loss = np.array([e.loss for e in events])
        x_loss, loss = _finite(x, loss)
        self._extend("batch_loss", x_loss, loss, floor=True)
        self._extend("smooth_loss", x_loss, self.smoother.smooth(loss), floor=True)
        metric = np.array([e.metrics.get(self.metric, math.nan) for e in events])
        self._extend("batch_metric", x, metric)
        self._extend("lr", x, np.array([e.lr for e in events]), floor=True)

    def _extend(self, name: str, x, y, floor: bool = False) -> None:
        x, y = _finite(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
        if floor:  # values shown on a log axis must stay > 0
            y = np.maximum(y, LOG_FLOOR)
        self.series[name].extend(x, y)

    # ------------------------------------------------------------ drawing

    def request_redraw(self) -> None:
        if self._redraw_timer.isActive():
            return
        wait = max(0.0, self._next_redraw - time.perf_counter())
        self._redraw_timer.start(int(wait * 1000))

    @Slot()
    def redraw(self) -> None:
        if not self.plots:
            return  # drawn when first shown
        began = time.perf_counter()
        view = self.loss_plot.getViewBox()
        x0 = x1 = None
        if not view.autoRangeEnabled()[0]:  # zoomed by hand: draw the range in detail
            x0, x1 = view.viewRange()[0]
        for name, curve in self.curves.items():
            curve.setData(*self.series[name].view(x0, x1))
        self._fit_lr_range()
        ended = time.perf_counter()
        self.last_redraw_cost = ended - began
        self._next_redraw = ended + max(MIN_REDRAW_S, REDRAW_COST_FACTOR * self.last_redraw_cost)

    def _fit_lr_range(self) -> None:
        # On a linear axis the rate shows from 0 up: a constant rate then reads as a
        # level (automatic ranging would centre it in a ±0.5 window around itself).
        if self.log_scale.isChecked() or not self.plots:
            return
        top = self.series["lr"].maximum()
        if top:
            self.lr_plot.getViewBox().setYRange(0.0, top * 1.15, padding=0)

    @Slot(object, object)
    def _on_range_changed(self, _view: object, _range: object) -> None:
        if not self.loss_plot.getViewBox().autoRangeEnabled()[0]:
            self.request_redraw()

    @Slot(bool)
    def set_log_scale(self, on: bool) -> None:
        if not self.plots:
            return
        self.loss_plot.getPlotItem().setLogMode(y=on)
        self.lr_plot.getPlotItem().setLogMode(y=on)
        self.lr_plot.getViewBox().enableAutoRange(y=on)
        self._fit_lr_range()

    # ---------------------------------------------------------- crosshair

    @Slot(object)
    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        # Each PlotWidget has its own scene: find the plot whose view holds the pointer.
        for plot in self.plots:
            view = plot.getPlotItem().vb
            if view.scene() is self.sender() and view.sceneBoundingRect().contains(scene_pos):
                self.show_readout(view.mapSceneToView(scene_pos).x())
                return

    def show_readout(self, x: float) -> None:
        """Put the crosshair at epoch position `x` and read every series there."""
        for line in self.crosshairs:
            line.setPos(x)
            line.show()
        parts = [f"epoch {x:.2f}"]
        shown = (
            ("batch_loss", "batch loss"),
            ("smooth_loss", "smoothed"),
            ("val_loss", "val loss"),
            ("val_metric", f"val {self.metric}"),
            ("lr", "lr"),
        )
        for name, label in shown:
            point = self.series[name].nearest(x)
            if point is not None:
                parts.append(f"{label} {point[1]:.4g}")
        self.readout.setText("  ·  ".join(parts))

    def leaveEvent(self, event) -> None:  # noqa: N802 (Qt override)
        for line in self.crosshairs:
            line.hide()
        super().leaveEvent(event)
