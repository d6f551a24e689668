"""Drawing small filled shapes into numpy images, for the generated datasets.

Shapes are tested per pixel against offsets from their centre, so one call draws
many shapes (one per image) at once.
"""

from __future__ import annotations

import numpy as np

SQUARE, DISC, TRIANGLE, CROSS = 0, 1, 2, 3
SHAPE_NAMES = {SQUARE: "square", DISC: "disc", TRIANGLE: "triangle", CROSS: "cross"}

# Images per chunk: bounds the temporary offset arrays to a few tens of MB.
_CHUNK = 4096


def shape_masks(
    kinds: np.ndarray,
    centre_y: np.ndarray,
    centre_x: np.ndarray,
    radius: np.ndarray,
    size: int,
    wrap: bool = False,
) -> np.ndarray:
    """Boolean masks (n, size, size): image i holds one shape of kind kinds[i].

    `radius` is the half-width of the shape's bounding box. With `wrap`, the image is a
    torus: a shape leaving one edge re-enters at the opposite one.
    """
    n = len(kinds)
    masks = np.zeros((n, size, size), dtype=bool)
    grid = np.arange(size, dtype=np.int32)
    for start in range(0, n, _CHUNK):
        part = slice(start, min(start + _CHUNK, n))
        dy = grid[None, :, None] - centre_y[part, None, None].astype(np.int32)
        dx = grid[None, None, :] - centre_x[part, None, None].astype(np.int32)
        if wrap:
            half = size // 2
            dy = (dy + half) % size - half
            dx = (dx + half) % size - half
        masks[part] = _inside(kinds[part], dy, dx, radius[part].astype(np.int32))
    return masks


def _inside(kinds: np.ndarray, dy: np.ndarray, dx: np.ndarray, radius: np.ndarray) -> np.ndarray:
    r = radius[:, None, None]
    kind = kinds[:, None, None]
    ady, adx = np.abs(dy), np.abs(dx)
    square = (ady <= r) & (adx <= r)
    disc = dy * dy + dx * dx <= r * r + r  # "+ r" rounds the rim like a drawn circle
    # Apex up, base on the bounding box's bottom row: half-width grows with the row.
    triangle = (dy >= -r) & (dy <= r) & (2 * adx <= dy + r)
    arm = np.maximum(1, r // 3)
    cross = square & ((ady <= arm) | (adx <= arm))
    return np.where(
        kind == SQUARE,
        square,
        np.where(kind == DISC, disc, np.where(kind == TRIANGLE, triangle, cross)),
    )
