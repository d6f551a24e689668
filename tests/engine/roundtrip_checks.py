"""Is `import(export(project))` the project again? The one comparison the round-trip
identity test and the import zoo bench share; it names the first difference it finds.

Compared: node ids in order with their types and params, wires port by port, each unit
definition's body, inputs, promoted params and description, the project's name and
description (as the export writes them: wrapped comment lines), the exported file
itself (comments and all), and the outputs of the exported class with its own weights
against the imported-back project built with those weights (bit-identical). The shape of
a unit definition's own Input is not compared (the code does not say it).
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import Any

import torch

from engine.cli.main import run
from engine.codegen import to_python
from engine.codegen.text import class_name, comment_lines
from engine.graph.graph import Graph
from engine.importers.check import InputSpec, example_input
from engine.importers.from_torch import import_python
from engine.model.build import build_model
from engine.project.project import Project, save
from tests.engine.helpers import load_file


def described(graph: Graph) -> dict[str, Any]:
    """Everything of a graph a round trip must keep: nodes in order with their type
    and params, wires port by port, and each unit definition's body, promoted params
    and description."""
    units = {}
    if graph.library is not None:
        for name, definition in graph.library.definitions.items():
            body = definition.graph
            units[name] = {
                "nodes": [(n.id, n.type, n.params) for n in body.nodes if n.spec.role != "input"],
                "inputs": definition.inputs,
                "wires": sorted(map(str, body.edges)),
                "promoted": definition.promoted,
                "description": comment_lines(definition.description),
            }
    return {
        "nodes": [(n.id, n.type, n.params) for n in graph.nodes],
        "wires": sorted(map(str, graph.edges)),
        "units": units,
    }


def input_spec(graph: Graph) -> InputSpec:
    (input_id,) = graph.ids_of_role("input")
    params = graph.node(input_id).params
    return InputSpec(
        tuple(params["shape"]), params.get("sequence", False), params.get("dtype", "float32")
    )


def first_mismatch(want: Any, got: Any, where: str = "") -> str | None:
    """Where two nested dicts/lists/tuples first differ, as `units.Block.nodes[2]: … vs …`
    (the original's value first); None when they are equal."""
    if want == got:
        return None
    if isinstance(want, dict) and isinstance(got, dict):
        for key in [*want, *(k for k in got if k not in want)]:
            if key not in got:
                return f"{where}{'.' if where else ''}{key}: missing after the round trip"
            if key not in want:
                return f"{where}{'.' if where else ''}{key}: new after the round trip"
            found = first_mismatch(want[key], got[key], f"{where}{'.' if where else ''}{key}")
            if found:
                return found
    if isinstance(want, list | tuple) and isinstance(got, list | tuple):
        for index, (a, b) in enumerate(zip(want, got)):
            if found := first_mismatch(a, b, f"{where}[{index}]"):
                return found
        if len(want) != len(got):
            return f"{where}: {len(want)} items, {len(got)} after the round trip"
    return f"{where}: {want!r} vs {got!r}"


def first_line_differing(want: str, got: str) -> str:
    for number, (a, b) in enumerate(zip(want.splitlines(), got.splitlines()), start=1):
        if a != b:
            return f"exported file line {number}: {a.strip()!r} vs {b.strip()!r}"
    return "exported file: its length differs"


def units_reordered(graph: Graph, back: Graph) -> str | None:
    """The unit definitions come back in another order (the export writes them in it)."""
    if graph.library is None or back.library is None:
        return None
    for index, (a, b) in enumerate(zip(graph.library.definitions, back.library.definitions)):
        if a != b:
            return f"units in another order: definition {index} is {a!r}, back {b!r}"
    return None


def round_trip(project: Project, code_path: Path) -> tuple[Project | None, str, str]:
    """The project imported back from its Python export (written by the `export`
    command, as a person would), the file's text, and the first import error if any."""
    project_path = code_path.with_suffix(".json")
    save(project, project_path)
    with contextlib.redirect_stdout(io.StringIO()):
        code = run(["export", str(project_path), "--to", "python", "-o", str(code_path)])
    if code != 0:
        return None, "", f"export --to python exits {code}"
    result = import_python(f"{code_path}:{class_name(project.name)}", input_spec(project.graph))
    errors = result.report.errors
    text = code_path.read_text(encoding="utf-8")
    if result.project is None:
        return None, text, f"import back: {errors[0] if errors else 'no project'}"
    return result.project, text, ""


def outputs_differ(project: Project, code_path: Path, back: Project) -> str | None:
    """The exported class with its own weights against the imported-back project built
    with those weights: None when every output is bit-identical."""
    torch.manual_seed(0)
    exported = getattr(load_file(code_path), class_name(project.name))().eval()
    model = build_model(back.graph)
    model.load_state_dict(exported.state_dict(), strict=True)
    model.eval()
    x = example_input(input_spec(project.graph), 2, 2, seed=3)
    with torch.no_grad():
        want, got = exported(x), model(x)
    want = list(want) if isinstance(want, tuple) else [want]
    got = list(got) if isinstance(got, tuple) else [got]
    if len(want) != len(got):
        return f"outputs: {len(want)} from the export, {len(got)} imported back"
    for index, (a, b) in enumerate(zip(want, got)):
        if not torch.equal(a, b):
            diff = float((a.double() - b.double()).abs().max()) if a.shape == b.shape else None
            return f"output {index}: " + (
                f"differs by {diff:.3g}" if diff is not None else f"{a.shape} vs {b.shape}"
            )
    return None


def first_difference(project: Project, code_path: Path) -> str | None:
    """The first way `import(export(project))` is not the project, in one line; None
    when it is the same. `code_path` is where the export is written."""
    back, code, error = round_trip(project, code_path)
    if back is None:
        return error
    if found := first_mismatch(described(project.graph), described(back.graph)):
        return found
    # A description comes back as the export writes it: its wrapped lines are joined
    # (a line break where the wrap would have broken anyway is not told apart).
    if back.name != project.name:
        return f"name: {project.name!r} vs {back.name!r}"
    if comment_lines(back.description) != comment_lines(project.description):
        return "description: " + str(
            first_mismatch(comment_lines(project.description), comment_lines(back.description))
        )
    if order := units_reordered(project.graph, back.graph):
        return order
    if (again := to_python(back)) != code:  # comments included
        return first_line_differing(code, again)
    return outputs_differ(project, code_path, back)
