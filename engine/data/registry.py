"""The dataset registry: records, parameter checking, loading and the graph/data fit check.

A `DatasetSpec` declares one dataset: its typed parameters (the same `Param` records
blocks use), the task it poses, a loader and a cheap shape rule. The editor, the
trainer and the command line read `DATASETS`; none of them names a dataset.

This module imports numpy only: no torch, no Qt.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from engine.blocks.spec import Param, ParamError, Shape
from engine.blocks.spec import resolve_params as spec_resolve_params
from engine.common.limits import MAX_GENERATED_SAMPLES, LimitError

log = logging.getLogger(__name__)

Task = Literal["classification", "regression", "segmentation"]
TASKS: tuple[Task, ...] = ("classification", "regression", "segmentation")

# What a dataset feeds the Input block: one sample's shape and whether axis 0 is time.
InputShape = tuple[tuple[int, ...], bool]


class DataError(Exception):
    """Data that cannot be loaded or does not fit; the message names the place
    (a file and line, a column, a folder, or a parameter such as dataset.params.frames)."""


class SampleLimitError(DataError, LimitError):
    """A setting that would generate more samples than engine.common.limits allows."""


# ---------------------------------------------------------------- parameters


def show(value: Any) -> str:
    """A user's value as it would read in their project file."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return repr(value) if isinstance(value, str) else str(value)


@dataclass(frozen=True)
class TextParam(Param):
    """A string parameter, which `engine.blocks.spec.Param` has no kind for.

    kind "path" is a file or folder (relative paths are resolved against the project's
    folder by `load_dataset`); kind "text" is free text such as a column name.
    """

    def expectation(self) -> str:
        if self.kind == "path":
            return "a file or folder path"
        return "a non-empty text"

    @property
    def required(self) -> bool:
        return True  # no path or column name makes a sensible default

    def validate(self, value: Any) -> Any:
        if isinstance(value, str) and value.strip():
            return value.strip()
        raise ParamError(f"expected {self.expectation()}, got {show(value)}")


@dataclass(frozen=True)
class NamesParam(TextParam):
    """An optional list of column names: a JSON list, or the names in one text separated
    by commas (as a text field gives them). Resolves to a list; empty means none."""

    @property
    def required(self) -> bool:
        return False

    def expectation(self) -> str:
        return "a list of column names"

    def validate(self, value: Any) -> Any:
        if isinstance(value, str):
            # "a, b" from a text field, or the text of a list shown there: "['a', 'b']".
            value = [part.strip().strip("'\"") for part in value.strip("[] ").split(",")]
            return [name for name in value if name]
        if isinstance(value, (list, tuple)) and all(
            isinstance(name, str) and name.strip() for name in value
        ):
            return [name.strip() for name in value]
        raise ParamError(f"expected {self.expectation()}, got {show(value)}")


def names_param(name: str, help_text: str) -> NamesParam:
    return NamesParam(name, "text", [], help_text)  # type: ignore[arg-type]


def path_param(help_text: str) -> TextParam:
    return TextParam("path", "path", "", help_text)  # type: ignore[arg-type]


def text_param(name: str, help_text: str) -> TextParam:
    return TextParam(name, "text", "", help_text)  # type: ignore[arg-type]


def seed_param() -> Param:
    # Below 2^32, as training.seed: every random generator the data or an exported
    # script uses takes such a seed.
    return Param(
        "seed", "int", 0, "Seeds generation and shuffling: same seed, same data.", 0, 2**32 - 1
    )


# -------------------------------------------------------------------- records


@dataclass
class Prepared:
    """A dataset's samples made ready with transforms fitted on the training rows only.

    `preprocessing` is plain data (dicts and lists of numbers and strings: no code), so a
    run can store it and new data can be prepared the same way. `target_std` holds, for
    a regression whose targets were standardised, each target value's standard
    deviation: errors times it are errors in the target's own units.
    """

    x: np.ndarray
    y: np.ndarray
    preprocessing: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    target_std: list[float] | None = None


# Fits the dataset's transforms on the rows at these indices (the training split) and
# returns every sample prepared with them.
PrepareFn = Callable[[np.ndarray], Prepared]
SPLITS = ("random", "stratified", "ordered")


