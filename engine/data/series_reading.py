"""Reading a person's series: a CSV/TSV with a time column and columns of numbers.

The file is read as a table is (engine.data.table_reading: encoding, separator, decimal
comma). One column holds the time — named, or found: the first column named like a time
(`date`, `time`, `timestamp`, `year`, `month`, …) or whose cells read as dates. Rows are
put in time order (announced when they were not); two rows at one time are refused,
naming both lines. Empty cells inside a column are filled by linear interpolation
between the rows around them (announced); a target that starts or ends empty is refused,
as nothing around those cells says what they were. Text columns are left out (announced).

What comes out is the whole series, sorted, as numbers: no statistic is fitted here.
"""

from __future__ import annotations

import csv
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.data.registry import DataError
from engine.data.table_columns import read_column
from engine.data.table_reading import SEP_CHOICES, decode, read_text_table, sniff_separator

WHAT = "a CSV file with a header row, a time column and columns of numbers"
# A column named like a time: date, Date, time, timestamp, datetime, year, month, week,
# day, period, ds (Prophet's name), with words around them (order_date, Year of record).
_TIME_NAME = re.compile(
    r"(^|[_\s\-.])(date|time|timestamp|datetime|year|month|week|day|period|ds)s?($|[_\s\-.])",
    re.I,
)
# Values beyond this would overflow float32 (±3.4e38) once squared or scaled.
MAX_MAGNITUDE = 1e15
HEADER_BYTES = 65536  # enough for any header row; the rows are read by read_text_table
PARSE_CHUNK = 1000  # time cells parsed one by one at a time, up to the first that fails


@dataclass
class SeriesOptions:
    """The dataset params that say which columns are what."""

    time: str = ""  # "" = found
    target: str = ""  # "" = the last column of numbers
    features: list[str] = field(default_factory=list)  # empty: every column of numbers
    sep: str = "auto"
    decimal: str = "auto"


@dataclass
class Series:
    """A series in time order: one row per time, one column per input feature.

    values: (steps, features) float64, no empty cells; `target` indexes the forecast
    column among `features`. times: the time cells as written; lines: the file line
    of each row (after sorting), so a message can point at one.
    """

    path: Path
    time: str
    times: list[str]
    features: list[str]
    target: int
    values: np.ndarray
    lines: list[int]
    notes: list[str]

    @property
    def target_name(self) -> str:
        return self.features[self.target]


def header_columns(path: Path, sep: str) -> list[str]:
    """The header row's names, from the file's first bytes."""
    try:
        with path.open("rb") as handle:
            head = handle.read(HEADER_BYTES)
    except OSError as err:
        raise DataError(f"{path}: cannot read the file: {err.strerror or err}") from None
    # The first line only: a cut in the middle of a later character does not matter.
    first_line = head.split(b"\n", 1)[0] if b"\n" in head else head
    text, _ = decode(path, first_line)
    if not text.strip():
        raise DataError(f"{path}: the first line is empty; expected {WHAT}")
    separator = {"auto": None, "tab": "\t"}.get(sep, sep) or sniff_separator([text])
    try:
        names = [name.strip() for name in next(csv.reader([text], delimiter=separator), [""])]
    except csv.Error as err:
        raise DataError(f"{path} line 1: cannot read as CSV: {err}; expected {WHAT}") from None
    if len(names) < 2:
        raise DataError(
            f"{path} line 1: one column ({names[0]!r}); a series needs a time column and a "
            f"column of numbers — or set dataset.params.sep to the separator ({_seps()})"
        )
    return names


def _seps() -> str:
    return ", ".join(repr(s) for s in SEP_CHOICES)


def _seconds(cells: np.ndarray, mixed: bool) -> np.ndarray:
    """Date cells as seconds since 1970 (UTC); NaN where a cell is no date. `mixed`
    parses each cell on its own (dateutil: slow); else the format is guessed once."""
    import pandas as pd  # here, not at the top: `check` on a builtin dataset never needs it

    how = {"format": "mixed"} if mixed else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "could not infer format": each cell is tried
        try:
            column = pd.Series(cells, dtype=object)
            stamps = pd.to_datetime(column, errors="coerce", utc=True, **how)
        except (ValueError, TypeError, OverflowError):
            return np.full(len(cells), np.nan)
    seconds = (stamps - pd.Timestamp("1970-01-01", tz="UTC")).dt.total_seconds()
    return seconds.to_numpy(dtype=np.float64, na_value=np.nan, copy=True)


