"""What the ONNX import tests share: exporting a small model as a user would, running the
file in ONNX Runtime, running the imported project, and listing the blocks it made."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from engine.importers.check import ImportResult
from engine.model.build import build_model


def export_model(cls: type[nn.Module], shape: tuple[int, ...], path: Path, dynamo: bool) -> Path:
    """Export `cls` (seed 0 weights, eval) with a free batch axis, by either exporter."""
    torch.manual_seed(0)
    model = cls().eval()
    x = torch.randn(2, *shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if dynamo:
            batch = {0: torch.export.Dim("N")}
            torch.onnx.export(
                model, (x,), str(path), dynamo=True, input_names=["x"], dynamic_shapes=(batch,)
            )
        else:
            torch.onnx.export(
                model, (x,), str(path), dynamo=False, input_names=["x"],
                dynamic_axes={"x": {0: "N"}},
            )  # fmt: skip
    return path


def onnx_runtime(path: Path, x: torch.Tensor) -> np.ndarray:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x.numpy()})[0]


def netloom(result: ImportResult, x: torch.Tensor) -> np.ndarray:
    """The imported project, built with its imported weights, on `x` (eval)."""
    assert result.project is not None, result.report.text()
    model = build_model(result.project.graph)
    model.load_state_dict(result.state_dict, strict=True)
    with torch.no_grad():
        return model.eval()(x).numpy()


def blocks(result: ImportResult) -> list[tuple[str, dict[str, Any]]]:
    """(type, params) of every block the import made, in the graph's order."""
    assert result.project is not None, result.report.text()
    graph = result.project.graph
    return [(graph.node(n).type, graph.node(n).params) for n in graph.topological_order()]
