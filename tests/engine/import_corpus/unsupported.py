"""Models NetLoom cannot import, for the report tests: each line marked # UNSUPPORTED."""

import torch
from torch import nn


class SpectralGate(nn.Module):
    """torch.fft, a subtraction and a Softplus: three operations without a block."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(16, 16)
        self.act = nn.Softplus()
        self.out = nn.Linear(16, 2)

    def forward(self, x):
        spectrum = torch.fft.fft(x).real  # UNSUPPORTED fft
        gated = self.fc(spectrum) - torch.sigmoid(x)  # UNSUPPORTED subtraction
        return self.out(self.act(gated))  # UNSUPPORTED Softplus


class DataDependentIf(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(8, 2)

    def forward(self, x):
        if x.sum() > 0:  # UNSUPPORTED if
            x = -x
        return self.fc(x)


class FeatureGaps(nn.Module):
    """Settings today's blocks lack: an even 'same' kernel, a cumulative BatchNorm
    momentum, an average pool's divisor_override."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, (1, 4), padding="same")
        self.norm = nn.BatchNorm2d(8, momentum=None)
        self.pool = nn.AvgPool2d(2, padding=1, divisor_override=3)
        self.fc = nn.Linear(8 * 5 * 5, 2)

    def forward(self, x):
        x = self.conv1(x)  # UNSUPPORTED even same
        x = self.norm(x)  # UNSUPPORTED momentum
        x = self.pool(x)  # UNSUPPORTED divisor_override
        return self.fc(x.flatten(1))


class RecurrentStates(nn.Module):
    """c_n has no port (a bidirectional LSTM's h_n[-1], the backward direction alone,
    imports: half the 'last' output)."""

    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(4, 8, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(8, 2)
        self.fc_cell = nn.Linear(8, 2)

    def forward(self, x):
        _, (h, c) = self.lstm(x)
        last = self.fc(h[-1])
        return last + self.fc_cell(c[0])  # UNSUPPORTED cell state


class SharedLayer(nn.Module):
    """The same Linear applied twice shares its weights; NetLoom blocks own theirs."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(6, 6)

    def forward(self, x):
        return self.fc(torch.relu(self.fc(x)))  # UNSUPPORTED shared


class TimeFirst(nn.Module):
    """The batch axis moved second (time first, as torch's RNNs take it by default)."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc(x.transpose(0, 1))  # UNSUPPORTED batch second
