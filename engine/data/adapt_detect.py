"""What kind of data a path holds, told from a bounded look at it (for `adapt`).

A folder of class folders is images, a `.npz` is arrays, a CSV/TSV is a table — or a
series when one of its columns is time: named like time/date/year/month, or holding
values that read as dates or times. Only the start of a text file is read (its header
and first rows, as engine.data.table_reading sniffs them), and only a folder's listing.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.data.image_folder import is_hidden
from engine.data.peek import PEEK_BYTES, head_text
from engine.data.registry import DataError
from engine.data.series_reading import find_time_column
from engine.data.table_columns import parse_numbers
from engine.data.table_reading import SNIFF_LINES, WHAT, sniff_decimal, sniff_separator

KINDS = ("table", "series", "images", "arrays")
TABLE_SUFFIXES = (".csv", ".tsv", ".txt")
SUPPORTED = (
    "adapt reads a CSV/TSV table or series (.csv, .tsv, .txt), NumPy arrays (.npz) "
    "or a folder of images with one subfolder per class"
)
# Column names that say "this is what to predict", when no target is given.
TARGET_NAMES = ("target", "label", "labels", "class", "y", "outcome")


@dataclass(frozen=True)
class TablePeek:
    """A table's header and first rows as text, as they would be read."""

    path: Path
    columns: list[str]
    rows: list[list[str]]
    decimal: str


def peek_table(path: Path) -> TablePeek:
    """The header and the first SNIFF_LINES rows; DataError naming the file."""
    (text, _), _ = head_text(path, PEEK_BYTES)
    lines = text.splitlines(keepends=True)[: SNIFF_LINES + 1]
    separator = sniff_separator(lines)
    try:
        read = list(csv.reader(io.StringIO("".join(lines), newline=""), delimiter=separator))
    except csv.Error as err:
        raise DataError(f"{path}: cannot read as CSV: {err}; expected {WHAT}") from None
    read = [row for row in read if "".join(row).strip()]
    if not read:
        raise DataError(f"{path}: the file is empty; expected a header row of column names")
    columns = [name.strip() for name in read[0]]
    rows = [row for row in read[1:] if len(row) == len(columns)]
    return TablePeek(path, columns, rows, sniff_decimal(rows, separator))


def column_cells(peek: TablePeek, name: str) -> np.ndarray:
    index = peek.columns.index(name)
    return np.array([row[index].strip() for row in peek.rows], dtype=object)


def time_column(peek: TablePeek) -> str | None:
    """The first column named like a time or holding dates in its first rows: the
    series dataset's own rule (engine.data.series_reading), so both find the same."""
    cells = np.empty((len(peek.rows), len(peek.columns)), dtype=object)
    for i, row in enumerate(peek.rows):
        cells[i] = [cell.strip() for cell in row]
    return find_time_column(peek.columns, cells, peek.decimal)


def is_numeric(peek: TablePeek, name: str) -> bool:
    cells = column_cells(peek, name)
    filled = cells[cells != ""]
    return len(filled) > 0 and not np.isnan(parse_numbers(filled, peek.decimal)).any()


def check_column(peek: TablePeek, name: str, option: str) -> None:
    if name not in peek.columns:
        raise DataError(
            f"{option} {name!r}: {peek.path} has no such column (columns: "
            f"{', '.join(peek.columns)})"
        )


def default_target(peek: TablePeek, time: str | None) -> str:
    """A column named like a target (target, label, class, …), else the last column —
    for a series the last numeric one that is not time."""
    candidates = [c for c in peek.columns if c != time]
    if time is not None:
        candidates = [c for c in candidates if is_numeric(peek, c)] or candidates
    for name in candidates:
        if name.lower() in TARGET_NAMES:
            return name
    if not candidates:
        raise DataError(f"{peek.path}: only the column {time!r}; nothing to predict")
    return candidates[-1]


def class_folders(path: Path) -> list[Path]:
    """The subfolders of a folder of images, hidden and system ones left out (as the
    image_folder dataset leaves them out)."""
    try:
        return sorted(p for p in path.iterdir() if p.is_dir() and not is_hidden(p))
    except OSError as err:
        raise DataError(f"{path}: cannot list the folder: {err.strerror or err}") from None


def detect_kind(path: Path, time: str | None = None) -> str:
    """ "table" | "series" | "images" | "arrays" for the data at `path`; DataError when it
    is missing or none of them. Reads a folder's listing or a text file's first rows."""
    path = Path(path)
    if path.is_dir():
        if not class_folders(path):
            raise DataError(
                f"{path}: a folder with no class subfolders; images go in one subfolder "
                "per class (pets/cat/1.png, pets/dog/1.png)"
            )
        return "images"
    if not path.exists():
        raise DataError(f"--data: no such file or folder: {path}")
    if not path.is_file():  # a FIFO would block the read, a device never end it
        raise DataError(f"--data: {path} is not a regular file or folder; {SUPPORTED}")
    suffix = path.suffix.lower()
    if suffix == ".npz":
        return "arrays"
    if suffix not in TABLE_SUFFIXES:
        what = f"a {suffix} file" if suffix else "a file without an extension"
        raise DataError(f"{path}: {what}; {SUPPORTED}")
    if time:
        return "series"
    return "series" if time_column(peek_table(path)) is not None else "table"
