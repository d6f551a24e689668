"""One image file, read the way a model trained on an image folder saw its images.

`read_header` looks at a file's header only (size, mode, transparency: no pixel is
decoded) and refuses a header claiming more than MAX_SIDE × MAX_SIDE pixels before
anything is decoded. `load_image(path, images)` decodes one file into (C, H, W)
float32 as training did, from the plain-data `images` record stored in a run's
preprocessing:

    {"mode": "L" | "RGB", "size": [H, W], "alpha": "white", "resize": "bilinear",
     "range": [0.0, 1.0]}

Every image becomes `mode` (colour to grey by Pillow's luma weights, grey repeated in
three channels), transparency is composited on white, an image of another size is
resized (stretched, bilinear) to `size`, and pixel values go from their bit depth's
full range (0…255, or 0…65,535 for 16-bit grey) to 0…1. Pillow is imported only when
a file is read.
"""

from __future__ import annotations

import logging
import struct
import warnings
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engine.data.registry import DataError

# Pillow reads these; a file with another suffix is not taken for an image.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
IMAGE_KINDS = "PNG, JPEG, BMP, GIF, WebP or TIFF"
# The largest image read: 4096×4096 pixels. A header is a few bytes, so a 57-byte PNG
# can claim 30,000×30,000 (900 megapixels); the size is checked before any decoding.
MAX_SIDE = 4096
MAX_PIXELS = MAX_SIDE * MAX_SIDE
GREY_MODES = ("1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F")
ALPHA_MODES = ("RGBA", "RGBa", "LA", "La", "PA")
SIXTEEN_BIT_MODES = ("I", "I;16", "I;16B", "I;16L", "I;16N")
MODES = ("L", "RGB")
# How training read its images, besides mode and size (stored so predict says the same).
READING = {"alpha": "white", "resize": "bilinear", "range": [0.0, 1.0]}
# What a broken file raises from inside Pillow's decoders, besides OSError.
DECODE_ERRORS = (OSError, ValueError, SyntaxError, EOFError, struct.error, zlib.error)


@dataclass(frozen=True)
class ImageHeader:
    """What a file's header says, before any pixel is decoded."""

    width: int
    height: int
    mode: str  # Pillow's mode: "L", "RGB", "RGBA", "P", "I;16", …
    grey: bool
    alpha: bool

    @property
    def size(self) -> tuple[int, int]:
        """(height, width), the order of a sample's axes."""
        return self.height, self.width


def _palette_is_grey(image: Any) -> bool:
    """True when a palette image's colours are all grey (red = green = blue): a grey
    GIF opens as a palette image. Reads the palette, not the pixels."""
    palette = getattr(image, "palette", None)
    raw = getattr(palette, "palette", b"")
    if getattr(palette, "mode", "") != "RGB" or not raw or len(raw) % 3:
        return False
    colours = np.frombuffer(bytes(raw), dtype=np.uint8).reshape(-1, 3)
    return bool((colours == colours[:, :1]).all())


@contextmanager
def _quiet() -> Iterator[None]:
    """Pillow's warnings and log lines about damage it reads past (a TIFF tag larger
    than the file, ~90+ megapixel headers) kept off the user's screen: the file reads,
    or is refused in one line naming it."""
    logger = logging.getLogger("PIL")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def _open(image_path: Path) -> Any:
    """The file opened by Pillow (header read, pixels not), or DataError naming it."""
    from PIL import Image, UnidentifiedImageError

    try:
        with _quiet():  # the smaller size limit below gives the message
            image = Image.open(image_path)
    except Image.DecompressionBombError:
        raise DataError(
            f"{image_path}: its header claims an image far larger than "
            f"{MAX_SIDE}×{MAX_SIDE} pixels (a decompression bomb?); not read"
        ) from None
    except UnidentifiedImageError:
        raise DataError(
            f"{image_path}: cannot read as an image: not a {IMAGE_KINDS} file Pillow "
            "knows; remove it or save it again"
        ) from None
    except DECODE_ERRORS as err:
        raise DataError(f"{image_path}: cannot read as an image: {err}") from None
    width, height = image.size
    if width * height > MAX_PIXELS:
        image.close()
        raise DataError(
            f"{image_path}: image is {width}×{height} pixels, more than the "
            f"{MAX_SIDE}×{MAX_SIDE} read here; resize the images"
        )
    if width < 1 or height < 1:
        image.close()
        raise DataError(f"{image_path}: image is {width}×{height} pixels; it holds no pixels")
    return image


