"""`image_folder`: a person's images, one subfolder per class.

    pets/cat/001.png  pets/cat/002.jpg  pets/dog/001.png …

All images must be one size; greyscale or colour (RGB; alpha is dropped). If any image
is in colour, all are read as RGB (C = 3), else as greyscale (C = 1). Samples are
(C, H, W) float32 in [0, 1]. Pillow is imported only when a folder is read.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engine.data.arrays import check_size, shuffled
from engine.data.files import existing_folder, file_params
from engine.data.registry import ArrayDataset, DataError, InputShape, register

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
# The largest image read: 4096×4096 pixels. A header is a few bytes, so a 57-byte PNG
# can claim 30,000×30,000 (900 megapixels); the size is checked before any decoding.
MAX_SIDE = 4096
MAX_PIXELS = MAX_SIDE * MAX_SIDE
GREY_MODES = ("1", "L", "LA", "I", "I;16", "F")
WHAT = "a folder with one subfolder of PNG or JPEG images per class"


@dataclass(frozen=True)
class ImageFile:
    path: Path
    label: int
    width: int
    height: int
    grey: bool


@dataclass(frozen=True)
class FolderSurvey:
    """What the image headers say, before any pixel is decoded."""

    class_names: list[str]
    files: list[ImageFile]
    channels: int
    height: int
    width: int


def _header(image_path: Path) -> tuple[int, int, bool]:
    """Width, height and greyness from the image's header; DataError if it is no image
    or larger than MAX_SIDE × MAX_SIDE."""
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            # Pillow warns, then refuses, on headers claiming ~90+ megapixels; the
            # smaller limit below gives the message instead.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(image_path) as image:
                width, height = image.size
                grey = image.mode in GREY_MODES
    except Image.DecompressionBombError:
        raise DataError(
            f"{image_path}: its header claims an image far larger than "
            f"{MAX_SIDE}×{MAX_SIDE} pixels (a decompression bomb?); not read"
        ) from None
    except (UnidentifiedImageError, OSError) as err:
        raise DataError(f"{image_path}: cannot read as an image: {err}") from None
    if width * height > MAX_PIXELS:
        raise DataError(
            f"{image_path}: image is {width}×{height} pixels, more than the "
            f"{MAX_SIDE}×{MAX_SIDE} read here; resize the images"
        )
    return width, height, grey


def survey(path_text: str) -> FolderSurvey:
    """Read the folder structure and every image's header; DataError names any problem."""
    root = existing_folder(path_text, WHAT)
    class_dirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not class_dirs:
        raise DataError(f"{root}: no class subfolders; expected {WHAT}")
    if len(class_dirs) < 2:
        raise DataError(
            f"{root}: only one class subfolder ({class_dirs[0].name!r}); "
            "classification needs at least two"
        )
    loose = [p.name for p in root.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]
    if loose:
        log.warning("%s: %d images outside class subfolders are ignored", root, len(loose))

    files: list[ImageFile] = []
    first: ImageFile | None = None
    for label, folder in enumerate(class_dirs):
        images = sorted(
            p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
        )
        if not images:
            raise DataError(f"{folder}: class folder {folder.name!r} has no PNG or JPEG images")
        for image_path in images:
            width, height, grey = _header(image_path)
            found = ImageFile(image_path, label, width, height, grey)
            if first is None:
                first = found
            elif (width, height) != (first.width, first.height):
                raise DataError(
                    f"{image_path}: image is {width}×{height} pixels but {first.path} is "
                    f"{first.width}×{first.height}; all images must be one size"
                )
            files.append(found)
    assert first is not None  # every class folder holds at least one image
    channels = 1 if all(f.grey for f in files) else 3
    check_size(
        "image_folder",
        len(files) * channels * first.height * first.width,
        f"{len(files)} images of {channels}×{first.height}×{first.width}",
    )
    return FolderSurvey([d.name for d in class_dirs], files, channels, first.height, first.width)


def _pixels(image_file: ImageFile, channels: int) -> np.ndarray:
    """(C, H, W) float32 in [0, 1]."""
    from PIL import Image

    with Image.open(image_file.path) as image:
        if image.mode == "I;16":
            grey = np.asarray(image, dtype=np.float32) / 65535.0
            return grey[None] if channels == 1 else np.repeat(grey[None], 3, axis=0)
        converted = image.convert("L" if channels == 1 else "RGB")
        array = np.asarray(converted, dtype=np.float32) / 255.0
    return array[None] if channels == 1 else array.transpose(2, 0, 1)


def _shape(params: dict[str, Any]) -> InputShape:
    found = survey(params["path"])
    return (found.channels, found.height, found.width), False


def _load(params: dict[str, Any]) -> ArrayDataset:
    found = survey(params["path"])
    x = np.empty((len(found.files), found.channels, found.height, found.width), np.float32)
    for i, image_file in enumerate(found.files):
        try:
            x[i] = _pixels(image_file, found.channels)
        except OSError as err:  # a header that reads but pixels that do not
            raise DataError(f"{image_file.path}: cannot read as an image: {err}") from None
    y = np.array([f.label for f in found.files], dtype=np.int64)
    if params["shuffle"]:
        x, y = shuffled(params["seed"], x, y)
    return ArrayDataset(
        name="image_folder",
        x=x,
        y=y,
        task="classification",
        sample_shape=(found.channels, found.height, found.width),
        sequence=False,
        num_classes=len(found.class_names),
        class_names=found.class_names,
    )


register(
    "image_folder",
    "Your images (one folder per class)",
    "A folder with one subfolder per class, each holding PNG or JPEG images of one size. "
    "Greyscale images give (1, H, W), colour ones (3, H, W), in [0, 1]; the class names "
    "are the subfolder names.",
    "classification",
    file_params("The folder holding one subfolder per class."),
    _load,
    _shape,
    category="your data",
)
