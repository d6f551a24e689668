"""What "Use my data…" shows of a file or folder before anything changes: the first rows
of a table with a role guessed for each column, the class counts, a few images per class
folder, a series' values over time, an NPZ's arrays. Plain Python (no Qt): the dialog
draws it. Bad data raises DataError with one line naming the place.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.data.adapt_detect import default_target, peek_table, time_column
from engine.data.image_folder import list_folder
from engine.data.npz_arrays import npz_headers
from engine.data.registry import DataError
from engine.data.series_reading import parse_times
from engine.data.table_columns import TableOptions, plan_columns, read_column
from engine.data.table_reading import (
    SNIFF_LINES,
    TextTable,
    decode,
    read_text_table,
    sniff_separator,
)

FEATURE, TARGET, IGNORED, TIME = "feature", "target", "ignored", "time"
ROLES = (FEATURE, TARGET, IGNORED, TIME)
PREVIEW_ROWS = 12
IMAGES_PER_CLASS = 4
MAX_CLASSES_SHOWN = 50
# A target with at most this many values, each on several rows, reads as class labels.
MAX_CLASS_VALUES = 50


@dataclass
class TablePreview:
    """A table (or a series) as the dialog shows it."""

    path: Path
    columns: list[str]
    rows: list[list[str]]  # the first PREVIEW_ROWS rows, as text
    row_count: int
    roles: dict[str, str]  # column → feature / target / ignored / time
    numeric: list[str]  # the columns whose cells are numbers
    classes: list[tuple[str, int]] = field(default_factory=list)  # label, rows
    notes: list[str] = field(default_factory=list)
    times: np.ndarray | None = None  # x of the series plot (seconds or row numbers)
    dated: bool = False  # `times` are seconds since 1970
    # Every row of each column: its cells as text and as numbers (NaN: empty or text).
    values: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    @property
    def target(self) -> str:
        return next((c for c, role in self.roles.items() if role == TARGET), "")

    @property
    def time(self) -> str:
        return next((c for c, role in self.roles.items() if role == TIME), "")

    def with_role(self, column: str) -> list[str]:
        return [c for c in self.columns if self.roles.get(c) == column]


@dataclass
class FolderPreview:
    """An image folder: one subfolder per class (or a flat folder of images)."""

    path: Path
    classes: list[tuple[str, int]]  # class folder, images in it
    samples: dict[str, list[Path]]  # a few images of each class
    ignored: list[str] = field(default_factory=list)  # hidden/system files and others


@dataclass
class ArraysPreview:
    path: Path
    arrays: list[tuple[str, tuple[int, ...], str]]  # name, shape, dtype
    classes: list[tuple[str, int]] = field(default_factory=list)


Preview = TablePreview | FolderPreview | ArraysPreview


def header_names(path: Path) -> list[str]:
    """The header row's names, reading the first lines only."""
    try:
        data = path.read_bytes()
    except OSError as err:
        raise DataError(f"{path}: cannot read the file: {err.strerror or err}") from None
    text, _ = decode(path, data)
    lines = text.splitlines(keepends=True)[:SNIFF_LINES]
    if not lines:
        raise DataError(f"{path}: the file is empty; expected a CSV file with a header row")
    try:
        header = next(
            csv.reader(io.StringIO(lines[0], newline=""), delimiter=sniff_separator(lines))
        )
    except (csv.Error, StopIteration) as err:
        raise DataError(f"{path} line 1: cannot read as CSV: {err}") from None
    names = [name.strip() for name in header]
    if len(names) < 2:
        raise DataError(
            f"{path} line 1: one column only ({names[0]!r}); expected a header row "
            "with a separator , ; tab or |"
        )
    return names


def _column(table: TextTable, index: int) -> tuple[np.ndarray, np.ndarray]:
    cells = np.array([row[index] for row in table.rows], dtype=object)
    return read_column(cells, table.decimal)


