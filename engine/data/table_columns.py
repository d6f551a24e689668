"""What each column of a person's table is for: a number, a category, or left out.

The roles are decided from the whole file's structure — which cells parse as numbers,
how many different texts a column holds, whether a column is unique per row — so the
Input's width does not depend on the split and `check` can tell it from the file. No
value is learned here: fill values, categories and scaling are fitted on the training
rows only (engine.data.preprocess). Every default that changes the table is one note.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from engine.data.registry import DataError
from engine.data.table_reading import TextTable

# A text column is one-hot encoded by default when it has at most this many different
# values and at least this many rows per value on average (fewer rows per value: too
# little to learn each from, and most likely free text).
MAX_CATEGORIES = 20
ROWS_PER_CATEGORY = 5
# A column whose name reads as an identifier (id, patient_id, ID, Index, row, key, ...).
_ID_NAME = re.compile(r"(^|[_\s\-.])(id|ids|index|idx|key|row|uuid|no)$|^#$|^unnamed", re.I)


@dataclass
class TableOptions:
    """The dataset params that say how to read the columns."""

    target: str
    features: list[str] = field(default_factory=list)  # empty: every other column
    drop: list[str] = field(default_factory=list)
    categorical: list[str] = field(default_factory=list)
    missing: str = "median"  # or "error": an empty cell is refused


@dataclass
class TableColumns:
    """The feature columns as the file holds them, before anything is fitted.

    numeric: (rows, n) float64 with NaN for empty cells; text: (rows, m) object array of
    stripped strings ("" for empty) for the categorical columns; slots: each categorical
    column's different values over the file, which fix the one-hot width.
    """

    numeric_names: list[str]
    numeric: np.ndarray
    categorical_names: list[str]
    text: np.ndarray
    slots: list[list[str]]
    notes: list[str]

    dropped: list[str] = field(default_factory=list)

    def check_not_empty(self, table: TextTable, target: str) -> None:
        if self.width == 0:
            dropped = f"; dropped {_quoted(self.dropped)}" if self.dropped else ""
            raise DataError(f"{table.path}: no feature columns left (target {target!r}{dropped})")

    @property
    def width(self) -> int:
        return len(self.numeric_names) + sum(len(s) for s in self.slots)

    @property
    def feature_names(self) -> list[str]:
        names = list(self.numeric_names)
        for column, values in zip(self.categorical_names, self.slots):
            names += [f"{column}={value}" for value in values]
        return names


# Cells that spreadsheets and databases write for "no value": read as empty cells.
MISSING_MARKS = frozenset({"na", "n/a", "nan", "null", "none", "?", "-", "--"})


def parse_numbers(cells: np.ndarray, decimal: str) -> np.ndarray:
    """Each cell (stripped text) as a float64; NaN where it is empty or no finite number."""
    if decimal == ",":
        cells = np.array([cell.replace(",", ".") for cell in cells], dtype=object)
    import pandas as pd  # here, not at the top: `check` on a builtin dataset never needs it

    # pandas parses a column of text in C; errors become NaN.
    numbers = pd.to_numeric(pd.Series(cells, dtype=object), errors="coerce")
    values = numbers.to_numpy(dtype=np.float64, na_value=np.nan, copy=True)
    values[~np.isfinite(values)] = np.nan
    return values


def read_column(cells: np.ndarray, decimal: str) -> tuple[np.ndarray, np.ndarray]:
    """(text, numbers) of one column. Numbers parse around spaces; the cells that do not
    are stripped, and those reading NA, null, ?, … become empty."""
    numbers = parse_numbers(cells, decimal)
    unparsed = np.flatnonzero(np.isnan(numbers))
    if len(unparsed):
        cells = cells.copy()
        stripped = [cells[i].strip() for i in unparsed]
        cells[unparsed] = ["" if t.lower() in MISSING_MARKS else t for t in stripped]
    return cells, numbers


def _quoted(names: list[str]) -> str:
    return ", ".join(repr(n) for n in names)


def _check_named(table: TextTable, options: TableOptions) -> None:
    for key in ("features", "drop", "categorical"):
        for name in getattr(options, key):
            if name not in table.columns:
                raise DataError(
                    f"dataset.params.{key}: {table.path} has no column {name!r} "
                    f"(columns: {', '.join(table.columns)})"
                )
            if name == options.target:
                raise DataError(f"dataset.params.{key}: {name!r} is the target column")


def _is_identifier(name: str, numbers: np.ndarray, text: np.ndarray, numeric: bool) -> bool:
    """Unique per row and either text, or whole numbers named like an id (a column of
    numbers named otherwise may be a measurement that happens to differ on every row)."""
    rows = len(text)
    if rows < 3 or numeric and not _ID_NAME.search(name):
        return False
    if numeric and (np.isnan(numbers).any() or not np.all(numbers == np.round(numbers))):
        return False
    return len(set(text)) == rows


def _first_text(table: TextTable, index: int, numbers: np.ndarray, text: np.ndarray) -> str:
    """'line N, column 'c': expected a number, got 'x'' for the first cell that is not one."""
    bad = int(np.flatnonzero(np.isnan(numbers) & (text != ""))[0])
    return (
        f"{table.path} line {table.lines[bad]}, column {table.columns[index]!r}: expected a "
        f"number, got {text[bad]!r}"
    )


def _first_empty(table: TextTable, index: int, text: np.ndarray) -> str:
    bad = int(np.flatnonzero(text == "")[0])
    return (
        f"{table.path} line {table.lines[bad]}, column {table.columns[index]!r}: "
        "expected a number, got an empty cell"
    )


def plan_columns(table: TextTable, cells: np.ndarray, options: TableOptions) -> TableColumns:
    """Sort the feature columns into numbers and categories, dropping identifiers and
    mostly empty columns (each announced); DataError naming a column that cannot be used."""
    _check_named(table, options)
    chosen = options.features or [c for c in table.columns if c != options.target]
    chosen = [c for c in chosen if c not in options.drop]
    explicit = set(options.features)
    rows = len(cells)
    numeric_names: list[str] = []
    numeric_values: list[np.ndarray] = []
    categorical_names: list[str] = []
    text_values: list[np.ndarray] = []
    slots: list[list[str]] = []
    identifiers: list[str] = []
    empty: list[str] = []
    for name in chosen:
        index = table.columns.index(name)
        text, numbers = read_column(cells[:, index], table.decimal)
        filled = text != ""
        is_numeric = bool((~np.isnan(numbers) | ~filled).all())
        if name not in explicit and name not in options.categorical:
            if _is_identifier(name, numbers, text, is_numeric):
                identifiers.append(name)
                continue
        if is_numeric and name not in options.categorical:
            if not filled.any() or options.missing == "error" and not filled.all():
                raise DataError(_first_empty(table, index, text))
            if filled.sum() * 2 < rows and name not in explicit:
                empty.append(name)
                continue
            numeric_names.append(name)
            numeric_values.append(numbers)
            continue
        values = sorted(set(text[filled]))
        few = len(values) <= MAX_CATEGORIES and len(values) * ROWS_PER_CATEGORY <= rows
        if name not in options.categorical and not few:
            raise DataError(
                f"{_first_text(table, index, numbers, text)} (column {name!r} holds text with "
                f"{len(values):,} different values in {rows:,} rows, too many to one-hot "
                f"encode by default: list it in categorical=[…] to encode it anyway, or in "
                f"drop=[…])"
            )
        categorical_names.append(name)
        text_values.append(text)
        slots.append(values)
    notes = _notes(identifiers, empty, categorical_names, slots, options)
    numeric = np.stack(numeric_values, axis=1) if numeric_values else np.zeros((rows, 0))
    text_array = np.stack(text_values, axis=1) if text_values else np.zeros((rows, 0), dtype=object)
    return TableColumns(
        numeric_names, numeric, categorical_names, text_array, slots, notes, identifiers + empty
    )


def _notes(
    identifiers: list[str],
    empty: list[str],
    categorical: list[str],
    slots: list[list[str]],
    options: TableOptions,
) -> list[str]:
    notes = []
    kept = ", ".join(repr(c) for c in identifiers)
    if len(identifiers) == 1:
        notes.append(
            f"column {identifiers[0]!r} is unique per row — dropped as an identifier; "
            f"keep it with features=[…]"
        )
    elif identifiers:
        notes.append(
            f"columns {kept} are unique per row — dropped as identifiers; "
            "keep them with features=[…]"
        )
    if empty:
        notes.append(
            f"{'column' if len(empty) == 1 else 'columns'} {_quoted(empty)} more than half "
            "empty — dropped; keep with features=[…] (empty cells are then filled)"
        )
    encoded = [
        f"{name!r} ({len(values)} values)"
        for name, values in zip(categorical, slots)
        if name not in options.categorical
    ]
    if encoded:
        notes.append(
            f"text {'column' if len(encoded) == 1 else 'columns'} {', '.join(encoded)} "
            "one-hot encoded (one input per value); leave out with drop=[…]"
        )
    return notes
