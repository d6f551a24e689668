"""`npz`: a person's NumPy arrays, saved with `np.savez(path, x=..., y=...)`.

x is (samples, *sample_shape). The task follows y unless the `task` param says:
integer y of shape (samples,) → classification; integer y of shape (samples, H, W)
matching x's last two axes → segmentation; floating-point y → regression.
Files are read with allow_pickle=False: loading never runs code.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engine.blocks.spec import DTYPE_PARAM, Param
from engine.data.arrays import check_class_labels
from engine.data.files import existing_file, file_params
from engine.data.preprocess import (
    apply_standardiser,
    apply_target_scale,
    fit_standardiser,
    fit_target_scale,
)
from engine.data.registry import (
    ArrayDataset,
    DataError,
    InputShape,
    Prepared,
    Task,
    register,
)

WHAT = "a .npz file with arrays x and y (np.savez(path, x=..., y=...))"


def npz_headers(path: Path, what: str) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """Shape and dtype of every array in the archive, read from headers only (no array
    is loaded); DataError naming the file and `what` was expected when it is no .npz."""
    found: dict[str, tuple[tuple[int, ...], np.dtype]] = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                if not member.endswith(".npy"):
                    continue
                with archive.open(member) as handle:
                    version = np.lib.format.read_magic(handle)
                    if version == (1, 0):
                        shape, _, dtype = np.lib.format.read_array_header_1_0(handle)
                    else:
                        shape, _, dtype = np.lib.format.read_array_header_2_0(handle)
                found[member.removesuffix(".npy")] = (tuple(shape), dtype)
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as err:
        raise DataError(f"{path}: cannot read as .npz ({err}); expected {what}") from None
    return found


def xy_headers(path: Path) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """The archive's headers, which must include x and y."""
    found = npz_headers(path, WHAT)
    for name in ("x", "y"):
        if name not in found:
            names = ", ".join(sorted(found)) or "none"
            raise DataError(f"{path}: no array {name!r} (arrays: {names}); expected {WHAT}")
    return found


def _infer_task(
    path: Path, x_shape: tuple[int, ...], y_shape: tuple[int, ...], y_dtype: np.dtype
) -> Task:
    if not (np.issubdtype(y_dtype, np.integer) or y_dtype == np.bool_):
        return "regression"
    if len(y_shape) == 1 or (len(y_shape) == 2 and y_shape[1] == 1):
        return "classification"
    if len(y_shape) == 3 and len(x_shape) >= 3 and y_shape[1:] == x_shape[-2:]:
        return "segmentation"
    raise DataError(
        f"{path}: integer y of shape {y_shape} is neither class labels (samples,) nor "
        f"per-pixel classes (samples, H, W) matching x {x_shape}; set dataset.params.task "
        "to regression if y holds numbers"
    )


def _check_x(path: Path, shape: tuple[int, ...], dtype: np.dtype, params: dict[str, Any]) -> None:
    if dtype.kind not in "biuf":
        raise DataError(f"{path}: array 'x' holds {dtype} values; expected numbers")
    if len(shape) < 2:
        raise DataError(
            f"{path}: x has shape {shape}; expected (samples, features…) — "
            "for one feature per sample, save x[:, None]"
        )
    if params["sequence"] and len(shape) < 3:
        raise DataError(
            f"dataset.params.sequence: x of {path} has shape {shape}, (samples, T); a sequence "
            "needs (samples, T, features…) — save x[..., None] for one feature per step"
        )
    if params["dtype"] == "int64" and dtype.kind not in "biu":
        raise DataError(
            f"dataset.params.dtype: int64 (token ids) needs integer x, but x of {path} is {dtype}"
        )


def _task_from_headers(path: Path, params: dict[str, Any]) -> Task:
    headers = xy_headers(path)
    (x_shape, _), (y_shape, y_dtype) = headers["x"], headers["y"]
    if params["task"] != "auto":
        return params["task"]
    return _infer_task(path, x_shape, y_shape, y_dtype)


def _shape(params: dict[str, Any]) -> InputShape:
    path = existing_file(params["path"], WHAT)
    x_shape, x_dtype = xy_headers(path)["x"]
    _check_x(path, x_shape, x_dtype, params)
    return tuple(x_shape[1:]), params["sequence"]


def _task(params: dict[str, Any]) -> Task:
    return _task_from_headers(existing_file(params["path"], WHAT), params)


