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
does not say it; the import takes its first instance's). The comparison is
tests/engine/roundtrip_checks.py (bench/import_zoo.py runs it on the zoo too).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.importers.check import InputSpec
from engine.importers.from_torch import import_python
from engine.project.project import Project, load
from tests.engine.roundtrip_checks import first_difference
from tests.engine.test_import import CASES, PY_ONLY, Case
from tests.helpers import TEMPLATES

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def assert_same(project: Project, code_path: Path) -> None:
    assert first_difference(project, code_path) is None


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
