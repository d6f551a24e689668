"""`image_folder`: a person's images, one subfolder per class, read as they are.

    pets/cat/001.png  pets/cat/002.jpg  pets/dog/001.webp …

What the folder holds decides how it is read, each choice one `note:` line: every image
becomes the mode most of the folder has (grey "L", C = 1, or "RGB", C = 3; a tie keeps
colour), the strays named; transparency is composited on white; images of another size
are resized to the most common size (or the `image_size` param). Hidden and system
files (dotfiles, `._*`, Thumbs.db, desktop.ini, __MACOSX/) are skipped unmentioned,
other files that are no images are named in one note. Samples are (C, H, W) float32
in 0…1, read by `engine.data.image_reading.load_image` — which predict calls with the
`images` record stored in the run's preprocessing, so new files read the same way.
"""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engine.blocks.spec import Param
from engine.data.arrays import check_size, shuffled
from engine.data.files import existing_folder, file_params
from engine.data.image_reading import (
    IMAGE_KINDS,
    IMAGE_SUFFIXES,
    MAX_SIDE,
    READING,
    ImageHeader,
    checked_reading,
    load_image,  # predict imports it from here too
    read_header,
)
from engine.data.registry import ArrayDataset, DataError, InputShape, Prepared, register

WHAT = f"a folder with one subfolder of images ({IMAGE_KINDS}) per class"
SYSTEM_FILES = {".ds_store", "thumbs.db", "desktop.ini", "__macosx", "$recycle.bin"}
SHOWN_NAMES = 5  # file names a note lists before "… and N more"
COLOURS = {"auto": None, "grey": "L", "rgb": "RGB"}
MODE_WORDS = {"L": "grey", "RGB": "colour"}


def is_hidden(path: Path) -> bool:
    """A dotfile, a macOS resource fork (`._x.png`) or a system file: never data."""
    return path.name.startswith(".") or path.name.lower() in SYSTEM_FILES


@dataclass(frozen=True)
class Listing:
    """A flat folder's entries that matter: image files, and what else is there."""

    images: list[Path]
    others: list[Path]  # files that are no images, folders, links to nothing


def list_folder(folder: Path) -> Listing:
    """The images in one folder (sorted by name, not recursing), hidden and system
    files left out. DataError naming the folder when it cannot be listed."""
    try:
        entries = sorted(p for p in folder.iterdir() if not is_hidden(p))
    except OSError as err:
        raise DataError(f"{folder}: cannot list the folder: {err.strerror or err}") from None
    images = [p for p in entries if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()]
    chosen = set(images)
    return Listing(images, [p for p in entries if p not in chosen])


@dataclass(frozen=True)
class ImageFile:
    path: Path
    label: int
    header: ImageHeader


@dataclass(frozen=True)
class FolderSurvey:
    """What the listing and the image headers say, before any pixel is decoded, and
    how the images will be read (`images`, the record load_image takes)."""

    root: Path
    class_names: list[str]
    files: list[ImageFile]
    images: dict[str, Any]
    notes: list[str]

    @property
    def sample_shape(self) -> tuple[int, int, int]:
        mode, height, width = checked_reading(self.images)
        return (1 if mode == "L" else 3), height, width


def _names(root: Path, paths: list[Path]) -> str:
    """Up to SHOWN_NAMES paths relative to the folder, then how many more."""
    shown = [p.relative_to(root).as_posix() + ("/" if p.is_dir() else "") for p in paths]
    if len(shown) <= SHOWN_NAMES:
        return ", ".join(shown)
    return ", ".join(shown[:SHOWN_NAMES]) + f", … and {len(shown) - SHOWN_NAMES} more"


def _count(n: int, one: str, many: str) -> str:
    """'1 image', '3 images'."""
    return f"{n} {one if n == 1 else many}"


def _of(part: int, whole: int, verb: str) -> str:
    """'1 of 10 images is', '3 of 10 images are' (verb: "is" or "has")."""
    plural = {"is": "are", "has": "have"}[verb]
    return f"{part} of {whole} images {verb if part == 1 else plural}"