@dataclass
class ArrayDataset:
    """A whole dataset in memory, ready for the trainer.

    x is (samples, *sample_shape): float32, or int64 for token ids. y is int64
    (samples,) for classification, int64 (samples, H, W) of class indices per pixel for
    segmentation, float32 (samples, *target_shape) for regression.
    """

    name: str
    x: np.ndarray
    y: np.ndarray
    task: Task
    sample_shape: tuple[int, ...]
    sequence: bool
    num_classes: int | None = None
    class_names: list[str] | None = None
    # Reference scores a trained model should beat, by a name that says what they are,
    # e.g. {"mse_predict_one": 0.167} or {"mse_last_value": 0.07}.
    baselines: dict[str, float] = field(default_factory=dict)
    # True when samples are in time order (overlapping windows of one series): a
    # validation split should then take the tail, not a random subset.
    ordered: bool = False
    feature_names: list[str] | None = None
    # What loading changed in the data, one line each ("column 'id' is unique per row —
    # dropped as an identifier; …"); `train` prints them as `note:` lines.
    notes: list[str] = field(default_factory=list)
    # Refits the transforms on the training rows only (see Prepared); x and y above are
    # what a preview shows. None: x and y train as they are.
    prepare: PrepareFn | None = None
    # The split `training.split: auto` takes when the data is not ordered: builtin and
    # generated datasets keep "random" (their seeded results stay as they were), a
    # person's classification table or arrays are split "stratified".
    default_split: str = "random"
    # Samples an ordered split leaves out before each held-out part (engine.data.splits):
    # windows forecasting several steps, whose targets overlap the next windows' targets.
    split_gap: int = 0

    def __post_init__(self) -> None:
        # A loader bug caught here reads better than a shape error deep in training.
        if len(self.x) != len(self.y):
            raise DataError(f"{self.name}: x has {len(self.x)} samples but y has {len(self.y)}")
        if tuple(self.x.shape[1:]) != tuple(self.sample_shape):
            raise DataError(
                f"{self.name}: samples are {tuple(self.x.shape[1:])}, "
                f"declared {tuple(self.sample_shape)}"
            )
        if self.sequence and len(self.sample_shape) < 2:
            raise DataError(f"{self.name}: a sequence needs samples of shape (T, features…)")

    def __len__(self) -> int:
        return len(self.x)

    @property
    def input_shape(self) -> InputShape:
        return self.sample_shape, self.sequence

    @property
    def input_dtype(self) -> str:
        """The Input block's dtype param that matches x: "float32" or "int64"."""
        return "int64" if np.issubdtype(self.x.dtype, np.integer) else "float32"

    @property
    def target_shape(self) -> tuple[int, ...]:
        return tuple(self.y.shape[1:])


LoadFn = Callable[[dict[str, Any]], ArrayDataset]
ShapeFn = Callable[[dict[str, Any]], InputShape]
TaskFn = Callable[[dict[str, Any]], Task]


@dataclass(frozen=True)
class DatasetSpec:
    """Everything about one dataset.

    `load` and `input_shape` accept a partial params dict: missing params take their
    defaults and every value is validated (a bad one raises DataError naming it).
    `input_shape` is cheap: it computes or peeks, without generating or reading all data.
    `task` is the task the dataset poses; for files whose task depends on their content
    or params (csv, npz) it is the usual one, and `task_of(params)` gives the actual one.
    """

    name: str
    title: str
    description: str
    task: Task
    params: tuple[Param, ...]
    load: LoadFn
    input_shape: ShapeFn
    task_of: TaskFn
    category: Literal["built-in", "generated", "your data"] = "generated"

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(f"dataset {self.name} has no parameter {name!r}")

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

    def resolve_params(self, given: Mapping[str, Any] | None) -> dict[str, Any]:
        """Defaults overlaid with `given`, each validated; DataError names the param."""
        return resolve_params(self.name, self.params, given)


def resolve_params(
    dataset: str, params: tuple[Param, ...], given: Mapping[str, Any] | None
) -> dict[str, Any]:
    try:
        resolved = spec_resolve_params(dataset, params, given or {})
    except ParamError as err:
        raise DataError(f"dataset.params.{err}") from None
    # A generated dataset's `samples` param is how many it makes, each before training.
    samples = resolved.get("samples")
    if isinstance(samples, int) and samples > MAX_GENERATED_SAMPLES:
        raise SampleLimitError(
            f"dataset.params.samples: {dataset} would generate {samples:,} samples; "
            f"at most {MAX_GENERATED_SAMPLES:,} — lower samples"
        )
    return resolved


DATASETS: dict[str, DatasetSpec] = {}


