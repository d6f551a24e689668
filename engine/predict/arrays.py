"""New arrays, read from an .npz as a trained run read its training arrays.

X (or x) holds the samples; float features are scaled with the run's stored means and
standard deviations (an integer X is read as floats then, as training read it; token
ids of a run that scaled nothing stay integers). A y (or Y) beside it gives the metric.
The array headers are read first, so an archive claiming more values than
engine.common.limits allows is refused before any is loaded.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from engine.common.limits import MAX_IMPORT_TENSOR_ELEMENTS, count_text
from engine.data.npz_arrays import npz_headers
from engine.data.predict_inputs import PredictInputs
from engine.data.preprocess import apply_standardiser
from engine.data.registry import DataError

NPZ_WHAT = "an .npz file with an array X (np.savez(path, X=...))"


def _checked_header(path: Path, name: str, shape: tuple[int, ...], dtype: np.dtype) -> None:
    if dtype.kind not in "biuf":
        raise DataError(f"{path}: array {name!r} holds {dtype} values; expected numbers")
    if len(shape) < 1 or (name.lower() == "x" and len(shape) < 2):
        raise DataError(f"{path}: {name} has shape {shape}; expected (samples, features…)")
    if int(np.prod(shape, dtype=np.float64)) > MAX_IMPORT_TENSOR_ELEMENTS:
        raise DataError(
            f"{path}: {name} of shape {shape} holds more than "
            f"{count_text(MAX_IMPORT_TENSOR_ELEMENTS)} values, the most read here"
        )


def _load_array(path: Path, name: str) -> np.ndarray:
    try:
        with np.load(path, allow_pickle=False) as archive:
            return np.asarray(archive[name])
    except (ValueError, zipfile.BadZipFile, OSError, EOFError, KeyError) as err:
        raise DataError(
            f"{path}: cannot read array {name!r} ({err}); expected {NPZ_WHAT}"
        ) from None


def _scaled(path: Path, features: dict[str, Any], x: np.ndarray) -> np.ndarray:
    mean = np.asarray(features["mean"])
    fits = mean.ndim == x.ndim - 1 and all(
        m in (1, d) for m, d in zip(mean.shape, x.shape[1:], strict=True)
    )
    if not fits:
        raise DataError(
            f"{path}: X holds samples of shape {tuple(x.shape[1:])}; the model was trained "
            f"on samples shaped like {tuple(mean.shape)}"
        )
    return apply_standardiser(features, x)


def _array_targets(
    path: Path, preprocessing: dict[str, Any], samples: int, headers: dict[str, Any]
) -> np.ndarray | None:
    name = next((n for n in ("y", "Y") if n in headers), None)
    if name is None:
        return None
    _checked_header(path, name, *headers[name])
    y = _load_array(path, name)
    if len(y) != samples:
        raise DataError(f"{path}: X has {samples} samples but {name} has {len(y)}; one per sample")
    classes = preprocessing.get("classes")
    if classes is None:
        return y.astype(np.float64).reshape(samples, -1)
    labels = y.reshape(samples, -1)[:, 0].astype(np.float64)
    known = (labels == np.round(labels)) & (labels >= 0) & (labels < len(classes))
    return np.where(known, labels, -1.0)


def read_arrays(preprocessing: dict[str, Any], data: Path) -> PredictInputs:
    """X (or x) of an .npz, scaled as the run scaled its features; y (or Y) when there."""
    headers = npz_headers(data, NPZ_WHAT)
    name = next((n for n in ("X", "x") if n in headers), None)
    if name is None:
        arrays = ", ".join(sorted(headers)) or "none"
        raise DataError(f"{data}: no array 'X' (arrays: {arrays}); expected {NPZ_WHAT}")
    _checked_header(data, name, *headers[name])
    x = _load_array(data, name)
    if x.dtype.kind == "f" and not np.isfinite(x).all():
        bad = int(np.argmax(~np.isfinite(x.reshape(len(x), -1)).all(axis=1)))
        raise DataError(f"{data}: {name} holds NaN or infinite values (first at sample {bad})")
    features = preprocessing.get("features")
    if features is not None:  # the run scaled float features (integer x it read as floats)
        x = _scaled(data, features, x.astype(np.float32))
    else:  # as saved: floats, or integer token ids
        x = x.astype(np.float32) if x.dtype.kind in "fb" else x.astype(np.int64)
    y = _array_targets(data, preprocessing, len(x), headers)
    ids = [str(i + 1) for i in range(len(x))]
    return PredictInputs(x, ids, "row", y)
