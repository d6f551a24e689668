"""A bounded look at a person's data: what a dataset would feed training, without loading it.

`check` asks `peek(name, params, base_dir)` before any training: a table or series file
up to WHOLE_BYTES whole, a longer one to its header and first PEEK_ROWS rows (within
PEEK_BYTES); an NPZ's array headers (and y when it is small); an image folder's
listing, a few headers per class and the first image of each class decoded. The
answer is an `ArrayDataset` with no samples — its sample shape, dtype, task and
classes are what the trainer's fit check reads (engine.train.fit.plan_objective) — and
what a longer read could still change:

    look = peek("csv", {"path": "data/patients.csv", "target": "diagnosis"}, project_dir)
    look.data.sample_shape      # (30,)
    look.more_classes           # True for a long file: more labels may follow the rows read

Problems raise DataError naming the file (and line, column or parameter), as loading
the whole dataset would. None for the built-in and generated datasets: nothing to read.
pandas is imported with the table code that needs it; Pillow only for an image folder.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from engine.data.registry import ArrayDataset, DataError, get_dataset_spec
from engine.data.registry import _with_paths as with_paths

if TYPE_CHECKING:
    from engine.data.table_reading import TextTable

# A table or series file up to WHOLE_BYTES is read whole, as training reads it (a tenth
# of a second); a longer one to its first PEEK_ROWS rows, within PEEK_BYTES.
WHOLE_BYTES = 512 * 1024
PEEK_ROWS = 200
PEEK_BYTES = 4 * 1024 * 1024  # the most of a table's file read, however long its lines
SMALL_Y_BYTES = 64 * 1024 * 1024  # an NPZ's y is read for its classes when no larger
HEADERS_PER_CLASS = 32  # image headers read per class folder for the common mode and size


@dataclass
class Peek:
    """What a bounded read tells about a dataset.

    `data` holds no samples: its sample shape, x dtype, task, target shape and class
    count are what training would get. `more_features` and `more_classes` say that the
    read stopped early and a longer one could find more (a category value, a label
    first seen past the rows read): the figures are then at least these.
    """

    data: ArrayDataset
    path: Path
    read: str  # what was read, for messages: "the header and first 200 rows"
    more_features: bool = False
    more_classes: bool = False
    notes: list[str] = field(default_factory=list)


def peek(name: str, params: Mapping[str, Any] | None, base_dir: Path | None = None) -> Peek | None:
    """A bounded look at a person's file or folder; None for built-in and generated data.

    DataError names the place of a problem (a missing path, a target that is not a
    column, an unreadable table, a corrupt image)."""
    spec = get_dataset_spec(name)
    if spec.category != "your data":
        return None
    resolved = spec.resolve_params(with_paths(spec, params, base_dir))
    look = PEEKERS.get(name, _by_shape_rule)
    return look(name, resolved)


# ----------------------------------------------------------------------- tables


def head_text(path: Path, max_bytes: int = PEEK_BYTES) -> tuple[tuple[str, str], bool]:
    """The file's first whole lines as decoded text with their encoding, and whether
    that is the whole file. No more than `max_bytes` is read."""
    from engine.data.table_reading import WHAT, decode

    try:
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as err:
        raise DataError(f"{path}: cannot read the file: {err.strerror or err}") from None
    whole = len(data) <= max_bytes
    if not whole:
        data = data[:max_bytes]
        end = max(data.rfind(b"\n"), data.rfind(b"\r"))
        if end <= 0:
            raise DataError(
                f"{path}: no line break in its first {max_bytes // 1024**2} MB; expected {WHAT}"
            )
        # UTF-16 little-endian writes a line break as "\n\0": keep its second byte.
        little_endian = data.startswith(b"\xff\xfe")
        data = data[: end + (2 if little_endian else 1)]
    return decode(path, data), whole


def _table(params: dict[str, Any], target: str) -> tuple[TextTable, bool]:
    """The first rows of a table file as text cells, and whether they are all its rows."""
    from engine.data.files import existing_file
    from engine.data.table_reading import WHAT, read_text_table

    path = existing_file(params["path"], WHAT)
    head, whole = head_text(path)
    small = whole and _size(path) <= WHOLE_BYTES
    rows = None if small else PEEK_ROWS + 1
    table = read_text_table(
        path, target, params["sep"], params["decimal"], head=head, max_rows=rows
    )
    return table, small or whole and len(table.rows) <= PEEK_ROWS


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError as err:
        raise DataError(f"{path}: cannot read the file: {err.strerror or err}") from None


def _cells(rows: list[list[str]]) -> np.ndarray:
    cells = np.empty((len(rows), len(rows[0]) if rows else 0), dtype=object)
    cells[:] = rows
    return cells


def _what_was_read(whole: bool) -> str:
    return "the whole file" if whole else f"the header and first {PEEK_ROWS} rows"


def _peek_csv(name: str, params: dict[str, Any]) -> Peek:
    from engine.data.arrays import MAX_CLASSES
    from engine.data.table_columns import TableOptions, plan_columns, read_column

    target, task = params["target"], params["task"]
    table, whole = _table(params, target)
    cells = _cells(table.rows)
    labels, numbers = read_column(cells[:, table.columns.index(target)], table.decimal)
    labelled = np.flatnonzero(labels != "")
    if not len(labelled):
        raise DataError(f"{table.path}, column {target!r}: every row's target cell is empty")
    cells, labels, numbers = cells[labelled], labels[labelled], numbers[labelled]
    table.lines = [table.lines[i] for i in labelled]
    options = TableOptions(
        target, params["features"], params["drop"], params["categorical"], params["missing"]
    )
    columns = plan_columns(table, cells, options)
    columns.check_not_empty(table, target)
    width = columns.width
    if task == "regression":
        if np.isnan(numbers).any():
            row = int(np.flatnonzero(np.isnan(numbers))[0])
            raise DataError(
                f"{table.path} line {table.lines[row]}, column {target!r}: expected a number, "
                f"got {labels[row]!r} (a regression target holds numbers)"
            )
        data = _no_samples(name, task, (width,), y_shape=(1,))
    else:
        classes = sorted(set(labels))
        if whole and len(classes) < 2:
            raise DataError(
                f"{table.path}, column {target!r}: every row has the label {classes[0]!r}; "
                "classification needs at least two classes"
            )
        if len(classes) > MAX_CLASSES:
            raise DataError(
                f"{table.path}, column {target!r}: {len(classes):,} different labels, more "
                f"than the {MAX_CLASSES:,} classes a classifier here may have; if the column "
                "holds numbers to predict, set dataset.params.task to regression"
            )
        data = _no_samples(name, task, (width,), classes=len(classes))
    return Peek(
        data,
        table.path,
        _what_was_read(whole),
        more_features=not whole and bool(columns.slots),
        more_classes=not whole and task != "regression",
        notes=columns.notes,
    )


# ----------------------------------------------------------------------- arrays


def _peek_npz(name: str, params: dict[str, Any]) -> Peek:
    import zipfile

    from engine.data.arrays import check_class_labels
    from engine.data.npz_arrays import WHAT, xy_headers

    spec = get_dataset_spec(name)
    sample_shape, sequence = spec.input_shape(params)  # x's header only; x is never read
    task = spec.task_of(params)
    path = Path(params["path"])
    dtype = "int64" if params["dtype"] == "int64" else "float32"
    headers = xy_headers(path)
    (x_shape, _), (y_shape, _) = headers["x"], headers["y"]
    try:
        with zipfile.ZipFile(path) as archive:
            small = archive.getinfo("y.npy").file_size <= SMALL_Y_BYTES
    except (zipfile.BadZipFile, ValueError, OSError, KeyError) as err:
        raise DataError(f"{path}: cannot read as .npz ({err}); expected {WHAT}") from None
    if not y_shape or x_shape[0] != y_shape[0]:
        raise DataError(
            f"{path}: x has {x_shape[0]} samples but y has shape {y_shape}; they must "
            "match, one y per x"
        )
    read = "the array headers"
    if task == "regression":
        target = y_shape[1:] or (1,)
        data = _no_samples(name, task, sample_shape, sequence, dtype, y_shape=target)
        return Peek(data, path, read)
    y_target = y_shape[1:] if task == "segmentation" else ()
    classes: int | None = None
    if small:
        try:
            with np.load(path, allow_pickle=False) as arrays:
                y = arrays["y"]
        except (ValueError, OSError, zipfile.BadZipFile) as err:
            raise DataError(f"{path}: cannot read y ({err}); expected {WHAT}") from None
        if y.dtype.kind in "biu":
            classes = check_class_labels(str(path), y)
            read = "the array headers and y"
    data = _no_samples(
        name, task, sample_shape, sequence, dtype, y_shape=y_target, classes=classes or 0
    )
    return Peek(data, path, read, more_classes=classes is None)


# ----------------------------------------------------------------------- images


def _peek_images(name: str, params: dict[str, Any]) -> Peek:
    """The class folders from the listing; the mode and size most of the first
    HEADERS_PER_CLASS headers per class have (or the colour and image_size params);
    the first image of each class decoded, so a damaged one is named here."""
    from engine.data.files import existing_folder
    from engine.data.image_folder import COLOURS, WHAT, is_hidden, list_folder
    from engine.data.image_reading import IMAGE_KINDS, READING, load_image, read_header

    root = existing_folder(params["path"], WHAT)
    try:
        folders = sorted(p for p in root.iterdir() if not is_hidden(p) and p.is_dir())
    except OSError as err:
        raise DataError(f"{root}: cannot list the folder: {err.strerror or err}") from None
    if len(folders) < 2:
        raise DataError(
            f"{root}: {len(folders)} class subfolder(s); expected {WHAT}, at least two classes"
        )
    firsts, headers = [], []
    for folder in folders:
        images = list_folder(folder).images
        if not images:
            raise DataError(
                f"{folder}: class folder {folder.name!r} has no images ({IMAGE_KINDS}); "
                "add some or remove the folder"
            )
        firsts.append(images[0])
        headers += [read_header(path) for path in images[:HEADERS_PER_CLASS]]
    grey = sum(header.grey for header in headers)
    mode = COLOURS.get(params.get("colour", "auto")) or (
        "L" if grey > len(headers) - grey else "RGB"
    )
    size = (
        _set_size(params.get("image_size")) or Counter(h.size for h in headers).most_common(1)[0][0]
    )
    reading = {"mode": mode, "size": list(size), **READING}
    for path in firsts:
        load_image(path, reading)  # DataError naming a damaged file
    channels = 1 if mode == "L" else 3
    data = _no_samples(name, "classification", (channels, *size), classes=len(folders))
    read = (
        f"the folder listing, up to {HEADERS_PER_CLASS} image headers per class "
        "and the first image of each"
    )
    return Peek(data, root, read)


def _set_size(size: Any) -> tuple[int, int] | None:
    """The image_size param as (H, W) when it is set ("auto" or absent: None)."""
    if isinstance(size, int) and not isinstance(size, bool) and size > 0:
        return size, size
    if isinstance(size, (list, tuple)) and len(size) == 2:
        return int(size[0]), int(size[1])
    return None


# ----------------------------------------------------------------------- series


def _peek_series(name: str, params: dict[str, Any]) -> Peek:
    """A series file up to WHOLE_BYTES is read as training reads it (its length decides
    whether a window fits); a longer one from its header and first rows."""
    from engine.data.files import existing_file
    from engine.data.series import read
    from engine.data.series_reading import WHAT

    path = existing_file(params["path"], WHAT)
    window, horizon = params["window"], params["horizon"]
    if _size(path) <= WHOLE_BYTES:
        series = read(params)
        features, notes, what = len(series.features), list(series.notes), "the whole file"
    else:
        features, notes, what = _series_head(path, params), [], _what_was_read(False)
    data = _no_samples(name, "regression", (window, features), True, y_shape=(horizon,))
    return Peek(data, path, what, notes=notes)


def _series_head(path: Path, params: dict[str, Any]) -> int:
    """The count of input columns a long series file has, from its first rows: the
    columns of numbers besides the time column (or those named in features)."""
    from engine.data.series_reading import find_time_column, header_columns
    from engine.data.table_columns import read_column
    from engine.data.table_reading import read_text_table

    columns = header_columns(path, params["sep"])
    head, _ = head_text(path)
    table = read_text_table(
        path, columns[0], params["sep"], params["decimal"], head=head, max_rows=PEEK_ROWS
    )
    cells = _cells(table.rows)
    for key in ("time", "target"):
        _named(path, table.columns, [params[key]] if params[key] else [], key)
    _named(path, table.columns, params["features"], "features")
    time = params["time"] or find_time_column(table.columns, cells, table.decimal)
    if time is None:
        raise DataError(
            f"{path}: no time column found in its first rows (a column of dates, or one named "
            f"date, time, year, …; columns: {', '.join(table.columns)}) — name it with "
            "dataset.params.time"
        )
    chosen = params["features"] or [c for c in table.columns if c != time]
    numbers = 0
    for column in chosen:
        text, values = read_column(cells[:, table.columns.index(column)], table.decimal)
        numbers += not (np.isnan(values) & (text != "")).any()
    target = params["target"]
    return numbers + bool(target and target not in chosen)


def _named(path: Path, columns: list[str], names: list[str], param: str) -> None:
    for name in names:
        if name not in columns:
            raise DataError(
                f"dataset.params.{param}: {path} has no column {name!r} "
                f"(columns: {', '.join(columns)})"
            )


# ---------------------------------------------------------------------- others


def _by_shape_rule(name: str, params: dict[str, Any]) -> Peek:
    """A person's dataset without its own bounded look: its cheap shape rule and task."""
    spec = get_dataset_spec(name)
    sample_shape, sequence = spec.input_shape(params)
    task = spec.task_of(params)
    data = _no_samples(name, task, sample_shape, sequence)
    return Peek(data, Path(str(params.get("path", ""))), "its shape rule", more_classes=True)


def _no_samples(
    name: str,
    task: str,
    sample_shape: tuple[int, ...],
    sequence: bool = False,
    dtype: str = "float32",
    *,
    y_shape: tuple[int, ...] = (),
    classes: int = 0,
) -> ArrayDataset:
    """A dataset of no samples with the shapes, dtype, task and classes training would see."""
    x = np.zeros((0, *sample_shape), dtype=dtype)
    y = np.zeros((0, *y_shape), dtype=np.float32 if task == "regression" else np.int64)
    return ArrayDataset(
        name=name,
        x=x,
        y=y,
        task=task,  # type: ignore[arg-type]
        sample_shape=tuple(sample_shape),
        sequence=sequence,
        num_classes=classes or None,
    )


PeekFn = Callable[[str, dict[str, Any]], Peek]
PEEKERS: dict[str, PeekFn] = {
    "csv": _peek_csv,
    "npz": _peek_npz,
    "image_folder": _peek_images,
    "series": _peek_series,
}
