"""Colours, fonts and the dark style sheet shared by every NetLoom widget.

Category colours are keyed by the category names the registry declares; a category
added later gets a stable colour derived from its name, so no code names a block type.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QApplication

RESOURCES = Path(__file__).resolve().parents[2] / "resources"
STYLE_SHEET = RESOURCES / "style.qss"

# Canvas palette: dark blue-grey background, light text, one accent.
CANVAS_BACKGROUND = QColor("#1b1d21")
GRID_MINOR = QColor("#23262b")
GRID_MAJOR = QColor("#2b2f35")
NODE_BODY = QColor("#2c3037")
NODE_BORDER = QColor("#454b55")
NODE_SELECTED = QColor("#f0b23c")
TEXT = QColor("#e3e6eb")
TEXT_DIM = QColor("#9aa3ae")
TEXT_SHAPE = QColor("#8fd4ff")
WIRE = QColor("#7b8696")
WIRE_SELECTED = QColor("#f0b23c")
WIRE_LABEL_BACK = QColor(27, 29, 33, 225)
ERROR = QColor("#e5484d")
PORT_OK = QColor("#4cc38a")
PORT_REFUSED = QColor("#e5484d")

_CATEGORY_COLOURS = {
    "Input/Output": "#3f8f5a",
    "Convolution": "#3d6fb6",
    "Pooling": "#2f8c9b",
    "Core": "#7a5bb5",
    "Recurrent": "#b5673d",
    "Normalization": "#8a8f3a",
    "Activation": "#a8477a",
    "Merge": "#5a7f3f",
    "Reshape": "#6b6f78",
}


def category_colour(category: str) -> QColor:
    known = _CATEGORY_COLOURS.get(category)
    if known:
        return QColor(known)
    hue = int(hashlib.md5(category.encode()).hexdigest()[:4], 16) % 360
    return QColor.fromHsl(hue, 110, 95)


_icon_cache: dict[tuple[str, str], QIcon] = {}


def block_icon(category: str, name: str) -> QIcon:
    """A small rounded tile in the category colour with the block's initials."""
    key = (category, name)
    if key not in _icon_cache:
        pixmap = QPixmap(36, 36)
        pixmap.fill(QColor(0, 0, 0, 0))
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QColor(0, 0, 0, 0))
        painter.setBrush(category_colour(category))
        painter.drawRoundedRect(2, 2, 32, 32, 7, 7)
        painter.setPen(QColor("#ffffff"))
        font = QFont(ui_font())
        font.setPixelSize(13)
        font.setBold(True)
        painter.setFont(font)
        initials = "".join(ch for ch in name if ch.isupper() or ch.isdigit())[:3] or name[:2]
        painter.drawText(pixmap.rect(), 0x84, initials)  # AlignCenter
        painter.end()
        _icon_cache[key] = QIcon(pixmap)
    return _icon_cache[key]


def ui_font() -> QFont:
    app = QApplication.instance()
    return QFont(app.font()) if isinstance(app, QApplication) else QFont()


def apply_theme(app: QApplication) -> None:
    """Fusion style, a readable UI font and the dark style sheet from resources/."""
    app.setStyle("Fusion")
    font = QFont(app.font())
    font.setPointSizeF(9.5)
    app.setFont(font)
    if STYLE_SHEET.exists():
        # Style sheets resolve url() against the working folder; point them at resources/.
        icons = (RESOURCES / "icons").as_posix()
        app.setStyleSheet(STYLE_SHEET.read_text(encoding="utf-8").replace("@ICONS@", icons))