def _size_text(size: tuple[int, int]) -> str:
    return f"{size[0]}×{size[1]}"


def _class_folders(root: Path) -> tuple[list[Path], list[Path]]:
    """The class subfolders and the files beside them (ignored)."""
    try:
        entries = sorted(p for p in root.iterdir() if not is_hidden(p))
    except OSError as err:
        raise DataError(f"{root}: cannot list the folder: {err.strerror or err}") from None
    folders = [p for p in entries if p.is_dir()]
    if not folders:
        raise DataError(f"{root}: no class subfolders; expected {WHAT}")
    if len(folders) < 2:
        raise DataError(
            f"{root}: only one class subfolder ({folders[0].name!r}); "
            "classification needs at least two"
        )
    return folders, [p for p in entries if not p.is_dir()]


def _mode(root: Path, files: list[ImageFile], colour: str) -> tuple[str, list[str]]:
    """The mode every image is read in, and the note naming those converted to it."""
    grey = [f for f in files if f.header.grey]
    colourful = [f for f in files if not f.header.grey]
    mode = COLOURS[colour] or ("L" if len(grey) > len(colourful) else "RGB")
    strays = colourful if mode == "L" else grey
    notes = []
    if strays:
        kinds = "/".join(sorted({f.header.mode for f in strays}))
        why = f"colour is {colour}" if COLOURS[colour] else f"most are {MODE_WORDS[mode]}"
        into = "converted to grey" if mode == "L" else "read as RGB (the grey in all three)"
        notes.append(
            f"{_of(len(strays), len(files), 'is')} {kinds} where {why} — {into}: "
            + _names(root, [f.path for f in strays])
        )
    see_through = [f for f in files if f.header.alpha]
    if see_through:
        notes.append(
            f"{_of(len(see_through), len(files), 'has')} transparency — composited on "
            "white: " + _names(root, [f.path for f in see_through])
        )
    return mode, notes


def _size(root: Path, files: list[ImageFile], wanted: Any) -> tuple[tuple[int, int], list[str]]:
    """The (H, W) every image is read at, and the note on those resized to it."""
    counts = Counter(f.header.size for f in files)
    if wanted == "auto":
        size = counts.most_common(1)[0][0]  # ties: the size met first, in name order
        why = "the most common size; set image_size to choose"
    else:
        size = (wanted, wanted) if isinstance(wanted, int) else (wanted[0], wanted[1])
        why = "image_size"
    resized = [f.path for f in files if f.header.size != size]
    if not resized:
        return size, []
    sizes = ", ".join(f"{_size_text(s)} ({n})" for s, n in counts.most_common())
    return size, [
        f"{_of(len(resized), len(files), 'is')} resized to {_size_text(size)} "
        f"(height×width; {why}) — sizes found: {sizes}; resized: {_names(root, resized)}"
    ]


def survey(path_text: str, colour: str = "auto", image_size: Any = "auto") -> FolderSurvey:
    """Read the folder listing and every image's header and decide how the images are
    read; DataError names any problem."""
    root = existing_folder(path_text, WHAT)
    folders, beside = _class_folders(root)
    loose = [p for p in beside if p.suffix.lower() in IMAGE_SUFFIXES]
    ignored = [p for p in beside if p.suffix.lower() not in IMAGE_SUFFIXES]
    files: list[ImageFile] = []
    for label, folder in enumerate(folders):
        listing = list_folder(folder)
        if not listing.images:
            raise DataError(
                f"{folder}: class folder {folder.name!r} has no images ({IMAGE_KINDS}); "
                "add some or remove the folder"
            )
        files += [ImageFile(p, label, read_header(p)) for p in listing.images]
        ignored += listing.others
    notes = []
    if loose:
        notes.append(
            f"{_count(len(loose), 'image', 'images')} outside the class subfolders "
            f"ignored: {_names(root, loose)}"
        )
    if ignored:
        notes.append(
            f"{_count(len(ignored), 'entry that is', 'entries that are')} no image, "
            f"ignored: {_names(root, ignored)}"
        )
    mode, mode_notes = _mode(root, files, colour)
    size, size_notes = _size(root, files, image_size)
    images = {"mode": mode, "size": list(size), **copy.deepcopy(READING)}
    channels = 1 if mode == "L" else 3
    check_size(
        "image_folder",
        len(files) * channels * size[0] * size[1],
        f"{len(files)} images of {channels}×{size[0]}×{size[1]}",
    )
    return FolderSurvey(
        root, [f.name for f in folders], files, images, notes + mode_notes + size_notes
    )


