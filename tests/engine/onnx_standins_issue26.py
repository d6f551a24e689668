"""Small plain-torch stand-ins for the idioms of issue 26's zoo models, for ONNX import.

`Zoo` holds, in one image net, what mobilenet (ReLU6: Clip), mobilenet_v3 and ghostnet
(Hardsigmoid), shufflenet and mixnet (Split, Slice on channels), resnest (a sum over an
axis), timm's resnet10t (AvgPool without counting the padding), densenet (a Concat of
nine, and of one) and convnext (LayerNorm with eps 1e-6) export; `LastStep` is a
sequence model's `out[:, -1]`. The suite exports them with the legacy exporter (fast);
the dynamo exporter needs 3–10 s a model here, so its files are kept in
tests/engine/onnx_issue26/, written by running this module:

    .venv/bin/python -m tests.engine.onnx_standins_issue26
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from .onnx_checks import export_model

FOLDER = Path(__file__).resolve().parent / "onnx_issue26"
ZOO_SHAPE = (3, 4, 4)
LAST_STEP_SHAPE = (7, 5)  # T, F


class Zoo(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 9, 1)
        self.pool = nn.AvgPool2d(3, 1, 1, count_include_pad=False)
        self.norm = nn.LayerNorm(4, eps=1e-6)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.cat([self.conv(x)], dim=1)  # densenet's first layer: a join of one
        a = torch.clamp(y, 0, 6)
        b = F.hardtanh(y, -2.0, 2.0)
        c = F.hardsigmoid(y)
        p1, p2, p3 = torch.split(a, [2, 3, 4], dim=1)
        s = c.sum(dim=1, keepdim=True)
        z = torch.cat([p1, p2, p3, b[:, 2:5], s, self.pool(y), y, c, b], dim=1)
        return self.norm(z)


class LastStep(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.proj = nn.Linear(5, 6)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x)[:, -1]


STANDINS = {"zoo": (Zoo, ZOO_SHAPE), "last_step": (LastStep, LAST_STEP_SHAPE)}


def export(name: str, path: Path, dynamo: bool) -> None:
    """Export stand-in `name` (seed 0 weights) as a user would, with a free batch axis."""
    cls, shape = STANDINS[name]
    export_model(cls, shape, path, dynamo)


def dynamo_file(name: str) -> Path:
    return FOLDER / f"{name}_dynamo.onnx"


if __name__ == "__main__":
    FOLDER.mkdir(exist_ok=True)
    for standin in STANDINS:
        export(standin, dynamo_file(standin), dynamo=True)
        dynamo_file(standin).with_suffix(".onnx.data").unlink(missing_ok=True)  # empty
        print("wrote", dynamo_file(standin))
