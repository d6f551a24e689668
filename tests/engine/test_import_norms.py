"""Normalisation settings on import: momentum carried over, a cumulative average reported.

NetLoom's BatchNorm takes a momentum, so a model's own (0.01, as Keras-ported and
EfficientNet-style nets use) comes over and trains the running statistics as torch
does. A model with momentum None (a cumulative average) is refused with a report line
naming the layer, rather than imported as a slightly different network. (Each norm's
eps comes over: tests/engine/test_import_idioms_b1.py.)
"""

from __future__ import annotations

import torch
from torch import nn

from engine.importers.check import InputSpec
from engine.importers.from_torch import import_module
from engine.model.build import build_model

IMAGE = InputSpec((3, 6, 6))


class Net(nn.Module):
    def __init__(self, norm: nn.Module) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.norm = norm

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(self.conv(x))


def test_batchnorm_momentum_comes_over_and_updates_statistics_as_torch_does() -> None:
    torch.manual_seed(0)
    original = Net(nn.BatchNorm2d(4, momentum=0.01))
    result = import_module(original, IMAGE, "net")
    assert result.report.ok, result.report.text()
    node = result.project.graph.node("norm")
    assert (node.type, node.params["momentum"]) == ("BatchNorm", 0.01)

    model = build_model(result.project.graph)
    model.load_state_dict(result.state_dict, strict=True)
    original.train(), model.train()
    x = torch.randn(5, 3, 6, 6)
    assert torch.equal(original(x), model(x))  # batch statistics, and a running update
    assert torch.equal(original.norm.running_mean, model.state_dict()["norm.running_mean"])
    assert torch.equal(original.norm.running_var, model.state_dict()["norm.running_var"])


def test_a_cumulative_momentum_is_reported_at_its_layer() -> None:
    result = import_module(Net(nn.BatchNorm2d(4, momentum=None)), IMAGE, "net")
    assert result.project is None
    (issue,) = result.report.errors
    assert issue.op == "self.norm (BatchNorm2d)"
    assert "momentum=None (a cumulative average)" in issue.why
