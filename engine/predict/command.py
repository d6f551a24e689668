"""`python main.py predict PROJECT.json --weights RUN/model.pt DATA [--out predictions.csv]`.

DATA is new data of the kind the run trained on: a CSV/TSV of rows (the target column
optional), an .npz with X, an image file or a folder of images, a series CSV. Writes
one row per input, in input order, to --out (atomically), or prints the table when
--out is absent. When DATA holds the targets, the metric is printed too
(`accuracy=0.9737`, `mse=…` in the target's own units): on stdout after `wrote …`, on
stderr when the table itself goes to stdout. Notes on what reading did go to stderr.

Exit 0 ok; 1 the project's graph has errors; 2 an unreadable project, checkpoint or
data file, or data the model cannot take (each one line naming the place).
Torch loads inside the handler, so registering this command keeps `check` quick.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path
from typing import Any

from engine.common.exits import EXIT_ERRORS, EXIT_OK, EXIT_UNREADABLE, print_error, print_safely


def add_command(subparsers: Any) -> None:
    command = subparsers.add_parser(
        "predict",
        help="use a trained model on new data; writes one prediction per row or image",
        description="Predict with a trained run's model.pt on new data, prepared as the "
        "run prepared its training data.",
    )
    command.add_argument("project", help="the NetLoom project file (.json) the run trained")
    command.add_argument(
        "--weights",
        required=True,
        help="the run's checkpoint (RUN/model.pt from train; the folder RUN will do)",
    )
    command.add_argument(
        "data", help="new data: a CSV/TSV of rows, an .npz with X, an image or a folder of them"
    )
    command.add_argument("--out", help="the CSV to write (default: print the table)")
    command.set_defaults(func=cmd_predict)


def _metric_line(metric: tuple[str, float]) -> str:
    name, value = metric
    return f"{name}={value:.4f}" if name == "accuracy" else f"{name}={value:.6g}"


def cmd_predict(args: argparse.Namespace) -> int:
    from engine.graph.shapes import analyze
    from engine.project.project import load

    project_path = Path(args.project)
    project = load(project_path)  # ProjectError → exit 2 in engine.cli.main.run
    analysis = analyze(project.graph)
    if not analysis.ok:
        print_error(f"{project_path}: the graph has errors:")
        for problem in analysis.problems:
            print_safely(f"  {problem.message}", sys.stderr)
        return EXIT_ERRORS
    from engine.predict import PredictError, predict, write_predictions
    from engine.predict.output import write_rows

    try:
        predictions = predict(project, Path(args.weights), Path(args.data))
    except PredictError as err:
        print_error(str(err))
        return EXIT_UNREADABLE
    for note in predictions.notes:
        print_safely(f"note: {note}", sys.stderr)
    if not args.out:
        table = io.StringIO()
        write_rows(predictions, table)
        print_safely(table.getvalue().removesuffix("\n"))  # a file name may not be UTF-8
        if predictions.metric is not None:
            print_safely(_metric_line(predictions.metric), sys.stderr)
        return EXIT_OK
    out = Path(args.out)
    try:
        write_predictions(predictions, out)
    except OSError as err:
        print_error(f"--out {out}: cannot write the file: {err.strerror or err}")
        return EXIT_UNREADABLE
    print_safely(f"wrote {out}: {len(predictions.rows)} predictions for {args.data}")
    if predictions.metric is not None:
        print_safely(_metric_line(predictions.metric))
    return EXIT_OK
