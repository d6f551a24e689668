"""The headless command line: `templates`, `check` (and, as they land, `train`, `export`).

Exit codes: 0 ok, 1 the project has errors (each printed with its node),
2 unreadable or invalid input. Never a traceback for a user's mistake.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from engine.common.dependencies import is_dependency, missing_message
from engine.common.limits import LimitError
from engine.graph.graph import Graph
from engine.graph.memory import available_bytes, block_memory, estimate, human_bytes, too_large
from engine.graph.shapes import Analysis, analyze
from engine.project.project import Project, ProjectError, load, one_line
from engine.units.units import REPEAT, walk

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"

EXIT_OK, EXIT_ERRORS, EXIT_UNREADABLE = 0, 1, 2
EXIT_INTERRUPTED = 130  # as shells report Ctrl+C


def print_error(message: str) -> None:
    """A user-facing error line on stderr, the same in every subcommand; a line break
    from a file's own keys (`training.a\\nb`) is shown as its escape."""
    print_safely(f"error: {one_line(message)}", sys.stderr)


def print_safely(text: str, stream: IO[str] | None = None) -> None:
    """print(), but text the terminal cannot encode (a file name with undecodable bytes,
    which Python holds as lone surrogates) is shown as escapes instead of crashing."""
    stream = stream or sys.stdout
    try:
        print(text, file=stream)
    except UnicodeEncodeError:
        encoding = getattr(stream, "encoding", None) or "utf-8"
        print(text.encode(encoding, "backslashreplace").decode(encoding), file=stream)


def human(count: int) -> str:
    """1234567 -> '1.23M'."""
    if count >= 10**15:  # far beyond any network (a float division could overflow)
        return f"over 10^{int((count.bit_length() - 1) * 0.30102999566398)}"
    for unit, size in (("G", 10**9), ("M", 10**6), ("k", 10**3)):
        if count >= size:
            return f"{count / size:.3g}{unit}"
    return str(count)


def list_templates() -> list[tuple[Path, Project]]:
    found = []
    for path in sorted(TEMPLATES_DIR.glob("*.json")):
        found.append((path, load(path)))
    return found


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


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: set[int]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        parts = [
            c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


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
    if problems:
        print(f"\n{len(problems)} error(s):", file=sys.stderr)
        for message in problems:
            print_safely(f"  {message}", sys.stderr)
        return EXIT_ERRORS
    print("\nOK: every wire fits. FLOPs count multiply-adds for one sample.")
    return EXIT_OK


def type_label(graph: Graph, node_id: str) -> str:
    """A block's type; for a repeated unit instance, `ResidualBlock ×2`."""
    node = graph.node(node_id)
    repeat = node.params.get(REPEAT.name, 1) if node.library is not None else 1
    return f"{node.type} ×{repeat}" if repeat > 1 else node.type


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


def cmd_gui(args: argparse.Namespace) -> int:
    try:
        from gui.app import run_gui
    except ImportError as err:
        if is_dependency(err):
            print_error(missing_message("The desktop editor", [err.name or ""]))
        else:
            print_error(f"the desktop editor cannot start: {err}")
        return EXIT_UNREADABLE
    return run_gui(getattr(args, "project", None))


# Modules that add subcommands: each has `add_command(subparsers)` which registers a
# parser whose `func(args) -> int` imports torch lazily, so `check` stays quick.
COMMAND_MODULES = (
    "engine.train.command",
    "engine.codegen.command",
    "engine.inspect.command",
    "engine.importers.command",
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
    gui.set_defaults(func=cmd_gui)
    return p


def run(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    func = getattr(args, "func", cmd_gui)
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
