"""The models bench/import_zoo.py imports: torchvision and timm classifiers, text idioms.

Each entry names the model as the table shows it, builds it (ten classes, no pretrained
weights: nothing is downloaded) and gives the one input it takes. Images are 64×64 where
the model's export works at that size, else its natural size (VGG's and AlexNet's
AdaptiveAvgPool to 7×7 cannot be exported from a 2×2 map, Inception v3 needs 299, ViT 224).

The text and sequence idioms are written here in plain torch, the way tutorials write
them: they are what a practitioner's own `.py` file looks like, not a zoo's.
torchvision and timm are imported only when a model from them is built.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from engine.importers.check import InputSpec

CLASSES = 10
VOCABULARY = 100
TOKENS = 12  # tokens per text sample
STEPS, FEATURES = 10, 6  # a float sequence's time steps and features per step


@dataclass(frozen=True)
class ZooModel:
    name: str  # as the table shows it: "tv:resnet18", "timm:resnet10t", "idiom:bilstm_last"
    family: str
    make: Callable[[], nn.Module]
    spec: InputSpec


def stand_in_for_torchvision_kernels() -> None:
    """PyPI's torchvision is a CUDA build: its _C extension does not load beside torch's
    CPU wheel, and importing torchvision registers meta kernels through it. The
    classification models are pure Python; an empty module stands in for the kernels.
    Needed before timm too, which imports torchvision when it is installed."""
    sys.modules.setdefault(
        "torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations")
    )


def torchvision_models() -> types.ModuleType:
    stand_in_for_torchvision_kernels()
    import torchvision.models

    return torchvision.models


def from_torchvision(name: str, **kwargs: object) -> Callable[[], nn.Module]:
    def make() -> nn.Module:
        return getattr(torchvision_models(), name)(num_classes=CLASSES, **kwargs)

    return make


def from_timm(name: str) -> Callable[[], nn.Module]:
    def make() -> nn.Module:
        stand_in_for_torchvision_kernels()
        import timm

        return timm.create_model(name, pretrained=False, num_classes=CLASSES)

    return make


def image(size: int = 64) -> InputSpec:
    return InputSpec((3, size, size))


TOKEN_IDS = InputSpec((TOKENS,), dtype="int64")
SEQUENCE = InputSpec((STEPS, FEATURES), sequence=True)


# ------------------------------------------------------------------ text and sequence idioms


class BiLSTMLast(nn.Module):
    """Embedding → bidirectional LSTM → the last step of both directions: `out[:, -1]`."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(VOCABULARY, 16)
        self.lstm = nn.LSTM(16, 24, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(48, CLASSES)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(self.embed(tokens))
        return self.fc(out[:, -1])


class RowLSTM(nn.Module):
    """The classic tutorial RNN: zero states built from the batch size, `out[:, -1, :]`."""

    def __init__(self, layers: int = 2, hidden: int = 20) -> None:
        super().__init__()
        self.layers, self.hidden = layers, hidden
        self.lstm = nn.LSTM(FEATURES, hidden, layers, batch_first=True)
        self.fc = nn.Linear(hidden, CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h0 = torch.zeros(self.layers, x.size(0), self.hidden)
        c0 = torch.zeros(self.layers, x.size(0), self.hidden)
        out, _ = self.lstm(x, (h0, c0))
        return self.fc(out[:, -1, :])


class GRUEncoder(nn.Module):
    """A GRU started from `h0 = torch.zeros(…, x.size(0), …)`, classified on `h_n[-1]`."""

    def __init__(self, layers: int = 2, hidden: int = 16) -> None:
        super().__init__()
        self.layers, self.hidden = layers, hidden
        self.gru = nn.GRU(FEATURES, hidden, num_layers=layers, batch_first=True)
        self.head = nn.Linear(hidden, CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h0 = torch.zeros(self.layers, x.size(0), self.hidden, device=x.device)
        _, h_n = self.gru(x, h0)
        return self.head(h_n[-1])


class EmbedConvGRU(nn.Module):
    """Embedding → Conv1d over time (channels first, so transposed twice) → GRU → last step."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(VOCABULARY, 16)
        self.conv = nn.Conv1d(16, 32, kernel_size=3, padding=1)
        self.gru = nn.GRU(32, 24, batch_first=True)
        self.fc = nn.Linear(24, CLASSES)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        x = self.embed(tokens).transpose(1, 2)
        x = F.relu(self.conv(x)).transpose(1, 2)
        out, _ = self.gru(x)
        return self.fc(out[:, -1])


class TextCNN(nn.Module):
    """Kim's sentence CNN, no recurrence and no attention: three kernel widths, each max-
    pooled over the whole sentence (`F.max_pool1d(c, c.size(2)).squeeze(2)`), joined."""

    def __init__(self, widths: tuple[int, ...] = (3, 4, 5)) -> None:
        super().__init__()
        self.embed = nn.Embedding(VOCABULARY, 16)
        self.convs = nn.ModuleList(nn.Conv1d(16, 8, w) for w in widths)
        self.dropout = nn.Dropout(0.5)
        self.fc = nn.Linear(8 * len(widths), CLASSES)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        x = self.embed(tokens).permute(0, 2, 1)
        pooled = []
        for conv in self.convs:
            c = F.relu(conv(x))
            pooled.append(F.max_pool1d(c, c.size(2)).squeeze(2))
        return self.fc(self.dropout(torch.cat(pooled, dim=1)))


class SEGateNone(nn.Module):
    """A squeeze-and-excitation gate written with `None` indexing: `x * w[:, :, None, None]`."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3, padding=1)
        self.bn = nn.BatchNorm2d(16)
        self.fc1 = nn.Linear(16, 4)
        self.fc2 = nn.Linear(4, 16)
        self.head = nn.Linear(16, CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.bn(self.conv(x)))
        w = torch.sigmoid(self.fc2(F.relu(self.fc1(x.mean((2, 3))))))
        x = x * w[:, :, None, None]
        return self.head(x.mean((2, 3)))


# ------------------------------------------------------------------ the list

ZOO: tuple[ZooModel, ...] = (
    ZooModel("tv:resnet18", "resnet", from_torchvision("resnet18"), image()),
    ZooModel("tv:resnet50", "resnet", from_torchvision("resnet50"), image()),
    ZooModel("tv:resnext50_32x4d", "resnext", from_torchvision("resnext50_32x4d"), image()),
    ZooModel("tv:wide_resnet50_2", "resnet", from_torchvision("wide_resnet50_2"), image()),
    ZooModel("tv:mobilenet_v2", "mobilenet", from_torchvision("mobilenet_v2"), image()),
    ZooModel("tv:mobilenet_v3_small", "mobilenet", from_torchvision("mobilenet_v3_small"), image()),
    ZooModel("tv:mobilenet_v3_large", "mobilenet", from_torchvision("mobilenet_v3_large"), image()),
    ZooModel(
        "tv:shufflenet_v2_x0_5", "shufflenet", from_torchvision("shufflenet_v2_x0_5"), image()
    ),
    ZooModel("tv:squeezenet1_0", "squeezenet", from_torchvision("squeezenet1_0"), image()),
    ZooModel("tv:squeezenet1_1", "squeezenet", from_torchvision("squeezenet1_1"), image()),
    ZooModel("tv:efficientnet_b0", "efficientnet", from_torchvision("efficientnet_b0"), image()),
    ZooModel(
        "tv:efficientnet_v2_s", "efficientnet", from_torchvision("efficientnet_v2_s"), image()
    ),
    ZooModel("tv:densenet121", "densenet", from_torchvision("densenet121"), image()),
    ZooModel("tv:regnet_y_400mf", "regnet", from_torchvision("regnet_y_400mf"), image()),
    ZooModel("tv:regnet_x_400mf", "regnet", from_torchvision("regnet_x_400mf"), image()),
    ZooModel("tv:convnext_tiny", "convnext", from_torchvision("convnext_tiny"), image()),
    ZooModel("tv:vgg11_bn", "vgg", from_torchvision("vgg11_bn"), image(224)),
    ZooModel("tv:alexnet", "alexnet", from_torchvision("alexnet"), image(224)),
    ZooModel("tv:mnasnet0_5", "mnasnet", from_torchvision("mnasnet0_5"), image()),
    ZooModel(
        "tv:googlenet",
        "inception",
        from_torchvision("googlenet", aux_logits=False, init_weights=True),
        image(),
    ),
    ZooModel(
        "tv:inception_v3",
        "inception",
        from_torchvision("inception_v3", aux_logits=False, init_weights=True),
        image(299),
    ),
    ZooModel("timm:resnet10t", "resnet", from_timm("resnet10t"), image()),
    ZooModel("timm:resnest14d", "resnest", from_timm("resnest14d"), image()),
    ZooModel("timm:regnetx_002", "regnet", from_timm("regnetx_002"), image()),
    ZooModel("timm:convnext_atto", "convnext", from_timm("convnext_atto"), image()),
    ZooModel("timm:ghostnet_100", "ghostnet", from_timm("ghostnet_100"), image()),
    ZooModel(
        "timm:mobilenetv3_small_050", "mobilenet", from_timm("mobilenetv3_small_050"), image()
    ),
    ZooModel("timm:efficientnet_b0", "efficientnet", from_timm("efficientnet_b0"), image()),
    ZooModel("timm:lcnet_050", "lcnet", from_timm("lcnet_050"), image()),
    ZooModel("timm:mixnet_s", "mixnet", from_timm("mixnet_s"), image()),
    ZooModel("timm:repvgg_a0", "repvgg", from_timm("repvgg_a0"), image()),
    ZooModel("timm:dla34", "dla", from_timm("dla34"), image()),
    ZooModel("timm:cspresnet50", "cspnet", from_timm("cspresnet50"), image()),
    ZooModel("timm:vit_tiny_patch16_224", "vit", from_timm("vit_tiny_patch16_224"), image(224)),
    ZooModel("idiom:bilstm_last", "text", BiLSTMLast, TOKEN_IDS),
    ZooModel("idiom:row_lstm_zeros", "sequence", RowLSTM, SEQUENCE),
    ZooModel("idiom:gru_encoder_h0", "sequence", GRUEncoder, SEQUENCE),
    ZooModel("idiom:embed_conv_gru", "text", EmbedConvGRU, TOKEN_IDS),
    ZooModel("idiom:text_cnn", "text", TextCNN, TOKEN_IDS),
    ZooModel("idiom:se_gate_none", "squeeze-excite", SEGateNone, image(16)),
)


def short_name(model: ZooModel) -> str:
    """`resnet18` for `tv:resnet18`: what `--models` accepts beside the full name."""
    return model.name.partition(":")[2]


# Heavier variants of families already in the default run (twice the weights, or 299×299
# inputs): `--all` or `--models` runs them. They keep the default run near 15 minutes.
HEAVY = frozenset(
    {
        "tv:wide_resnet50_2",
        "tv:mobilenet_v3_large",
        "tv:efficientnet_v2_s",
        "tv:regnet_x_400mf",
        "tv:inception_v3",
    }
)


def default_models() -> list[ZooModel]:
    return [m for m in ZOO if m.name not in HEAVY]
