"""A MobileNet-style depthwise-separable CNN: grouped convolutions, SiLU, Hardswish, resizing."""

from torch import nn
from torch.nn import functional as F


class Separable(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.depthwise = nn.Conv2d(c_in, c_in, 3, stride, padding=1, groups=c_in, bias=False)
        self.norm = nn.BatchNorm2d(c_in)
        self.pointwise = nn.Conv2d(c_in, c_out, 1)

    def forward(self, x):
        return self.pointwise(F.silu(self.norm(self.depthwise(x))))


class DepthwiseNet(nn.Module):
    def __init__(self, classes: int = 4) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 8, (3, 5), stride=(1, 2), padding=(1, 2))
        self.blocks = nn.Sequential(Separable(8, 16, 2), nn.Hardswish(), Separable(16, 24, 1))
        self.up = nn.Upsample(scale_factor=2, mode="bilinear")
        self.pool = nn.AdaptiveMaxPool2d(1)
        self.head = nn.Linear(24, classes)

    def forward(self, x):
        x = F.interpolate(x, scale_factor=(1, 2), mode="nearest")
        x = F.silu(self.stem(x))
        x = self.up(self.blocks(x))
        return F.log_softmax(self.head(self.pool(x).flatten(1)), dim=1)
