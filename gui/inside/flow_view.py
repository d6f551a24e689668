"""Look inside while training: gradient flow per block over the run, and histograms per
epoch (gui.inside.histogram_view).

The figures are measured in the trainer process (gui.run.capture) and arrive in
the progress bundles of the current run. Each block's line is a `PeakSeries`, so a
redraw reads at most two points per pixel column whatever the run's length, and
redraws happen only while the view is on screen, at most five a second.
"""

from __future__ import annotations

import logging
import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from gui.common import plot_style as style
from gui.common.decimate import PeakSeries
from gui.inside.histogram_view import HistogramPanel
from gui.run.inside_record import InsideRecordError, RunInside, inside_file
from gui.run.records import FlowSample, Progress

log = logging.getLogger(__name__)

# (field of FlowSample, name in the menu, what it says)
MEASURES = (
    ("grad_norm", "Gradient norm", "‖∂loss/∂W‖ over each block's weights, after a batch."),
    ("update_ratio", "Update ÷ weight",
     "‖ΔW‖ / ‖W‖: how far one optimizer step moves each block's weights (around 1e-3 is "
     "typical; far below, the block hardly learns; far above, it jumps)."),
    ("through_time", "Gradient through time",
     "Recurrent blocks: the gradient reaching the first 10 steps of their input ÷ the "
     "gradient at the last 10, on a fixed batch of validation samples. Far below 1: what "
     "the first steps held cannot be learned — the gradient vanishes."),
)  # fmt: skip
LOG_FLOOR = 1e-30  # a log axis cannot show 0 (an underflowed gradient): drawn here
VANISHED = 1e-6  # a through-time ratio below this: nothing reaches the first steps
REDRAW_MS = 200
MIN_DECADES = 2.0  # the y axis spans at least this many powers of ten (labels stay apart)


def _power_of_ten(k: int) -> str:
    return {0: "1", 1: "10", 2: "100"}.get(k, f"1e{k}")


def _value(value: float) -> str:
    return f"{value:.2g}" if value >= LOG_FLOOR else "0"


class FlowPlot(QWidget):
    """One line per block over the run (x in epochs), log y, the measure chosen above."""

    drawn = Signal()  # a redraw put the newest figures on screen (tests wait for it)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.measure = QComboBox()
        for _, name, tip in MEASURES:
            self.measure.addItem(name)
            self.measure.setItemData(self.measure.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        self.measure.currentIndexChanged.connect(self._on_measure)
        self.summary = QLabel()
        self.summary.setObjectName("hint")
        self.summary.setWordWrap(True)
        self.summary.setMaximumHeight(2 * self.summary.fontMetrics().lineSpacing() + 2)
        # The dock is short: no axis title (the read-out below names the epoch), and
        # the legend beside the plot, not under it.
        self.plot = style.styled_plot("")
        self.plot.setMinimumHeight(100)
        item = self.plot.getPlotItem()
        item.setLogMode(y=True)
        item.enableAutoRange(x=True, y=False)
        legend = pg.LegendItem(colCount=1, labelTextColor="#c9ced6", labelTextSize="8pt")
        item.layout.addItem(legend, 2, 3)
        # Its own height at the top of the cell (stretched to the plot's height, a
        # single entry's line and name drifted apart).
        legend.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        item.layout.setAlignment(legend, Qt.AlignmentFlag.AlignTop)
        item.legend = legend
        header = QHBoxLayout()
        header.addWidget(QLabel("Gradient flow"))
        header.addWidget(self.measure)
        header.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(header)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.summary)
        self.visible = False
        self.series: dict[str, dict[str, PeakSeries]] = {}
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.last: FlowSample | None = None
        self._stale = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REDRAW_MS)
        self._timer.timeout.connect(self.redraw)
        self.reset()

    @property
    def field(self) -> str:
        return MEASURES[self.measure.currentIndex()][0]

    def reset(self) -> None:
        self.series = {name: {} for name, _, _ in MEASURES}
        self.last = None
        self._rebuild_curves()
        self._describe()

    def add(self, samples: list[FlowSample]) -> None:
        for sample in samples:
            for name, _, _ in MEASURES:
                for node, value in getattr(sample, name).items():
                    if not math.isfinite(value):
                        continue
                    line = self.series[name].setdefault(node, PeakSeries())
                    line.extend(np.array([sample.x]), np.array([max(value, LOG_FLOOR)]))
        if samples:
            self.last = samples[-1]
            self._stale = True
            if self.visible and not self._timer.isActive():
                self._timer.start()

    def set_visible(self, visible: bool) -> None:
        self.visible = visible
        if visible and self._stale:
            self.redraw()

    @Slot()
    def _on_measure(self) -> None:
        self._rebuild_curves()
        self.redraw()

    def _rebuild_curves(self) -> None:
        """One curve per block of the chosen measure, in the order blocks were seen."""
        item = self.plot.getPlotItem()
        for curve in self.curves.values():
            item.removeItem(curve)
        if item.legend is not None:
            item.legend.clear()
        self.curves = {}
        self._stale = True

    @Slot()
    def redraw(self) -> None:
        """Hand each block's line to its curve: ≤ 2 points per pixel column."""
        lines = self.series[self.field]
        columns = max(int(self.plot.getViewBox().width()), 32)
        for k, (node, line) in enumerate(lines.items()):
            curve = self.curves.get(node)
            if curve is None:
                colour = style.RUN_COLOURS[k % len(style.RUN_COLOURS)]
                curve = self.plot.plot(pen=style.pen(colour, 1.6), name=node, skipFiniteCheck=True)
                self.curves[node] = curve
            curve.setData(*line.view(max_points=2 * columns))
        self._fit_y(lines.values())
        self._stale = False
        self._describe()
        self.drawn.emit()

    def _fit_y(self, lines) -> None:
        """Every value in view, and at least MIN_DECADES (less, and a short plot's log
        axis labels its minor ticks on top of each other)."""
        lows = [v for line in lines if (v := line.minimum()) is not None]
        highs = [v for line in lines if (v := line.maximum()) is not None]
        if not lows:
            return
        low, high = math.log10(min(lows)), math.log10(max(highs))
        if high - low < MIN_DECADES:
            middle = (low + high) / 2
            low, high = middle - MIN_DECADES / 2, middle + MIN_DECADES / 2
        self.plot.getViewBox().setYRange(low, high, padding=0.05)
        # Powers of ten only, at most ~5 labels: pyqtgraph's own log ticks label 2×, 3×,
        # … too, on top of each other on a plot this short.
        first, last = math.ceil(low), math.floor(high)
        step = max(1, math.ceil((last - first + 1) / 5))
        ticks = [(float(k), _power_of_ten(k)) for k in range(first, last + 1, step)]
        self.plot.getPlotItem().getAxis("left").setTicks([ticks, []])

    def _describe(self) -> None:
        field, _, tip = MEASURES[self.measure.currentIndex()]
        self.measure.setToolTip(tip)
        if self.last is None:
            self.summary.setText(tip)
            self.summary.setToolTip(tip)
            return
        values = getattr(self.last, field)
        if not values:
            self.summary.setText("No recurrent block in this network." if field == "through_time"
                                 else tip)  # fmt: skip
            return
        latest = " · ".join(f"{node} {_value(v)}" for node, v in values.items())
        every = "batch" if self.last.every == 1 else f"{self.last.every} batches"
        text = f"Epoch {self.last.x:.2f}: {latest}  (measured every {every})"
        if field == "through_time":
            vanished = [node for node, v in values.items() if v < VANISHED]
            if vanished:
                text += (
                    f" — {', '.join(vanished)}: the gradient vanishes before it reaches the "
                    "first steps"
                )
        self.summary.setText(text)
        self.summary.setToolTip(text)


