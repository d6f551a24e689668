"""Embedding → bidirectional LSTM; both directions' final states, h_n[-2] and h_n[-1]."""

import torch
from torch import nn


class BiLSTMClassifier(nn.Module):
    def __init__(self, vocabulary: int = 60, dim: int = 8, hidden: int = 10) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocabulary, dim, padding_idx=0)
        self.lstm = nn.LSTM(dim, hidden, batch_first=True, bidirectional=True)
        self.dropout = nn.Dropout(0.3)
        self.fc = nn.Linear(2 * hidden, 3)

    def forward(self, tokens):
        _, (h_n, _) = self.lstm(self.embed(tokens))
        both = torch.cat((h_n[-2], h_n[-1]), dim=1)
        return self.fc(self.dropout(both))
