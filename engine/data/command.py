"""`python main.py adapt PROJECT.json --data PATH [--target COL] [--time COL] [--window N]
[--horizon H] -o NEW.json`: the project pointed at a person's data and resized to fit it.

Prints one line per change (the dataset, the Input's shape, the layer before the Output,
its loss, settings that must follow the task) and writes NEW.json; the project given is
not changed. The dataset path is written relative to NEW.json's folder when the data is
inside it, else absolute. Exit 0 ok; 2 data that cannot be used, a project with no
Input or Output or no layer to resize, an unwritable output. The data modules load
inside the handler.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from engine.common.arguments import integer_at_least
from engine.common.exits import EXIT_OK, EXIT_UNREADABLE, print_error, print_safely


def add_command(subparsers: Any) -> None:
    adapt = subparsers.add_parser(
        "adapt",
        help="point a project at your data (table, series, images, arrays) and resize it",
        description=(
            "Point a project at your data and resize its Input and the layer before its "
            "Output to fit. The kind is detected: a folder of class folders is images, "
            ".npz is arrays, a CSV/TSV a table, or a series when it has a time column."
        ),
    )
    adapt.add_argument("project", help="the NetLoom project to start from (.json)")
    adapt.add_argument("--data", required=True, help="a CSV/TSV file, a .npz, or an image folder")
    adapt.add_argument(
        "--target", help="the column to predict (default: target/label/class, else the last)"
    )
    adapt.add_argument(
        "--time", help="a series' time column (default: found from names and values)"
    )
    adapt.add_argument("--window", type=integer_at_least(1), help="a series' time steps per input")
    adapt.add_argument(
        "--horizon", type=integer_at_least(1), help="a series' steps to forecast (default 1)"
    )
    adapt.add_argument("-o", "--output", required=True, help="the adapted project to write")
    adapt.set_defaults(func=cmd_adapt)


def cmd_adapt(args: argparse.Namespace) -> int:
    from engine.data.adapt import ProjectFitError, adapt, place_data_path
    from engine.data.registry import DataError
    from engine.project.project import load, save

    project = load(args.project)
    output = Path(args.output)
    try:
        adaptation = adapt(
            project,
            Path(args.data),
            target=args.target,
            time=args.time,
            window=args.window,
            horizon=args.horizon,
        )
    except ProjectFitError as err:
        print_error(f"{args.project}: {err}")
        return EXIT_UNREADABLE
    except DataError as err:
        print_error(str(err))
        return EXIT_UNREADABLE
    adaptation = place_data_path(adaptation, output)
    try:
        save(adaptation.project, output)
    except OSError as err:
        print_error(f"{output}: cannot write: {err.strerror or err}")
        return EXIT_UNREADABLE
    for line in adaptation.changes:
        print_safely(line)
    print_safely(f"wrote {output} ({adaptation.kind}); train it: python main.py train {output}")
    return EXIT_OK
