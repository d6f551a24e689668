"""One import from start to files: pick the importer, write the project and checkpoint.

A .py source runs the user's code, so it is imported in a child process on a leash
(engine.importers.cage); an ONNX file runs no user code and is imported here.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

from engine.common.dependencies import ONNX_IMPORT_MODULES, missing_message, missing_modules
from engine.importers.cage import CageLimits, ImportRequest, import_in_cage
from engine.importers.check import ImportResult
from engine.importers.python_source import parse_args, split_source
from engine.importers.report import Unreadable
from engine.project.project import save, to_dict

log = logging.getLogger(__name__)


class ImportFailed(Exception):
    """Exit 2: the source or the output cannot be read or written; one line."""


def import_onnx_source(
    source: str, dims: tuple[int, ...] | None, sequence: bool, dtype: str | None
) -> ImportResult:
    from engine.importers.from_onnx import import_onnx

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return import_onnx(Path(source), dims, sequence, dtype)


def check_request(request: ImportRequest) -> None:
    """What can be told wrong without running anything (saves starting a child for it)."""
    if request.source.lower().endswith(".onnx"):
        if request.args_text:
            raise Unreadable("--args is for .py sources; an ONNX file holds its own settings")
        if missing := missing_modules(ONNX_IMPORT_MODULES):
            raise Unreadable(missing_message("Importing an ONNX file", missing))
        return
    path, _class_name = split_source(request.source)
    if not path.is_file():
        raise Unreadable(f"{path}: no such file")
    parse_args(request.args_text)
    if request.dims is None:
        raise Unreadable("--input-shape is required for a .py source, e.g. 1,28,28")


def import_source(
    source: str,
    dims: tuple[int, ...] | None,
    sequence: bool = False,
    dtype: str | None = None,
    args_text: str | None = None,
    limits: CageLimits | None = None,
) -> ImportResult:
    """Import `source`; raises Unreadable for input that cannot be read at all and
    CageFailure when the model's code misbehaves (hangs, exits, runs out of memory)."""
    request = ImportRequest(source, dims, sequence, dtype, args_text)
    check_request(request)
    if source.lower().endswith(".onnx"):
        return import_onnx_source(source, dims, sequence, dtype)
    return import_in_cage(request, limits)


def _writable(path: Path) -> None:
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ImportFailed(f"{path}: the folder {folder} does not exist")
    if path.is_dir():
        raise ImportFailed(f"{path}: is a folder; give a file name")


def write_checkpoint(path: Path, result: ImportResult) -> None:
    from engine.train.checkpoint import save_checkpoint

    assert result.project is not None
    save_checkpoint(
        path,
        result.state_dict,
        to_dict(result.project),
        {},
        {"imported_from": result.report.source},
    )


def run_import(
    source: str,
    dims: tuple[int, ...] | None,
    sequence: bool,
    dtype: str | None,
    output: Path,
    weights_out: Path | None,
    args_text: str | None,
    limits: CageLimits | None = None,
) -> tuple[str, bool]:
    """The report's text and whether the import succeeded (files written). Raises
    ImportFailed (exit 2) or CageFailure (exit 1: the model's code misbehaved)."""
    _writable(output)
    if weights_out is not None:
        _writable(weights_out)
    try:
        result = import_source(source, dims, sequence, dtype, args_text, limits)
    except Unreadable as err:
        raise ImportFailed(str(err)) from None
    report = result.report
    if result.project is None:
        return report.text(), False
    # The weights first, the project last: a failed write leaves neither behind (a
    # project without its weights would look like a finished import).
    written: list[str] = []
    try:
        if weights_out is not None:
            write_checkpoint(weights_out, result)
            written.append(f"wrote {weights_out} (weights: train, export --weights)")
        save(result.project, output)
        written.insert(0, f"wrote {output}")
    except OSError as err:
        if written and weights_out is not None:
            weights_out.unlink(missing_ok=True)
        raise ImportFailed(f"cannot write: {err.strerror or err}") from None
    return report.text() + "\n" + "\n".join(written), True
