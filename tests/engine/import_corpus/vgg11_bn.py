"""VGG-11 with BatchNorm (Simonyan & Zisserman, 2015; configuration "A"), as torchvision
builds it from a list, at an eighth of the channels for 3×32×32 images."""

import torch
from torch import nn

CONFIG_A = [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"]


def make_layers(config: list, divide: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    c_in = 3
    for v in config:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            c_out = v // divide
            layers += [nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(True)]
            c_in = c_out
    return nn.Sequential(*layers)


class VGG11BN(nn.Module):
    def __init__(self, classes: int = 10, divide: int = 8) -> None:
        super().__init__()
        self.features = make_layers(CONFIG_A, divide)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        width = 512 // divide
        self.classifier = nn.Sequential(
            nn.Linear(width, 128),
            nn.ReLU(True),
            nn.Dropout(),
            nn.Linear(128, 128),
            nn.ReLU(True),
            nn.Dropout(),
            nn.Linear(128, classes),
        )

    def forward(self, x):
        x = torch.flatten(self.avgpool(self.features(x)), 1)
        return self.classifier(x)
