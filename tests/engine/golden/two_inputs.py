# Image + series, two heads
#
# Two inputs and two outputs: a small residual CNN reads an image, a bidirectional GRU
# reads a series; their features are joined for one label, while an LSTM scores every
# step of the series.
#
# Exported from NetLoom.
# Inputs: image (N, 1, 8, 8), series (N, T, 3).
# Outputs: label (N, 3), per_step (N, 6).
# Weights saved by NetLoom (a state_dict) load with
# ImageSeriesTwoHeads().load_state_dict(state_dict).

import torch
from torch import nn


class ImageSeriesTwoHeads(nn.Module):
    """The network, block for block; submodules carry the NetLoom block ids."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(
            in_channels=1,
            out_channels=4,
            kernel_size=3,
            stride=1,
            padding="same",
            dilation=1,
            bias=True,
        )
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(
            in_channels=4,
            out_channels=4,
            kernel_size=3,
            stride=1,
            padding="same",
            dilation=1,
            bias=True,
        )
        self.gru1 = nn.GRU(
            input_size=3,
            hidden_size=5,
            num_layers=1,
            batch_first=True,
            bidirectional=True,
        )
        self.dense1 = nn.Linear(in_features=14, out_features=3, bias=True)
        self.lstm1 = nn.LSTM(
            input_size=3,
            hidden_size=4,
            num_layers=1,
            batch_first=True,
        )
        self.dense2 = nn.Linear(in_features=24, out_features=6, bias=True)

    def forward(
        self,
        image: torch.Tensor,
        series: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Inputs: image (N, 1, 8, 8), series (N, T, 3).

        Returns: label (N, 3), per_step (N, 6).
        """
        conv1 = self.conv1(image)  # (N, 4, 8, 8)
        relu1 = self.relu1(conv1)  # (N, 4, 8, 8)
        conv2 = self.conv2(relu1)  # (N, 4, 8, 8)
        add1 = conv1 + conv2  # (N, 4, 8, 8)
        gpool1 = add1.mean(dim=(2, 3))  # (N, 4)
        gru1, _ = self.gru1(series)  # (N, T, 10)
        # the forward half ends at the last step, the backward half at step 0
        gru1 = torch.cat([gru1[:, -1, :5], gru1[:, 0, 5:]], dim=-1)  # (N, 10)
        concat1 = torch.cat([gpool1, gru1], dim=1)  # (N, 14)
        dense1 = self.dense1(concat1)  # (N, 3)
        lstm1, _ = self.lstm1(series)  # (N, T, 4)
        permute1 = lstm1.permute(0, 2, 1)  # (N, 4, 6)
        reshape1 = permute1.reshape(permute1.shape[0], -1)  # (N, 24)
        dense2 = self.dense2(reshape1)  # (N, 6)
        return dense1, dense2  # label, per_step


if __name__ == "__main__":
    # A quick check on random inputs of the shapes the network was built for.
    inputs = [torch.randn(2, 1, 8, 8), torch.randn(2, 6, 3)]
    outputs = ImageSeriesTwoHeads().eval()(*inputs)
    print([tuple(output.shape) for output in outputs])
