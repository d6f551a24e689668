"""Axes and colour bars for the inspect images (Pillow only, no plotting library).

A heat map over (rows, columns) of cells gets a named axis on the left and at the
bottom, each with a few tick labels at whole indices, and a colour bar on the right
whose end values, middle and name (the quantity and its unit) say what a colour means.
Names that run along a vertical axis are drawn upright (turned a quarter to the left).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from engine.inspect.drawing import BACKGROUND, INK, colourize, font, write

AXIS_INK = (90, 90, 90)
TICK = 3  # px of a tick mark
LABEL_SIZE = 10  # tick labels
NAME_SIZE = 11  # axis and colour-bar names
BAR_W = 12  # the colour bar's width
GAP = 4


@dataclass(frozen=True)
class Axis:
    """An axis along `count` cells of `cell` px: its name and the indices it labels."""

    name: str
    count: int
    cell: int

    def ticks(self, across: bool = True) -> list[int]:
        """As many labels as fit along the axis's length without crowding (at most 12)."""
        width, height = text_size(str(max(self.count - 1, 0)), LABEL_SIZE)
        room = (width + 12) if across else (height + 8)
        most = max(2, min(12, self.count * self.cell // room))
        return nice_ticks(self.count, most, min_gap=-(-room // max(self.cell, 1)))


def nice_ticks(count: int, most: int = 6, min_gap: float | None = None) -> list[int]:
    """Indices 0 … count-1 to label: steps of 1, 2 or 5 × 10^k, at most `most` of them,
    and the last index too when it is at least `min_gap` indices (default: half a
    step) past the tick before it."""
    if count <= 0:
        return []
    step = 1
    while -(-count // step) > most:
        step = _next_step(step)
    ticks = list(range(0, count, step))
    last = count - 1
    gap = step / 2 if min_gap is None else min_gap
    if last not in ticks and last - ticks[-1] >= gap:
        ticks.append(last)
    return ticks


def _next_step(step: int) -> int:
    """1, 2, 5, 10, 20, 50, …"""
    magnitude = 10 ** (len(str(step)) - 1)
    lead = step // magnitude
    return {1: 2, 2: 5, 5: 10}[lead] * magnitude


def text_size(text: str, size: int) -> tuple[int, int]:
    left, top, right, bottom = font(size).getbbox(text)
    return int(right - min(left, 0)) + 1, int(bottom) + 2


def upright(text: str, size: int, ink: tuple[int, int, int] = INK) -> Image.Image:
    """`text` turned a quarter to the left (read from the bottom up)."""
    width, height = text_size(text, size)
    image = Image.new("RGB", (width, height), BACKGROUND)
    write(ImageDraw.Draw(image), (0, 0), text, ink, size)
    return image.rotate(90, expand=True)


def axed(
    body: Image.Image,
    x: Axis,
    y: Axis,
    bar: tuple[np.ndarray, float, float, str] | None = None,
    y_labels: Sequence[tuple[float, str]] | None = None,
) -> Image.Image:
    """`body` (y.count × y.cell rows of px, x.count × x.cell columns) with its axes and,
    if `bar` = (scale, low, high, name) is given, a colour bar. `y_labels` replaces the
    left axis's index ticks with (fraction of the height from the top, text) pairs."""
    label_h = text_size("0", LABEL_SIZE)[1]
    name_h = text_size(y.name or "0", NAME_SIZE)[1]
    if y_labels is None:
        y_labels = [((i + 0.5) / max(y.count, 1), str(i)) for i in y.ticks(across=False)]
    y_label_w = max((text_size(t, LABEL_SIZE)[0] for _, t in y_labels), default=0)
    y_name = upright(y.name, NAME_SIZE) if y.name else None
    plot_h = max(body.height, y_name.height if y_name else 0)
    left = (name_h + GAP if y_name else 0) + y_label_w + TICK + 2
    bottom = TICK + label_h + GAP + (name_h if x.name else 0)
    right = 0
    bar_parts = None
    if bar is not None:
        scale, low, high, bar_name = bar
        values = [(high, _figure(high)), ((low + high) / 2, _figure((low + high) / 2))]
        values.append((low, _figure(low)))
        bar_label_w = max(text_size(t, LABEL_SIZE)[0] for _, t in values)
        name_image = upright(bar_name, NAME_SIZE)
        plot_h = max(plot_h, name_image.height)
        right = 2 * GAP + BAR_W + TICK + 2 + bar_label_w + GAP + name_image.width
        bar_parts = (scale, low, high, values, name_image)
    # The last column's tick label is centred on it: room for its right half.
    last_label = text_size(str(max(x.count - 1, 0)), LABEL_SIZE)[0]
    right = max(right, last_label // 2 + 2)
    top = label_h // 2  # room for the top tick label's upper half
    out = Image.new("RGB", (left + body.width + right, top + plot_h + bottom), BACKGROUND)
    draw = ImageDraw.Draw(out)
    out.paste(body, (left, top))
    # Left axis: its name upright, centred on the body; tick labels at their rows.
    if y_name is not None:
        out.paste(y_name, (0, top + max(0, (body.height - y_name.height) // 2)))
    for fraction, text in y_labels:
        row = top + int(round(fraction * body.height))
        width = text_size(text, LABEL_SIZE)[0]
        draw.line([(left - TICK - 1, row), (left - 1, row)], fill=AXIS_INK)
        write(draw, (left - TICK - 2 - width, row - label_h // 2), text, AXIS_INK, LABEL_SIZE)
    # Bottom axis: ticks at the centres of their columns, the name centred below.
    base = top + body.height
    for i in x.ticks():
        column = left + int((i + 0.5) * x.cell)
        text = str(i)
        width = text_size(text, LABEL_SIZE)[0]
        draw.line([(column, base), (column, base + TICK)], fill=AXIS_INK)
        write(draw, (column - width // 2, base + TICK), text, AXIS_INK, LABEL_SIZE)
    if x.name:
        width = text_size(x.name, NAME_SIZE)[0]
        where = (left + (body.width - width) // 2, base + TICK + label_h + GAP // 2)
        write(draw, where, x.name, INK, NAME_SIZE)
    if bar_parts is not None:
        _colour_bar(out, draw, left + body.width + 2 * GAP, top, body.height, bar_parts)
    return out


def _colour_bar(out: Image.Image, draw: ImageDraw.ImageDraw, x0: int, top: int, height: int,
                parts: tuple) -> None:  # fmt: skip
    scale, low, high, values, name_image = parts
    height = max(height, 24)
    ramp = np.linspace(high, low, height)[:, None].repeat(BAR_W, axis=1)
    out.paste(Image.fromarray(colourize(ramp, low, high, scale), "RGB"), (x0, top))
    draw.rectangle([x0 - 1, top - 1, x0 + BAR_W, top + height], outline=AXIS_INK)
    label_h = text_size("0", LABEL_SIZE)[1]
    span = high - low if high > low else 1.0
    widest = 0
    for value, text in values:
        row = top + int(round((high - value) / span * (height - 1)))
        draw.line([(x0 + BAR_W, row), (x0 + BAR_W + TICK, row)], fill=AXIS_INK)
        write(draw, (x0 + BAR_W + TICK + 2, row - label_h // 2), text, AXIS_INK, LABEL_SIZE)
        widest = max(widest, text_size(text, LABEL_SIZE)[0])
    name_x = x0 + BAR_W + TICK + 2 + widest + GAP
    out.paste(name_image, (name_x, top + max(0, (height - name_image.height) // 2)))


def _figure(value: float) -> str:
    if value == 0:
        return "0"
    return f"{value:.2g}" if abs(value) < 0.01 or abs(value) >= 1000 else f"{value:.3g}"
