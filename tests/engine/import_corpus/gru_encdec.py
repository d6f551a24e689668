"""GRU encoder–decoders: the encoder's final state h_n (every layer) is the decoder's
initial state; the decoder reads a projection of the input and predicts every step."""

from torch import nn


class GRUEncoderDecoder(nn.Module):
    def __init__(
        self, features: int = 6, hidden: int = 20, targets: int = 3, layers: int = 1
    ) -> None:
        super().__init__()
        self.encoder = nn.GRU(features, hidden, num_layers=layers, batch_first=True)
        self.project = nn.Linear(features, 8)
        self.decoder = nn.GRU(8, hidden, num_layers=layers, batch_first=True)
        self.head = nn.Linear(hidden, targets)

    def forward(self, x):
        _, h_n = self.encoder(x)
        out, _ = self.decoder(self.project(x), h_n)
        return self.head(out)


class DeepGRUEncoderDecoder(GRUEncoderDecoder):
    def __init__(self) -> None:
        super().__init__(layers=2)
