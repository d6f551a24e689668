"""Normalisations over groups, instances and the last two axes, with Mish (from .py)."""

from torch import nn


class NormMix(nn.Module):
    def __init__(self, classes: int = 3) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1, padding_mode="reflect")
        self.group = nn.GroupNorm(2, 8)
        self.instance = nn.InstanceNorm2d(8, affine=True)
        self.last_two = nn.LayerNorm([8, 8])
        self.act = nn.Mish()
        self.drop = nn.Dropout2d(0.1)
        self.pool = nn.MaxPool2d((4, 8))
        self.head = nn.Linear(16, classes)

    def forward(self, x):
        x = self.act(self.last_two(self.instance(self.group(self.conv(x)))))
        return self.head(self.pool(self.drop(x)).flatten(1))
