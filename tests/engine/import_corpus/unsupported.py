"""Models NetLoom cannot import, for the report tests: each line marked # UNSUPPORTED."""

import torch
from torch import nn


class SpectralGate(nn.Module):
    """torch.fft, an element-wise product and a PReLU: three operations without a block."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(16, 16)
        self.act = nn.PReLU()
        self.out = nn.Linear(16, 2)

    def forward(self, x):
        spectrum = torch.fft.fft(x).real  # UNSUPPORTED fft
        gated = self.fc(spectrum) * torch.sigmoid(x)  # UNSUPPORTED product
        return self.out(self.act(gated))  # UNSUPPORTED PReLU


class DataDependentIf(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(8, 2)

    def forward(self, x):
        if x.sum() > 0:  # UNSUPPORTED if
            x = -x
        return self.fc(x)
