"""A confusion matrix painted as a heat map: rows are the true classes, columns the
predicted ones, each cell its count, shaded by the share of its row (so a class with
few samples reads as clearly as a big one). Class names label both axes."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from gui import theme

LOW = QColor("#1f2329")
HIGH = QColor("#3d7fd6")
WRONG = QColor("#b8474c")
MARGIN = 8
MAX_LABEL = 12  # characters of a class name shown


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
            (self.width() - left - MARGIN) / classes, (self.height() - top - MARGIN) / classes
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
        show_counts = side >= metrics.horizontalAdvance(str(int(matrix.max()))) + 6
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
                colour = _blend(LOW, HIGH if i == j else WRONG, share**0.6)
                painter.fillRect(cell, colour)
                if show_counts:
                    painter.setPen(QColor("#ffffff") if share > 0.35 else theme.TEXT_DIM)
                    painter.drawText(cell, Qt.AlignmentFlag.AlignCenter, str(int(matrix[i, j])))
