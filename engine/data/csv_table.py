"""`csv`: a person's table, one sample per row, with a header row of column names.

The file is read as it was saved (engine.data.table_reading: separator, decimal comma,
encoding) and its columns sorted into numbers and categories (engine.data.table_columns:
identifiers and mostly empty columns dropped, text with few values one-hot encoded,
each announced as a note). For classification the target may hold any labels (class
names are its distinct values, sorted); for regression it must hold numbers. Samples
are (features,) float32.

`x` and `y` are the table prepared over all its rows, as a preview shows it; training
calls `prepare(train_indices)`, which fits the fill values, categories and scaling on
the training rows alone and standardises a regression target with the training rows'
statistics (engine.data.preprocess).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engine.blocks.spec import Param
from engine.data.arrays import MAX_CLASSES
from engine.data.files import existing_file, file_params
from engine.data.preprocess import (
    apply_table,
    apply_target_scale,
    filled_cells,
    fit_table,
    fit_target_scale,
)
from engine.data.registry import (
    ArrayDataset,
    DataError,
    InputShape,
    Prepared,
    Task,
    names_param,
    register,
    text_param,
)
from engine.data.table_columns import TableColumns, TableOptions, plan_columns, read_column
from engine.data.table_reading import (
    DECIMAL_CHOICES,
    SEP_CHOICES,
    WHAT,
    TextTable,
    read_text_table,
)


def _class_order(labels: set[str]) -> list[str]:
    """Numeric labels in numeric order (2 before 10), others alphabetically."""
    try:
        return sorted(labels, key=float)
    except ValueError:
        return sorted(labels)


@dataclass
class Table:
    """A table read and sorted into columns, in file order, with its targets."""

    columns: TableColumns
    y: np.ndarray  # class indices (rows,) or numbers (rows, 1), in the target's own units
    class_names: list[str] | None
    notes: list[str]
    id_column: str | None = None  # the column dropped as an identifier, echoed by predict


def _cells(table: TextTable) -> np.ndarray:
    """The table's cells as a (rows, columns) array of text, as read (read_column strips
    what does not parse as a number)."""
    cells = np.empty((len(table.rows), len(table.columns)), dtype=object)
    cells[:] = table.rows
    return cells


def _targets(
    table: TextTable, target: str, labels: np.ndarray, numbers: np.ndarray, task: str
) -> np.ndarray:
    if task == "classification":
        return labels
    bad = np.flatnonzero(np.isnan(numbers))
    if len(bad):
        row = int(bad[0])
        raise DataError(
            f"{table.path} line {table.lines[row]}, column {target!r}: "
            f"expected a number, got {labels[row]!r} (a regression target holds numbers)"
        )
    return numbers.astype(np.float32)[:, None]


def _classes(path: Path, target: str, labels: np.ndarray) -> tuple[np.ndarray, list[str]]:
    class_names = _class_order(set(labels))
    if len(class_names) < 2:
        raise DataError(
            f"{path}, column {target!r}: every row has the label {class_names[0]!r}; "
            "classification needs at least two classes"
        )
    if len(class_names) > MAX_CLASSES:
        raise DataError(
            f"{path}, column {target!r}: {len(class_names):,} different labels, more than "
            f"the {MAX_CLASSES:,} classes a classifier here may have; if the column holds "
            "numbers to predict, set dataset.params.task to regression"
        )
    index = {name: i for i, name in enumerate(class_names)}
    return np.array([index[label] for label in labels], dtype=np.int64), class_names


def _options(params: dict[str, Any]) -> TableOptions:
    return TableOptions(
        target=params["target"],
        features=params["features"],
        drop=params["drop"],
        categorical=params["categorical"],
        missing=params["missing"],
    )


def read_table(params: dict[str, Any]) -> Table:
    """The file's feature columns and targets, in file order; DataError names the place."""
    path = existing_file(params["path"], WHAT)
    target, task = params["target"], params["task"]
    table = read_text_table(path, target, params["sep"], params["decimal"])
    cells = _cells(table)
    labels, numbers = read_column(cells[:, table.columns.index(target)], table.decimal)
    notes = []
    unlabelled = labels == ""
    if unlabelled.all():
        raise DataError(f"{path}, column {target!r}: every row's target cell is empty")
    if unlabelled.any():
        notes.append(
            f"{int(unlabelled.sum())} rows with an empty {target!r} left out "
            f"(first at line {table.lines[int(np.argmax(unlabelled))]})"
        )
        keep = np.flatnonzero(~unlabelled)
        cells, labels, numbers = cells[keep], labels[keep], numbers[keep]
        table.lines = [table.lines[i] for i in keep]
    values = _targets(table, target, labels, numbers, task)
    columns = plan_columns(table, cells, _options(params))
    class_names = None
    if task == "classification":
        values, class_names = _classes(path, target, values)
    columns.check_not_empty(table, target)
    id_column = _identifier(table, cells, columns.dropped)
    return Table(columns, values, class_names, notes + columns.notes, id_column)


