"""The headless command line: its parser, `templates` and `check`, and the commands each
package adds through its `command.py` (`train`, `export`, `inspect`, `import`).

Exit codes (engine.common.exits): 0 ok, 1 the project has errors (each printed with its
node), 2 unreadable or invalid input. Never a traceback for a user's mistake. The engine
never imports the window: `gui` (and no command) runs the `open_window` main.py hands in.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from engine.common.dependencies import is_dependency, missing_message
from engine.common.exits import (
    EXIT_ERRORS,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_UNREADABLE,
    print_error,
    print_safely,
)
from engine.common.formatting import format_table, human, human_bytes
from engine.common.limits import LimitError
from engine.graph.graph import Graph
from engine.graph.memory import available_bytes, block_memory, estimate, too_large
from engine.graph.shapes import Analysis, analyze
from engine.project.project import Project, ProjectError, load
from engine.project.templates import list_templates
from engine.units.labels import type_label
from engine.units.units import walk

# What opens the desktop editor (`gui` or no command): main.py hands it in, so the engine
# never imports the window. It gets the parsed arguments (`args.project`, maybe None).
OpenWindow = Callable[[argparse.Namespace], int]


def cmd_templates(args: argparse.Namespace) -> int:
    rows = []
    for path, project in list_templates():
        first_line = project.description.strip().splitlines()[0] if project.description else ""
        rows.append((path.stem, project.name, first_line))
    width_id = max((len(r[0]) for r in rows), default=4)
    width_title = max((len(r[1]) for r in rows), default=5)
    for stem, title, line in rows:
        print(f"{stem:<{width_id}}  {title:<{width_title}}  {line}")
    return EXIT_OK


def training_problem(project: Project) -> tuple[str | None, int]:
    """Check the project's training settings as `train` would, without loading any data.

    Returns (the first problem or None, the batch size to estimate memory at).
    """
    from engine.train.config import ConfigError, TrainConfig

    if not project.training:
        return None, DEFAULT_BATCH  # a graph without settings: nothing to train yet
    try:
        config = TrainConfig.from_dict(project.training)
    except ConfigError as err:
        return str(err), DEFAULT_BATCH
    try:
        from engine.data import DataError, get_dataset_spec
    except ImportError:  # the data part is not installed in this checkout
        return None, config.batch_size
    try:
        get_dataset_spec(config.dataset.name).resolve_params(config.dataset.params)
    except DataError as err:
        return f"training.{err}", config.batch_size
    return None, config.batch_size


DEFAULT_BATCH = 32


def cmd_check(args: argparse.Namespace) -> int:
    project = load(args.project)
    settings_problem, batch = training_problem(project)
    if settings_problem:
        # The same line and exit code as `train` gives for an invalid setting.
        print_error(f"{args.project}: {settings_problem}")
        return EXIT_UNREADABLE
    graph = project.graph
    analysis = analyze(graph)
    memory = block_memory(analysis)
    rows = []
    for node_id in graph.topological_order():
        info = analysis.nodes[node_id]
        shape = str(info.shape) if info.shape else ("error" if info.error else "—")
        if info.outputs:  # a unit with several outputs: each one's shape
            shape = ", ".join(str(s) for s in info.outputs.values())
        block = memory[node_id]
        rows.append(
            [
                node_id,
                type_label(graph, node_id),
                shape,
                f"{info.params:,}",
                human(info.flops),
                human_bytes(block.weights),
                human_bytes(block.activation),
            ]
        )
    total = estimate(analysis, batch)
    rows.append(
        [
            "total",
            "",
            "",
            f"{analysis.total_params:,}",
            human(analysis.total_flops),
            human_bytes(total.weights),
            human_bytes(total.activations),
        ]
    )
    headers = ["node", "type", "output shape", "params", "FLOPs", "weights", "out/sample"]
    print_safely(f"{project.name}: {len(graph)} blocks, {len(graph.edges)} wires")
    print(format_table(headers, rows, {3, 4, 5, 6}))
    if units := unit_rows(graph, analysis):
        print("\nUnit instances (totals over every block inside, all copies):")
        headers = ["instance", "unit", "ports in → out", "blocks", "params", "FLOPs"]
        print(format_table(headers, units, {3, 4, 5}))
    print(
        f"\nMemory: weights {human_bytes(total.weights)}; block outputs "
        f"{human_bytes(total.activations)} per sample, {human_bytes(total.activations_at_batch)} "
        f"at batch {batch};\n        a training step needs about {human_bytes(total.training)} "
        "(4 × the weights, 2 × the outputs at the batch size)."
    )
    problems = [p.message for p in analysis.problems]
    if not problems and (
        problem := too_large(total.training, f"to train at batch {batch}", available_bytes())
    ):
        problems.append(problem)
    if not args.no_data:
        from engine.cli.check_data import check_data

        data = check_data(project, Path(args.project), analysis)
        if data.summary:
            print_safely(f"\n{data.summary}")
        for note in data.notes:  # what train would change in the data: part of the report
            print_safely(f"note: {note}")
        if data.unreadable:
            print_error(data.unreadable)
            return EXIT_UNREADABLE
        problems += data.problems if not problems else []
    if problems:
        print(f"\n{len(problems)} error(s):", file=sys.stderr)
        for message in problems:
            print_safely(f"  {message}", sys.stderr)
        return EXIT_ERRORS
    print("\nOK: every wire fits. FLOPs count multiply-adds for one sample.")
    return EXIT_OK


def unit_rows(graph: Graph, analysis: Analysis) -> list[list[str]]:
    """One row per unit instance at any depth (`block1/cbr1`): its shape at each input
    port and at its output, and its totals: blocks inside, params and FLOPs."""
    rows = []
    for path, info in walk(graph, analysis):
        op = info.op
        if op is None or op.kind != "unit":
            continue
        copies = op.args["copies"]
        blocks = sum(
            1
            for inner in copies
            for _, facts in walk(op.args["graph"], inner)
            if facts.op is not None and facts.op.kind not in ("input", "output", "unit")
        )
        ports = ", ".join(f"{port} {shape}" for port, shape in info.input_shapes.items())
        outs = ", ".join(f"{port} {shape}" for port, shape in info.outputs.items())
        repeat = op.args["repeat"]
        rows.append(
            [
                path,
                f"{op.target} ×{repeat}" if repeat > 1 else op.target,
                f"{ports} → {outs or info.shape}",
                str(blocks),
                f"{info.params:,}",
                human(info.flops),
            ]
        )
    return rows


def no_window(args: argparse.Namespace) -> int:
    """`gui` asked of the engine alone (no window handed in): the window starts from main.py."""
    print_error("the desktop editor starts from main.py: python main.py gui [PROJECT]")
    return EXIT_UNREADABLE


# Modules that add subcommands: each has `add_command(subparsers)` which registers a
# parser whose `func(args) -> int` imports torch lazily, so `check` stays quick.
COMMAND_MODULES = (
    "engine.train.command",
    "engine.codegen.command",
    "engine.inspect.command",
    "engine.importers.command",
    "engine.predict.command",
    "engine.data.command",
)


@functools.cache
def parser() -> argparse.ArgumentParser:
    """The command line's parser, built once per process (building it costs ~30 ms,
    mostly argparse's message lookups, paid again by every in-process run otherwise)."""
    p = argparse.ArgumentParser(
        prog="netloom", description="NetLoom: build, check, train and export neural networks."
    )
    sub = p.add_subparsers(dest="command")
    sub.add_parser("templates", help="list the shipped templates").set_defaults(func=cmd_templates)
    check = sub.add_parser("check", help="per-node shapes, params and FLOPs; exit 1 on errors")
    check.add_argument("project", help="a NetLoom project file (.json)")
    check.add_argument(
        "--no-data",
        action="store_true",
        help="check the graph only: do not look at the project's data file",
    )
    check.set_defaults(func=cmd_check)
    for module_name in COMMAND_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as err:
            if not (err.name and module_name.startswith(err.name)):
                raise
            continue  # that part of NetLoom is not installed in this checkout
        module.add_command(sub)
    gui = sub.add_parser("gui", help="open the desktop editor (the default)")
    gui.add_argument("project", nargs="?", help="a project file to open")
    return p  # `gui` and no command have no func: run() opens the window it is given


def run(argv: Sequence[str] | None = None, open_window: OpenWindow | None = None) -> int:
    """Parse `argv` and run its command; `gui` and no command call `open_window`."""
    args = parser().parse_args(argv)
    func = getattr(args, "func", None) or open_window or no_window
    try:
        return func(args)
    except LimitError as err:  # a project that would expand beyond engine.common.limits
        print_error(str(err))
        return EXIT_ERRORS
    except ProjectError as err:
        print_error(str(err))
        return EXIT_UNREADABLE
    except ModuleNotFoundError as err:
        # A package NetLoom depends on is missing from this environment (it is imported
        # when a command first needs it): say which and how to install it.
        if not is_dependency(err):
            raise
        print_error(missing_message(f"`{args.command or 'gui'}`", [err.name or ""]))
        return EXIT_UNREADABLE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`check … | head`): stop quietly, as Unix tools do. Point
        # stdout at /dev/null so the interpreter's final flush does not fail again.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):
            pass
        return EXIT_OK
