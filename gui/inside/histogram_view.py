"""Weight and output histograms per epoch, one small chart per block, with a slider to
scrub the epochs that were recorded.

The charts are painted with QPainter straight from the counts (40 bins a block): the
cost is bounded by the blocks shown, whatever the run's length, and nothing is laid
out again when the slider moves.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt, Signal, Slot
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from engine.inspect.histograms import Histogram
from gui.common import plot_style as style
from gui.run.records import EpochHistograms

CELL_W, CELL_H, GAP = 168, 96, 8  # a chart's widest size; narrower to fit one column
MIN_CELL_W = 90
KINDS = ("weights", "activations")


def _number(value: float) -> str:
    return f"{value:.3g}"


class HistogramGrid(QWidget):
    """Small multiples: a bar chart per block, its name above and its range below."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.histograms: dict[str, Histogram] = {}
        self.colour = QColor(style.TRAIN)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)

    def show_histograms(self, histograms: dict[str, Histogram], colour: str) -> None:
        self.histograms, self.colour = histograms, QColor(colour)
        self._fit_height()
        self.update()

    def columns(self) -> int:
        return max(1, (self.width() + GAP) // (CELL_W + GAP))

    def cell_width(self) -> int:
        return max(MIN_CELL_W, min(CELL_W, self.width()))

    def _fit_height(self) -> None:
        rows = -(-len(self.histograms) // self.columns()) if self.histograms else 0
        self.setMinimumHeight(rows * (CELL_H + GAP))

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self._fit_height()
        super().resizeEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        text, dim = QColor("#c9ced6"), QColor(style.AXIS_TEXT)
        metrics = painter.fontMetrics()
        line = metrics.height()
        columns, cell = self.columns(), self.cell_width()
        for k, (node, histogram) in enumerate(self.histograms.items()):
            row, column = divmod(k, columns)
            x0, y0 = column * (cell + GAP), row * (CELL_H + GAP)
            painter.setPen(text)
            name = metrics.elidedText(node, Qt.TextElideMode.ElideRight, cell)
            painter.drawText(x0, y0 + metrics.ascent(), name)
            chart = QRectF(x0, y0 + line + 2, cell, CELL_H - 2 * line - 6)
            painter.fillRect(chart, QColor(style.BACKGROUND))
            counts = histogram.counts
            top = float(counts.max()) if len(counts) else 0.0
            if top > 0:
                width = chart.width() / len(counts)
                for i, count in enumerate(counts):
                    if count:
                        height = max(1.0, chart.height() * float(count) / top)
                        bar = QRectF(chart.left() + i * width, chart.bottom() - height,
                                     max(width - 1, 1), height)  # fmt: skip
                        painter.fillRect(bar, self.colour)
            painter.setPen(dim)
            below = int(chart.bottom()) + metrics.ascent() + 2
            low, high = _number(histogram.edges[0]), _number(histogram.edges[-1])
            painter.drawText(x0, below, low)
            painter.drawText(x0 + cell - metrics.horizontalAdvance(high), below, high)
        painter.end()


class HistogramPanel(QWidget):
    """A weights / outputs switch, the epoch slider and the grid of charts."""

    epoch_shown = Signal(int)  # the epoch on screen changed (tests wait for it)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.records: list[EpochHistograms] = []
        self.kind = QComboBox()
        self.kind.addItems(["Weights", "Outputs"])
        self.kind.setToolTip(
            "Weights: every weight of the block. Outputs: what the block computes for a "
            "fixed batch of validation samples."
        )
        self.kind.currentIndexChanged.connect(self._show)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setEnabled(False)
        self.slider.setPageStep(1)
        self.slider.valueChanged.connect(self._show)
        self.epoch = QLabel()
        self.epoch.setMinimumWidth(90)
        header = QHBoxLayout()
        header.addWidget(QLabel("Histograms"))
        header.addWidget(self.kind)
        header.addStretch(1)
        scrub = QHBoxLayout()
        scrub.addWidget(self.slider, 1)
        scrub.addWidget(self.epoch)
        self.note = QLabel()
        self.note.setObjectName("hint")
        self.note.setWordWrap(True)
        self.grid = HistogramGrid()
        scroll = QScrollArea()
        scroll.setWidget(self.grid)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(header)
        layout.addLayout(scrub)
        layout.addWidget(self.note)
        layout.addWidget(scroll, 1)
        self.reset("")

    @property
    def shown_epoch(self) -> int | None:
        return self.records[self.slider.value()].epoch if self.records else None

    def reset(self, note: str) -> None:
        self.records = []
        self.slider.blockSignals(True)
        self.slider.setRange(0, 0)
        self.slider.blockSignals(False)
        self.slider.setEnabled(False)
        self.note.setText(note)
        self.note.setVisible(bool(note))
        self._show()

    def add(self, records: list[EpochHistograms]) -> None:
        """Histograms of more epochs; the slider follows the newest if it was there."""
        if not records:
            return
        following = not self.records or self.slider.value() == len(self.records) - 1
        self.records.extend(records)
        self.slider.blockSignals(True)
        self.slider.setRange(0, len(self.records) - 1)
        if following:
            self.slider.setValue(len(self.records) - 1)
        self.slider.blockSignals(False)
        self.slider.setEnabled(len(self.records) > 1)
        self.note.hide()  # it said when they would come
        self._show()

    def show_epoch(self, epoch: int) -> None:
        """Move the slider to the recorded epoch `epoch`."""
        for i, record in enumerate(self.records):
            if record.epoch == epoch:
                self.slider.setValue(i)

    @Slot()
    def _show(self) -> None:
        if not self.records:
            self.epoch.setText("")
            self.grid.show_histograms({}, style.TRAIN)
            return
        record = self.records[self.slider.value()]
        self.epoch.setText("before training" if record.epoch == 0 else f"epoch {record.epoch}")
        if self.kind.currentIndex() == 0:
            self.grid.show_histograms(record.weights, style.TRAIN)
        else:
            self.grid.show_histograms(record.activations, style.METRIC_TRAIN)
        self.epoch_shown.emit(record.epoch)
