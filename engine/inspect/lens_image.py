"""The time lens drawn: one heat map per traced array (hidden units down, time steps
across) with named axes and a colour bar, then the gradient reaching each step.

Cells are sized to the sequence: a short one (T = 8) gets wide cells, a long one
(T = 150) narrow ones, so every lens is about LENS_WIDTH px wide and never a sliver;
hidden units get rows of at least MIN_ROW px. Panels sit one below the other: Look
inside's dock is ~550 px wide at 1280 x 800, and two across made it scroll sideways.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from engine.inspect.axes import Axis, axed
from engine.inspect.drawing import (
    DIVERGING,
    SEQUENTIAL,
    heatmap,
    log_range,
    stack,
    symmetric,
    titled,
)
from engine.inspect.lens import TimeLens

LENS_WIDTH = 450  # px the time axis aims for (Look inside is ~550 px wide at 1280 x 800)
LENS_HEIGHT = 192  # px the hidden-unit axis aims for
MIN_COLUMN, MAX_COLUMN = 3, 32  # px per time step
MIN_ROW, MAX_ROW = 3, 14  # px per hidden unit
GRAD_HEIGHT = 90
GRAD_LABELS = 5  # decades labelled on the gradient's log axis, at most

# Which traced arrays the lens draws, in order: (name, title, signed, colour-bar name).
LENS_ROWS = (
    ("hidden", "hidden state h_t", True, "h_t value (no unit)"),
    ("input", "input gate i_t", False, "gate: 0 shut, 1 open"),
    ("forget", "forget gate f_t", False, "gate: 0 forget, 1 keep"),
    ("output", "output gate o_t", False, "gate: 0 shut, 1 open"),
    ("cell", "cell state c_t", True, "c_t value (no unit)"),
    ("reset", "reset gate r_t", False, "gate: 0 reset, 1 keep"),
    ("update", "update gate z_t", False, "gate: 0 new, 1 keep old"),
)


def cell_size(steps: int, units: int) -> tuple[int, int]:
    """(rows, columns) px of one cell: the lens about LENS_WIDTH × LENS_HEIGHT."""
    column = int(np.clip(LENS_WIDTH // max(steps, 1), MIN_COLUMN, MAX_COLUMN))
    row = int(np.clip(LENS_HEIGHT // max(units, 1), MIN_ROW, MAX_ROW))
    return row, column


def lens_panel(values: np.ndarray, title: str, signed: bool, bar_name: str,
               cell: tuple[int, int]) -> Image.Image:  # fmt: skip
    """One traced array (T, hidden) as hidden units down, time steps across."""
    image = np.asarray(values, dtype=np.float64).T  # (hidden, T)
    if signed:
        peak = symmetric(image)
        low, high, scale = -peak, peak, DIVERGING
    else:
        low, high, scale = 0.0, 1.0, SEQUENTIAL
    body = heatmap(image, low, high, scale, cell)
    units, steps = image.shape
    drawn = axed(
        body,
        Axis("time step", steps, cell[1]),
        Axis("hidden unit", units, cell[0]),
        bar=(scale, low, high, bar_name),
    )
    return titled(drawn, title, 12)


def gradient_panel(grad_norm: np.ndarray, column: int,
                   exponents: tuple[int, int] | None) -> Image.Image:  # fmt: skip
    """‖∂loss/∂x_t‖ per step as bars on a log axis, time steps across."""
    values = np.asarray(grad_norm, dtype=np.float64)
    low_exp, high_exp = exponents or log_range(values)
    width = len(values) * column
    body = np.full((GRAD_HEIGHT, width, 3), 255, dtype=np.uint8)
    for k, v in enumerate(values):
        if v > 0:
            share = min(max((np.log10(v) - low_exp) / (high_exp - low_exp), 0.0), 1.0)
            extent = max(1, int(round(share * (GRAD_HEIGHT - 1))))
            body[GRAD_HEIGHT - extent :, k * column : (k + 1) * column - (column > 2)] = (
                59, 82, 139,
            )  # fmt: skip
    decades = range(high_exp, low_exp - 1, -1)
    y_labels = [((high_exp - e) / (high_exp - low_exp), f"1e{e}") for e in decades]
    drawn = axed(
        Image.fromarray(body, "RGB"),
        Axis("time step", len(values), column),
        Axis("|d loss / d x_t|", 1, GRAD_HEIGHT),
        y_labels=y_labels[:: -(-len(y_labels) // GRAD_LABELS)],
    )
    return titled(drawn, "gradient reaching each step's input (log scale; no bar = exactly 0)", 12)


def lens_image(lens: TimeLens, exponents: tuple[int, int] | None = None) -> Image.Image:
    """Every layer and direction's traced arrays, then the gradient per step.
    `exponents` fixes the gradient's log scale, to compare lenses side by side."""
    steps = len(lens.grad_norm)
    units = lens.traces[0].hidden.shape[1] if lens.traces else 1
    cell = cell_size(steps, units)
    panels = []
    for trace in lens.traces:
        arrays = {"hidden": trace.hidden, "cell": trace.cell, **trace.gates}
        where = f"  (layer {trace.layer}, {trace.direction})" if len(lens.traces) > 1 else ""
        for name, title, signed, bar_name in LENS_ROWS:
            values = arrays.get(name)
            if values is not None:
                panels.append(lens_panel(values, title + where, signed, bar_name, cell))
    panels.append(gradient_panel(lens.grad_norm, cell[1], exponents))
    body = stack(panels, gap=10)
    heading = f"{lens.node}: {lens.kind} time lens, {steps} time steps x {units} hidden units"
    return titled(body, heading, 14)
