"""Show one sample the way a person reads it: an image, a strip of video frames, a
mask in colours, a series over time or a row of feature values.

What to draw follows the sample's shape, not the dataset's name: (C, H, W) with 1 or
3 channels is an image, (T, C, H, W) a clip, (T, F) with a time axis a series,
(F,) a vector.
"""

from __future__ import annotations

import re

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QImage, QPixmap, QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QStackedWidget, QWidget

from gui.common import plot_style as style

FRAME_GAP = 2
MAX_FRAMES = 16
# Mask colours by class: background dark, then distinct hues.
MASK_COLOURS = ("#202329", "#5b8fd6", "#f0b23c", "#4cc38a", "#e5484d", "#c58af9", "#2fb8c6")


def _is_image(shape: tuple[int, ...]) -> bool:
    return len(shape) == 3 and shape[0] in (1, 3) and min(shape[1:]) >= 4


def _to_bytes(values: np.ndarray) -> np.ndarray:
    """Scale to 0..255: data in [0, 1] as it is, anything else by its own range."""
    values = np.nan_to_num(values.astype(np.float32))
    low, high = float(values.min()), float(values.max())
    if low < 0 or high > 1:
        values = (values - low) / (high - low) if high > low else np.zeros_like(values)
    return np.ascontiguousarray(np.clip(values * 255, 0, 255).astype(np.uint8))


def image_of(array: np.ndarray) -> QImage:
    """(H, W) grey, (1, H, W) grey or (3, H, W) colour → QImage."""
    if array.ndim == 3 and array.shape[0] == 3:
        pixels = np.ascontiguousarray(_to_bytes(array).transpose(1, 2, 0))
        h, w, _ = pixels.shape
        return QImage(pixels.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
    pixels = _to_bytes(array.reshape(array.shape[-2:]))
    h, w = pixels.shape
    return QImage(pixels.data, w, h, w, QImage.Format.Format_Grayscale8).copy()


def frames_image(clip: np.ndarray) -> QImage:
    """(T, C, H, W) → the frames side by side, scaled together so brightness compares."""
    frames = clip[:MAX_FRAMES]
    scaled = _to_bytes(frames)
    t, c, h, w = scaled.shape
    strip = np.full((c, h, t * (w + FRAME_GAP) - FRAME_GAP), 40, dtype=np.uint8)
    for i in range(t):
        strip[:, :, i * (w + FRAME_GAP) : i * (w + FRAME_GAP) + w] = scaled[i]
    return image_of(strip.astype(np.float32) / 255.0)


def mask_image(mask: np.ndarray) -> QImage:
    """(H, W) class indices → colours, one per class."""
    colours = np.array([QColor(c).getRgb()[:3] for c in MASK_COLOURS], dtype=np.uint8)
    pixels = np.ascontiguousarray(colours[np.asarray(mask, dtype=np.int64) % len(colours)])
    h, w, _ = pixels.shape
    return QImage(pixels.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def shortened(name: str, metrics: QFontMetrics, width: int) -> str:
    """`name` in `width` pixels: as it is, else without its unit, else its leading
    words cut to initials ("sepal length" → "s. length"), else cut with an ellipsis."""
    if metrics.horizontalAdvance(name) <= width:
        return name
    name = re.sub(r"\s*\(.*\)\s*$", "", name) or name  # a unit, "(cm)", goes first
    if metrics.horizontalAdvance(name) <= width:
        return name
    words = name.split()
    if len(words) > 1:
        initials = " ".join(f"{w[0]}." for w in words[:-1]) + f" {words[-1]}"
        if metrics.horizontalAdvance(initials) <= width:
            return initials
        name = initials
    return metrics.elidedText(name, Qt.TextElideMode.ElideRight, width)


class PixelLabel(QLabel):
    """An image that fills its space; small images grow with sharp pixels."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        # A clip's strip of 8 frames in a 270 px wide view is 31 px high: the least
        # height is less than that, or the strip gets a band of nothing above and below.
        self.setMinimumSize(48, 24)
        self.image: QImage | None = None

    def set_image(self, image: QImage | None) -> None:
        self.image = image
        self._rescale()

    def _rescale(self) -> None:
        if self.image is None or self.image.isNull():
            self.clear()
            return
        target = self.size() - QSize(4, 4)
        pixmap = QPixmap.fromImage(self.image).scaled(
            target, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation
        )
        self.setPixmap(pixmap)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._rescale()


class SampleView(QStackedWidget):
    """One sample: an image page and a plot page; `kind` says what is shown."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.picture = PixelLabel()
        self._plot: pg.PlotWidget | None = None  # made on first use: plots cost ~10 ms each
        self.message = QLabel()
        self.message.setObjectName("hint")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        for page in (self.picture, self.message):
            self.addWidget(page)
        self.kind = "empty"
        self.show_message("")

    @property
    def plot(self) -> pg.PlotWidget:
        if self._plot is None:
            self._plot = style.styled_plot("")
            self._plot.setMinimumHeight(80)
            self.addWidget(self._plot)
        return self._plot

    def show_message(self, text: str) -> None:
        self.kind = "empty"
        self.message.setText(text)
        self.setCurrentWidget(self.message)

    def show_image(self, image: QImage, kind: str = "image") -> None:
        self.kind = kind
        self.picture.set_image(image)
        self.setCurrentWidget(self.picture)

    def show_mask(self, mask: np.ndarray) -> None:
        self.show_image(mask_image(mask), "mask")

    def show_sample(self, x: np.ndarray, sequence: bool, names: list[str] | None = None) -> None:
        shape = tuple(x.shape)
        if _is_image(shape) or (len(shape) == 2 and not sequence and min(shape) >= 4):
            self.show_image(image_of(x))
        elif len(shape) == 4 and shape[1] in (1, 3):
            self.show_image(frames_image(x), "frames")
        elif len(shape) == 2 and sequence:
            self._series(x, names)
        else:
            self._bars(x.reshape(-1), names)

    def _series(self, x: np.ndarray, names: list[str] | None) -> None:
        self.kind = "series"
        item = self.plot.getPlotItem()
        item.clear()
        steps = np.arange(x.shape[0])
        for i in range(min(x.shape[1], len(style.RUN_COLOURS))):
            label = names[i] if names and i < len(names) else f"feature {i}"
            item.plot(steps, x[:, i].astype(float), pen=style.pen(style.RUN_COLOURS[i]), name=label)
        item.setLabel("bottom", "time step", color=style.AXIS_TEXT)
        self.setCurrentWidget(self.plot)

    def _bars(self, values: np.ndarray, names: list[str] | None) -> None:
        self.kind = "vector"
        item = self.plot.getPlotItem()
        item.clear()
        positions = np.arange(len(values))
        item.addItem(
            pg.BarGraphItem(
                x=positions, height=values.astype(float), width=0.7, brush=style.brush(style.TRAIN)
            )
        )
        axis = item.getAxis("bottom")
        if names and len(names) == len(values) and len(values) <= 16:
            # Each name within its bar's share of the width: side by side at 10
            # characters, iris's "sepal length" and "sepal width" ran into each other.
            metrics = QFontMetrics(axis.style.get("tickFont") or self.font())
            room = max(self.width() - 30, 60) // len(values) - 4  # (the left axis, a gap)
            axis.setTicks([[(i, shortened(n, metrics, room)) for i, n in enumerate(names)]])
        elif len(values) <= 16:
            axis.setTicks([[(i, str(i)) for i in range(len(values))]])
        else:
            axis.setTicks(None)
        item.setLabel("bottom", "feature", color=style.AXIS_TEXT)
        self.setCurrentWidget(self.plot)
