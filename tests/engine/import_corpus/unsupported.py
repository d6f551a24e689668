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


class FeatureGaps(nn.Module):
    """Settings today's blocks lack: a per-axis kernel, groups, ceil_mode."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, (1, 3))
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1, groups=8)
        self.pool = nn.MaxPool2d(2, ceil_mode=True)
        self.fc = nn.Linear(8 * 4 * 3, 2)

    def forward(self, x):
        x = self.conv1(x)  # UNSUPPORTED per-axis kernel
        x = self.conv2(x)  # UNSUPPORTED groups
        x = self.pool(x)  # UNSUPPORTED ceil_mode
        return self.fc(x.flatten(1))


class RecurrentStates(nn.Module):
    """A bidirectional LSTM's h_n[-1] is the backward direction alone; c_n has no port."""

    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(4, 8, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(8, 2)
        self.fc_cell = nn.Linear(8, 2)

    def forward(self, x):
        _, (h, c) = self.lstm(x)
        last = self.fc(h[-1])  # UNSUPPORTED backward only
        return last + self.fc_cell(c[0])  # UNSUPPORTED cell state


class SharedLayer(nn.Module):
    """The same Linear applied twice shares its weights; NetLoom blocks own theirs."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(6, 6)

    def forward(self, x):
        return self.fc(torch.relu(self.fc(x)))  # UNSUPPORTED shared
