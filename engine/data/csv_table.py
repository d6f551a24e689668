"""`csv`: a person's table, one sample per row, with a header row of column names.

Every column but the target must hold numbers. For classification the target may hold
any labels (class names are its distinct values, sorted); for regression it must hold
numbers. Samples are (features,) float32.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engine.blocks.spec import Param
from engine.data.arrays import MAX_CLASSES, shuffled, standardised
from engine.data.files import existing_file, file_params
from engine.data.registry import (
    ArrayDataset,
    DataError,
    InputShape,
    Task,
    register,
    text_param,
)

WHAT = "a CSV file with a header row"


def _open(path: Path) -> Any:
    # utf-8-sig drops the byte-order mark spreadsheet programs put at the start.
    return path.open(newline="", encoding="utf-8-sig")


def _csv_error(path: Path, reader: Any, err: csv.Error) -> DataError:
    """One line for what the csv module refused (a cell over its size limit, a stray NUL)."""
    # The csv module refuses a cell longer than csv.field_size_limit() (128 KiB): a
    # whole file without line breaks or with an unclosed quote reads as one huge cell.
    line = f" line {reader.line_num}" if reader.line_num else ""
    return DataError(f"{path}{line}: cannot read as CSV: {err}; expected {WHAT}")


def _header(path: Path, reader: Any, target: str) -> tuple[list[str], int]:
    """The column names and the target's index; DataError if either is wrong."""
    try:
        header = next(reader)
    except StopIteration:
        raise DataError(f"{path}: the file is empty; expected {WHAT}") from None
    columns = [name.strip() for name in header]
    for i, name in enumerate(columns):
        if not name:
            raise DataError(f"{path} line 1: column {i + 1} has no name in the header row")
        if name in columns[:i]:
            raise DataError(f"{path} line 1: column {name!r} appears twice in the header row")
    if target not in columns:
        raise DataError(
            f"dataset.params.target: {path} has no column {target!r} "
            f"(columns: {', '.join(columns)})"
        )
    if len(columns) < 2:
        raise DataError(f"{path}: only the target column {target!r}; no feature columns")
    return columns, columns.index(target)


def _number(text: str, path: Path, line: int, column: str) -> float:
    try:
        value = float(text)
    except ValueError:
        shown = "an empty cell" if not text.strip() else repr(text)
        raise DataError(
            f"{path} line {line}, column {column!r}: expected a number, got {shown}"
        ) from None
    if not math.isfinite(value):
        raise DataError(
            f"{path} line {line}, column {column!r}: expected a finite number, got {text!r}"
        )
    return value


@dataclass
class CsvRows:
    """A table as read: numeric feature rows, the raw target cells, each row's line."""

    columns: list[str]
    target_index: int
    features: list[list[float]]
    targets: list[str]
    lines: list[int]


def _read(path: Path, target: str) -> CsvRows:
    features: list[list[float]] = []
    targets: list[str] = []
    lines: list[int] = []
    try:
        with _open(path) as handle:
            reader = csv.reader(handle)
            columns, target_index = _header(path, reader, target)
            for row in reader:
                if not any(cell.strip() for cell in row):
                    continue  # blank lines, often at the end
                line = reader.line_num
                if len(row) != len(columns):
                    raise DataError(
                        f"{path} line {line}: expected {len(columns)} values (one per column), "
                        f"got {len(row)}"
                    )
                features.append(
                    [
                        _number(cell, path, line, columns[i])
                        for i, cell in enumerate(row)
                        if i != target_index
                    ]
                )
                targets.append(row[target_index].strip())
                lines.append(line)
    except UnicodeDecodeError as err:
        raise DataError(f"{path}: not a UTF-8 text file ({err.reason}); expected {WHAT}") from None
    except csv.Error as err:
        raise _csv_error(path, reader, err) from None
    if not features:
        raise DataError(f"{path}: the header row is followed by no data rows")
    return CsvRows(columns, target_index, features, targets, lines)


def _class_order(labels: set[str]) -> list[str]:
    """Numeric labels in numeric order (2 before 10), others alphabetically."""
    try:
        return sorted(labels, key=float)
    except ValueError:
        return sorted(labels)


def _load(params: dict[str, Any]) -> ArrayDataset:
    path = existing_file(params["path"], WHAT)
    target, task = params["target"], params["task"]
    table = _read(path, target)
    x = np.array(table.features, dtype=np.float64)
    x = standardised(x) if params["standardise"] else x.astype(np.float32)
    class_names: list[str] | None = None
    if task == "classification":
        class_names = _class_order(set(table.targets))
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
        y = np.array([index[t] for t in table.targets], dtype=np.int64)
    else:
        y = np.array(
            [_number(t, path, line, target) for t, line in zip(table.targets, table.lines)],
            dtype=np.float32,
        )[:, None]
    if params["shuffle"]:
        x, y = shuffled(params["seed"], x, y)
    return ArrayDataset(
        name="csv",
        x=x,
        y=y,
        task=task,
        sample_shape=(len(table.columns) - 1,),
        sequence=False,
        num_classes=len(class_names) if class_names else None,
        class_names=class_names,
        feature_names=[c for i, c in enumerate(table.columns) if i != table.target_index],
    )


def _shape(params: dict[str, Any]) -> InputShape:
    path = existing_file(params["path"], WHAT)
    try:
        with _open(path) as handle:
            reader = csv.reader(handle)
            columns, _ = _header(path, reader, params["target"])
    except UnicodeDecodeError as err:
        raise DataError(f"{path}: not a UTF-8 text file ({err.reason}); expected {WHAT}") from None
    except csv.Error as err:
        raise _csv_error(path, reader, err) from None
    return (len(columns) - 1,), False


def _task(params: dict[str, Any]) -> Task:
    return params["task"]


register(
    "csv",
    "Your table (CSV)",
    "A CSV file with a header row: one sample per row, numeric feature columns and a "
    "target column — class labels for classification, numbers for regression. Features "
    "are standardised to mean 0, std 1 unless you untick it.",
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
    ),
    _load,
    _shape,
    task_of=_task,
    category="your data",
)
