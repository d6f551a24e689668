"""The drawing primitives every inspect picture shares (numpy and Pillow only).

Colour scales, the font and text that tests can record, colouring an array, heatmaps,
titles and laying images out in grids and stacks. `engine.inspect.render` draws the
views with them, and so do its two helpers `axes` (named axes, colour bars) and
`lens_image` (the time lens), which is why they live below all three.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

BACKGROUND = (255, 255, 255)
INK = (30, 30, 30)
GAP = 4

# Anchors of a perceptually ordered scale (dark violet → teal → yellow, as viridis) and
# of a diverging one (blue → white → red) for signed values centred on zero.
SEQUENTIAL = np.array(
    [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]], dtype=np.float64
)
DIVERGING = np.array([[33, 102, 172], [146, 197, 222], [247, 247, 247], [244, 165, 130],
                      [178, 24, 43]], dtype=np.float64)  # fmt: skip


@lru_cache(maxsize=4)
def font(size: int = 12) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    """Pillow's built-in font at `size` (the same on every machine)."""
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # an older Pillow, or one without FreeType
        return ImageFont.load_default()


# Every text drawn while `recording_text` is active, in order (what an image says, for
# tests and the command line's report).
_written: ContextVar[list[str] | None] = ContextVar("written", default=None)


@contextmanager
def recording_text() -> Iterator[list[str]]:
    """Collect every text `write` draws inside the `with` block, in order."""
    written: list[str] = []
    token = _written.set(written)
    try:
        yield written
    finally:
        _written.reset(token)


def write(draw: ImageDraw.ImageDraw, xy: tuple[float, float], text: str,
          ink: tuple[int, int, int] = INK, size: int = 12) -> None:  # fmt: skip
    """Draw `text` at `xy` (recorded while `recording_text` is active)."""
    written = _written.get()
    if written is not None:
        written.append(text)
    draw.text(xy, text, fill=ink, font=font(size))


def colourize(
    values: np.ndarray, low: float, high: float, scale: np.ndarray = SEQUENTIAL
) -> np.ndarray:
    """(H, W) values → (H, W, 3) uint8 colours; NaN draws grey."""
    span = high - low if high > low else 1.0
    t = np.clip((np.nan_to_num(values, nan=low) - low) / span, 0.0, 1.0) * (len(scale) - 1)
    index = np.minimum(t.astype(np.int64), len(scale) - 2)
    frac = (t - index)[..., None]
    rgb = scale[index] * (1 - frac) + scale[index + 1] * frac
    rgb[np.isnan(values)] = 160
    return rgb.astype(np.uint8)


def heatmap(values: np.ndarray, low: float, high: float, scale: np.ndarray = SEQUENTIAL,
            cell: tuple[int, int] = (1, 1)) -> Image.Image:  # fmt: skip
    """A 2-D array as an image, each value `cell` (rows, columns) pixels."""
    rgb = colourize(np.asarray(values, dtype=np.float64), low, high, scale)
    rgb = np.repeat(np.repeat(rgb, cell[0], axis=0), cell[1], axis=1)
    return Image.fromarray(rgb, "RGB")


def titled(image: Image.Image, title: str, size: int = 12) -> Image.Image:
    """The image with a line (or lines) of text above it."""
    lines = title.splitlines() or [""]
    line_h = size + 4
    width = max(image.width, *(int(font(size).getlength(line)) + 4 for line in lines))
    out = Image.new("RGB", (width, image.height + line_h * len(lines) + 2), BACKGROUND)
    draw = ImageDraw.Draw(out)
    for i, line in enumerate(lines):
        write(draw, (2, 1 + i * line_h), line, INK, size)
    out.paste(image, (0, line_h * len(lines) + 2))
    return out


def grid(images: Sequence[Image.Image], columns: int, gap: int = GAP) -> Image.Image:
    """Images in rows of `columns`, each in a cell as big as the largest."""
    if not images:
        return Image.new("RGB", (1, 1), BACKGROUND)
    columns = max(1, min(columns, len(images)))
    rows = -(-len(images) // columns)
    cell_w = max(i.width for i in images) + gap
    cell_h = max(i.height for i in images) + gap
    out = Image.new("RGB", (columns * cell_w, rows * cell_h), BACKGROUND)
    for k, image in enumerate(images):
        out.paste(image, ((k % columns) * cell_w, (k // columns) * cell_h))
    return out


def stack(images: Sequence[Image.Image], gap: int = 8) -> Image.Image:
    """Images one below the other, each as tall as it is, left-aligned."""
    if not images:
        return grid([], 1)
    height = sum(i.height for i in images) + gap * (len(images) - 1)
    out = Image.new("RGB", (max(i.width for i in images), height), BACKGROUND)
    y = 0
    for image in images:
        out.paste(image, (0, y))
        y += image.height + gap
    return out


def value_range(values: np.ndarray) -> tuple[float, float]:
    """The finite values' lowest and highest (0, 1 when there are none)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return 0.0, 1.0
    return float(finite.min()), float(finite.max())


def symmetric(values: np.ndarray) -> float:
    """The half-width of a scale centred on zero that holds every finite value."""
    low, high = value_range(values)
    return max(abs(low), abs(high), 1e-12)


def log_range(*series: np.ndarray) -> tuple[int, int]:
    """Powers of ten that hold every positive value of all `series` (one shared scale)."""
    values = np.concatenate([np.asarray(v, dtype=np.float64).ravel() for v in series])
    positive = values[values > 0]
    if positive.size == 0:
        return -1, 0
    low_exp = int(np.floor(np.log10(positive.min())))
    high_exp = int(np.ceil(np.log10(positive.max())))
    return low_exp, max(high_exp, low_exp + 1)