def class_counts(labels: np.ndarray, numbers: np.ndarray) -> list[tuple[str, int]]:
    """(label, rows) when the column reads as class labels: text, or few whole numbers;
    else [] (numbers to predict)."""
    given = labels[labels != ""]
    counts = Counter(str(v) for v in given)
    whole = np.isnan(numbers).all() or np.allclose(numbers[~np.isnan(numbers)] % 1, 0)
    if len(counts) < 2 or len(counts) > MAX_CLASS_VALUES or not whole:
        return []
    if not np.isnan(numbers).all() and len(counts) > max(2, len(given) // 5):
        return []  # many different whole numbers: counts to predict, not classes
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def _times(table: TextTable, time: str) -> tuple[np.ndarray, bool]:
    """The time column as the series dataset orders it: numbers, or seconds for dates
    (row numbers when some cell reads as neither)."""
    cells = np.array([row[table.columns.index(time)] for row in table.rows], dtype=object)
    times, dated = parse_times(cells, table.decimal)
    if np.isnan(times).any():
        return np.arange(1, len(cells) + 1, dtype=float), False
    return times, dated


def preview_table(
    path: Path, target: str | None = None, time: str | None = None, sep: str = "auto"
) -> TablePreview:
    """The table read as `train` reads it, its roles guessed (or the target and time
    column given); DataError names the file and place."""
    columns = header_names(path)
    table = read_text_table(path, target or columns[-1], sep)
    numbers = {name: _column(table, i) for i, name in enumerate(table.columns)}
    numeric = [c for c in table.columns if not np.isnan(numbers[c][1]).all()]
    # The guesses are adapt's own, so the window and the command agree.
    peek = peek_table(path)
    text_dates = (time_column(peek) or "") if time is None else time
    chosen = target or default_target(peek, text_dates or None)
    if chosen == text_dates:
        text_dates = ""
    roles = dict.fromkeys(table.columns, FEATURE)
    roles[chosen] = TARGET
    notes: list[str] = []
    if text_dates:
        roles[text_dates] = TIME
        for name in table.columns:
            if roles[name] == FEATURE and name not in numeric:
                roles[name] = IGNORED
    else:
        cells = np.array(table.rows, dtype=object).reshape(len(table.rows), -1)
        try:
            planned = plan_columns(table, cells, TableOptions(target=chosen))
        except DataError as err:
            notes.append(str(err))
        else:
            for name in planned.dropped:
                roles[name] = IGNORED
            notes += planned.notes
    preview = TablePreview(
        path,
        table.columns,
        table.rows[:PREVIEW_ROWS],
        len(table.rows),
        roles,
        numeric,
        notes=notes,
        values=numbers,
    )
    if not text_dates:
        preview.classes = class_counts(*numbers[chosen])
    else:
        preview.times, preview.dated = _times(table, text_dates)
    return preview


def series_values(preview: TablePreview, column: str) -> np.ndarray:
    """A column's numbers (NaN where a cell is empty or text)."""
    return preview.values[column][1]


def preview_folder(path: Path) -> FolderPreview:
    """The class subfolders and their image counts, from the folder listing only, with
    image_folder's own rule for what is an image and what is hidden or a system file."""
    if not path.is_dir():
        raise DataError(f"{path}: no such folder")
    top = list_folder(path)
    folders = [p for p in top.others if p.is_dir()]
    ignored = [p.name for p in top.others if not p.is_dir()]
    if not folders:
        if not top.images:
            raise DataError(f"{path}: no images and no class subfolders (one per class)")
        loose = "(images)"
        return FolderPreview(
            path, [(loose, len(top.images))], {loose: top.images[:IMAGES_PER_CLASS]}, ignored
        )
    classes, samples = [], {}
    for folder in folders[:MAX_CLASSES_SHOWN]:
        listing = list_folder(folder)
        classes.append((folder.name, len(listing.images)))
        samples[folder.name] = listing.images[:IMAGES_PER_CLASS]
        ignored += [f"{folder.name}/{p.name}" for p in listing.others]
    return FolderPreview(path, classes, samples, ignored + [p.name for p in top.images])


def preview_arrays(path: Path) -> ArraysPreview:
    """The archive's arrays from their headers, and y's class counts when it holds
    whole numbers (y alone is loaded, and only when it is one label per sample)."""
    try:
        headers = npz_headers(path, "arrays saved with np.savez")
        arrays = [(name, shape, str(dtype)) for name, (shape, dtype) in headers.items()]
        preview = ArraysPreview(path, arrays)
        shapes = {name: (shape, dtype) for name, shape, dtype in preview.arrays}
        shape, dtype = shapes.get("y", ((), ""))
        if len(shape) == 1 and np.issubdtype(np.dtype(dtype), np.integer):
            with np.load(path, allow_pickle=False) as archive:
                y = archive["y"]
            counts = Counter(int(v) for v in y)
            if len(counts) <= MAX_CLASS_VALUES:
                preview.classes = [(str(k), n) for k, n in sorted(counts.items())]
    except (zipfile.BadZipFile, ValueError, OSError, TypeError) as err:
        raise DataError(f"{path}: cannot read as .npz ({err})") from None
    return preview


def preview(path: Path, target: str | None = None, time: str | None = None) -> Preview:
    """The preview of whatever `path` is: a folder, an .npz, else a table."""
    if path.is_dir():
        return preview_folder(path)
    if not path.exists():
        raise DataError(f"{path}: no such file or folder")
    if path.suffix.lower() == ".npz":
        return preview_arrays(path)
    return preview_table(path, target, time)