class TrainingInsideView(QWidget):
    """The Look inside tab for the run: a note on whose figures these are, the gradient
    flow beside the histograms."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.status = QLabel()
        self.status.setObjectName("hint")
        self.status.setWordWrap(True)
        self.flow = FlowPlot()
        self.histograms = HistogramPanel()
        row = QHBoxLayout()
        row.setSpacing(12)
        row.addWidget(self.flow, 3)
        row.addWidget(self.histograms, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 8)
        layout.addWidget(self.status)
        layout.addLayout(row, 1)
        self.start_over("Train the network to see its gradients flow here.")

    def start_over(self, status: str, histogram_note: str = "") -> None:
        """Another run (or none) is current: nothing of the last one stays."""
        self.status.setText(status)
        self.flow.reset()
        self.histograms.reset(histogram_note)
        self.flow.redraw()

    def show_history(self, run_id: int, checkpoint: str) -> None:
        """A run from the Runs history: its gradient flow and histograms as the trainer
        kept them beside its checkpoint (runs from before they were kept have none)."""
        path = inside_file(checkpoint) if checkpoint else None
        try:
            kept = RunInside.load(path) if path is not None and path.exists() else None
        except (OSError, InsideRecordError) as err:
            log.warning("%s", err)
            self.start_over(
                f"Run {run_id} came from the Runs history: its Look inside record could "
                f"not be read ({err})."
            )
            return
        if kept is None:
            self.start_over(
                f"Run {run_id} came from the Runs history: gradient flow and histograms "
                "were not kept for it (measured only while a run trains in the window)."
            )
            return
        note = "" if kept.histograms else "No histograms: this tab was closed while it trained."
        self.start_over(
            f"Run {run_id} from the Runs history: its gradient flow, and the histograms "
            "taken while this tab was open.",
            note,
        )
        self.add(Progress(flow=kept.flow, histograms=kept.histograms))

    @Slot(object)
    def add(self, progress: Progress) -> None:
        self.flow.add(progress.flow)
        self.histograms.add(progress.histograms)

    def set_visible(self, visible: bool) -> None:
        self.flow.set_visible(visible)