def _identifier(table: TextTable, cells: np.ndarray, dropped: list[str]) -> str | None:
    """The first dropped column holding a different, non-empty value on every row: the
    one dropped as an identifier (a mostly empty column never does)."""
    for name in dropped:
        text = [cell.strip() for cell in cells[:, table.columns.index(name)]]
        if all(text) and len(set(text)) == len(text):
            return name
    return None


@dataclass
class TablePreparer:
    """prepare(train) for a table: fit on those samples' rows (sample i is file row
    order[i]). A plain object, not a closure: the window sends datasets to its training
    process by pickling them."""

    table: Table
    order: np.ndarray
    standardise: bool
    task: str
    target: str

    def __call__(self, train: np.ndarray) -> Prepared:
        columns, order = self.table.columns, self.order
        rows = order[np.asarray(train, dtype=np.int64)]
        features = fit_table(columns, rows, self.standardise)
        x = apply_table(features, columns)[order]
        notes = [note] if (note := filled_cells(features, columns)) else []
        # kind, classes, target_column and id_column let predict read new rows alone.
        preprocessing: dict[str, Any] = {
            "kind": "table",
            "features": features,
            "feature_names": columns.feature_names,
            "target": None,
            "target_column": self.target,
            "id_column": self.table.id_column,
        }
        if self.table.class_names is not None:
            preprocessing["classes"] = list(self.table.class_names)
        if self.task != "regression":
            return Prepared(x, self.table.y[order], preprocessing, notes)
        scale = fit_target_scale(self.table.y, rows)
        preprocessing["target"] = {"column": self.target, **scale}
        notes.append(
            f"target {self.target!r} standardised for training (training rows' mean "
            f"{scale['mean'][0]:.4g}, std {scale['std'][0]:.4g}); metrics are in its own units"
        )
        y = apply_target_scale(scale, self.table.y)[order]
        return Prepared(x, y, preprocessing, notes, target_std=list(scale["std"]))


def _load(params: dict[str, Any]) -> ArrayDataset:
    table = read_table(params)
    rows = len(table.y)
    order = np.arange(rows)
    if params["shuffle"]:
        order = np.random.default_rng(params["seed"]).permutation(rows)
    prepare = TablePreparer(table, order, params["standardise"], params["task"], params["target"])
    # What a preview shows: every row prepared as one (x), the target in its own units.
    x = apply_table(fit_table(table.columns, np.arange(rows), params["standardise"]), table.columns)
    task = params["task"]
    return ArrayDataset(
        name="csv",
        x=x[order],
        y=table.y[order],
        task=task,
        sample_shape=(table.columns.width,),
        sequence=False,
        num_classes=len(table.class_names) if table.class_names else None,
        class_names=table.class_names,
        feature_names=table.columns.feature_names,
        ordered=not params["shuffle"],
        notes=table.notes,
        prepare=prepare,
        default_split="stratified" if task == "classification" else "random",
    )


def _shape(params: dict[str, Any]) -> InputShape:
    return (read_table(params).columns.width,), False


def _task(params: dict[str, Any]) -> Task:
    return params["task"]


register(
    "csv",
    "Your table (CSV)",
    "A CSV or TSV file with a header row: one sample per row, feature columns and a "
    "target column — class labels for classification, numbers for regression. The "
    "separator (, ; tab |) and a decimal comma are found from the file. Identifier "
    "columns are dropped, empty cells filled with the training rows' median, text "
    "columns with few values one-hot encoded; features are standardised to mean 0, "
    "std 1 unless you untick it. Each of these is announced as a note.",
    "classification",
    file_params(
        "The CSV file.",
        text_param("target", "The name of the column to predict."),
        Param(
            "task",
            "choice",
            "classification",
            "classification: the target holds class labels; regression: numbers.",
            choices=("classification", "regression"),
        ),
        Param("standardise", "bool", True, "Scale each feature column to mean 0, std 1."),
        names_param("features", "The columns to learn from (default: every other column)."),
        names_param("drop", "Columns to leave out."),
        names_param("categorical", "Columns to one-hot encode, even if they hold numbers."),
        Param(
            "missing",
            "choice",
            "median",
            "median: fill an empty cell with its column's median over the training rows; "
            "error: refuse empty cells.",
            choices=("median", "error"),
        ),
        Param("sep", "choice", "auto", "The cell separator; auto finds it.", choices=SEP_CHOICES),
        Param(
            "decimal",
            "choice",
            "auto",
            "The decimal mark; auto finds it (a comma in 3,14).",
            choices=DECIMAL_CHOICES,
        ),
    ),
    _load,
    _shape,
    task_of=_task,
    category="your data",
)
