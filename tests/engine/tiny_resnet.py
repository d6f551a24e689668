"""A torchvision-style ResNet small enough for the suite, written in plain torch.

The same idiom as torchvision's resnet18 (BasicBlocks with BatchNorm and a downsample
shortcut, `layer1`…, `avgpool`, `fc` with 1000 classes), on one 8×8 grey channel so it
trains on the built-in digits in well under a second. Its BatchNorm statistics are
random, as a trained model's would be, so a test sees whether training moved them.
"""

from __future__ import annotations

import copy
from functools import cache

import torch
from torch import nn

from engine.importers.check import ImportResult, InputSpec
from engine.importers.from_torch import import_module


class BasicBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.downsample: nn.Module | None = None
        if stride != 1 or c_in != c_out:
            self.downsample = nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class TinyResNet(nn.Module):
    def __init__(self, classes: int = 1000) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.relu = nn.ReLU()
        self.layer1 = nn.Sequential(BasicBlock(8, 8), BasicBlock(8, 8))
        self.layer2 = nn.Sequential(BasicBlock(8, 16, 2), BasicBlock(16, 16))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer2(self.layer1(x))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def pretrained() -> TinyResNet:
    """The stand-in with seeded weights and random BatchNorm statistics, in eval mode."""
    torch.manual_seed(0)
    model = TinyResNet()
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2.0)
            module.num_batches_tracked.fill_(100)
    return model.eval()


def imported() -> ImportResult:
    """The stand-in imported with its weights (engine.importers.from_torch): a copy of its
    own, to change at will (the import runs once per test session; it takes seconds)."""
    return copy.deepcopy(_imported())


@cache
def _imported() -> ImportResult:
    result = import_module(pretrained(), InputSpec((1, 8, 8)), "TinyResNet")
    assert result.project is not None, result.report
    return result
