"""New rows of a table, prepared as a trained run prepared its training rows.

The file is read as training read it (engine.data.table_reading: separator, decimal
comma, encoding, quoted cells). The columns come from the run's stored preprocessing,
not from this file: the same numeric columns filled with the training rows' medians,
the same one-hot slots (a value the training rows never held encodes as all zeros),
the same scaling. Extra columns are ignored; the target column is optional and, when
present, gives the metric; the column the run dropped as an identifier names the rows.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import numpy as np

from engine.data.predict_inputs import PredictInputs
from engine.data.preprocess import apply_table
from engine.data.registry import DataError
from engine.data.table_columns import TableColumns, read_column
from engine.data.table_reading import (
    SNIFF_LINES,
    WHAT,
    TextTable,
    decode,
    read_text_table,
    sniff_decimal,
    sniff_separator,
)


def decoded_header(path: Path) -> tuple[tuple[str, str], list[str]]:
    """((the file's text, its encoding), the names in its header row), found as the
    training reader finds them."""
    try:
        data = path.read_bytes()
    except OSError as err:
        raise DataError(f"{path}: cannot read the file: {err.strerror or err}") from None
    text, encoding = decode(path, data)
    first = text.splitlines(keepends=True)[:SNIFF_LINES]
    line = io.StringIO("".join(first[:1]), newline="")
    reader = csv.reader(line, delimiter=sniff_separator(first))
    try:
        header = next(reader, None)
    except csv.Error as err:
        raise DataError(f"{path} line 1: cannot read as CSV: {err}; expected {WHAT}") from None
    if not header:
        raise DataError(f"{path}: the file is empty; expected {WHAT}")
    return (text, encoding), [name.strip() for name in header]


def _one_column(path: Path, decoded: tuple[str, str], name: str) -> TextTable:
    """A table of one column (a one-feature model's new rows, no target beside them),
    which read_text_table refuses as a training table: each line one cell, so a decimal
    comma is no separator here."""
    text, encoding = decoded
    rows: list[list[str]] = []
    lines: list[int] = []
    for number, line in enumerate(text.splitlines()[1:], start=2):
        cell = line.strip()
        if cell.startswith('"') and cell.endswith('"') and len(cell) > 1:
            cell = cell[1:-1].replace('""', '"')
        if cell:
            rows.append([cell])
            lines.append(number)
    if not rows:
        raise DataError(f"{path}: the header row is followed by no data rows")
    decimal = sniff_decimal(rows[:SNIFF_LINES], ";")  # any separator but a comma
    return TextTable(path, [name], rows, lines, "", decimal, encoding)


def _needed_columns(features: dict[str, Any]) -> list[str]:
    return list(features["numeric"]["columns"]) + [c["column"] for c in features["categorical"]]


def _numbers(table: TextTable, cells: np.ndarray, name: str) -> np.ndarray:
    """A numeric feature column: NaN where empty; DataError at the first text cell."""
    text, numbers = read_column(cells[:, table.columns.index(name)], table.decimal)
    bad = np.flatnonzero(np.isnan(numbers) & (text != ""))
    if len(bad):
        row = int(bad[0])
        raise DataError(
            f"{table.path} line {table.lines[row]}, column {name!r}: expected a number, got "
            f"{text[row]!r} (the model was trained on numbers in this column)"
        )
    return numbers


def _columns(table: TextTable, cells: np.ndarray, features: dict[str, Any]) -> TableColumns:
    numeric_names = list(features["numeric"]["columns"])
    rows = len(cells)
    numeric = [_numbers(table, cells, name) for name in numeric_names]
    names, texts, slots = [], [], []
    for column in features["categorical"]:
        name = column["column"]
        text, _ = read_column(cells[:, table.columns.index(name)], table.decimal)
        names.append(name)
        texts.append(text)  # as training read it: only cells that are no number are stripped
        slots.append(list(column["values"]))
    return TableColumns(
        numeric_names,
        np.stack(numeric, axis=1) if numeric else np.zeros((rows, 0)),
        names,
        np.stack(texts, axis=1) if texts else np.zeros((rows, 0), dtype=object),
        slots,
        [],
    )


def _reading_notes(columns: TableColumns, features: dict[str, Any]) -> list[str]:
    notes = []
    empty = np.isnan(columns.numeric).sum(axis=0)
    if empty.sum():
        named = ", ".join(
            f"{name!r} ({int(count)})" for name, count in zip(columns.numeric_names, empty) if count
        )
        notes.append(
            f"{int(empty.sum())} empty cells filled with the training rows' median: {named}"
        )
    for j, column in enumerate(features["categorical"]):
        cells = columns.text[:, j]
        unknown = sorted(set(cells) - set(column["known"]) - {""})
        if unknown:
            shown = ", ".join(repr(v) for v in unknown[:3]) + (", …" if len(unknown) > 3 else "")
            count = int(np.isin(cells, unknown).sum())
            notes.append(
                f"column {column['column']!r}: {count} rows hold values the training rows "
                f"never had ({shown}) — encoded as unknown (all zeros)"
            )
    return notes


def _class_targets(
    text: np.ndarray, classes: list[str], column: str
) -> tuple[np.ndarray, str | None]:
    index = {name.strip(): i for i, name in enumerate(classes)}
    labels = [cell.strip() for cell in text]
    y = np.array([np.nan if not t else index.get(t, -1) for t in labels], dtype=np.float64)
    strangers = sorted({t for t in labels if t and t not in index})
    note = None
    if strangers:
        shown = ", ".join(repr(v) for v in strangers[:3]) + (", …" if len(strangers) > 3 else "")
        note = (
            f"column {column!r}: {int((y == -1).sum())} rows hold labels the model does not "
            f"know ({shown}; it knows {', '.join(map(repr, classes))}) — counted as wrong"
        )
    return y, note


def _targets(
    table: TextTable, cells: np.ndarray, preprocessing: dict[str, Any]
) -> tuple[np.ndarray | None, list[str]]:
    target = preprocessing.get("target") or {}
    column = preprocessing.get("target_column") or target.get("column")
    if not column or column not in table.columns:
        return None, []
    text, numbers = read_column(cells[:, table.columns.index(column)], table.decimal)
    classes = preprocessing.get("classes")
    if classes is not None:
        y, note = _class_targets(text, list(classes), column)
        notes = [note] if note else []
    else:
        bad = np.flatnonzero(np.isnan(numbers) & (text != ""))
        if len(bad):
            row = int(bad[0])
            raise DataError(
                f"{table.path} line {table.lines[row]}, column {column!r}: expected a number, "
                f"got {text[row]!r} (the target the model predicts holds numbers)"
            )
        y, notes = numbers[:, None], []
    if missing := int(np.isnan(y).reshape(len(y), -1).any(axis=1).sum()):
        notes.append(f"{missing} rows have no {column!r}: the metric counts the others")
    return y, notes


def read_table_rows(preprocessing: dict[str, Any], data: Path) -> PredictInputs:
    """Every row of `data` prepared with the stored table transform; DataError naming a
    feature column the file lacks, or a cell that cannot be read."""
    features = preprocessing["features"]
    needed = _needed_columns(features)
    decoded, header = decoded_header(data)
    if missing := [name for name in needed if name not in header]:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise DataError(
            f"{data}: no column {missing[0]!r}{more}, which the model was trained on; "
            f"columns found: {', '.join(header)}"
        )
    if len(header) == 1:
        table = _one_column(data, decoded, header[0])
    else:
        # Any column of the header is read_text_table's anchor: the target is optional here.
        table = read_text_table(data, needed[0], head=decoded)
    cells = np.empty((len(table.rows), len(table.columns)), dtype=object)
    cells[:] = table.rows
    columns = _columns(table, cells, features)
    x = apply_table(features, columns)
    y, target_notes = _targets(table, cells, preprocessing)
    id_column = preprocessing.get("id_column")
    if id_column and id_column in table.columns:
        ids = [cell.strip() for cell in cells[:, table.columns.index(id_column)]]
        id_header = str(id_column)
    else:
        ids, id_header = [str(i + 1) for i in range(len(cells))], "row"
    notes = _reading_notes(columns, features) + target_notes
    return PredictInputs(x, ids, id_header, y, notes=notes)
