"""A confusion matrix painted as a heat map: rows are the true classes, columns the
predicted ones, each cell its count, shaded by the share of its row (so a class with
few samples reads as clearly as a big one). Class names label both axes.

Right answers are blue, mistakes red; any mistake at all gets a clearly visible red,
deepening with its share, so one confused sample among hundreds is not a faint square.
A colour scale on the right says what the shades mean. Counts are written in the cells
when they fit, and every cell tells its count on hover (10 classes in a small dock).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QLinearGradient,
    QMouseEvent,
    QPainter,
    QPaintEvent,
)
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from gui import theme

LOW = QColor("#1f2329")
HIGH = QColor("#3d7fd6")
WRONG = QColor("#b8474c")
MARGIN = 8
MAX_LABEL = 12  # characters of a class name shown
SCALE_W = 64  # the colour scale beside the grid: two bars and their labels
WRONG_FLOOR = 0.35  # the least red of a cell with any mistake in it
RIGHT_FLOOR = 0.15


def cell_colour(share: float, right: bool) -> QColor:
    """The shade of a cell holding `share` of its true class (0 stays background)."""
    if share <= 0:
        return LOW
    if right:
        return _blend(LOW, HIGH, RIGHT_FLOOR + (1 - RIGHT_FLOOR) * share)
    return _blend(LOW, WRONG, WRONG_FLOOR + (1 - WRONG_FLOOR) * share**0.5)


def _blend(a: QColor, b: QColor, t: float) -> QColor:
    t = min(max(t, 0.0), 1.0)
    return QColor(
        round(a.red() + (b.red() - a.red()) * t),
        round(a.green() + (b.green() - a.green()) * t),
        round(a.blue() + (b.blue() - a.blue()) * t),
    )


class ConfusionMatrixView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.matrix: np.ndarray | None = None
        self.class_names: list[str] = []
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(180, 160)
        self.setMouseTracking(True)  # counts on hover
        self.grid = QRectF()  # where the cells are, once painted
        self.side = 0.0
        self.counts_shown = False

    def set_matrix(self, matrix: np.ndarray | None, class_names: list[str] | None = None) -> None:
        self.matrix = None if matrix is None else np.asarray(matrix, dtype=np.int64)
        count = 0 if self.matrix is None else self.matrix.shape[0]
        self.class_names = list(class_names or [str(i) for i in range(count)])
        self.update()

    @property
    def accuracy(self) -> float | None:
        if self.matrix is None or not self.matrix.sum():
            return None
        return float(np.trace(self.matrix) / self.matrix.sum())

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(360, 300)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor("#1b1d21"))
        if self.matrix is None or not self.matrix.size:
            painter.setPen(theme.TEXT_DIM)
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No confusion matrix yet")
            return
        self._paint_matrix(painter)

    def _paint_matrix(self, painter: QPainter) -> None:
        matrix = self.matrix
        assert matrix is not None
        classes = matrix.shape[0]
        names = [n[:MAX_LABEL] for n in self.class_names[:classes]]
        font = QFont(self.font())
        font.setPointSizeF(8.5)
        painter.setFont(font)
        metrics = QFontMetrics(font)
        label_w = max(metrics.horizontalAdvance(n) for n in names) + 10
        title_h = metrics.height() + 4
        left = MARGIN + title_h + label_w
        top = MARGIN + title_h + metrics.height() + 4
        side = min(
            (self.width() - left - MARGIN - SCALE_W) / classes,
            (self.height() - top - MARGIN) / classes,
        )
        side = max(side, 6.0)
        painter.setPen(theme.TEXT_DIM)
        grid_w = side * classes
        painter.drawText(
            QRectF(left, MARGIN, grid_w, title_h), Qt.AlignmentFlag.AlignCenter, "predicted"
        )
        painter.save()
        painter.translate(MARGIN, top + grid_w / 2)
        painter.rotate(-90)
        painter.drawText(
            QRectF(-grid_w / 2, 0, grid_w, title_h), Qt.AlignmentFlag.AlignCenter, "true"
        )
        painter.restore()
        rows = matrix.sum(axis=1, keepdims=True).clip(min=1)
        shares = matrix / rows
        count_font = QFont(font)
        widest = str(int(matrix.max()))
        for size in (8.5, 7.5, 6.5):  # smaller figures before none at all
            count_font.setPointSizeF(size)
            count_metrics = QFontMetrics(count_font)
            show_counts = (
                side >= count_metrics.horizontalAdvance(widest) + 4
                and side >= count_metrics.height()
            )
            if show_counts:
                break
        self.grid = QRectF(left, top, side * classes, side * classes)
        self.side, self.counts_shown = side, show_counts
        for i in range(classes):
            painter.setPen(theme.TEXT)
            painter.drawText(
                QRectF(MARGIN + title_h, top + i * side, label_w - 6, side),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                names[i],
            )
            painter.drawText(
                QRectF(left + i * side, MARGIN + title_h, side, metrics.height() + 2),
                Qt.AlignmentFlag.AlignCenter,
                metrics.elidedText(names[i], Qt.TextElideMode.ElideRight, int(side)),
            )
            for j in range(classes):
                cell = QRectF(left + j * side, top + i * side, side - 1, side - 1)
                share = float(shares[i, j])
                painter.fillRect(cell, cell_colour(share, i == j))
                if show_counts:
                    painter.setFont(count_font)
                    painter.setPen(QColor("#ffffff") if matrix[i, j] else theme.TEXT_DIM)
                    painter.drawText(cell, Qt.AlignmentFlag.AlignCenter, str(int(matrix[i, j])))
                    painter.setFont(font)
            painter.setPen(theme.TEXT)
        self._paint_scale(painter, QRectF(left + grid_w + 12, top, SCALE_W - 12, grid_w))

    def _paint_scale(self, painter: QPainter, area: QRectF) -> None:
        """Two bars, right (blue) and wrong (red), from 0 to 100 % of the true class."""
        metrics = painter.fontMetrics()
        bar_w = 9.0
        bars = area.adjusted(0, metrics.height() + 2, 0, -2)
        for n, right in enumerate((True, False)):
            bar = QRectF(bars.left() + n * (bar_w + 3), bars.top(), bar_w, bars.height())
            gradient = QLinearGradient(QPointF(0, bar.bottom()), QPointF(0, bar.top()))
            for stop in (0.0, 0.01, 0.25, 0.5, 0.75, 1.0):
                gradient.setColorAt(stop, cell_colour(stop, right))
            painter.fillRect(bar, gradient)
        painter.setPen(theme.TEXT_DIM)
        text_x = bars.left() + 2 * bar_w + 8
        painter.drawText(
            QRectF(area.left() - 4, area.top(), area.width() + 8, metrics.height()),
            Qt.AlignmentFlag.AlignLeft,
            "of row",
        )
        for value, y in (("100%", bars.top()), ("50%", bars.center().y()), ("0", bars.bottom())):
            painter.drawText(
                QRectF(
                    text_x, y - metrics.height() / 2, area.right() - text_x + 8, metrics.height()
                ),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                value,
            )

    def cell_at(self, pos: QPointF) -> tuple[int, int] | None:
        """(true, predicted) of the cell under `pos`, or None."""
        if self.matrix is None or not self.grid.contains(pos) or self.side <= 0:
            return None
        i = int((pos.y() - self.grid.top()) // self.side)
        j = int((pos.x() - self.grid.left()) // self.side)
        classes = self.matrix.shape[0]
        return (i, j) if 0 <= i < classes and 0 <= j < classes else None

    def describe_cell(self, i: int, j: int) -> str:
        assert self.matrix is not None
        count = int(self.matrix[i, j])
        total = int(self.matrix[i].sum())
        share = f" ({count / total:.1%} of true {self.class_names[i]})" if total else ""
        what = "right" if i == j else f"true {self.class_names[i]}, predicted {self.class_names[j]}"
        return f"{count} sample{'s' * (count != 1)} {what}{share}"

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        cell = self.cell_at(event.position())
        if cell is None:
            QToolTip.hideText()
        else:
            QToolTip.showText(event.globalPosition().toPoint(), self.describe_cell(*cell), self)
        super().mouseMoveEvent(event)
