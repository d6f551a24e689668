"""A residual block (x + f(x)) and an Inception-like Concat of two branches."""

import torch
from torch import nn


class ResidualConcat(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.res_conv1 = nn.Conv2d(8, 8, 3, padding=1)
        self.res_bn = nn.BatchNorm2d(8)
        self.res_conv2 = nn.Conv2d(8, 8, 3, padding=1)
        self.branch_a = nn.Conv2d(8, 4, 1)
        self.branch_b = nn.Conv2d(8, 6, 5, padding=2)
        self.head = nn.Linear(10, 5)

    def forward(self, x):
        x = torch.relu(self.stem(x))
        y = self.res_conv2(torch.relu(self.res_bn(self.res_conv1(x))))
        x = torch.relu(x + y)
        x = torch.cat([self.branch_a(x), self.branch_b(x)], dim=1)
        x = x.mean(dim=(2, 3))
        return torch.softmax(self.head(x), dim=-1)
