"""Which reader turns new data into a trained model's samples, by the kind it trained on.

A run's stored preprocessing says its kind ("table", "arrays", "images", "series");
READERS maps each to a function `(preprocessing, data) -> PredictInputs`
(engine.data.predict_inputs). New data of the wrong kind for the model (images for a
table model) is refused in one line before any reader runs.

A reader that lives in engine/data (a lower layer, which cannot import this package)
builds its PredictInputs from engine.data.predict_inputs and is registered below with
one line.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine.data.image_reading import IMAGE_SUFFIXES
from engine.data.predict_inputs import PredictInputs
from engine.data.registry import DataError
from engine.data.series import read_series_rows
from engine.predict.arrays import read_arrays
from engine.predict.images import read_images
from engine.predict.table_rows import read_table_rows

Reader = Callable[[dict[str, Any], Path], PredictInputs]

# What each kind of model reads, in words: (the kind of path, what to give it).
WANTS = {
    "table": ("rows", "a CSV/TSV of rows with the feature columns it was trained on"),
    "series": ("rows", "a series CSV (the steps after its end are forecast)"),
    "arrays": ("arrays", "an .npz file with an array X (samples, …)"),
    "images": ("images", "an image file or a folder of images"),
}
KIND_WORDS = {"table": "a table", "series": "a series", "arrays": "arrays", "images": "images"}
PATH_WORDS = {"rows": "a table of rows", "arrays": "arrays (.npz)", "images": "images"}


def path_kind(data: Path) -> str:
    """What a path holds: "images" (a folder or an image file), "arrays" (.npz) or "rows"
    (any other file)."""
    if data.is_dir():
        return "images"
    if not data.exists():
        raise DataError(f"{data}: no such file or folder")
    suffix = data.suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        return "images"
    return "arrays" if suffix == ".npz" else "rows"


def read_inputs(preprocessing: dict[str, Any], data: Path) -> PredictInputs:
    """`data` as the model's samples; DataError when it is the wrong kind or unreadable."""
    kind = preprocessing["kind"]
    reader = READERS.get(kind)
    if reader is None or kind not in WANTS:
        known = ", ".join(sorted(READERS))
        raise DataError(
            f"this NetLoom cannot predict on data of kind {kind!r} (it reads {known}); "
            "update NetLoom or retrain the model"
        )
    wanted, give = WANTS[kind]
    if (found := path_kind(data)) != wanted:
        raise DataError(
            f"{data}: {PATH_WORDS[found]}, but the model was trained on {KIND_WORDS[kind]}; "
            f"give it {give}"
        )
    return reader(preprocessing, data)


READERS: dict[str, Reader] = {
    "table": read_table_rows,
    "arrays": read_arrays,
    "images": read_images,
    "series": read_series_rows,  # the series dataset's own reader (engine/data/series.py)
}
