# CNN+LSTM video
#
# A CNN reads each frame, an LSTM reads the sequence of frame features: together they
# tell which way a shape moves, which no single frame shows.
# Conv, Pool and Flatten apply per frame on (N, T, C, H, W) input, with no folding
# blocks.
#
# Exported from NetLoom.
# Inputs: frames (N, T, 1, 32, 32).
# Outputs: direction (N, 4).
# Weights saved by NetLoom (a state_dict) load with
# CnnLstmVideo().load_state_dict(state_dict).

import torch
from torch import nn


class CnnLstmVideo(nn.Module):
    """The network, block for block; submodules carry the NetLoom block ids."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(
            in_channels=1,
            out_channels=16,
            kernel_size=3,
            stride=1,
            padding="same",
            dilation=1,
            bias=True,
        )
        self.relu1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(kernel_size=2, stride=2, padding=0)
        self.conv2 = nn.Conv2d(
            in_channels=16,
            out_channels=32,
            kernel_size=3,
            stride=1,
            padding="same",
            dilation=1,
            bias=True,
        )
        self.relu2 = nn.ReLU()
        self.pool2 = nn.MaxPool2d(kernel_size=2, stride=2, padding=0)
        self.flatten1 = nn.Flatten(start_dim=2)
        self.lstm1 = nn.LSTM(
            input_size=2048,
            hidden_size=64,
            num_layers=1,
            batch_first=True,
        )
        self.dense1 = nn.Linear(in_features=64, out_features=4, bias=True)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        """Inputs: frames (N, T, 1, 32, 32).

        Returns: direction (N, 4).

        Blocks made for single images run on each frame of (N, T, ...) input:
        (N, T) is folded into one batch axis and unfolded after.
        """
        n, t = frames.shape[:2]  # (N, T, 1, 32, 32)
        conv1 = self.conv1(frames.flatten(0, 1))  # (N*T, 16, 32, 32)
        conv1 = conv1.unflatten(0, (n, t))  # (N, T, 16, 32, 32)
        relu1 = self.relu1(conv1)  # (N, T, 16, 32, 32)
        n, t = relu1.shape[:2]  # (N, T, 16, 32, 32)
        pool1 = self.pool1(relu1.flatten(0, 1))  # (N*T, 16, 16, 16)
        pool1 = pool1.unflatten(0, (n, t))  # (N, T, 16, 16, 16)
        n, t = pool1.shape[:2]  # (N, T, 16, 16, 16)
        conv2 = self.conv2(pool1.flatten(0, 1))  # (N*T, 32, 16, 16)
        conv2 = conv2.unflatten(0, (n, t))  # (N, T, 32, 16, 16)
        relu2 = self.relu2(conv2)  # (N, T, 32, 16, 16)
        n, t = relu2.shape[:2]  # (N, T, 32, 16, 16)
        pool2 = self.pool2(relu2.flatten(0, 1))  # (N*T, 32, 8, 8)
        pool2 = pool2.unflatten(0, (n, t))  # (N, T, 32, 8, 8)
        flatten1 = self.flatten1(pool2)  # (N, T, 2048)
        lstm1, _ = self.lstm1(flatten1)  # (N, T, 64)
        lstm1 = lstm1[:, -1]  # (N, 64)
        dense1 = self.dense1(lstm1)  # (N, 4)
        return dense1  # direction


if __name__ == "__main__":
    # A quick check on random inputs of the shapes the network was built for.
    inputs = [torch.randn(2, 8, 1, 32, 32)]
    outputs = CnnLstmVideo().eval()(*inputs)
    print(tuple(outputs.shape))
