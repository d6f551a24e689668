"""Dense over the last axis of any shape, as torch's nn.Linear (torchvision's ConvNeXt).

Dense's `over` param: "features" (the default) keeps today's rule — (N, F) or a sequence
(N, T, F), and on a 4-D input the learner is told to add a Flatten; "last axis" applies
nn.Linear to the last axis of (N, …, F). The fx importer sets it when a Linear's input
has more axes than the features rule takes, so torchvision's ConvNeXt block (dwconv →
Permute → LayerNorm → Linear → GELU → Linear → Permute back) imports bit-identical and
exports back to Python giving the same numbers. A plain-torch stand-in of that block
is used here (the suite does not import torchvision).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import fx, nn

from engine.blocks.spec import get_spec
from engine.codegen.python_file import to_python
from engine.graph.graph import Graph
from engine.graph.shapes import analyze
from engine.importers.check import InputSpec
from engine.importers.from_torch import import_module
from engine.model.build import build_model
from engine.project.project import Project
from tests.engine.helpers import load_file
from tests.engine.test_import_idioms_b1 import stochastic_depth


def dense_graph(shape: tuple[int, ...], **dense: object) -> Graph:
    graph = Graph()
    graph.add_node("Input", {"shape": list(shape)}, node_id="input1")
    graph.add_node("Dense", dict(dense), node_id="dense1")
    graph.add_node("Output", {}, node_id="output1")
    graph.connect("input1", "dense1")
    graph.connect("dense1", "output1")
    return graph


def dense_params(project: Project) -> list[dict]:
    return [n.params for n in project.graph.nodes if n.type == "Dense"]


def exported_model(project: Project, tmp_path: Path) -> nn.Module:
    path = tmp_path / "exported.py"
    path.write_text(to_python(project))
    return getattr(load_file(path), project.name)()


# ------------------------------------------------------------ the block


def test_dense_over_the_last_axis_keeps_every_other_axis() -> None:
    facts = analyze(dense_graph((5, 6, 8), units=12, over="last axis"))
    assert facts.ok
    node = facts.nodes["dense1"]
    assert str(node.shape) == "(N, 5, 6, 12)"
    assert node.params == 8 * 12 + 12
    assert node.flops == 5 * 6 * 8 * 12


def test_dense_over_the_last_axis_of_a_series_of_numbers_mixes_its_steps() -> None:
    graph = Graph()
    graph.add_node("Input", {"shape": [6], "sequence": True}, node_id="input1")
    graph.add_node("Dense", {"units": 3, "over": "last axis"}, node_id="dense1")
    graph.connect("input1", "dense1")
    shape = analyze(graph).nodes["dense1"].shape
    assert (str(shape), shape.time) == ("(N, 3)", False)


def test_dense_over_the_last_axis_exports_as_the_model_runs(tmp_path: Path) -> None:
    project = Project(name="Net", graph=dense_graph((5, 6, 8), units=12, over="last axis"))
    model = build_model(project.graph).eval()
    back = exported_model(project, tmp_path).eval()
    back.load_state_dict(model.state_dict(), strict=True)
    x = torch.randn(3, 5, 6, 8)
    with torch.no_grad():
        expected = nn.functional.linear(x, model.dense1.weight, model.dense1.bias)
        assert torch.equal(model(x), expected)
        assert torch.equal(back(x), expected)


def test_the_default_still_refuses_a_feature_map_and_says_flatten() -> None:
    facts = analyze(dense_graph((3, 8, 8), units=4))
    assert not facts.ok
    assert str(facts.nodes["dense1"].error) == (
        "dense1: Dense needs (N, F) or a sequence (N, T, F); got (N, 3, 8, 8) from input1"
        " — add a Flatten before it"
    )


def test_a_dense_without_over_exports_as_before() -> None:
    plain = Project(name="Net", graph=dense_graph((8,), units=4))
    said = Project(name="Net", graph=dense_graph((8,), units=4, over="features"))
    assert to_python(plain) == to_python(said)
    assert "over" not in to_python(plain)
    assert get_spec("Dense").resolve_params({"units": 4})["over"] == "features"


# ------------------------------------------------------------ torchvision's ConvNeXt


# torchvision.ops.stochastic_depth's stand-in; fx keeps a wrapped function whole only where
# the module calling it wrapped its name, so this module wraps it too.
fx.wrap("stochastic_depth")


class Permute(nn.Module):
    """torchvision.ops.misc.Permute: torch.permute as a module."""

    def __init__(self, dims: list[int]) -> None:
        super().__init__()
        self.dims = dims

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.permute(x, self.dims)


class CNBlock(nn.Module):
    """torchvision's ConvNeXt block: its Linears run on channels-last (N, H, W, C)."""

    def __init__(self, dim: int = 8) -> None:
        super().__init__()
        self.block = nn.Sequential(
            nn.Conv2d(dim, dim, kernel_size=7, padding=3, groups=dim, bias=True),
            Permute([0, 2, 3, 1]),
            nn.LayerNorm(dim, eps=1e-6),
            nn.Linear(dim, 4 * dim),
            nn.GELU(),
            nn.Linear(4 * dim, dim),
            Permute([0, 3, 1, 2]),
        )
        self.layer_scale = nn.Parameter(torch.rand(dim, 1, 1))

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        result = self.layer_scale * self.block(input)
        result = stochastic_depth(result, 0.1, "row", self.training)
        result += input
        return result


