"""`adapt`: point a project at a person's data and resize it to fit.

    adaptation = adapt(load("templates/mlp_iris.json"), Path("patients.csv"), target="diagnosis")
    adaptation.changes   # ["dataset: csv path=… target='diagnosis' (classification, 2 classes)",
                         #  "Input measurements: shape (4,) → (30,)", "Dense dense2: units 3 → 2"]

The kind of data is detected (engine.data.adapt_detect); the dataset's own shape rule
says what it feeds the Input (so adapt and train cannot disagree); the task decides the
Output's loss and the width of the layer before it (engine.data.adapt_graph). The input
project is left as it was; `Adaptation.project` is an adapted copy whose dataset path
is absolute — `place_data_path` makes it relative to where the copy is saved.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from engine.data.adapt_detect import (
    check_column,
    default_target,
    detect_kind,
    peek_table,
    time_column,
)
from engine.data.adapt_graph import (
    ProjectFitError,
    only_block,
    resize_input,
    resize_output,
    set_loss,
)
from engine.data.arrays import MAX_CLASSES, check_class_labels
from engine.data.image_folder import survey
from engine.data.registry import (
    DATASETS,
    DataError,
    dataset_input_shape,
    dataset_task,
    load_dataset,
)
from engine.data.table_columns import read_column
from engine.data.table_reading import read_text_table
from engine.graph.shapes import analyze
from engine.project.project import Project, from_dict, to_dict

__all__ = ["Adaptation", "ProjectFitError", "adapt", "detect_kind", "place_data_path"]

# A numeric target is taken for class labels when it holds whole numbers with at most
# this many different values and at least ROWS_PER_CLASS rows per value; else regression.
MAX_NUMERIC_CLASSES = 20
ROWS_PER_CLASS = 5
DEFAULT_WINDOW = 24  # the series dataset's own default, when the project has no sequence Input


@dataclass
class Adaptation:
    project: Project  # a new, adapted copy (the input project is not changed)
    kind: str  # "table" | "series" | "images" | "arrays"
    changes: list[str]  # one line per change, as printed


@dataclass(frozen=True)
class DataFit:
    """What the data asks of the project: its dataset, and the shapes at both ends."""

    dataset: str
    params: dict[str, Any]
    task: str
    input_shape: tuple[int, ...]
    sequence: bool
    output_dims: tuple[int, ...]  # the Output's values per sample; width first
    summary: str  # "classification, 2 classes"


# ------------------------------------------------------------------ the data


def _table_task(path: Path, target: str) -> str:
    """classification when the target holds text, or a few whole numbers; else regression."""
    table = read_text_table(path, target)
    cells = np.array([row[table.columns.index(target)] for row in table.rows], dtype=object)
    labels, numbers = read_column(cells, table.decimal)
    filled = labels != ""
    values = numbers[filled]
    if np.isnan(values).any():
        return "classification"
    distinct = np.unique(values)
    few = len(distinct) <= MAX_NUMERIC_CLASSES and len(distinct) * ROWS_PER_CLASS <= len(values)
    return "classification" if few and np.all(distinct == np.round(distinct)) else "regression"


def _class_summary(count: int) -> str:
    return f"classification, {count} classes"


def _table(path: Path, target: str | None) -> DataFit:
    peek = peek_table(path)
    if target is not None:
        check_column(peek, target, "--target")
    target = target or default_target(peek, None)
    task = _table_task(path, target)
    params = {"path": str(path), "target": target, "task": task}
    data = load_dataset("csv", params)  # a table is read whole: what train does anyway
    if task == "classification":
        count = int(data.num_classes or 0)
        if count * 2 > len(data.y):
            raise DataError(
                f"{path}, column {target!r}: {count} different labels in {len(data.y)} rows, "
                "too few rows per class to learn from; name the column to predict with --target"
            )
        return DataFit(
            "csv", params, task, data.sample_shape, False, (count,), _class_summary(count)
        )
    width = int(np.prod(data.target_shape))
    return DataFit("csv", params, task, data.sample_shape, False, (width,), "regression")


def _series_rows(path: Path, time: str) -> int:
    return len(read_text_table(path, time).rows)


def _series(
    path: Path, time: str | None, target: str | None, window: int | None, horizon: int | None
) -> DataFit:
    peek = peek_table(path)
    time = time or time_column(peek)
    assert time is not None  # detect_kind found it, or it was given
    check_column(peek, time, "--time")
    if target is not None:
        check_column(peek, target, "--target")
        if target == time:
            raise DataError(f"--target {target!r}: that is the time column; name a value column")
    target = target or default_target(peek, time)
    assert window is not None and horizon is not None
    rows = _series_rows(path, time)
    if rows < window + horizon:
        raise DataError(
            f"--window {window}: {path} holds {rows} time steps, fewer than a window of "
            f"{window} plus the {horizon} to forecast; use a shorter --window"
        )
    params = {
        "path": str(path),
        "time": time,
        "target": target,
        "window": window,
        "horizon": horizon,
    }
    shape, sequence = dataset_input_shape("series", params)
    steps = "1 step" if horizon == 1 else f"{horizon} steps"
    return DataFit(
        "series",
        params,
        "regression",
        shape,
        sequence,
        (horizon,),
        f"regression, forecasts {steps}",
    )


def _images(path: Path) -> DataFit:
    found = survey(str(path))  # the listing and each image's header, as train reads them
    count = len(found.class_names)
    return DataFit(
        "image_folder",
        {"path": str(path)},
        "classification",
        tuple(found.sample_shape),
        False,
        (count,),
        _class_summary(count),
    )


def _labels(path: Path) -> np.ndarray:
    import zipfile

    try:
        with np.load(path, allow_pickle=False) as archive:
            return archive["y"]
    except (ValueError, OSError, KeyError, zipfile.BadZipFile) as err:
        raise DataError(f"{path}: cannot read array 'y': {err}") from None


def _arrays(path: Path, sequence_input: bool) -> DataFit:
    params: dict[str, Any] = {"path": str(path)}
    shape, _ = dataset_input_shape("npz", params)
    if sequence_input and len(shape) >= 2:
        params["sequence"] = True  # (samples, T, features…) into a sequence Input
    task = dataset_task("npz", params)
    y = _labels(path)
    if task == "regression":
        width = int(np.prod(y.shape[1:], dtype=np.int64)) if y.ndim > 1 else 1
        return DataFit("npz", params, task, shape, bool(params.get("sequence")), (width,), task)
    labels = y.reshape(len(y)) if task == "classification" else y
    count = check_class_labels(str(path), labels)
    dims = (count,) if task == "classification" else (count, *y.shape[1:])
    summary = _class_summary(count) if task == "classification" else f"{task}, {count} classes"
    return DataFit("npz", params, task, shape, bool(params.get("sequence")), dims, summary)


def _only_for(option: str, value: Any, kinds: str, kind: str, path: Path) -> None:
    if value is not None:
        raise DataError(f"{option} applies to {kinds}; {path} is read as {kind}")


KIND_WORDS = {
    "table": "a table",
    "series": "a series",
    "images": "a folder of images",
    "arrays": "NumPy arrays",
}


def _sequence_steps(project: Project) -> int | None:
    """The time steps of the project's Input when it is a sequence (the template's window)."""
    ids = project.graph.ids_of_role("input")
    if len(ids) != 1:
        return None
    params = project.graph.node(ids[0]).params
    return int(params["shape"][0]) if params.get("sequence") and params.get("shape") else None


def fit_of(
    project: Project,
    kind: str,
    path: Path,
    target: str | None,
    time: str | None,
    window: int | None,
    horizon: int | None,
) -> DataFit:
    """What the data at `path` asks of the project; DataError naming the place."""
    word = KIND_WORDS[kind]
    if kind != "series":
        _only_for("--time", time, "a series CSV", word, path)
        _only_for("--window", window, "a series (a CSV with a time column)", word, path)
        _only_for("--horizon", horizon, "a series (a CSV with a time column)", word, path)
    if kind in ("images", "arrays"):
        _only_for("--target", target, "a table's or series' columns", word, path)
    if kind == "table":
        return _table(path, target)
    if kind == "series":
        window = window or _sequence_steps(project) or DEFAULT_WINDOW
        return _series(path, time, target, window, horizon or 1)
    if kind == "images":
        return _images(path)
    return _arrays(path, _sequence_steps(project) is not None)


# --------------------------------------------------------------- the project


def _dataset_line(fit: DataFit) -> str:
    shown = " ".join(
        f"{key}={value}" if key == "path" else f"{key}={value!r}"
        for key, value in fit.params.items()
        if key not in ("task", "sequence")
    )
    return f"dataset: {fit.dataset} {shown} ({fit.summary})"


def _old_task(training: dict[str, Any]) -> str | None:
    dataset = training.get("dataset")
    name = dataset.get("name") if isinstance(dataset, dict) else dataset
    spec = DATASETS.get(name) if isinstance(name, str) else None
    return spec.task if spec is not None else None


def _training(
    training: dict[str, Any], fit: DataFit, kind: str
) -> tuple[dict[str, Any], list[str]]:
    """The training settings pointed at the data: dataset, and a metric and split that
    fit its task (the rest as they were)."""
    settings = dict(training)
    changes = []
    settings["dataset"] = {"name": fit.dataset, "params": dict(fit.params)}
    metric = settings.get("metric", "auto")
    if metric != "auto" and _old_task(training) != fit.task:
        settings["metric"] = "auto"
        changes.append(f"training.metric: {metric} → auto (the {fit.task} task's own)")
    split = settings.get("split", "auto")
    leaks = kind == "series" and split not in ("auto", "ordered")
    if leaks or (fit.task != "classification" and split == "stratified"):
        settings["split"] = "auto"
        why = "a series validates on its end" if leaks else f"{fit.task} has no classes to stratify"
        changes.append(f"training.split: {split} → auto ({why})")
    return settings, changes


def _counted(fit: DataFit) -> str:
    """What the Output's width counts: "3 classes", "2 forecast steps", "1 target value"."""
    width = fit.output_dims[0]
    if fit.task != "regression":
        return f"{width} classes"
    what = "forecast step" if fit.dataset == "series" else "target value"
    return f"{width} {what}{'' if width == 1 else 's'}"


