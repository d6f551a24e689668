"""`moving_shapes`: video clips whose label, the direction of motion, no single frame shows.

Each clip is T frames of 1 × S × S: one small shape (square, cross or disc; random
size, brightness and position; a little noise) moving a fixed number of pixels per
frame to the right, left, down or up. The frame is a torus — a shape leaving one edge
re-enters at the opposite one — and the start position is uniform over it, so the
position in any one frame is uniform for every direction: a model that sees one frame
is at chance (25%); one that compares frames can be right every time.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.blocks.spec import Param
from engine.data.arrays import check_size
from engine.data.drawing import CROSS, DISC, SQUARE, shape_masks
from engine.data.registry import ArrayDataset, InputShape, register, seed_param

DIRECTIONS = ("right", "left", "down", "up")
# (row, column) step per frame for each direction, in DIRECTIONS order.
STEPS = np.array([(0, 1), (0, -1), (1, 0), (-1, 0)], dtype=np.int64)
KINDS = np.array([SQUARE, CROSS, DISC])

PARAMS = (
    Param("samples", "int", 2000, "Number of clips.", 8, 200_000),
    Param(
        "frames",
        "int",
        8,
        "Frames per clip (T). With 1 frame the direction cannot be told: a chance-level demo.",
        1,
        64,
    ),
    Param("size", "int", 32, "Frame height and width in pixels.", 12, 128),
    Param("speed", "int", 2, "Pixels the shape moves per frame.", 1, 8),
    Param("noise", "float", 0.05, "Standard deviation of the pixel noise.", 0.0, 0.5),
    seed_param(),
)


def _shape(params: dict[str, Any]) -> InputShape:
    return (params["frames"], 1, params["size"], params["size"]), True


def _load(params: dict[str, Any]) -> ArrayDataset:
    n, frames, size, speed = params["samples"], params["frames"], params["size"], params["speed"]
    check_size("moving_shapes", n * frames * size * size, "samples × frames × size²")
    rng = np.random.default_rng(params["seed"])
    labels = rng.integers(0, len(DIRECTIONS), n)
    kinds = rng.choice(KINDS, n)
    radius = rng.integers(2, max(2, size // 8) + 1, n)
    brightness = rng.uniform(0.5, 1.0, n).astype(np.float32)
    start = rng.integers(0, size, (n, 2))

    # Centre of clip i in frame t: start + t · step, wrapped onto the torus.
    t = np.arange(frames)
    centres = (start[:, None, :] + t[None, :, None] * speed * STEPS[labels][:, None, :]) % size
    masks = shape_masks(
        np.repeat(kinds, frames),
        centres[..., 0].reshape(-1),
        centres[..., 1].reshape(-1),
        np.repeat(radius, frames),
        size,
        wrap=True,
    ).reshape(n, frames, 1, size, size)

    clips = masks * brightness[:, None, None, None, None]
    if params["noise"] > 0:
        clips += params["noise"] * rng.standard_normal(clips.shape, dtype=np.float32)
    clips = np.clip(clips, 0.0, 1.0, out=clips).astype(np.float32, copy=False)
    return ArrayDataset(
        name="moving_shapes",
        x=clips,
        y=labels.astype(np.int64),
        task="classification",
        sample_shape=(frames, 1, size, size),
        sequence=True,
        num_classes=len(DIRECTIONS),
        class_names=list(DIRECTIONS),
        baselines={"accuracy_chance": 1.0 / len(DIRECTIONS)},
    )


register(
    "moving_shapes",
    "Moving shapes (video)",
    "Clips of T frames (T, 1, S, S) with a small shape moving right, left, down or up; "
    "the label is the direction. No single frame shows it — the shape's position in any "
    "frame is uniform for every direction — so a per-frame CNN is at chance (25%), while "
    "a CNN feeding an LSTM compares frames and learns it.",
    "classification",
    PARAMS,
    _load,
    _shape,
)
