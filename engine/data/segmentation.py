"""`shapes_segmentation`: images of a few shapes on a textured background, with pixel masks.

Each image (1, S, S) holds 1..`shapes` non-overlapping squares, discs and triangles
over a smooth random texture, with noise. A brightness threshold finds most shape
pixels, but which kind of shape a pixel belongs to only shows in its surroundings:
a network has to look at them. The target gives every pixel a class — background or the kind of
shape it belongs to (or just background/shape with classes = "binary").
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.blocks.spec import Param
from engine.data.arrays import check_size
from engine.data.drawing import DISC, SHAPE_NAMES, SQUARE, TRIANGLE, shape_masks
from engine.data.registry import ArrayDataset, InputShape, register, seed_param

KINDS = (SQUARE, DISC, TRIANGLE)
# Tries to place one shape clear of those already in its image before giving up on it.
_PLACEMENT_TRIES = 20

PARAMS = (
    Param("samples", "int", 1500, "Number of images.", 8, 200_000),
    Param("size", "int", 32, "Image height and width in pixels.", 16, 128),
    Param("shapes", "int", 3, "Most shapes in one image (each has 1..shapes).", 1, 8),
    Param(
        "classes",
        "choice",
        "kinds",
        "kinds: background, square, disc, triangle; binary: background, shape.",
        choices=("kinds", "binary"),
    ),
    Param("noise", "float", 0.05, "Standard deviation of the pixel noise.", 0.0, 0.5),
    seed_param(),
)


def _shape(params: dict[str, Any]) -> InputShape:
    return (1, params["size"], params["size"]), False


def smooth_texture(
    rng: np.random.Generator, n: int, size: int, low: float, high: float
) -> np.ndarray:
    """(n, size, size) random values in [low, high] varying smoothly over about size/6 pixels."""
    coarse_size = max(2, size // 6 + 1)
    coarse = rng.uniform(low, high, (n, coarse_size, coarse_size))
    # Bilinear upsampling, one axis at a time.
    position = np.linspace(0, coarse_size - 1, size)
    i0 = np.minimum(position.astype(int), coarse_size - 2)
    w = (position - i0)[None, :, None]
    rows = coarse[:, i0, :] * (1 - w) + coarse[:, i0 + 1, :] * w
    w = w.reshape(1, 1, -1)
    return (rows[:, :, i0] * (1 - w) + rows[:, :, i0 + 1] * w).astype(np.float32)


def _place_shapes(rng: np.random.Generator, n: int, size: int, most: int) -> tuple[np.ndarray, ...]:
    """Images, kinds, centres and radii of shapes placed inside the frame without overlap."""
    images, kinds, ys, xs, radii = [], [], [], [], []
    largest = max(3, size // 6)
    for image in range(n):
        placed: list[tuple[int, int, int]] = []
        for _ in range(rng.integers(1, most + 1)):
            for _ in range(_PLACEMENT_TRIES):
                r = int(rng.integers(3, largest + 1))
                y, x = rng.integers(r, size - r, 2)
                # Bounding boxes apart by a pixel: shapes never touch, masks never overlap.
                if all(max(abs(y - py), abs(x - px)) > r + pr + 1 for py, px, pr in placed):
                    placed.append((int(y), int(x), r))
                    images.append(image)
                    kinds.append(int(rng.choice(KINDS)))
                    ys.append(int(y))
                    xs.append(int(x))
                    radii.append(r)
                    break
    return tuple(np.array(v) for v in (images, kinds, ys, xs, radii))


def _load(params: dict[str, Any]) -> ArrayDataset:
    n, size, binary = params["samples"], params["size"], params["classes"] == "binary"
    check_size("shapes_segmentation", n * size * size * 3, "samples × size²")
    rng = np.random.default_rng(params["seed"])
    pictures = smooth_texture(rng, n, size, 0.0, 0.55)
    labels = np.zeros((n, size, size), dtype=np.int64)
    images, kinds, ys, xs, radii = _place_shapes(rng, n, size, params["shapes"])
    masks = shape_masks(kinds, ys, xs, radii, size)
    fills = rng.uniform(0.6, 1.0, len(images)).astype(np.float32)
    for image, kind, mask, fill in zip(images, kinds, masks, fills):
        pictures[image][mask] = fill
        labels[image][mask] = 1 if binary else 1 + KINDS.index(int(kind))
    if params["noise"] > 0:
        pictures += params["noise"] * rng.standard_normal(pictures.shape, dtype=np.float32)
    np.clip(pictures, 0.0, 1.0, out=pictures)
    names = ["background", "shape"] if binary else ["background"] + [SHAPE_NAMES[k] for k in KINDS]
    return ArrayDataset(
        name="shapes_segmentation",
        x=pictures[:, None, :, :],
        y=labels,
        task="segmentation",
        sample_shape=(1, size, size),
        sequence=False,
        num_classes=len(names),
        class_names=names,
    )


register(
    "shapes_segmentation",
    "Shapes segmentation",
    "Images (1, S, S) of squares, discs and triangles on a textured, noisy background; "
    "the target labels every pixel background, square, disc or triangle (or just "
    "background/shape). For fully convolutional networks, scored by mean IoU.",
    "segmentation",
    PARAMS,
    _load,
    _shape,
)
