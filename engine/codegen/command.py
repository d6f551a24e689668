"""`python main.py export PROJECT.json --to python|script|onnx|torchscript -o FILE`.

python: the model class as readable, standalone code. script: a complete training
program (also runs under torchrun). torchscript / onnx: compiled models, checked
against the in-app model before the file is written. `--weights` takes a checkpoint
written by `train`, so the exported file carries trained weights (a script: the run's
fitted preprocessing, and predicts with those weights).

Exit 0 ok; 1 the project cannot be exported (each reason printed with its node);
2 an unreadable project or checkpoint, an unwritable output path, or a missing
optional package. Nothing is written unless the export succeeds. Torch loads inside
the handler, so registering this command keeps `check` quick.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path
from typing import Any

from engine.codegen.problems import ExportError
from engine.codegen.text import UNNAMED_PROJECT
from engine.common.atomic import replace_text
from engine.common.exits import EXIT_ERRORS, EXIT_OK, EXIT_UNREADABLE, print_error
from engine.graph.shapes import Analysis, analyze

TARGETS = ("python", "script", "torchscript", "onnx")
SOURCE_TARGETS = ("python", "script")


class CannotExport(Exception):
    """Input or environment trouble (exit 2): the message says what and where."""


def add_command(subparsers: Any) -> None:
    export = subparsers.add_parser(
        "export",
        help="write the model as Python, a training script, TorchScript or ONNX",
        description=(
            "Export a project's network. python: the model class; script: a training "
            "program (python script.py, or torchrun --nproc_per_node=2 script.py); "
            "torchscript/onnx: compiled models checked against NetLoom's own."
        ),
    )
    export.add_argument("project", help="a NetLoom project file (.json)")
    export.add_argument("--to", required=True, choices=TARGETS, help="what to write")
    export.add_argument("-o", "--output", required=True, help="the file to write")
    export.add_argument(
        "--weights",
        help="a checkpoint from `train` (model.pt) whose weights the torchscript/onnx file "
        "carries (default: freshly initialised weights); a script carries its fitted "
        "preprocessing and predicts with it",
    )
    export.set_defaults(func=cmd_export)


def write_text_atomically(path: Path, text: str) -> None:
    """Written like any new file (the user's umask), or keeping an existing file's mode."""
    replace_text(path, text)


def check_output_path(path: Path) -> None:
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise CannotExport(f"{path}: the folder {folder} does not exist")
    if path.is_dir():
        raise CannotExport(f"{path}: is a folder; give a file name")
    if not os.access(folder, os.W_OK):
        raise CannotExport(f"{path}: the folder {folder} is not writable")


def load_weights(path: str, project_graph_ids: set[str]) -> dict[str, Any]:
    """The state_dict of a checkpoint, checked to be for this graph and finite."""
    from engine.train.checkpoint import CheckpointError, load_weights_for

    try:
        return load_weights_for(path, project_graph_ids)
    except CheckpointError as err:
        raise CannotExport(str(err)) from None


def memory_problem(project: Any, analysis: Analysis | None = None) -> str | None:
    """Whether building the model twice (NetLoom's and the exported one) and checking them
    at the check batch sizes would overflow this machine's memory. `analysis` is the
    graph's shape pass if the caller has it (else it is run here)."""
    from engine.codegen.compiled import CHECK_BATCHES
    from engine.graph.memory import available_bytes, estimate, too_large

    if analysis is None:
        analysis = analyze(project.graph)
    if not analysis.ok:
        return None  # the graph's own problems are reported by the export
    need = estimate(analysis, max(CHECK_BATCHES))
    return too_large(2 * need.inference, "to build and check", available_bytes())


def named_after_file(project: Any, path: Path | None) -> Any:
    """The project to export: one nobody named ('Untitled') takes its file's name, so
    `my_classifier.json` exports class MyClassifier, not Untitled. The graph is shared."""
    if path is None or project.name.strip() not in ("", UNNAMED_PROJECT):
        return project
    return dataclasses.replace(project, name=path.stem)


def export(project_path: str, target: str, output: str, weights: str | None = None) -> str:
    """Run one export; returns the line to print. Raises ExportError or CannotExport."""
    from engine.project.project import load

    project = named_after_file(load(project_path), Path(project_path))
    return export_project(project, target, output, weights, Path(project_path).parent)


def export_project(
    project: Any,
    target: str,
    output: str | Path,
    weights: str | None = None,
    base_dir: Path | None = None,
    analysis: Analysis | None = None,
) -> str:
    """Export a loaded project (the editor calls this); `base_dir` resolves relative data paths.

    The graph is analysed once (or `analysis`, its shape pass, is used as given): the
    memory check, the generated code and the in-app model all read the same facts.
    Returns the line to print. Raises ExportError or CannotExport.
    """
    path = Path(output)
    check_output_path(path)
    if target in SOURCE_TARGETS:
        if weights and target == "python":
            raise CannotExport(
                "--weights is for torchscript/onnx and script (whose predict uses them); "
                "the python file loads weights with load_state_dict"
            )
        if analysis is None:
            analysis = analyze(project.graph)
        source = _source(project, target, base_dir or Path.cwd(), analysis, weights)
        write_text_atomically(path, source)
        lines = source.count("\n")
        return f"wrote {path} ({target}, {lines} lines)"

    from engine.codegen import compiled

    if target == "onnx":
        try:
            compiled.require_onnx()
        except compiled.MissingPackages as err:
            raise CannotExport(str(err)) from None
    if analysis is None:
        analysis = analyze(project.graph)
    if problem := memory_problem(project, analysis):
        raise ExportError([problem])
    state_dict = load_weights(weights, {n.id for n in project.graph.nodes}) if weights else None
    convert = compiled.to_onnx if target == "onnx" else compiled.to_torchscript
    from engine.model.build import BuildError
    from engine.train.checkpoint import CheckpointError

    try:
        result = convert(project, path, state_dict, analysis)
    except CheckpointError as err:  # only with --weights: they do not fit this graph
        raise CannotExport(f"{weights}: {err}") from None
    except BuildError as err:
        raise ExportError(err.problems) from None
    check = f"max |difference| {result.max_abs_diff:.2g}" if result.max_abs_diff else "identical"
    batches = " and ".join(str(b) for b in result.batches)
    return f"wrote {path} ({target}; checked against NetLoom at batch {batches}: {check})"


def _source(
    project: Any, target: str, project_dir: Path, analysis: Analysis, weights: str | None
) -> str:
    if target == "python":
        from engine.codegen.python_file import to_python

        return to_python(project, analysis)
    from engine.codegen.script import to_script

    if not weights:
        return to_script(project, project_dir, analysis)
    from engine.train.checkpoint import CheckpointError

    try:  # the run's fitted preprocessing and weights, for the script's predict
        return to_script(project, project_dir, analysis, weights)
    except CheckpointError as err:
        raise CannotExport(str(err)) from None


def cmd_export(args: argparse.Namespace) -> int:
    try:
        print(export(args.project, args.to, args.output, args.weights))
    except ExportError as err:
        print_error(f"cannot export {args.project} --to {args.to}:")
        for problem in err.problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_ERRORS
    except CannotExport as err:
        print_error(str(err))
        return EXIT_UNREADABLE
    except OSError as err:
        print_error(f"{args.output}: cannot write: {err.strerror or err}")
        return EXIT_UNREADABLE
    return EXIT_OK