def parse_times(cells: np.ndarray, decimal: str) -> tuple[np.ndarray, bool]:
    """Each time cell as a number that orders them (seconds for dates), and whether
    they are dates; NaN from the first cell that reads as neither a number nor a date
    (the rest are not parsed: a column of text would otherwise be tried cell by cell,
    slowly, to its end)."""
    # Numbers (years) when the first cells hold any: parsing dates as numbers is slow.
    if not np.isnan(read_column(cells[:PARSE_CHUNK], decimal)[1]).all():
        return read_column(cells, decimal)[1], False
    # The first cells alone, then (when they are dates) the whole column: a column of
    # text fails on its first cells without being tried to its end.
    seconds = np.full(len(cells), np.nan)
    seconds[:PARSE_CHUNK] = _seconds(cells[:PARSE_CHUNK], mixed=False)
    head_missed = np.isnan(seconds[:PARSE_CHUNK])
    if len(cells) > PARSE_CHUNK and not head_missed.any():
        seconds = _seconds(cells, mixed=False)
    # Cells in another format or time zone than the first: each parsed on its own, a
    # chunk at a time, until one is no date at all.
    missed = np.flatnonzero(np.isnan(seconds))
    for start in range(0, len(missed), PARSE_CHUNK):
        chunk = missed[start : start + PARSE_CHUNK]
        seconds[chunk] = _seconds(cells[chunk], mixed=True)
        if np.isnan(seconds[chunk]).any():
            break
    return seconds, True


def _reads_as_dates(cells: np.ndarray, decimal: str) -> bool:
    """True when the column's first filled cells are dates (not numbers, not text)."""
    sample = np.array([c for c in cells[:50] if c.strip()], dtype=object)
    if len(sample) == 0:
        return False
    _, numbers = read_column(sample, decimal)
    if not np.isnan(numbers).all():
        return False
    return bool(np.isfinite(parse_times(sample, decimal)[0]).all())


def find_time_column(columns: list[str], cells: np.ndarray, decimal: str) -> str | None:
    """The first column named like a time or holding dates; None when there is none."""
    for index, name in enumerate(columns):
        if _TIME_NAME.search(name) or _reads_as_dates(cells[:, index], decimal):
            return name
    return None


def _named(path: Path, columns: list[str], name: str, param: str) -> None:
    if name not in columns:
        raise DataError(
            f"dataset.params.{param}: {path} has no column {name!r} (columns: {', '.join(columns)})"
        )


def _spacing(time: str, keys: np.ndarray, lines: list[int], dates: bool) -> list[str]:
    """A note when the rows are not evenly spaced in time (a step over 1.5 times the
    usual one): each row is one step of a window all the same."""
    if len(keys) < 3:
        return []
    steps = np.diff(keys)
    usual = float(np.median(steps))
    widest = int(np.argmax(steps))
    if steps[widest] <= 1.5 * usual:
        return []

    def step(value: float) -> str:
        if not dates:
            return f"{value:g}"
        days = value / 86400.0
        return f"{days:g} day" + ("" if days == 1 else "s")

    return [
        f"rows not evenly spaced in {time!r}: the usual step is {step(usual)}, but "
        f"{step(steps[widest])} before line {lines[widest + 1]} — each row counts "
        "as one step; add rows with empty cells for missing times to have them interpolated"
    ]


def _time_order(
    path: Path, time: str, keys: np.ndarray, cells: np.ndarray, lines: list[int], dates: bool
) -> tuple[np.ndarray, list[str]]:
    """The row order that sorts by time, and a note when the file was not in that order."""
    bad = np.flatnonzero(np.isnan(keys))
    if len(bad):
        row = int(bad[0])
        raise DataError(
            f"{path} line {lines[row]}, column {time!r}: expected a date, time or number, "
            f"got {cells[row]!r}"
        )
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    same = np.flatnonzero(sorted_keys[1:] == sorted_keys[:-1])
    if len(same):
        first, second = sorted(lines[int(order[i])] for i in (same[0], same[0] + 1))
        raise DataError(
            f"{path} lines {first} and {second}: the time {cells[order[same[0]]]!r} in column "
            f"{time!r} appears twice; a series has one row per time — remove or merge one"
        )
    notes = _spacing(time, sorted_keys, [lines[int(i)] for i in order], dates)
    backwards = np.flatnonzero(keys[1:] < keys[:-1])
    if len(backwards):
        notes.append(
            f"rows not in time order (line {lines[int(backwards[0]) + 1]} comes before line "
            f"{lines[int(backwards[0])]} in time) — sorted by {time!r}"
        )
    return order, notes


def _columns_of_numbers(
    path: Path,
    columns: list[str],
    cells: np.ndarray,
    lines: list[int],
    decimal: str,
    wanted: list[tuple[str, bool]],
) -> tuple[dict[str, np.ndarray], list[str]]:
    """Each wanted column as numbers (NaN for empty cells), and what the text columns
    left out hold first ("'station' ('north' at line 2)"). A column named in the
    params is refused at its first text cell instead."""
    numbers: dict[str, np.ndarray] = {}
    text_columns = []
    for name, named in wanted:
        text, values = read_column(cells[:, columns.index(name)], decimal)
        is_text = np.isnan(values) & (text != "")
        if is_text.any():
            row = int(np.flatnonzero(is_text)[0])
            if named:
                raise DataError(
                    f"{path} line {lines[row]}, column {name!r}: expected a number, got "
                    f"{text[row]!r} (a series column holds numbers)"
                )
            text_columns.append(f"{name!r} ({text[row]!r} at line {lines[row]})")
            continue
        numbers[name] = values
    return numbers, text_columns


