"""`python main.py import SOURCE --input-shape D1,D2,… -o PROJECT.json [--weights-out W.pt]`.

SOURCE is `path/to/file.py:ClassName` (importing it RUNS that file) or `model.onnx`.
Prints the import report. Exit 0: imported, project (and weights) written; 1: some
operations have no block (each listed with its place; nothing is written), or the
model's code misbehaved: it ran past --timeout, past the memory ceiling, ended the
process or printed without end (one line; nothing is written); 2: the source, its
arguments or the output path cannot be read or written (one line).
A .py file runs in a child process (engine.importers.cage). Torch loads inside the
handler, so registering this command keeps `check` quick.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from engine.common.exits import EXIT_ERRORS, EXIT_OK, EXIT_UNREADABLE, print_error

RUNS_CODE = (
    "Importing a .py file RUNS that file and the model's code (as `python file.py` would); "
    "import only code you trust. Opening a NetLoom project never runs code."
)


def _shape(text: str) -> tuple[int, ...]:
    try:
        dims = tuple(int(part) for part in text.replace("x", ",").split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected sizes like 1,28,28 (one sample, no batch axis), got {text!r}"
        ) from None
    if not dims or any(d < 1 for d in dims):
        raise argparse.ArgumentTypeError(f"expected positive sizes like 1,28,28, got {text!r}")
    return dims


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value < 10**7:
        raise argparse.ArgumentTypeError(f"expected seconds above 0 like 120, got {text!r}")
    return value


def _gigabytes(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < 10**6:
        raise argparse.ArgumentTypeError(
            f"expected gigabytes like 4 or 0.5 (0: none), got {text!r}"
        )
    return value


def add_command(subparsers: Any) -> None:
    imp = subparsers.add_parser(
        "import",
        help="turn PyTorch code (file.py:Class) or an ONNX file into a project (RUNS .py files)",
        description=(
            "Import a PyTorch model class or an ONNX file as an editable NetLoom project, "
            "with a report of every operation no block can express. " + RUNS_CODE
        ),
    )
    imp.add_argument("source", help="path/to/file.py:ClassName or model.onnx")
    imp.add_argument(
        "--input-shape",
        type=_shape,
        help="one sample's shape without the batch axis, e.g. 1,28,28 (required for .py; "
        "an ONNX file's own is used when it fixes one)",
    )
    imp.add_argument("--sequence", action="store_true", help="the first axis is time (T)")
    imp.add_argument("--dtype", choices=("float32", "int64"), help="int64 for token ids")
    imp.add_argument("-o", "--output", required=True, help="the project file to write (.json)")
    imp.add_argument("--weights-out", help="also write the weights as a NetLoom checkpoint (.pt)")
    imp.add_argument("--args", help='JSON arguments for the class: {"classes": 10} or [10]')
    imp.add_argument(
        "--timeout",
        type=_seconds,
        default=120.0,
        help="seconds the .py file's code may run (loading it, __init__, forward) before "
        "the import is stopped (default 120)",
    )
    imp.add_argument(
        "--memory-limit",
        type=_gigabytes,
        metavar="GB",
        help="memory ceiling for the .py file's code in GB (Linux; default: the memory free "
        "when the import starts, at least 2 GB; 0: no ceiling)",
    )
    imp.set_defaults(func=cmd_import)


def cmd_import(args: argparse.Namespace) -> int:
    from engine.importers.cage import CageFailure, CageLimits
    from engine.importers.run import ImportFailed, run_import

    memory = None if args.memory_limit is None else int(args.memory_limit * 1024**3)
    try:
        report_text, ok = run_import(
            args.source,
            args.input_shape,
            args.sequence,
            args.dtype,
            Path(args.output),
            Path(args.weights_out) if args.weights_out else None,
            args.args,
            CageLimits(timeout=args.timeout, memory_bytes=memory),
        )
    except ImportFailed as err:
        print_error(str(err))
        return EXIT_UNREADABLE
    except CageFailure as err:
        print_error(str(err))
        return EXIT_ERRORS
    print(report_text, file=sys.stdout if ok else sys.stderr)
    return EXIT_OK if ok else EXIT_ERRORS
