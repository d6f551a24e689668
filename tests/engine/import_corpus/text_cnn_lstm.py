"""A text classifier: Embedding → Conv1d over the tokens → LSTM → its last state."""

from torch import nn


class TextCNNLSTM(nn.Module):
    def __init__(self, vocabulary: int = 80, dim: int = 16, hidden: int = 24) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocabulary, dim)
        self.conv = nn.Conv1d(dim, 32, kernel_size=3, padding=1)
        self.pool = nn.MaxPool1d(2)
        self.lstm = nn.LSTM(32, hidden, batch_first=True)
        self.fc = nn.Linear(hidden, 4)

    def forward(self, tokens):
        x = self.embed(tokens).transpose(1, 2)  # (N, T, E) → (N, E, T) for Conv1d
        x = self.pool(self.conv(x).relu())
        _, (h_n, _) = self.lstm(x.permute(0, 2, 1))
        return self.fc(h_n[-1])
