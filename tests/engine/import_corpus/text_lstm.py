"""Embedding → 2-layer LSTM text classifier, reading the top layer's final state h_n[-1]."""

from torch import nn


class TextLSTM(nn.Module):
    def __init__(self, vocabulary: int = 100, dim: int = 16, hidden: int = 24) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocabulary, dim)
        self.lstm = nn.LSTM(dim, hidden, num_layers=2, batch_first=True)
        self.head = nn.Linear(hidden, 2)

    def forward(self, tokens):
        output, (h_n, c_n) = self.lstm(self.embed(tokens))
        return self.head(h_n[-1])
