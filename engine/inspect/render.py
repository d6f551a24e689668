"""Draw the inspect views as images with numpy and Pillow only (no plotting library).

Titles keep to characters Pillow's built-in font has (it lacks ×, ‖ and ∂), so the
images read the same on every machine without a system font. Each function returns a
`PIL.Image.Image`; the `inspect` command saves them as PNG and
the README figures are composed from them. Colour scales are stated in each panel's
title, since there is no colour bar: values map linearly between the stated ends.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image

from engine.inspect.activations import BlockActivation, Filters
from engine.inspect.axes import Axis, axed
from engine.inspect.drawing import (
    BACKGROUND,
    DIVERGING,
    colourize,
    grid,
    heatmap,
    symmetric,
    titled,
    value_range,
)
from engine.inspect.lens import TimeLens
from engine.inspect.lens_image import lens_image

CLASS_COLOURS = np.array(
    [[20, 20, 20], [230, 159, 0], [86, 180, 233], [0, 158, 115], [240, 228, 66], [204, 121, 167]],
    dtype=np.uint8,
)


def enlarge(rgb: np.ndarray, target: int = 48, most: int = 12) -> np.ndarray:
    """Upscale by whole pixels (no blur), so a small map is at least `target` px tall."""
    factor = int(min(most, max(1, target // max(rgb.shape[:2]))))
    return np.repeat(np.repeat(rgb, factor, axis=0), factor, axis=1)


def side_by_side(images: Sequence[Image.Image], gap: int = 16) -> Image.Image:
    height = max(i.height for i in images)
    out = Image.new("RGB", (sum(i.width for i in images) + gap * (len(images) - 1), height),
                    BACKGROUND)  # fmt: skip
    x = 0
    for image in images:
        out.paste(image, (x, 0))
        x += image.width + gap
    return out


def map_grid(maps: np.ndarray, label: str, columns: int = 8, prefix: str = "ch") -> Image.Image:
    """(K, H, W) maps on one shared colour scale, each captioned with its index."""
    low, high = value_range(maps)
    tiles = [
        titled(Image.fromarray(enlarge(colourize(m, low, high)), "RGB"), f"{prefix} {k}", 10)
        for k, m in enumerate(maps)
    ]
    return titled(grid(tiles, columns), f"{label}   colour: {low:.3g} … {high:.3g}")


def _bars(values: np.ndarray, height: int = 60, bar: int = 4) -> Image.Image:
    """A bar strip for a vector: bars up for positive values, down for negative."""
    peak = symmetric(values)
    width = len(values) * bar
    out = np.full((height, width, 3), 255, dtype=np.uint8)
    middle = height // 2
    out[middle, :] = 180
    for k, v in enumerate(values):
        extent = int(round(abs(v) / peak * (middle - 1))) if np.isfinite(v) else 0
        rows = slice(middle - extent, middle) if v >= 0 else slice(middle + 1, middle + 1 + extent)
        out[rows, k * bar : (k + 1) * bar - 1] = (59, 82, 139) if v >= 0 else (178, 24, 43)
    return Image.fromarray(out, "RGB")


def shape_words(shape: Sequence[int]) -> str:
    """A shape in words: "64 values", "150 x 64 values" (never a bare "(64,)")."""
    return " x ".join(str(d) for d in shape) + (" value" if shape == (1,) else " values")


def render_activation(act: BlockActivation, recurrent: bool = False) -> Image.Image:
    """One block's output, drawn as its view kind says. `recurrent`: the block is an
    RNN, GRU or LSTM, whose output's features are its hidden units."""
    a = np.asarray(act.array, dtype=np.float64)
    name = f"{act.node} output, {shape_words(a.shape)}"
    feature = "hidden unit" if recurrent else "feature"
    if act.kind == "feature_maps":
        return map_grid(a, f"{name}: feature maps")
    if act.kind in ("frames", "volume"):
        # frames (T, C, H, W) / volume (C, D, H, W): one row per step or depth slice.
        rows = a if act.kind == "frames" else a.transpose(1, 0, 2, 3)
        low, high = value_range(rows)
        tiles = [
            Image.fromarray(enlarge(colourize(m, low, high), 32), "RGB")
            for row in rows
            for m in row
        ]
        axis = "t" if act.kind == "frames" else "depth"
        body = grid(tiles, rows.shape[1])
        return titled(
            body, f"{name}: rows {axis}, columns channels   colour: {low:.3g} … {high:.3g}"
        )
    if act.kind == "sequence" or act.kind == "channels":
        # (T, F): features down, time across; (C, L): channels down, length across.
        image = a.T if act.kind == "sequence" else a
        peak = symmetric(image)
        cell = (max(2, min(12, 128 // image.shape[0])), max(2, min(32, 480 // image.shape[1])))
        across, down = ("time step", feature) if act.kind == "sequence" else ("position", "channel")
        body = axed(
            heatmap(image, -peak, peak, DIVERGING, cell),
            Axis(across, image.shape[1], cell[1]),
            Axis(down, image.shape[0], cell[0]),
            bar=(DIVERGING, -peak, peak, "output value"),
        )
        return titled(body, name)
    flat = a.ravel()
    if flat.size <= 256 and a.ndim == 1:
        peak = symmetric(flat)
        bars = _bars(flat)
        middle = 0.5
        body = axed(
            bars,
            Axis(f"{feature} (one bar each)" if recurrent else "value index", flat.size, 4),
            Axis("value", 1, bars.height),
            y_labels=[(0.0, f"{peak:.3g}"), (middle, "0"), (1.0, f"-{peak:.3g}")],
        )
        if recurrent:
            name = f"{act.node} output: the last time step's {flat.size} hidden units"
        return titled(body, name)
    flat = a.ravel()
    if flat.size <= 256:
        return titled(_bars(flat), f"{name}: one bar per value, ±{symmetric(flat):.3g}")
    width = 128
    padded = np.full(-(-flat.size // width) * width, np.nan)
    padded[: flat.size] = flat
    peak = symmetric(flat)
    return titled(
        heatmap(padded.reshape(-1, width), -peak, peak, DIVERGING, (3, 3)),
        f"{name}: values in rows of {width}   colour: ±{peak:.3g}",
    )


def render_filters(filters: Filters) -> Image.Image:
    """First-layer filters: per filter, one image per input channel (2-D kernels)."""
    w = filters.weights
    if w.ndim == 3:  # Conv1d (out, in, k): one row per filter
        peak = symmetric(w)
        body = heatmap(w.reshape(w.shape[0], -1), -peak, peak, DIVERGING, (8, 8))
        return titled(body, f"{filters.node} filters: rows filters, columns in x k   ±{peak:.3g}")
    if w.ndim == 5:  # Conv3d (out, in, d, k, k): the middle depth slice
        w = w[:, :, w.shape[2] // 2]
    peak = symmetric(w)
    tiles = [
        titled(
            side_by_side(
                [
                    Image.fromarray(enlarge(colourize(k, -peak, peak, DIVERGING), 36), "RGB")
                    for k in f
                ],
                2,
            ),
            f"f{i}",
            10,
        )
        for i, f in enumerate(w)
    ]
    return titled(
        grid(tiles, 8), f"{filters.node} filters ({w.shape[1]} input channel(s))  ±{peak:.3g}"
    )


def render_saliency(sample: np.ndarray, heat: np.ndarray, title: str) -> Image.Image:
    """Per frame (one column each): the input (first channel, grey), its heatmap, and
    the heat drawn over the input.

    One colour scale for all frames, so a frame that matters more shows brighter; the
    square root of the heat is drawn, so weaker but real attention stays visible.
    """
    frames_in = sample[:, 0] if sample.ndim == 4 else sample[None, 0]
    frames_heat = heat if heat.ndim == 3 else heat[None]
    low, high = value_range(frames_in)
    grey = np.array([[0, 0, 0], [255, 255, 255.0]])
    top = [Image.fromarray(enlarge(colourize(f, low, high, grey), 96), "RGB") for f in frames_in]
    if len(top) > 1:
        top = [titled(image, f"t={t}", 10) for t, image in enumerate(top)]
    root = np.sqrt(np.clip(frames_heat, 0.0, None))
    peak = max(value_range(root)[1], 1e-12)
    middle = [Image.fromarray(enlarge(colourize(h, 0.0, peak), 96), "RGB") for h in root]
    width = frames_in.shape[-1]
    strip = saliency_overlay(sample, heat, gap=0)  # one scale for the whole clip
    over = [
        Image.fromarray(enlarge(strip[:, t * width : (t + 1) * width], 96), "RGB")
        for t in range(len(frames_in))
    ]
    note = (
        "rows: input; heat (square root, colour 0 … "
        f"{peak:.3g}, one scale for all frames); heat over the input"
    )
    return titled(grid(top + middle + over, len(top)), f"{title}\n{note}")


def render_mask(mask: np.ndarray, title: str) -> Image.Image:
    colours = CLASS_COLOURS[np.asarray(mask) % len(CLASS_COLOURS)]
    return titled(Image.fromarray(enlarge(colours, 128), "RGB"), title)


def render_lens(lens: TimeLens, exponents: tuple[int, int] | None = None) -> Image.Image:
    """The time lens with named axes and colour bars (engine.inspect.lens_image).
    `exponents` fixes the gradient's log scale."""
    return lens_image(lens, exponents)


# A warm scale for heat drawn over a grey picture: dark red → orange → pale yellow.
HEAT = np.array([[110, 0, 0], [215, 48, 0], [255, 150, 0], [255, 236, 140]], dtype=np.float64)


def saliency_overlay(sample: np.ndarray, heat: np.ndarray, gap: int = 2) -> np.ndarray:
    """The heat drawn over the input (first channel, grey): (H, W, 3) uint8 for an image;
    for frames, the frames side by side with `gap` dark pixels between them, as the
    "try a sample" strip lays them out. One scale for all frames; the square root of
    the heat sets both colour and opacity, so weak but real attention still shows and
    a cold pixel keeps the input's grey."""
    frames_in = sample[:, 0] if sample.ndim == 4 else sample[None, 0]
    frames_heat = heat if heat.ndim == 3 else heat[None]
    low, high = value_range(frames_in)
    grey = (np.clip((frames_in - low) / (high - low if high > low else 1.0), 0, 1) * 255)[..., None]
    root = np.sqrt(np.clip(np.nan_to_num(frames_heat), 0.0, None))
    peak = max(float(root.max()), 1e-12)
    share = root / peak
    colour = colourize(share, 0.0, 1.0, HEAT).astype(np.float64)
    alpha = (0.85 * share)[..., None]
    blended = (grey * 0.8 * (1 - alpha) + colour * alpha).astype(np.uint8)  # (T, H, W, 3)
    t, h, w, _ = blended.shape
    strip = np.full((h, t * (w + gap) - gap, 3), 40, dtype=np.uint8)
    for i in range(t):
        strip[:, i * (w + gap) : i * (w + gap) + w] = blended[i]
    return strip
