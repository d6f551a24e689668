"""A confusion matrix painted as a heat map: rows are the true classes, columns the
predicted ones, each cell its count, shaded by the share of its row (so a class with
few samples reads as clearly as a big one). Class names label both axes.

Right answers are blue, mistakes red; any mistake at all gets a clearly visible red,
deepening with its share, so one confused sample among hundreds is not a faint square.
A colour scale on the right says what the shades mean. Counts are written in the cells
when they fit, and every cell tells its count on hover (10 classes in a small dock).

Class names are never cut off: a name that fits is written whole; column names that
are wider than their column turn upright; a name longer than the room the labels may
take is shortened with "…", and hovering its label shows it whole. With more classes
than lines fit beside the grid, every k-th class is named (hover tells any row's).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

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

from gui.common import theme

LOW = QColor("#1f2329")
HIGH = QColor("#3d7fd6")
WRONG = QColor("#b8474c")
MARGIN = 8
LABEL_SHARE = 0.3  # of the room beside (or above) the grid the class names may take
LABEL_MIN = 48.0  # px the class names may always take, however small the widget
LABEL_PAD = 6.0
COMFORT_SIDE = 28.0  # px of a cell that names may not squeeze it below, beyond their share
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


@dataclass(frozen=True)
class AxisLabel:
    """A class name as drawn: where (for an upright one, the rect it is turned into),
    the text shown (the name, or its shortened form) and the whole name."""

    index: int
    rect: QRectF
    text: str
    name: str
    upright: bool = False


def fitted(metrics: QFontMetrics, name: str, room: float) -> str:
    """`name` whole if it fits in `room` px, else shortened with "…"."""
    if metrics.horizontalAdvance(name) <= room:
        return name
    return metrics.elidedText(name, Qt.TextElideMode.ElideRight, int(room))


def label_step(side: float, line: float) -> int:
    """Name every k-th class when a cell is thinner than a line of text."""
    return max(1, math.ceil(line / max(side, 1e-6)))


class ConfusionMatrixView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.matrix: np.ndarray | None = None
        self.class_names: list[str] = []
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(180, 160)
        self.setMouseTracking(True)  # counts and names on hover
        self.grid = QRectF()  # where the cells are, once laid out
        self.side = 0.0
        self.counts_shown = False
        self.row_labels: list[AxisLabel] = []  # the true classes, left of the grid
        self.column_labels: list[AxisLabel] = []  # the predicted ones, above it
        self.row_band = QRectF()  # where the row names are (hover names any row)
        self.column_band = QRectF()

    def set_matrix(self, matrix: np.ndarray | None, class_names: list[str] | None = None) -> None:
        self.matrix = None if matrix is None else np.asarray(matrix, dtype=np.int64)
        count = 0 if self.matrix is None else self.matrix.shape[0]
        names = list(class_names or [])
        names += [str(i) for i in range(len(names), count)]
        self.class_names = names[:count] if count else names
        self.lay_out()
        self.update()

    @property
    def accuracy(self) -> float | None:
        if self.matrix is None or not self.matrix.sum():
            return None
        return float(np.trace(self.matrix) / self.matrix.sum())

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt override)
        return QSize(360, 300)

    def label_font(self) -> QFont:
        font = QFont(self.font())
        font.setPointSizeF(8.5)
        return font

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self.lay_out()
        super().resizeEvent(event)

    # ------------------------------------------------------------ layout

    def lay_out(self) -> None:
        """Place the grid and the class names for the widget's size: names whole where
        they fit, upright columns when a column is narrower than its name."""
        self.row_labels, self.column_labels = [], []
        if self.matrix is None or not self.matrix.size:
            self.grid, self.side = QRectF(), 0.0
            return
        classes = self.matrix.shape[0]
        names = self.class_names
        metrics = QFontMetrics(self.label_font())
        line = float(metrics.height())
        title_h = line + 4
        widest = float(max(metrics.horizontalAdvance(n) for n in names))
        room_w = self.width() - 2 * MARGIN - title_h - SCALE_W
        room_h = self.height() - 2 * MARGIN - title_h
        # First try names across, one line above the columns; turn them upright when
        # any would not fit its column. The names may take a share of the room, and
        # whatever the grid cannot use (it is square: the other side bounds it).
        column_h = line + 4
        row_w = self._label_room(widest, room_w, (room_h - column_h) / classes, classes)
        side = min((room_w - row_w) / classes, (room_h - column_h) / classes)
        upright = widest + 2 > side
        if upright:
            column_h = self._label_room(widest, room_h, (room_w - row_w) / classes, classes)
            row_w = self._label_room(widest, room_w, (room_h - column_h) / classes, classes)
            side = min((room_w - row_w) / classes, (room_h - column_h) / classes)
        side = max(side, 2.0)  # a grid larger than the widget would lose classes
        left = MARGIN + title_h + row_w
        top = MARGIN + title_h + column_h
        self.side = side
        self.grid = QRectF(left, top, side * classes, side * classes)
        self.row_band = QRectF(MARGIN + title_h, top, row_w, side * classes)
        self.column_band = QRectF(left, MARGIN + title_h, side * classes, column_h)
        step = label_step(side, line)
        for i in range(0, classes, step):
            # A label takes the rows it stands for, centred on its own.
            centre = top + (i + 0.5) * side
            height = min(side * step, line + 2) if step > 1 else side
            rect = QRectF(MARGIN + title_h, centre - height / 2, row_w - LABEL_PAD, height)
            self.row_labels.append(
                AxisLabel(i, rect, fitted(metrics, names[i], rect.width()), names[i])
            )
            x = left + i * side
            if upright:
                width = min(side * step, line + 2) if step > 1 else side
                x = left + (i + 0.5) * side - width / 2
                rect = QRectF(x, MARGIN + title_h, width, column_h - LABEL_PAD)
                text = fitted(metrics, names[i], rect.height())
            else:
                rect = QRectF(x, MARGIN + title_h, side, column_h)
                text = fitted(metrics, names[i], rect.width() - 2)
            self.column_labels.append(AxisLabel(i, rect, text, names[i], upright))

    @staticmethod
    def _label_room(widest: float, room: float, other_side: float, classes: int) -> float:
        """Px for the names along one side: what the widest needs, up to a share of the
        room or what the grid leaves when its cells are `other_side` (the other side
        bounds the square grid) or COMFORT_SIDE px, whichever is more."""
        spare = room - classes * min(other_side, COMFORT_SIDE) - LABEL_PAD
        return min(widest, max(LABEL_MIN, LABEL_SHARE * room, spare)) + LABEL_PAD

    # ---------------------------------------------------------- painting

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
        font = self.label_font()
        painter.setFont(font)
        metrics = QFontMetrics(font)
        title_h = metrics.height() + 4
        side, grid = self.side, self.grid
        painter.setPen(theme.TEXT_DIM)
        painter.drawText(
            QRectF(grid.left(), MARGIN, grid.width(), title_h),
            Qt.AlignmentFlag.AlignCenter,
            "predicted",
        )
        painter.save()
        painter.translate(MARGIN, grid.center().y())
        painter.rotate(-90)
        painter.drawText(
            QRectF(-grid.height() / 2, 0, grid.height(), title_h),
            Qt.AlignmentFlag.AlignCenter,
            "true",
        )
        painter.restore()
        self._paint_labels(painter)
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
        self.counts_shown = show_counts
        painter.setFont(count_font)
        for i in range(classes):
            for j in range(classes):
                cell = QRectF(grid.left() + j * side, grid.top() + i * side, side - 1, side - 1)
                painter.fillRect(cell, cell_colour(float(shares[i, j]), i == j))
                if show_counts:
                    painter.setPen(QColor("#ffffff") if matrix[i, j] else theme.TEXT_DIM)
                    painter.drawText(cell, Qt.AlignmentFlag.AlignCenter, str(int(matrix[i, j])))
        painter.setFont(font)
        scale = QRectF(grid.right() + 12, grid.top(), SCALE_W - 12, grid.height())
        self._paint_scale(painter, scale)

    def _paint_labels(self, painter: QPainter) -> None:
        painter.setPen(theme.TEXT)
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        for label in self.row_labels:
            painter.drawText(label.rect, right, label.text)
        for label in self.column_labels:
            if not label.upright:
                painter.drawText(label.rect, Qt.AlignmentFlag.AlignCenter, label.text)
                continue
            # Upright: read from the bottom up, ending just above its column.
            rect = label.rect
            painter.save()
            painter.translate(rect.left(), rect.bottom())
            painter.rotate(-90)
            painter.drawText(QRectF(0, 0, rect.height(), rect.width()), right, label.text)
            painter.restore()

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

    def label_at(self, pos: QPointF) -> str | None:
        """The whole class name of the row or column label under `pos`, or None."""
        if self.matrix is None or self.side <= 0:
            return None
        classes = self.matrix.shape[0]
        if self.row_band.contains(pos):
            i = int((pos.y() - self.row_band.top()) // self.side)
            return self.class_names[i] if 0 <= i < classes else None
        if self.column_band.contains(pos):
            j = int((pos.x() - self.column_band.left()) // self.side)
            return self.class_names[j] if 0 <= j < classes else None
        return None

    def tooltip_at(self, pos: QPointF) -> str:
        """What hovering at `pos` tells: a cell's count, or a label's whole class name."""
        cell = self.cell_at(pos)
        if cell is not None:
            return self.describe_cell(*cell)
        return self.label_at(pos) or ""

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt override)
        text = self.tooltip_at(event.position())
        if text:
            QToolTip.showText(event.globalPosition().toPoint(), text, self)
        else:
            QToolTip.hideText()
        super().mouseMoveEvent(event)
