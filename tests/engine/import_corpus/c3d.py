"""A C3D-like video classifier: Conv3d with a (1, 2, 2) MaxPool3d that keeps the frames."""

from torch import nn


class TinyC3D(nn.Module):
    def __init__(self, classes: int = 3) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv3d(3, 8, 3, padding=1),
            nn.ELU(),
            nn.MaxPool3d((1, 2, 2)),
            nn.Conv3d(8, 12, (3, 3, 3), padding=(1, 1, 1)),
            nn.InstanceNorm3d(12, affine=True),
            nn.PReLU(12),
            nn.MaxPool3d(2, ceil_mode=True),
        )
        self.pool = nn.AdaptiveAvgPool3d(1)
        self.head = nn.Linear(12, classes)

    def forward(self, x):
        return self.head(self.pool(self.features(x)).flatten(1))