def _loss(graph_loss: str, fit: DataFit) -> tuple[str, tuple[int, ...]]:
    """The Output's loss and values per sample: bce kept for two classes (one score)."""
    if fit.task == "regression":
        return "mse", fit.output_dims
    if graph_loss == "bce" and fit.output_dims[0] == 2:
        return "bce", (1, *fit.output_dims[1:])
    return "cross_entropy", fit.output_dims


def adapt(
    project: Project,
    data: Path,
    *,
    target: str | None = None,
    time: str | None = None,
    window: int | None = None,
    horizon: int | None = None,
) -> Adaptation:
    """A copy of `project` trained on the data at `data`, resized to fit it.

    DataError (one line, naming the file, column or option) for data that cannot be
    used; ProjectFitError, a DataError, for a project that cannot be adapted.
    """
    path = Path(data).expanduser().absolute()
    kind = detect_kind(path, time)
    fit = fit_of(project, kind, path, target, time, window, horizon)
    if fit.task == "classification" and fit.output_dims[0] > MAX_CLASSES:
        raise DataError(f"{path}: {fit.output_dims[0]:,} classes, more than {MAX_CLASSES:,}")
    adapted = from_dict(to_dict(project))
    graph = adapted.graph
    input_id = only_block(graph, "input", "Input")
    output_id = only_block(graph, "output", "Output")
    changes = [_dataset_line(fit)]
    changes += resize_input(graph, input_id, tuple(fit.input_shape), fit.sequence)
    loss, dims = _loss(graph.node(output_id).params["loss"], fit)
    changes += set_loss(graph, output_id, loss)
    what = _counted(fit)
    analysis = analyze(graph)
    if problems := [p for p in analysis.problems if p.node != output_id]:
        raise ProjectFitError(
            f"{fit.dataset} samples of shape {tuple(fit.input_shape)} do not fit this network: "
            f"{problems[0].message}; or start from a project made for {KIND_WORDS[kind]}"
        )
    changes += resize_output(graph, analysis, output_id, dims, what)
    if problems := analyze(graph).problems:
        raise ProjectFitError(f"the adapted graph does not fit the data: {problems[0].message}")
    # The copy's own settings: nothing nested is shared with the project given.
    adapted.training, settings_changes = _training(adapted.training, fit, kind)
    return Adaptation(adapted, kind, changes + settings_changes)


def place_data_path(adaptation: Adaptation, project_file: Path) -> Adaptation:
    """The adaptation with its dataset path relative to the folder `project_file` will
    be saved in, when the data is inside that folder (the project and its data can then
    move together); else the absolute path, as adapt gave it."""
    dataset = adaptation.project.training["dataset"]
    absolute = Path(dataset["params"]["path"])
    try:
        relative = absolute.relative_to(Path(project_file).expanduser().absolute().parent)
    except ValueError:
        return adaptation
    shown = relative.as_posix() or "."
    project = from_dict(to_dict(adaptation.project))
    project.training["dataset"]["params"]["path"] = shown
    changes = list(adaptation.changes)
    changes[0] = changes[0].replace(f"path={absolute}", f"path={shown}", 1)
    return replace(adaptation, project=project, changes=changes)