def read_header(image_path: Path) -> ImageHeader:
    """Size, mode and transparency from the file's header; DataError if it is no image
    Pillow reads or is larger than MAX_SIDE × MAX_SIDE."""
    with _open(image_path) as image:
        mode = image.mode
        grey = mode in GREY_MODES or (mode == "P" and _palette_is_grey(image))
        alpha = mode in ALPHA_MODES or "transparency" in image.info
        return ImageHeader(image.size[0], image.size[1], mode, grey, alpha)


def checked_reading(images: Any, where: str = "preprocessing.images") -> tuple[str, int, int]:
    """(mode, height, width) of an `images` record, or DataError naming the bad field
    (the record may come from a checkpoint file)."""
    if not isinstance(images, dict):
        raise DataError(f"{where}: expected an object with mode and size")
    mode, size = images.get("mode"), images.get("size")
    if mode not in MODES:
        raise DataError(f"{where}.mode: expected 'L' or 'RGB', got {mode!r}")
    if not (
        isinstance(size, list)
        and len(size) == 2
        and all(isinstance(s, int) and not isinstance(s, bool) and 1 <= s <= MAX_SIDE for s in size)
    ):
        raise DataError(f"{where}.size: expected [height, width] of 1…{MAX_SIDE}, got {size!r}")
    for key, value in READING.items():
        if key in images and images[key] != value:
            raise DataError(f"{where}.{key}: expected {value!r}, got {images[key]!r}")
    return mode, size[0], size[1]


def _composited(image: Any) -> Any:
    """An image with transparency laid on white (opaque RGB); others as they are."""
    from PIL import Image

    if image.mode not in ALPHA_MODES and "transparency" not in image.info:
        return image
    rgba = image.convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(white, rgba).convert("RGB")


def _plane(image: Any, mode: str, size: tuple[int, int]) -> np.ndarray:
    """The decoded image as (H, W) or (H, W, 3) float32 in 0…1, resized to size (H, W)."""
    from PIL import Image

    height, width = size
    if image.mode in SIXTEEN_BIT_MODES:
        values = np.asarray(image, dtype=np.float32) / 65535.0
        grey = Image.fromarray(np.clip(values, 0.0, 1.0), mode="F")
        if grey.size != (width, height):
            grey = grey.resize((width, height), Image.Resampling.BILINEAR)
        plane = np.asarray(grey, dtype=np.float32)
        return plane if mode == "L" else np.repeat(plane[:, :, None], 3, axis=2)
    if image.mode == "F":
        image = Image.fromarray(np.clip(np.asarray(image), 0.0, 255.0).astype(np.uint8))
    converted = _composited(image).convert(mode)
    if converted.size != (width, height):
        converted = converted.resize((width, height), Image.Resampling.BILINEAR)
    return np.asarray(converted, dtype=np.float32) / 255.0


def load_image(path: Path, images: dict[str, Any]) -> np.ndarray:
    """One image as (C, H, W) float32, exactly as training read it with this `images`
    record (see the module docstring). DataError naming the file when it is no image,
    too large, or its pixels do not decode; naming the field when `images` is bad."""
    mode, height, width = checked_reading(images)
    with _open(Path(path)) as image:
        try:
            with _quiet():
                image.seek(0)  # the first frame of a GIF or the first page of a TIFF
                plane = _plane(image, mode, (height, width))
        except DECODE_ERRORS as err:
            raise DataError(
                f"{path}: cannot read as an image ({err}); remove it or save it again"
            ) from None
    return plane[None] if mode == "L" else plane.transpose(2, 0, 1).copy()
