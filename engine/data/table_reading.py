"""Reading a person's CSV/TSV file as they saved it: encoding, separator, decimal mark.

Spreadsheet programs write tables in many dialects: `;` between cells and a decimal
comma in much of Europe, tabs from a copy-paste, `|` from databases, a byte-order mark
at the start, Windows-1252 instead of UTF-8, quoted cells holding the separator. This
module finds the dialect from the first lines (or takes it from the dataset's `sep` and
`decimal` params) and returns the cells as text with each row's line number, so every
later message can name the file, line and column.

Rows are read with Python's csv module rather than pandas' reader: it keeps each row's
line number and its own count of cells (a short row is an error naming its line, where
pandas fills it silently), and refuses a cell over csv.field_size_limit() in one line.
pandas then types and summarises the columns (engine.data.table_columns).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from engine.data.registry import DataError

WHAT = "a CSV file with a header row"
SEPARATORS = (",", ";", "\t", "|")
SEPARATOR_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
# The dataset param spells a tab as a word: a tab character is invisible in a project file.
SEP_CHOICES = ("auto", ",", ";", "tab", "|")
DECIMAL_CHOICES = ("auto", ".", ",")
SNIFF_LINES = 50  # lines looked at to choose the separator and decimal mark

# A number written with a decimal comma, e.g. -12,5 or 3,0e-2; and one with a point.
_COMMA_NUMBER = re.compile(r"^[+-]?\d*,\d+([eE][+-]?\d+)?$")
_POINT_NUMBER = re.compile(r"^[+-]?\d*\.\d+([eE][+-]?\d+)?$")


@dataclass
class TextTable:
    """The cells of a table as text, one list per data row, with where each row starts."""

    path: Path
    columns: list[str]
    rows: list[list[str]]
    lines: list[int]  # the file line each row starts on (the header is line 1)
    sep: str
    decimal: str
    encoding: str


def decode(path: Path, data: bytes) -> tuple[str, str]:
    """The file's text and the encoding it was in: a BOM decides, else UTF-8, else
    Windows-1252 (what Excel writes on Windows) when the bytes are text at all."""
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as err:
            raise DataError(
                f"{path}: not a UTF-8 text file ({err.reason}); expected {WHAT}"
            ) from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as err:
            raise DataError(
                f"{path}: not a UTF-16 text file ({err.reason}); expected {WHAT}"
            ) from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as err:
        utf8_error = err.reason
    # NUL bytes or control characters other than tab and line breaks: not text.
    if b"\x00" in data or re.search(rb"[\x01-\x08\x0b\x0c\x0e-\x1f]", data[:65536]):
        raise DataError(f"{path}: not a UTF-8 text file ({utf8_error}); expected {WHAT}")
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        raise DataError(f"{path}: not a UTF-8 text file ({utf8_error}); expected {WHAT}") from None


def _cells_per_line(sample: list[str], sep: str) -> list[int]:
    reader = csv.reader(sample, delimiter=sep, skipinitialspace=True)
    try:
        return [len(row) for row in reader if any(cell.strip() for cell in row)]
    except csv.Error:
        return []


def sniff_separator(sample: list[str]) -> str:
    """The separator that splits the first lines into the same number of cells, most
    cells winning; a comma when none splits them (a one-column table)."""
    best, best_cells = ",", 1
    for sep in SEPARATORS:
        counts = _cells_per_line(sample, sep)
        if not counts or counts[0] < 2:
            continue
        agreeing = sum(1 for c in counts if c == counts[0])
        if agreeing >= 0.9 * len(counts) and counts[0] > best_cells:
            best, best_cells = sep, counts[0]
    return best


def sniff_decimal(sample_rows: list[list[str]], sep: str) -> str:
    """',' when numbers in the first rows are written 12,5 and none 12.5; else '.'."""
    if sep == ",":
        return "."  # a decimal comma inside comma-separated cells would need quoting
    comma = point = 0
    for row in sample_rows:
        for cell in row:
            text = cell.strip()
            comma += bool(_COMMA_NUMBER.match(text))
            point += bool(_POINT_NUMBER.match(text))
    return "," if comma > point else "."


def _separator(given: str) -> str | None:
    return None if given == "auto" else ("\t" if given == "tab" else given)


def _header(path: Path, header: list[str], target: str) -> list[str]:
    columns = [name.strip() for name in header]
    seen: set[str] = set()  # a set: a header of 20,000 names is checked in milliseconds
    for i, name in enumerate(columns):
        if not name:
            raise DataError(f"{path} line 1: column {i + 1} has no name in the header row")
        if name in seen:
            raise DataError(f"{path} line 1: column {name!r} appears twice in the header row")
        seen.add(name)
    if target not in columns:
        hint = ""
        if len(columns) == 1:
            hint = "; the header row is one column: set dataset.params.sep to the separator"
        raise DataError(
            f"dataset.params.target: {path} has no column {target!r} "
            f"(columns: {', '.join(columns)}){hint}"
        )
    if len(columns) < 2:
        raise DataError(f"{path}: only the target column {target!r}; no feature columns")
    return columns


def _text(path: Path) -> tuple[str, str]:
    try:
        data = path.read_bytes()
    except OSError as err:
        raise DataError(f"{path}: cannot read the file: {err.strerror or err}") from None
    return decode(path, data)


def read_text_table(
    path: Path,
    target: str,
    sep: str = "auto",
    decimal: str = "auto",
    *,
    head: tuple[str, str] | None = None,
    max_rows: int | None = None,
) -> TextTable:
    """Every row of the file as text cells; DataError naming the file and line. `head`
    is the file's first lines as decoded (text, encoding) to read instead of the whole
    file, and `max_rows` the most rows read (engine.data.peek's bounded look)."""
    text, encoding = head or _text(path)
    lines = text.splitlines(keepends=True)
    separator = _separator(sep) or sniff_separator(lines[:SNIFF_LINES])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    rows: list[list[str]] = []
    starts: list[int] = []
    try:
        header = next(reader, None)
        if header is None:
            raise DataError(f"{path}: the file is empty; expected {WHAT}")
        columns = _header(path, header, target)
        line = reader.line_num
        for row in reader:
            if max_rows is not None and len(rows) >= max_rows:
                break
            start, line = line + 1, reader.line_num
            if not "".join(row).strip():
                continue  # blank lines, often at the end
            if len(row) != len(columns):
                raise DataError(
                    f"{path} line {start}: expected {len(columns)} values (one per column), "
                    f"got {len(row)}"
                )
            rows.append(row)
            starts.append(start)
    except csv.Error as err:
        # A cell over csv.field_size_limit() (128 KiB): a file without line breaks or
        # with an unclosed quote reads as one huge cell.
        raise DataError(
            f"{path} line {reader.line_num}: cannot read as CSV: {err}; expected {WHAT}"
        ) from None
    if not rows:
        raise DataError(f"{path}: the header row is followed by no data rows")
    chosen = decimal if decimal != "auto" else sniff_decimal(rows[:SNIFF_LINES], separator)
    return TextTable(path, columns, rows, starts, separator, chosen, encoding)


def read_columns(path: Path, target: str, sep: str = "auto") -> list[str]:
    """The header row's column names, reading no further than the first lines."""
    text, _ = _text(path)
    first = text.splitlines(keepends=True)[:SNIFF_LINES]
    separator = _separator(sep) or sniff_separator(first)
    reader = csv.reader(io.StringIO("".join(first[:1]), newline=""), delimiter=separator)
    try:
        header = next(reader, None)
    except csv.Error as err:
        raise DataError(f"{path} line 1: cannot read as CSV: {err}; expected {WHAT}") from None
    if header is None:
        raise DataError(f"{path}: the file is empty; expected {WHAT}")
    return _header(path, header, target)