def _survey(params: dict[str, Any]) -> FolderSurvey:
    return survey(params["path"], params["colour"], params["image_size"])


def _shape(params: dict[str, Any]) -> InputShape:
    return _survey(params).sample_shape, False


@dataclass
class ImagePreparer:
    """prepare(train): images fit nothing (pixels are in 0…1 already); it hands the
    trainer the record of how they were read. A plain object: the window pickles
    datasets to its training process."""

    root: Path
    x: np.ndarray
    y: np.ndarray
    preprocessing: dict[str, Any]

    def __call__(self, train: np.ndarray) -> Prepared:
        return Prepared(self.x, self.y, self.preprocessing)

    def stored(self, preprocessing: dict[str, Any]) -> Prepared:
        """The samples as a run with this stored preprocessing read them (as_trained
        calls it); DataError when the folder now reads otherwise (say so with the colour
        and image_size params)."""
        stored = preprocessing.get("images")
        mode, height, width = checked_reading(stored)
        own_mode, own_height, own_width = checked_reading(self.preprocessing["images"])
        if (mode, height, width) != (own_mode, own_height, own_width):
            colour = {"L": "grey", "RGB": "rgb"}[mode]
            raise DataError(
                f"{self.root}: its images now read as {MODE_WORDS[own_mode]} "
                f"{own_height}×{own_width}; the model was trained on {MODE_WORDS[mode]} "
                f"{height}×{width} — set colour: {colour} and image_size: [{height}, {width}]"
            )
        return Prepared(self.x, self.y, preprocessing)


def _load(params: dict[str, Any]) -> ArrayDataset:
    found = _survey(params)
    x = np.empty((len(found.files), *found.sample_shape), np.float32)
    for i, image_file in enumerate(found.files):
        x[i] = load_image(image_file.path, found.images)
    y = np.array([f.label for f in found.files], dtype=np.int64)
    if params["shuffle"]:
        x, y = shuffled(params["seed"], x, y)
    preprocessing = {"kind": "images", "classes": found.class_names, "images": found.images}
    return ArrayDataset(
        name="image_folder",
        x=x,
        y=y,
        task="classification",
        sample_shape=found.sample_shape,
        sequence=False,
        num_classes=len(found.class_names),
        class_names=found.class_names,
        notes=found.notes,
        prepare=ImagePreparer(found.root, x, y, preprocessing),
        default_split="stratified",
    )


register(
    "image_folder",
    "Your images (one folder per class)",
    f"A folder with one subfolder per class of images ({IMAGE_KINDS}). Every image is "
    "read in the mode most of them have — grey (1, H, W) or colour (3, H, W) — at the "
    "most common size, in [0, 1]; the class names are the subfolder names.",
    "classification",
    file_params(
        "The folder holding one subfolder per class.",
        Param(
            "colour",
            "choice",
            "auto",
            "auto: the mode most images have (grey or RGB); grey or rgb: every image so.",
            choices=tuple(COLOURS),
        ),
        Param(
            "image_size",
            "per_axis",
            "auto",
            "auto: the most common size; or 32 (32×32), or [height, width]: every image "
            "resized to it.",
            minimum=1,
            maximum=MAX_SIDE,
            max_len=2,
            choices=("auto",),
        ),
    ),
    _load,
    _shape,
    category="your data",
)
