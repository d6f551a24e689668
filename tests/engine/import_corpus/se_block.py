"""A squeeze-and-excitation CNN: a channel gate from a Mean, rescaling the map by Multiply."""

import torch
from torch import nn


class SqueezeExcite(nn.Module):
    def __init__(self, channels: int, reduced: int) -> None:
        super().__init__()
        self.reduce = nn.Conv2d(channels, reduced, 1)
        self.expand = nn.Conv2d(reduced, channels, 1)
        self.act = nn.PReLU()

    def forward(self, x):
        gate = x.mean((2, 3), keepdim=True)
        gate = torch.sigmoid(self.expand(self.act(self.reduce(gate))))
        return x * gate


class SENet(nn.Module):
    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 3, padding=1)
        self.norm = nn.BatchNorm2d(16, affine=False)
        self.se = SqueezeExcite(16, 4)
        self.pool = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.maps = nn.LayerNorm([6, 6])
        self.head = nn.Linear(16, classes)

    def forward(self, x):
        x = torch.relu(self.norm(self.stem(x)))
        x = self.maps(self.pool(self.se(x)))
        return self.head(x.mean(dim=(-2, -1)))
