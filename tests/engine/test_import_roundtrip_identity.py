"""Round trip is identity: `import(export(project))` gives the project back, exactly.

For every template, and for every model of the import corpus (imported once, then that
project round-tripped): `export --to python`, then importing the file gives the same
node ids (Outputs and blocks made by functions, `skip2 = torch.cat(...)`, included),
the same wires port by port, the same units (a unit used once too) with the same
promoted params (also one every instance sets alike, unet's `stride`), values, repeat
counts and descriptions, the same project name and description, and so the same
exported file, comments and all; the exported weights load strictly and give
bit-identical outputs. Descriptions are compared as the export writes them (wrapped
comment lines); the shape of a unit definition's own Input is not compared (the code
does not say it; the import takes its first instance's).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from engine.cli.main import run
from engine.codegen import to_python
from engine.codegen.text import class_name, comment_lines
from engine.graph.graph import Graph
from engine.importers.check import InputSpec, example_input
from engine.importers.from_torch import import_python
from engine.model.build import build_model
from engine.project.project import Project, load, save
from tests.engine.helpers import load_file
from tests.engine.test_import import CASES, PY_ONLY, Case
from tests.helpers import TEMPLATES

pytestmark = pytest.mark.usefixtures("one_torch_thread")


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


def round_trip(project: Project, code_path: Path) -> tuple[Project, str]:
    """The project imported back from its Python export (written by the command)."""
    project_path = code_path.with_suffix(".json")
    save(project, project_path)
    assert run(["export", str(project_path), "--to", "python", "-o", str(code_path)]) == 0
    result = import_python(f"{code_path}:{class_name(project.name)}", input_spec(project.graph))
    assert result.project is not None, result.report.errors
    return result.project, code_path.read_text(encoding="utf-8")


def assert_same(project: Project, code_path: Path) -> None:
    back, code = round_trip(project, code_path)
    assert described(back.graph) == described(project.graph)
    # A description comes back as the export writes it: its wrapped lines are joined
    # (a line break where the wrap would have broken anyway is not told apart).
    assert back.name == project.name
    assert comment_lines(back.description) == comment_lines(project.description)
    assert to_python(back) == code  # comments included
    torch.manual_seed(0)
    exported = getattr(load_file(code_path), class_name(project.name))().eval()
    model = build_model(back.graph)
    model.load_state_dict(exported.state_dict(), strict=True)
    model.eval()
    spec = input_spec(project.graph)
    x = example_input(spec, 2, 2, seed=3)
    with torch.no_grad():
        want, got = exported(x), model(x)
    want = list(want) if isinstance(want, tuple) else [want]
    got = list(got) if isinstance(got, tuple) else [got]
    assert len(want) == len(got) and all(map(torch.equal, want, got))


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.stem)
def test_a_template_comes_back_exactly(path: Path, tmp_path: Path) -> None:
    assert_same(load(path), tmp_path / "exported.py")


@pytest.mark.parametrize("case", [*CASES, *PY_ONLY], ids=lambda c: f"{c.file}:{c.cls}")
def test_an_imported_model_comes_back_exactly(case: Case, tmp_path: Path) -> None:
    first = import_python(case.source, case.spec)
    assert first.project is not None, first.report.errors
    assert_same(first.project, tmp_path / "exported.py")


def test_the_return_comment_names_the_outputs(tmp_path: Path) -> None:
    """A person's own model: what its forward assigns once and what its return line's
    comment says name the blocks, where the module paths do not."""
    code = tmp_path / "two_heads.py"
    code.write_text(
        "import torch\n"
        "from torch import nn\n\n\n"
        "class TwoHeads(nn.Module):\n"
        "    def __init__(self) -> None:\n"
        "        super().__init__()\n"
        "        self.body = nn.Linear(4, 8)\n"
        "        self.a = nn.Linear(8, 2)\n"
        "        self.b = nn.Linear(8, 3)\n\n"
        "    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:\n"
        "        x = self.body(x)\n"
        "        x = torch.relu(x)\n"
        "        gate = torch.sigmoid(x)\n"
        "        return self.a(x * gate), self.b(x)  # kind, size\n",
        encoding="utf-8",
    )
    result = import_python(f"{code}:TwoHeads", InputSpec((4,)))
    assert result.project is not None, result.report.errors
    ids = [n.id for n in result.project.graph.nodes]
    # `x` is assigned twice: its ReLU keeps a number; `gate` once: the Sigmoid takes it
    assert ids == ["x", "body", "relu1", "gate", "mul1", "a", "b", "kind", "size"]
