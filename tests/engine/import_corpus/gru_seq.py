"""A bidirectional GRU tagging every step, then a GRU whose last step is classified."""

from torch import nn


class GRUTagger(nn.Module):
    def __init__(self, features: int = 6, hidden: int = 12) -> None:
        super().__init__()
        self.encoder = nn.GRU(features, hidden, batch_first=True, bidirectional=True)
        self.norm = nn.LayerNorm(2 * hidden)
        self.decoder = nn.GRU(2 * hidden, hidden, batch_first=True)
        self.out = nn.Linear(hidden, 4)

    def forward(self, x):
        states, _ = self.encoder(x)
        y, _ = self.decoder(self.norm(states))
        return self.out(y[:, -1])