@pytest.fixture(scope="module")
def convnext() -> tuple[nn.Module, object]:
    torch.manual_seed(0)
    original = CNBlock().eval()
    return original, import_module(original, InputSpec((8, 7, 7)), "net")


def test_torchvisions_convnext_block_imports_bit_identical(convnext: tuple) -> None:
    original, result = convnext
    assert result.report.ok, result.report.text()
    assert "bit-identical" in result.report.check
    assert dense_params(result.project) == [
        {"units": 32, "bias": True, "over": "last axis"},
        {"units": 8, "bias": True, "over": "last axis"},
    ]
    facts = analyze(result.project.graph)
    assert facts.ok
    shapes = [str(facts.nodes[n.id].shape) for n in result.project.graph.nodes if n.type == "Dense"]
    assert shapes == ["(N, 7, 7, 32)", "(N, 7, 7, 8)"]


def test_the_imported_convnext_block_exports_back_to_the_same_numbers(
    convnext: tuple, tmp_path: Path
) -> None:
    original, result = convnext
    back = exported_model(result.project, tmp_path)
    back.load_state_dict(result.state_dict, strict=True)
    x = torch.randn(4, 8, 7, 7, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        assert torch.equal(original(x), back.eval()(x))
    code = to_python(result.project)
    assert "nn.Linear(in_features=8, out_features=32, bias=True)" in code
    assert "over" not in code
    # and the exported file imports again to the same Dense blocks
    again = import_module(back.eval(), InputSpec((8, 7, 7)), "net")
    assert again.report.ok, again.report.text()
    assert dense_params(again.project) == dense_params(result.project)


class ChannelsLastLinear(nn.Module):
    """F.linear with a module's weights on channels-last, as timm's Linear calls it."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(8, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = nn.functional.linear(x.permute(0, 2, 3, 1), self.fc.weight, self.fc.bias)
        return y.permute(0, 3, 1, 2)


def test_f_linear_on_channels_last_imports_over_the_last_axis() -> None:
    torch.manual_seed(0)
    result = import_module(ChannelsLastLinear().eval(), InputSpec((8, 7, 7)), "net")
    assert result.report.ok, result.report.text()
    assert "bit-identical" in result.report.check
    assert dense_params(result.project) == [{"units": 5, "bias": True, "over": "last axis"}]
