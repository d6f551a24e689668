"""Units from an ONNX file: the dynamo exporter's module metadata groups the blocks.

A small plain-torch net with a repeated block class (two classes nested, an
nn.Sequential of like blocks) is exported with `torch.onnx.export(dynamo=True)` in the
test: it imports as units (one definition per structure, instances named after module
paths, the Sequential as one instance repeated, weights under their paths) with outputs
within the ONNX tolerance. The same net from the legacy exporter, which writes no such
metadata, imports flat.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import torch
from torch import nn

from engine.importers.from_onnx import import_onnx
from engine.model.build import build_model

pytestmark = pytest.mark.usefixtures("one_torch_thread")


class ConvAct(nn.Module):
    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.act = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.conv(x))


class Residual(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.first = ConvAct(channels, channels)
        self.second = nn.Conv2d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x + self.second(self.first(x)))


class Stack(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = ConvAct(3, 4)
        self.stage = nn.Sequential(Residual(4), Residual(4))
        self.widen = ConvAct(4, 6)
        self.head = nn.Linear(6, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.widen(self.stage(self.stem(x))).mean(dim=(2, 3)))


def export(tmp: Path, dynamo: bool) -> tuple[nn.Module, Path]:
    torch.manual_seed(0)
    model = Stack().eval()
    path = tmp / ("dynamo.onnx" if dynamo else "legacy.onnx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model, (torch.randn(2, 3, 8, 8),), str(path), dynamo=dynamo, input_names=["x"]
        )
    return model, path


@pytest.fixture(scope="module")
def dynamo_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[nn.Module, Path]:
    return export(tmp_path_factory.mktemp("onnx_units"), dynamo=True)


def test_a_dynamo_export_imports_as_units(dynamo_file: tuple[nn.Module, Path]) -> None:
    model, path = dynamo_file
    result = import_onnx(path, (3, 8, 8), False, None)
    assert result.project is not None, result.report.errors
    graph = result.project.graph
    library = graph.library
    assert library is not None
    assert sorted(library.definitions) == ["ConvAct", "Residual"]
    units = {n.id: (n.type, n.params.get("repeat", 1)) for n in graph.nodes if n.library}
    assert units == {"stem": ("ConvAct", 1), "stage": ("Residual", 2), "widen": ("ConvAct", 1)}
    # Residual holds a ConvAct of its own; ConvAct promotes what differs: its channels
    residual = library.definition("Residual").graph
    assert residual.node("first").type == "ConvAct"
    assert list(library.definition("ConvAct").promoted) == ["out_channels"]
    assert "stage.1.first.conv.weight" in result.state_dict
    assert "stem.conv.weight" in result.state_dict

    net = build_model(graph)
    net.load_state_dict(result.state_dict, strict=True)
    x = torch.randn(3, 3, 8, 8)
    with torch.no_grad():
        assert torch.allclose(net.eval()(x), model(x), atol=1e-4)


def test_a_legacy_export_imports_flat(tmp_path: Path) -> None:
    _, path = export(tmp_path, dynamo=False)
    result = import_onnx(path, (3, 8, 8), False, None)
    assert result.project is not None, result.report.errors
    assert not any(n.library for n in result.project.graph.nodes)