def _read_arrays(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as archive:
            return archive["x"], archive["y"]
    except ValueError as err:  # object arrays refused by allow_pickle=False
        raise DataError(f"{path}: {err}; expected arrays of numbers") from None
    except (zipfile.BadZipFile, OSError) as err:
        raise DataError(f"{path}: cannot read as .npz ({err}); expected {WHAT}") from None


def _first_bad(values: np.ndarray) -> int:
    bad = ~np.isfinite(values.reshape(len(values), -1)).all(axis=1)
    return int(np.argmax(bad))


def _load(params: dict[str, Any]) -> ArrayDataset:
    path = existing_file(params["path"], WHAT)
    task = _task_from_headers(path, params)  # checks x and y exist before reading them
    x, y = _read_arrays(path)
    _check_x(path, x.shape, x.dtype, params)
    if len(x) != len(y):
        raise DataError(
            f"{path}: x has {len(x)} samples but y has {len(y)}; they must match, one y per x"
        )
    if x.dtype.kind == "f" and not np.isfinite(x).all():
        raise DataError(f"{path}: x holds NaN or infinite values (first at sample {_first_bad(x)})")
    x = x.astype(np.int64 if params["dtype"] == "int64" else np.float32)

    num_classes: int | None = None
    if task == "regression":
        if y.dtype.kind not in "biuf":
            raise DataError(f"{path}: array 'y' holds {y.dtype} values; expected numbers")
        y = y.astype(np.float32)
        y = y[:, None] if y.ndim == 1 else y
        if not np.isfinite(y).all():
            raise DataError(
                f"{path}: y holds NaN or infinite values (first at sample {_first_bad(y)})"
            )
    else:
        if y.dtype.kind not in "biu":
            raise DataError(
                f"dataset.params.task: {task} needs integer class labels in y, but y of "
                f"{path} is {y.dtype}"
            )
        y = y.reshape(len(y)) if task == "classification" else y
        num_classes = check_class_labels(str(path), y)
        y = y.astype(np.int64)
    if len(x) == 0:
        raise DataError(f"{path}: x and y hold no samples")
    notes = []
    ordered = not params["shuffle"]
    if params["shuffle"] and overlapping_windows(x):
        # Shuffled, each validation window would share all but one step with a training
        # one: the score would measure memory, not forecasting.
        ordered = True
        notes.append(
            "x holds overlapping windows of one series (x[i+1] is x[i] one step on) — "
            "kept in order, validated on the tail; set shuffle: false to say so"
        )
    elif params["shuffle"]:
        order = np.random.default_rng(params["seed"]).permutation(len(x))
        x, y = x[order], y[order]
    return ArrayDataset(
        name="npz",
        x=x,
        y=y,
        task=task,
        sample_shape=tuple(x.shape[1:]),
        sequence=params["sequence"],
        num_classes=num_classes,
        class_names=[str(c) for c in range(num_classes)] if num_classes else None,
        ordered=ordered,
        notes=notes,
        prepare=ArrayPreparer(
            x,
            y,
            task,
            params["standardise"],
            params["sequence"],
            [str(c) for c in range(num_classes)] if num_classes else None,
        ),
        default_split="stratified" if task == "classification" else "random",
    )


def overlapping_windows(x: np.ndarray) -> bool:
    """True when (nearly) every sample is the one before it moved one step along axis 1:
    sliding windows cut from one series."""
    if len(x) < 3 or x.ndim < 2 or x.shape[1] < 2:
        return False
    same = np.isclose(x[1:, :-1], x[:-1, 1:]).reshape(len(x) - 1, -1).all(axis=1)
    return bool(same.mean() >= 0.9)


@dataclass
class ArrayPreparer:
    """prepare(train): features standardised with the training samples' statistics (not
    token ids), a regression target too; both fitted on `train` alone. A plain object,
    not a closure: the window sends datasets to its training process by pickling them."""

    x: np.ndarray
    y: np.ndarray
    task: Task
    standardise: bool
    sequence: bool
    class_names: list[str] | None = None

    def __call__(self, train: np.ndarray) -> Prepared:
        train = np.asarray(train, dtype=np.int64)
        # kind and classes let predict read new arrays alone.
        preprocessing: dict[str, Any] = {"kind": "arrays", "features": None, "target": None}
        if self.class_names is not None:
            preprocessing["classes"] = list(self.class_names)
        notes, ready_x, ready_y, target_std = [], self.x, self.y, None
        if self.standardise and self.x.dtype.kind == "f":
            features = fit_standardiser(self.x, train, self.sequence)
            preprocessing["features"] = features
            ready_x = apply_standardiser(features, self.x)
            notes.append("features standardised with the training samples' mean and std")
        if self.task == "regression" and self.standardise:
            scale = fit_target_scale(self.y, train)
            preprocessing["target"] = scale
            ready_y = apply_target_scale(scale, self.y)
            target_std = list(scale["std"])
            notes.append(
                "y standardised for training with the training samples' mean and std; "
                "metrics are in its own units"
            )
        return Prepared(ready_x, ready_y, preprocessing, notes, target_std)


register(
    "npz",
    "Your arrays (.npz)",
    "A NumPy .npz file with arrays x (samples, …) and y. Integer y (samples,) makes a "
    "classification task, integer y (samples, H, W) a segmentation one, floating-point "
    "y a regression one. Tick 'sequence' when x's first axis after the samples is time.",
    "regression",
    file_params(
        "The .npz file.",
        Param("sequence", "bool", False, "x is (samples, T, features…): axis 1 is time."),
        Param(
            "task",
            "choice",
            "auto",
            "auto: from y (integers are classes, floats are numbers); or say which.",
            choices=("auto", "classification", "regression", "segmentation"),
        ),
        DTYPE_PARAM,
        Param(
            "standardise",
            "bool",
            True,
            "Scale each feature (and a regression y) to mean 0, std 1 over the training "
            "samples. Integer x (token ids) is never scaled.",
        ),
    ),
    _load,
    _shape,
    task_of=_task,
    category="your data",
)