def _check_magnitude(path: Path, name: str, values: np.ndarray, lines: list[int]) -> None:
    """Refuse a value whose differences and squares would overflow the model's floats."""
    big = np.flatnonzero(np.abs(np.nan_to_num(values)) > MAX_MAGNITUDE)
    if len(big):
        row = int(big[0])
        raise DataError(
            f"{path} line {lines[row]}, column {name!r}: {values[row]:g} is beyond "
            f"±{MAX_MAGNITUDE:g}, more than a model's 32-bit numbers take — rescale the column"
        )


def _fill_gaps(
    path: Path, name: str, values: np.ndarray, lines: list[int], is_target: bool
) -> tuple[np.ndarray, int]:
    """values with empty cells filled: inside by linear interpolation, at either end
    (features only) with the nearest value. Returns (values, cells filled)."""
    empty = np.isnan(values)
    if not empty.any():
        return values, 0
    filled_at = np.flatnonzero(~empty)
    if len(filled_at) == 0:
        raise DataError(f"{path}, column {name!r}: every cell is empty")
    first, last = int(filled_at[0]), int(filled_at[-1])
    if is_target and (first > 0 or last < len(values) - 1):
        edge = lines[:first] if first else lines[last + 1 :]
        where = f"line {edge[0]}" if len(edge) == 1 else f"{len(edge)} rows from line {edge[0]}"
        raise DataError(
            f"{path}, column {name!r}: the series to forecast {'starts' if first else 'ends'} "
            f"with empty cells ({where}, in time order); nothing before or after says what "
            "they were — leave those rows out or fill them"
        )
    steps = np.arange(len(values))
    return np.interp(steps, filled_at, values[filled_at]), int(empty.sum())


def read_series(path: Path, options: SeriesOptions) -> Series:
    """The series in the file, in time order; DataError naming the place of a problem."""
    columns = header_columns(path, options.sep)
    table = read_text_table(path, columns[0], options.sep, options.decimal)
    columns = table.columns
    cells = np.empty((len(table.rows), len(columns)), dtype=object)
    cells[:] = table.rows
    if options.time:
        _named(path, columns, options.time, "time")
        time = options.time
    else:
        found = find_time_column(columns, cells, table.decimal)
        if found is None:
            raise DataError(
                f"{path}: no time column found (a column of dates, or one named date, time, "
                f"year, …; columns: {', '.join(columns)}) — name it with dataset.params.time"
            )
        time = found
    for name in options.features:
        _named(path, columns, name, "features")
        if name == time:
            raise DataError(f"dataset.params.features: {name!r} is the time column")
    if options.target:
        _named(path, columns, options.target, "target")
        if options.target == time:
            raise DataError(f"dataset.params.target: {options.target!r} is the time column")
    time_cells = cells[:, columns.index(time)]
    keys, dates = parse_times(time_cells, table.decimal)
    order, notes = _time_order(path, time, keys, time_cells, table.lines, dates)
    cells = cells[order]
    lines = [table.lines[i] for i in order]
    named = set(options.features) | ({options.target} if options.target else set())
    candidates = options.features or [c for c in columns if c != time]
    if options.target and options.target not in candidates:
        candidates = [*candidates, options.target]  # the target's past is always an input
    wanted = [(name, name in named) for name in candidates]
    numbers, text = _columns_of_numbers(path, columns, cells, lines, table.decimal, wanted)
    if not numbers:
        held = f"; text in {', '.join(text)}" if text else ""
        raise DataError(f"{path}: no column of numbers besides the time column {time!r}{held}")
    if text:
        notes.append(f"text {'column' if len(text) == 1 else 'columns'} {', '.join(text)} left out")
    features = list(numbers)
    for name in features:
        _check_magnitude(path, name, numbers[name], lines)
    target = options.target or features[-1]
    filled: list[str] = []
    for name in features:
        numbers[name], count = _fill_gaps(path, name, numbers[name], lines, name == target)
        if count:
            filled.append(f"{name!r} ({count})")
    if filled:
        notes.append(
            f"empty cells filled by linear interpolation between the rows around them: "
            f"{', '.join(filled)}"
        )
    values = np.stack([numbers[name] for name in features], axis=1)
    times = [str(t).strip() for t in cells[:, columns.index(time)]]
    return Series(path, time, times, features, features.index(target), values, lines, notes)
