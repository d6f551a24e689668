"""Live training curves: loss per batch (raw and smoothed) with per-epoch train and
validation points, the task's metric, and the learning rate.

The x axis is in epochs (batch b of B in epoch e sits at e - 1 + b / B), so batch and
epoch values line up and runs of different lengths compare. Points arrive through
`add` at most 5 times a second; each plot redraws at its own pace (REDRAW_EVERY_S),
further apart when drawing gets expensive, and every batch series is a `PeakSeries`,
so 10⁶ points stay fluid.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QSize, Qt, QTimer, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QGraphicsItem,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from engine.history.runs import EpochRecord
from gui.common import plot_style as style
from gui.common.decimate import PeakSeries
from gui.common.ranges import sticky_range
from gui.run.records import Progress, RunStarted
from gui.training.curve_data import (
    CURVES,
    GROUPS,
    LOSS_CURVES,
    LR_CURVES,
    METRIC_CURVES,
    Smoother,
    batch_positions,
    finite_points,
    x_range,
)

# A redraw repaints one plot (1-3 ms of the GUI thread each), at most one per progress
# bundle (5 a second, gui.run.throttle) and in the same turn of the event loop: a
# redraw of its own wakes the GUI thread once more, and each wake-up preempts one of
# torch's threads while the other waits for it at their next barrier. Each plot is
# redrawn as often as its curves are worth watching: the loss every bundle, the metric
# every third, the learning rate (a schedule's slow steps) every fifth. Redrawn 10 times
# a second on a timer of their own (loss 5, metric and rate 2.5 each), the curves took
# 2.0% of a core over a cnn_lstm_video run. At 20 a second, a timer due during a redraw
# came late.
MIN_REDRAW_S = 0.1
# A plot due this soon is drawn with the bundle that has just come (bundles arrive a
# little early or late); one that is due later waits for a later bundle, or if none
# comes (the run paused or ended) for its timer, this long after it fell due.
ARRIVAL_SLACK_S = 0.05
NO_BUNDLE_WAIT_S = 0.3
REDRAW_COST_FACTOR = 3.0  # wait at least 3× the last redraw's cost before the next one
LOG_FLOOR = 1e-12  # log scale cannot show 0: such values are drawn at this floor
READOUT_HINT = "Move the pointer over a plot to read its values."
REDRAW_EVERY_S = {LOSS_CURVES: 0.2, METRIC_CURVES: 0.6, LR_CURVES: 1.0}


NOTE_COLOUR = style.VAL  # a note beside the loss plot's title (a paused run) stands out


class LiveCurves(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.metric_name = "metric"
        self.batches = 1
        self.epochs = 1
        self.fitted = True  # ranges follow the run until the user zooms or pans
        self.note = ""  # said beside the loss plot's title: "Paused — press Resume …"
        self._due = dict.fromkeys(GROUPS, 0.0)  # each plot's next redraw, at the earliest
        self._plain = False  # pyqtgraph's own thinning turned off (_plain_curves)
        self._stale: set[tuple[str, ...]] = set()  # curve groups with points not drawn
        # What each curve was last drawn from (points held, view, resolution): a series
        # that has not changed is not handed to pyqtgraph again. The per-epoch points'
        # symbols are rebuilt on every setData (~1 ms a plot) but change once an epoch.
        self._drawn: dict[str, tuple] = {}
        self.smoother = Smoother(5)
        self.series: dict[str, PeakSeries] = {}
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.last_redraw_cost = 0.0
        self._next_redraw = 0.0
        self._redraw_timer = QTimer(self)
        self._redraw_timer.setSingleShot(True)
        self._redraw_timer.timeout.connect(self.redraw)

        # The read-out has a place of its own that no text can widen: a long read-out
        # is elided, never pushes Log scale and Fit (or the dock's buttons) away.
        self.readout = QLabel(READOUT_HINT)
        self.readout.setObjectName("curveReadout")
        self.readout.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.readout.setMinimumWidth(0)
        self.readout.setTextFormat(Qt.TextFormat.PlainText)
        self.log_scale = QCheckBox("Log scale")
        self.log_scale.setToolTip("Show loss and learning rate on a logarithmic axis")
        self.log_scale.toggled.connect(self.set_log_scale)
        self.fit_button = QPushButton("Fit")
        self.fit_button.setToolTip("Show the whole run again after zooming or panning")
        self.fit_button.clicked.connect(self.fit_view)
        self.fit_button.setEnabled(False)
        header = QHBoxLayout()
        header.addWidget(self.readout, 1)
        header.addWidget(self.log_scale)
        header.addWidget(self.fit_button)

        self.plot_row = QHBoxLayout()
        self.plot_row.setSpacing(6)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 6)
        layout.addLayout(header)
        layout.addLayout(self.plot_row, 1)
        self.series = {name: PeakSeries() for name in CURVES}
        self.plots: tuple[pg.PlotWidget, ...] = ()  # all three, once made
        self._made: list[pg.PlotWidget] = []
        self.crosshairs: list[pg.InfiniteLine] = []

    def ensure_plots(self) -> None:
        """Make the plots now (a window that never trains does not pay ~45 ms for them;
        `build_next_plot` makes them one at a time in idle moments before) and draw."""
        while not self.build_next_plot():
            pass

    def build_next_plot(self) -> bool:
        """Make one more of the three plots (~15 ms each); True once all exist."""
        if self.plots:
            return True
        made = len(self._made)
        if made == 0:
            plot = style.styled_plot("Loss", bottom="epoch", grid=False)
            self._add_plot(plot, 2, 2)
            c = self.curves
            c["batch_loss"] = style.fast_curve(plot, style.TRAIN, 1, 90, "batch loss")
            c["smooth_loss"] = style.fast_curve(plot, style.TRAIN_SMOOTH, 2, 255, "smoothed")
            c["train_loss"] = style.epoch_points(plot, style.TRAIN, "train (epoch)", False)
            c["val_loss"] = style.epoch_points(plot, style.VAL, "validation")
            plot.getViewBox().sigXRangeChanged.connect(self._on_range_changed)
            self.loss_plot = plot
            self._title_loss()
        elif made == 1:
            plot = style.styled_plot(
                style.metric_title(self.metric_name), bottom="epoch", grid=False
            )
            self._add_plot(plot, 1, 1)  # two rows, as the loss legend: the axes line up
            c = self.curves
            c["batch_metric"] = style.fast_curve(plot, style.METRIC_TRAIN, 1, 110)
            c["train_metric"] = style.epoch_points(plot, style.METRIC_TRAIN, "train")
            c["val_metric"] = style.epoch_points(plot, style.VAL, "validation")
            self.metric_plot = plot
        else:
            plot = style.styled_plot("Learning rate", bottom="epoch", grid=False)
            self._add_plot(plot, 1, None)
            self.curves["lr"] = style.fast_curve(plot, style.LR, 1.5)
            self.lr_plot = plot
            self.plots = tuple(self._made)
            self.set_log_scale(self.log_scale.isChecked())
            self.fit_view()
        return bool(self.plots)

    def take_size(self, size: QSize) -> None:
        """Lay the plots out now at `size`, the size the curves will have when their tab
        comes to the front. A tab behind others keeps the size it had when last shown
        (or none); coming to the front at another size, all three plots laid out and
        painted afresh in one frame (~15 ms, as a run starts)."""
        if size.isValid() and size != self.size():
            self.resize(size)
            self.layout().activate()

    def warm_up_plot(self, index: int) -> None:
        """Render one plot off screen at its laid-out size (~5 ms), so its first real
        paint finds pyqtgraph's caches (axes, ticks, legend) ready. On screen already,
        its caches are warm."""
        if index < len(self.plots) and self.visibleRegion().isEmpty():
            self.plots[index].grab()

    def _add_plot(self, plot: pg.PlotWidget, stretch: int, legend_columns: int | None) -> None:
        item = plot.getPlotItem()
        item.setDownsampling(auto=True, mode="peak")
        item.setClipToView(True)
        if legend_columns is not None:
            style.legend_below(plot, legend_columns)
        if self._made:
            plot.setXLink(self._made[0])  # zoom and pan one, all follow
        line = pg.InfiniteLine(angle=90, movable=False, pen=style.pen(style.CROSSHAIR, 1))
        line.hide()
        plot.addItem(line, ignoreBounds=True)
        self.crosshairs.append(line)
        plot.scene().sigMouseMoved.connect(self._on_mouse_moved)
        plot.getViewBox().sigRangeChangedManually.connect(self._on_user_zoom)
        plot.getPlotItem().disableAutoRange()  # ranges are fitted here, see gui.common.ranges
        self.plot_row.addWidget(plot, stretch)
        self._made.append(plot)

    def set_note(self, note: str) -> None:
        """Say `note` beside the loss plot's title (the run is paused); "" removes it."""
        self.note = note
        self._title_loss()

    def _title_loss(self) -> None:
        if not self._made:
            return  # titled when made
        title = "Loss"
        if self.note:
            title += f' &nbsp;<span style="color:{NOTE_COLOUR}">{self.note}</span>'
        self._made[0].getPlotItem().setTitle(title, color="#e3e6eb", size="9.5pt")

    # --------------------------------------------------------------- data

    @property
    def batch_count(self) -> int:
        return len(self.series["batch_loss"])

    @property
    def epoch_count(self) -> int:
        return len(self.series["train_loss"])

    def reset(self, started: RunStarted | None = None, epochs: int = 1) -> None:
        """Start over for a new run (or none): no points, no read-out, fresh ranges.
        `epochs`: the run's planned length before it has started (the x axis is laid out
        for it at once, not again with every plot when the run reports its start)."""
        self._start_over(
            started.metric if started else "metric", started.epochs if started else epochs
        )
        self.batches = started.batches if started else 1
        self.smoother = Smoother(min(max(self.batches / 4, 5), 100))
        self.fit_view()

    def show_history(self, rows: list[EpochRecord], metric: str | None, epochs: int) -> None:
        """A recorded run: each batch's loss (raw and smoothed) when the run kept them (runs
        recorded before that show their per-epoch values only), and the per-epoch values.
        The x axis spans what the run trained, not the `epochs` it was set to: a run
        stopped after 3 of 5000 epochs fills the plot."""
        x, losses = batch_positions(rows)
        trained = max([*(r.epoch for r in rows if r.metrics), *(np.ceil(x[-1:]))], default=0)
        self._start_over(metric or "metric", int(trained) or max(epochs, 1))
        self.batches = max((r.batches for r in rows), default=0) or 1
        if len(x):
            self.smoother = Smoother(min(max(self.batches / 4, 5), 100))
            x_loss, losses = finite_points(x, losses)
            self._extend("batch_loss", x_loss, losses, floor=True)
            self._extend("smooth_loss", x_loss, self.smoother.smooth(losses), floor=True)
        for split in ("train", "val"):
            points = sorted((r.epoch, r.metrics) for r in rows if r.split == split and r.metrics)
            if not points:
                continue
            x = np.array([float(epoch) for epoch, _ in points])
            loss = [m.get("loss", math.nan) for _, m in points]
            self._extend(f"{split}_loss", x, loss, floor=True)
            metric_values = [m.get(self.metric_name, math.nan) for _, m in points]
            self._extend(f"{split}_metric", x, metric_values)
            if split == "train":
                self._extend("lr", x, [m.get("lr", math.nan) for _, m in points], floor=True)
        self.fit_view()

    def _start_over(self, metric: str, epochs: int) -> None:
        self.series = {name: PeakSeries() for name in CURVES}
        self._drawn.clear()
        self.metric_name = metric
        self.epochs = epochs
        if self.plots:
            self.metric_plot.getPlotItem().setTitle(
                style.metric_title(self.metric_name), color="#e3e6eb", size="9.5pt"
            )
            for plot in self.plots:  # no range of the last run survives into this one
                plot.getViewBox().setYRange(0.0, 1.0, padding=0)
        for line in self.crosshairs:
            line.hide()
        self.readout.setText(READOUT_HINT)
        self.readout.setToolTip("")

    @Slot(object)
    def add(self, progress: Progress) -> None:
        if progress.batches:
            self._add_batches(progress)
        for event in progress.epochs:
            x = np.array([float(event.epoch)])
            self._extend("train_loss", x, [event.train.loss], floor=True)
            self._extend("train_metric", x, [event.train.metrics.get(self.metric_name, math.nan)])
            if event.val is not None:
                self._extend("val_loss", x, [event.val.loss], floor=True)
                self._extend("val_metric", x, [event.val.metrics.get(self.metric_name, math.nan)])
        self._stale.update(GROUPS)
        self._draw_stale(arrived=True)

    def _add_batches(self, progress: Progress) -> None:
        events = progress.batches
        x = np.array([e.epoch - 1 + e.batch / e.batches for e in events])
        loss = np.array([e.loss for e in events])
        x_loss, loss = finite_points(x, loss)
        self._extend("batch_loss", x_loss, loss, floor=True)
        self._extend("smooth_loss", x_loss, self.smoother.smooth(loss), floor=True)
        metric = np.array([e.metrics.get(self.metric_name, math.nan) for e in events])
        self._extend("batch_metric", x, metric)
        self._extend("lr", x, np.array([e.lr for e in events]), floor=True)

    def _extend(self, name: str, x, y, floor: bool = False) -> None:
        x, y = finite_points(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
        if floor:  # values shown on a log axis must stay > 0
            y = np.maximum(y, LOG_FLOOR)
        self.series[name].extend(x, y)

    # ------------------------------------------------------------ drawing

    def request_redraw(self) -> None:
        """Redraw soon (the view changed): as soon as the last redraw's spacing allows."""
        if not self._redraw_timer.isActive():
            wait = max(0.0, self._next_redraw - time.perf_counter())
            self._redraw_timer.start(int(wait * 1000))

    def _draw_stale(self, arrived: bool) -> None:
        """Points not drawn yet: draw the plot next due now if points have just `arrived`
        and it is due, else leave it to a later bundle, or to the timer if none comes."""
        if not self._stale:
            return
        now = time.perf_counter()
        due = min(self._due[group] for group in self._stale)
        wait = max(0.0, self._next_redraw - now, due - now)
        if arrived and wait <= ARRIVAL_SLACK_S and self.plots:
            self._redraw_timer.stop()
            self.redraw()
        elif not self._redraw_timer.isActive():
            self._redraw_timer.start(int((wait + NO_BUNDLE_WAIT_S) * 1000))

    def draw_now(self) -> None:
        """Draw the plot with points not drawn yet that is next in turn, now (the run has
        ended: its last points are not left waiting for their plot's turn)."""
        if self._stale:
            self._redraw_timer.stop()
            self.redraw()

    @Slot()
    def redraw(self, all_plots: bool = False) -> None:
        if not self.plots:
            return  # drawn when first shown
        began = time.perf_counter()
        x0 = x1 = None
        if not self.fitted:  # zoomed by hand: draw the range in detail
            x0, x1 = self.loss_plot.getViewBox().viewRange()[0]
        if all_plots:
            groups = list(GROUPS)
        else:  # the plot with points not drawn yet that has waited longest past its time
            stale = [g for g in GROUPS if g in self._stale] or [LOSS_CURVES]
            groups = [min(stale, key=self._due.__getitem__)]
        if not self._plain:
            self._plain_curves()
        for group in groups:
            for name in group:
                points = self._points_for(name)
                drawn_from = (len(self.series[name]), x0, x1, points)
                if self._drawn.get(name) != drawn_from:
                    self.curves[name].setData(*self.series[name].view(x0, x1, points))
                    self._drawn[name] = drawn_from
            self._stale.discard(group)
            self._due[group] = began + REDRAW_EVERY_S[group]
        self._fit_ranges()
        ended = time.perf_counter()
        self.last_redraw_cost = ended - began
        self._next_redraw = ended + max(MIN_REDRAW_S, REDRAW_COST_FACTOR * self.last_redraw_cost)
        self._draw_stale(arrived=False)  # the plots that sat this one out, in their turn

    def _plain_curves(self) -> None:
        """The series come thinned to the pixels already (`_points_for`): pyqtgraph's own
        clipping and downsampling would only walk them again on every setData."""
        for name in CURVES:
            if name in ("batch_loss", "smooth_loss", "batch_metric", "lr"):
                self.curves[name].setDownsampling(auto=False, ds=1)
                self.curves[name].setClipToView(False)
        # What does not move between redraws is painted once into a pixmap and copied
        # after that: axes with their tick labels, titles, legends.
        cache = QGraphicsItem.CacheMode.DeviceCoordinateCache
        for plot in self.plots:
            item = plot.getPlotItem()
            for name in ("left", "bottom"):
                item.getAxis(name).setCacheMode(cache)
            item.titleLabel.setCacheMode(cache)
            if item.legend is not None:
                item.legend.setCacheMode(cache)
        self._plain = True

    def _points_for(self, name: str) -> int:
        """Points worth drawing for a series: a max and a min per pixel column of its plot
        (the smoothed loss, smooth by nature, one). A screen shows no more, and painting
        costs by the point: 2,500 points took 5 ms, twice what the plot around them does."""
        plot = (
            self.loss_plot
            if name in LOSS_CURVES
            else (self.metric_plot if name in METRIC_CURVES else self.lr_plot)
        )
        columns = max(int(plot.getViewBox().width()), 32)
        return columns if name == "smooth_loss" else 2 * columns

    @Slot()
    def fit_view(self) -> None:
        """Show the whole run: every epoch along x, every value along y."""
        self.fitted = True
        self.fit_button.setEnabled(False)
        if self.plots:
            self.loss_plot.getViewBox().setXRange(*x_range(self.epochs), padding=0)
            self._fit_ranges(force=True)
        self.redraw(all_plots=True)

    def _fit_ranges(self, force: bool = False) -> None:
        if not self.fitted or not self.plots:
            return
        log = self.log_scale.isChecked()
        for plot, names, on_log in (
            (self.loss_plot, LOSS_CURVES, log),
            (self.metric_plot, METRIC_CURVES, False),
            (self.lr_plot, LR_CURVES, log),
        ):
            lows = [v for n in names if (v := self.series[n].minimum()) is not None]
            highs = [v for n in names if (v := self.series[n].maximum()) is not None]
            if not lows:
                continue
            view = plot.getViewBox()
            current = (-math.inf, math.inf) if force else tuple(view.viewRange()[1])
            wanted = sticky_range(current, min(lows), max(highs), on_log)
            if wanted is not None:
                view.setYRange(*wanted, padding=0)
                if not force:
                    # One axis laid out again per redraw: at a run's start all three
                    # change at once, ~14 ms in one turn; the others follow 0.1 s later.
                    self.request_redraw()
                    return

    @Slot(object)
    def _on_user_zoom(self, _changed: object) -> None:
        self.fitted = False
        self.fit_button.setEnabled(True)

    @Slot(object, object)
    def _on_range_changed(self, _view: object, _range: object) -> None:
        if not self.fitted:
            self.request_redraw()

    @Slot(bool)
    def set_log_scale(self, on: bool) -> None:
        if not self.plots:
            return
        self.loss_plot.getPlotItem().setLogMode(y=on)
        self.lr_plot.getPlotItem().setLogMode(y=on)
        self._fit_ranges(force=True)

    # ---------------------------------------------------------- crosshair

    @Slot(object)
    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        # Each PlotWidget has its own scene: find the plot whose view holds the pointer.
        for plot in self._made:
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
            ("val_metric", f"val {self.metric_name}"),
            ("lr", "lr"),
        )
        for name, label in shown:
            point = self.series[name].nearest(x)
            if point is not None:
                parts.append(f"{label} {point[1]:.4g}")
        text = "  ·  ".join(parts)
        self.readout.setToolTip(text)
        metrics = self.readout.fontMetrics()
        width = max(self.readout.width(), 40)
        self.readout.setText(metrics.elidedText(text, Qt.TextElideMode.ElideRight, width))

    def leaveEvent(self, event) -> None:  # noqa: N802 (Qt override)
        for line in self.crosshairs:
            line.hide()
        super().leaveEvent(event)
