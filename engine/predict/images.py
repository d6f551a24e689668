"""New images, read as a trained run read its training images.

DATA is one image file, a flat folder of images (named by file), or a folder of class
folders laid out as for training (`cats/a.png`, named `cats/a.png`): then each image's
folder is its known label and the accuracy is reported. Every file is converted with
the run's stored `images` record (mode, size: engine.data.image_reading.load_image);
hidden and system files are left out (engine.data.image_folder.list_folder).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from engine.data.image_folder import list_folder
from engine.data.image_reading import IMAGE_SUFFIXES, load_image
from engine.data.predict_inputs import PredictInputs
from engine.data.registry import DataError

# A few names are enough to say which folders are not among the classes.
SHOWN = 3


def _no_images(data: Path) -> DataError:
    return DataError(f"{data}: no image files ({', '.join(IMAGE_SUFFIXES)}) in the folder")


def _class_folders(
    data: Path, folders: list[Path], classes: list[str]
) -> tuple[list[Path], list[str], np.ndarray, list[str]]:
    """(files, their names, their labels, notes) of a folder of class folders; a folder
    that is no class the model knows labels its images -1 (counted as wrong)."""
    index = {name: i for i, name in enumerate(classes)}
    files: list[Path] = []
    names: list[str] = []
    labels: list[float] = []
    for folder in folders:
        for path in list_folder(folder).images:
            files.append(path)
            names.append(f"{folder.name}/{path.name}")
            labels.append(index.get(folder.name, -1))
    if not files:
        raise _no_images(data)
    strangers = [f.name for f in folders if f.name not in index]
    notes = [
        f"{len(files)} images in class folders: accuracy against the folder names "
        f"({', '.join(repr(c) for c in classes)})"
    ]
    if strangers:
        shown = ", ".join(repr(s) for s in strangers[:SHOWN])
        more = f" and {len(strangers) - SHOWN} more" if len(strangers) > SHOWN else ""
        what = "folder" if len(strangers) == 1 else "folders"
        verb = "is" if len(strangers) == 1 else "are"
        notes.append(f"{what} {shown}{more} {verb} no class the model knows: counted as wrong")
    return files, names, np.array(labels, dtype=np.float64), notes


def read_images(preprocessing: dict[str, Any], data: Path) -> PredictInputs:
    """An image file, a flat folder or a folder of class folders, as training read them."""
    images = preprocessing.get("images")
    if not isinstance(images, dict):
        raise DataError(
            "the model's stored preprocessing has no image mode and size (trained before "
            "NetLoom stored them): retrain it with this NetLoom to predict on images"
        )
    y, notes = None, []
    if data.is_file():
        files, names = [data], [data.name]
    else:
        listing = list_folder(data)
        folders = [p for p in listing.others if p.is_dir()]
        if listing.images:
            files, names = listing.images, [path.name for path in listing.images]
        elif folders:
            classes = [str(c) for c in preprocessing.get("classes") or []]
            files, names, y, notes = _class_folders(data, folders, classes)
        else:
            raise _no_images(data)
    pixels = np.stack([load_image(path, images) for path in files]).astype(np.float32)
    return PredictInputs(pixels, names, "file", y, notes=notes)
