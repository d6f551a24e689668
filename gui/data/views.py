"""The pieces of the "Use my data…" preview: the first rows of a table with a role
chooser above each column, the class counts, a grid of a few images per class and a
series' target over time."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGridLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gui.common import plot_style as style
from gui.data.reading import FEATURE, IGNORED, ROLES, TIME, FolderPreview, TablePreview

log = logging.getLogger(__name__)

THUMB_PX = 64
MAX_THUMB_SOURCE_PIXELS = 4096 * 4096  # a header claiming more is not decoded


class RolesTable(QTableWidget):
    """The first rows of a table; row 0 holds each column's role (a combo box)."""

    role_changed = Signal(str, str)  # column, role

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("rolesTable")
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.verticalHeader().setDefaultSectionSize(22)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.horizontalHeader().setDefaultSectionSize(110)
        self.combos: dict[str, QComboBox] = {}

    def show_table(self, preview: TablePreview) -> None:
        self.clear()
        self.combos = {}
        self.setColumnCount(len(preview.columns))
        self.setRowCount(len(preview.rows) + 1)
        self.setHorizontalHeaderLabels(preview.columns)
        self.setVerticalHeaderLabels(["role"] + [str(i) for i in range(1, len(preview.rows) + 1)])
        for column, name in enumerate(preview.columns):
            combo = QComboBox()
            combo.addItems(ROLES)
            combo.setCurrentText(preview.roles[name])
            combo.currentTextChanged.connect(lambda role, n=name: self.role_changed.emit(n, role))
            self.setCellWidget(0, column, combo)
            self.combos[name] = combo
        for row, cells in enumerate(preview.rows, 1):
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if preview.roles[preview.columns[column]] in (IGNORED,):
                    item.setForeground(Qt.GlobalColor.gray)
                self.setItem(row, column, item)
        self.resizeColumnsToContents()
        for column in range(self.columnCount()):
            self.setColumnWidth(column, max(96, min(self.columnWidth(column), 180)))

    def role_of(self, column: str) -> str:
        return self.combos[column].currentText()

    def set_role(self, column: str, role: str) -> None:
        """As the user choosing it (role_changed is sent)."""
        self.combos[column].setCurrentText(role)


def class_lines(classes: list[tuple[str, int]], limit: int = 14) -> str:
    """The class list with counts, most frequent first: 'M  212' per line."""
    total = sum(n for _, n in classes) or 1
    lines = [f"{name}  {count:,} ({100 * count / total:.0f}%)" for name, count in classes[:limit]]
    if len(classes) > limit:
        lines.append(f"… and {len(classes) - limit} more")
    return "\n".join(lines)


def thumbnail(path: Path, side: int = THUMB_PX) -> QPixmap | None:
    """A small picture of the image file, through Pillow (its header checked before any
    pixel is decoded); None if it cannot be read."""
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            # A header claiming a huge image warns at open; the size check below refuses it.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(path)
        with image:
            if image.size[0] * image.size[1] > MAX_THUMB_SOURCE_PIXELS:
                return None
            image.draft("RGB", (side, side))  # a JPEG decodes at a fraction of its size
            small = image.convert("RGBA")
            small.thumbnail((side, side))
            data = small.tobytes("raw", "RGBA")
            picture = QImage(
                data, small.width, small.height, 4 * small.width, QImage.Format.Format_RGBA8888
            )
            pixmap = QPixmap.fromImage(picture.copy())
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as err:
        log.info("no thumbnail for %s: %s", path, err)
        return None
    if max(pixmap.width(), pixmap.height()) < side:  # small images (8×8 digits) blown up
        pixmap = pixmap.scaled(
            side, side, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation
        )
    return pixmap


class ImageGrid(QWidget):
    """One row per class: its name and count, then a few of its images."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(6)
        self.names: list[str] = []

    def show_folder(self, preview: FolderPreview, rows: int = 6) -> None:
        while self.grid.count():
            item = self.grid.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.names = []
        for row, (name, count) in enumerate(preview.classes[:rows]):
            label = QLabel(f"<b>{name}</b><br>{count:,} images")
            label.setMinimumWidth(120)
            self.grid.addWidget(label, row, 0)
            self.names.append(name)
            for column, path in enumerate(preview.samples.get(name, []), 1):
                picture = QLabel()
                picture.setFixedSize(THUMB_PX + 4, THUMB_PX + 4)
                picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
                pixmap = thumbnail(path)
                if pixmap is None:
                    picture.setText("?")
                    picture.setToolTip(f"{path.name}: cannot read as an image")
                else:
                    picture.setPixmap(pixmap)
                    picture.setToolTip(path.name)
                self.grid.addWidget(picture, row, column)
        if len(preview.classes) > rows:
            more = QLabel(f"… and {len(preview.classes) - rows} more classes")
            more.setObjectName("hint")
            self.grid.addWidget(more, rows, 0, 1, 3)
        self.grid.setRowStretch(self.grid.rowCount(), 1)
        self.grid.setColumnStretch(self.grid.columnCount(), 1)


class SeriesPlot(QWidget):
    """The target over time (dates on the axis when the time column holds dates)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot: pg.PlotWidget | None = None  # made when first shown
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)
        self.points = 0

    def show_series(self, preview: TablePreview, column: str) -> None:
        if self.plot is None:
            self.plot = style.styled_plot("")
            self.layout_.addWidget(self.plot)
        item = self.plot.getPlotItem()
        item.clear()
        values = preview.values[column][1] if column in preview.values else np.array([])
        times = preview.times if preview.times is not None else np.arange(len(values))
        if preview.dated:
            item.setAxisItems({"bottom": pg.DateAxisItem()})
        item.setTitle(f"{column} over {preview.time or 'rows'}", color="#e3e6eb", size="9.5pt")
        shown = ~np.isnan(values)
        self.points = int(shown.sum())
        item.plot(times[shown], values[shown], pen=style.pen(style.VAL, 1.4))
        item.setLabel("left", column, color=style.AXIS_TEXT)
        if not preview.dated:
            item.setLabel("bottom", preview.time or "row", color=style.AXIS_TEXT)


def role_hint(preview: TablePreview) -> str:
    """One line under the table: how many columns play each role."""
    counts = {role: len(preview.with_role(role)) for role in ROLES}
    features = counts[FEATURE]
    parts = [f"{features} feature column{'' if features == 1 else 's'}"]
    parts.append(f"target {preview.target!r}")
    if counts[TIME]:
        parts.append(f"time {preview.time!r}")
    if counts[IGNORED]:
        parts.append("ignored: " + ", ".join(preview.with_role(IGNORED)))
    return f"{preview.row_count:,} rows · " + " · ".join(parts)
