"""Normalisation settings on import: momentum carried over, an eps NetLoom lacks reported.

NetLoom's BatchNorm takes a momentum, so a model's own (0.01, as Keras-ported and
EfficientNet-style nets use) comes over and trains the running statistics as torch
does. Its norms use torch's eps 1e-5: a model with another eps, or with momentum None
(a cumulative average), is refused with a report line naming the layer and the value,
rather than imported as a slightly different network.
"""

from __future__ import annotations

import pytest
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


@pytest.mark.parametrize(
    ("norm", "why"),
    [
        (nn.BatchNorm2d(4, eps=1e-3), "eps=0.001: BatchNorm uses eps 1e-05"),
        (nn.BatchNorm2d(4, momentum=None), "momentum=None (a cumulative average)"),
        (nn.LayerNorm([4, 6, 6], eps=1e-6), "eps=1e-06: LayerNorm uses eps 1e-05"),
        (nn.GroupNorm(2, 4, eps=1e-6), "eps=1e-06: GroupNorm uses eps 1e-05"),
        (nn.InstanceNorm2d(4, eps=1e-3), "eps=0.001: InstanceNorm uses eps 1e-05"),
    ],
    ids=[
        "batchnorm-eps",
        "batchnorm-momentum-none",
        "layernorm-eps",
        "groupnorm-eps",
        "instancenorm-eps",
    ],
)
def test_an_eps_netloom_lacks_is_reported_at_its_layer(norm: nn.Module, why: str) -> None:
    result = import_module(Net(norm), IMAGE, "net")
    assert result.project is None
    (issue,) = result.report.errors
    assert issue.op == f"self.norm ({type(norm).__name__})"
    assert why in issue.why
