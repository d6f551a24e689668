"""A multilayer perceptron for tabular data (4 measurements → 3 classes)."""

from torch import nn


class MLP(nn.Module):
    def __init__(self, features: int = 4, hidden: int = 32, classes: int = 3) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(features, hidden),
            nn.ReLU(),
            nn.Dropout(0.2),
            nn.Linear(hidden, hidden),
            nn.LeakyReLU(0.1),
            nn.Linear(hidden, classes),
        )

    def forward(self, x):
        return self.net(x)
