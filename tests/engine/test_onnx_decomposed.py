"""ONNX import of an adaptive pool the dynamo exporter wrote out as many nodes (issue 26).

vgg's and alexnet's AdaptiveAvgPool2d((7, 7)) on a map it does not divide (64×64 input:
a 2×2 map) comes out of `torch.onnx.export(..., dynamo=True)` as GatherND, Where,
Gather, Add and Div nodes. The importer finds them again by the module metadata on each
node and makes them one AdaptiveAvgPool2d block. The stand-ins' files are kept in
tests/engine/onnx_issue26/ (the dynamo exporter needs seconds a model), written by:

    .venv/bin/python -m tests.engine.test_onnx_decomposed
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import numpy_helper
from torch import nn

from engine.importers.check import InputSpec, example_input
from engine.importers.from_onnx import import_onnx

from .onnx_checks import blocks, netloom, onnx_runtime

FOLDER = Path(__file__).resolve().parent / "onnx_issue26"
CLASSES = "pkg.torch.onnx.class_hierarchy"


class PoolNet(nn.Module):
    """Conv → ReLU → AdaptiveAvgPool2d((7, 7)) on a 3×3 map → Flatten → Linear."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.relu = nn.ReLU()
        self.pool = nn.AdaptiveAvgPool2d((7, 7))
        self.head = nn.Linear(4 * 49, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.flatten(self.pool(self.relu(self.conv(x))), 1))


class Pool1dNet(nn.Module):
    """Conv1d → AdaptiveAvgPool1d(5) on a length-3 map → Flatten."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv1d(3, 4, 3)
        self.pool = nn.AdaptiveAvgPool1d(5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.flatten(self.pool(torch.relu(self.conv(x))), 1)


STANDINS = {"adaptive_pool": (PoolNet, (3, 5, 5)), "adaptive_pool1d": (Pool1dNet, (3, 5))}


def stored(name: str) -> Path:
    return FOLDER / f"{name}_dynamo.onnx"


def test_the_written_out_pool_is_one_adaptive_pool_block_matching_onnx_runtime() -> None:
    path = stored("adaptive_pool")
    assert "GatherND" in [n.op_type for n in onnx.load(str(path)).graph.node]
    result = import_onnx(path, None, False, None)
    assert result.report.ok, result.report.text()
    assert [t for t, _ in blocks(result)] == [
        "Input",
        "Conv2d",
        "ReLU",
        "AdaptiveAvgPool2d",
        "Flatten",
        "Dense",
        "Output",
    ]
    assert ("AdaptiveAvgPool2d", {"output_size": [7, 7]}) in blocks(result)
    assert any(
        "module pool (AdaptiveAvgPool2d, output size 7×7)" in n.why for n in result.report.notes
    )
    x = example_input(InputSpec(STANDINS["adaptive_pool"][1]), 4, 2, seed=3)
    assert np.abs(netloom(result, x) - onnx_runtime(path, x)).max() <= 1e-4


def test_the_written_out_1d_pool_is_one_adaptive_pool_1d_block() -> None:
    path = stored("adaptive_pool1d")
    result = import_onnx(path, None, False, None)
    assert ("AdaptiveAvgPool1d", {"output_size": [5]}) in blocks(result)
    x = example_input(InputSpec(STANDINS["adaptive_pool1d"][1]), 4, 2, seed=3)
    assert np.abs(netloom(result, x) - onnx_runtime(path, x)).max() <= 1e-4


def _relabelled(tmp_path: Path, old: str, new: str | None) -> Path:
    """The stored 2-d file with the pool's class in the metadata replaced (None: removed)."""
    model = onnx.load(str(stored("adaptive_pool")))
    for node in model.graph.node:
        for prop in list(node.metadata_props):
            if prop.key == CLASSES and old in prop.value:
                if new is None:
                    node.metadata_props.remove(prop)
                else:
                    prop.value = prop.value.replace(old, new)
    path = tmp_path / "relabelled.onnx"
    onnx.save(model, str(path))
    return path


def test_without_the_module_metadata_the_gathernd_is_reported_as_before(tmp_path: Path) -> None:
    path = _relabelled(tmp_path, "AdaptiveAvgPool2d", None)
    result = import_onnx(path, None, False, None)
    assert not result.report.ok
    gathers = [e for e in result.report.errors if e.op == "GatherND"]
    assert gathers and "export with an input size the adaptive pool divides" in gathers[0].why


def test_nodes_that_compute_other_than_the_pool_are_not_taken_for_it(tmp_path: Path) -> None:
    model = onnx.load(str(stored("adaptive_pool")))
    (div,) = [n for n in model.graph.node if n.op_type == "Div"]  # the windows' sizes
    (sizes,) = [i for i in model.graph.initializer if i.name == div.input[1]]
    sizes.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(sizes) * 2, sizes.name))
    path = tmp_path / "halved.onnx"
    onnx.save(model, str(path))
    result = import_onnx(path, None, False, None)
    assert not result.report.ok
    assert "GatherND" in [e.op for e in result.report.errors]


def export(name: str, path: Path) -> None:
    """Export stand-in `name` (seed 0 weights) with the dynamo exporter, batch free."""
    cls, shape = STANDINS[name]
    torch.manual_seed(0)
    model = cls().eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            (torch.randn(2, *shape),),
            str(path),
            dynamo=True,
            input_names=["x"],
            dynamic_shapes=({0: torch.export.Dim("N")},),
        )


if __name__ == "__main__":
    FOLDER.mkdir(exist_ok=True)
    for standin in STANDINS:
        export(standin, stored(standin))
        whole = onnx.load(str(stored(standin)))  # the weights kept beside it, read back in
        onnx.save(whole, str(stored(standin)), save_as_external_data=False)
        stored(standin).with_suffix(".onnx.data").unlink(missing_ok=True)
        print("wrote", stored(standin))