def register(
    name: str,
    title: str,
    description: str,
    task: Task,
    params: tuple[Param, ...],
    load: LoadFn,
    input_shape: ShapeFn,
    task_of: TaskFn | None = None,
    category: Literal["built-in", "generated", "your data"] = "generated",
) -> DatasetSpec:
    """Declare a dataset. `load`/`input_shape` receive complete, validated params."""
    if name in DATASETS:
        raise ValueError(f"dataset {name!r} is already registered")
    for p in params:
        if not isinstance(p, TextParam):
            p.validate(p.default)  # a bad default is a bug in NetLoom: fail at import

    def checked_load(given: dict[str, Any] | None = None) -> ArrayDataset:
        return load(resolve_params(name, params, given))

    def checked_shape(given: dict[str, Any] | None = None) -> InputShape:
        return input_shape(resolve_params(name, params, given))

    def checked_task(given: dict[str, Any] | None = None) -> Task:
        if task_of is None:
            return task
        return task_of(resolve_params(name, params, given))

    spec = DatasetSpec(
        name, title, description, task, params, checked_load, checked_shape, checked_task, category
    )
    DATASETS[name] = spec
    return spec


def get_dataset_spec(name: str) -> DatasetSpec:
    # Every dataset is registered by now: importing this module runs engine/data/__init__.py
    # first (Python imports a package before its modules), which imports each dataset module.
    if not isinstance(name, str) or name not in DATASETS:
        known = ", ".join(sorted(DATASETS))
        raise DataError(f"dataset.name: unknown dataset {show(name)} (known: {known})")
    return DATASETS[name]


def _with_paths(
    spec: DatasetSpec, params: Mapping[str, Any] | None, base_dir: Path | None
) -> dict[str, Any]:
    """params with relative path params made absolute against base_dir (the project's folder)."""
    resolved = dict(params or {})
    for p in spec.params:
        value = resolved.get(p.name)
        if isinstance(p, TextParam) and p.kind == "path" and isinstance(value, str) and value:
            path = Path(value).expanduser()
            if not path.is_absolute() and base_dir is not None:
                path = Path(base_dir) / path
            resolved[p.name] = str(path)
    return resolved


def load_dataset(
    name: str, params: Mapping[str, Any] | None = None, base_dir: Path | None = None
) -> ArrayDataset:
    """Load a dataset by name. Raises DataError naming the place of any problem."""
    spec = get_dataset_spec(name)
    data = spec.load(_with_paths(spec, params, base_dir))
    log.info("dataset %s: %d samples of %s (%s)", name, len(data), data.sample_shape, data.task)
    return data


def dataset_input_shape(
    name: str, params: Mapping[str, Any] | None = None, base_dir: Path | None = None
) -> InputShape:
    """(sample_shape, sequence) a dataset feeds the Input block, without loading it all."""
    spec = get_dataset_spec(name)
    return spec.input_shape(_with_paths(spec, params, base_dir))


def dataset_task(
    name: str, params: Mapping[str, Any] | None = None, base_dir: Path | None = None
) -> Task:
    """The task a dataset poses with these params (csv and npz depend on them)."""
    spec = get_dataset_spec(name)
    return spec.task_of(_with_paths(spec, params, base_dir))


# ----------------------------------------------------------------- fit check


def _describe(shape: tuple[int, ...], sequence: bool, detailed: bool) -> str:
    if sequence and not shape:
        return "(N, T)"
    as_shape = Shape(tuple(shape), time=sequence)
    return as_shape.detailed() if detailed else str(as_shape)


def check_fits(
    graph_input_shape: tuple[int, ...] | list[int],
    sequence: bool,
    data: ArrayDataset | InputShape,
    input_id: str,
    dataset_name: str | None = None,
) -> str | None:
    """None if the Input block fits the data, else a message naming both shapes:

    "input 'frames' expects (N, T, 1, 32, 32) but dataset moving_shapes gives (N, T, 1, 16, 16)"
    """
    if isinstance(data, ArrayDataset):
        data_shape, data_sequence = data.input_shape
        dataset_name = dataset_name or data.name
    else:
        data_shape, data_sequence = data
    expected = tuple(int(d) for d in graph_input_shape)
    given = tuple(int(d) for d in data_shape)
    if expected == given and bool(sequence) == bool(data_sequence):
        return None
    # Only the length of T differs: show it, or both sides would read the same.
    detailed = _describe(expected, sequence, False) == _describe(given, data_sequence, False)
    what = f"dataset {dataset_name}" if dataset_name else "the dataset"
    message = (
        f"input {input_id!r} expects {_describe(expected, sequence, detailed)} "
        f"but {what} gives {_describe(given, data_sequence, detailed)}"
    )
    if bool(sequence) != bool(data_sequence):
        message += (
            " (the data is a sequence: tick 'sequence' on the Input block)"
            if data_sequence
            else " (the data is no sequence: untick 'sequence' on the Input block)"
        )
    return message
