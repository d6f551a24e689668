"""One harness over the whole block registry (STYLE habit 7).

For every block and each of its cases below: the pure-Python shape rule equals the
output shape torch computes on the `meta` device, the parameter-count rule equals the
built module's parameter count, and params survive a JSON round trip. Every block
that has an input also gets wrong input shapes whose messages must name the node,
what it expected and what it received from where. A block missing from the tables
fails `test_every_block_has_cases`, so a new block cannot slip through untested.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import pytest
import torch
from torch import nn

from engine.blocks.spec import REGISTRY, Param, ParamError, all_specs, get_spec
from engine.graph.graph import Graph
from engine.graph.shapes import analyze
from engine.model.build import build_model
from engine.project.project import Project, from_dict, to_dict

BATCH = 2


@dataclass(frozen=True)
class Case:
    """One way to feed a block: an Input per port (one sample's shape) and the params."""

    inputs: tuple[tuple[int, ...], ...]
    params: dict[str, Any] = field(default_factory=dict)
    sequence: bool = False  # the first axis of every input is time T
    ids: bool = False  # the inputs are int64 token ids

    @property
    def label(self) -> str:
        shapes = " ".join("x".join(map(str, s)) for s in self.inputs) or "-"
        return f"{'T' if self.sequence else ''}{shapes}{' ids' if self.ids else ''}"


def x(*shape: int, **params: Any) -> Case:
    return Case((shape,), params)


def frames(*shape: int, **params: Any) -> Case:
    """A sequence input: `shape[0]` is the time axis T."""
    return Case((shape,), params, sequence=True)


def ids(*shape: int, sequence: bool = True, **params: Any) -> Case:
    return Case((shape,), params, sequence=sequence, ids=True)


def merge(*shapes: tuple[int, ...], sequence: bool = False, **params: Any) -> Case:
    return Case(tuple(shapes), {"inputs": len(shapes), **params}, sequence=sequence)


def source(shape: list[int], sequence: bool = False, dtype: str = "float32") -> Case:
    """A case for the Input block itself: its params are the sample shape."""
    return Case((), {"shape": shape, "sequence": sequence, "dtype": dtype}, sequence=sequence)


def pool_cases(spatial: int) -> list[Case]:
    size = (6, 8, 10)[:spatial]
    # per axis: C3D's first pooling keeps time, (1, 2, 2); a list per axis for each size
    window = [1, 2, 2][-spatial:]
    padding = [0, 1, 1][-spatial:]
    return [
        x(3, *size),
        x(3, *size, kernel_size=3, stride=1, padding=1),
        x(2, *size, kernel_size=3, stride=2),
        frames(4, 2, *size),
        x(2, *size, kernel_size=window, stride=window),
        x(2, *size, kernel_size=[3, 2, 3][-spatial:], stride=[2, 1, 2][-spatial:], padding=padding),
        # ceil_mode keeps a last partial window: 7 → 3 with window 3, stride 2
        x(2, *(7,) * spatial, kernel_size=3, stride=2, ceil_mode=True),
        x(2, *(8,) * spatial, kernel_size=2, stride=3, padding=1, ceil_mode=True),
        *(
            [frames(9, 4), frames(9, 4, kernel_size=3, stride=2, ceil_mode=True)]
            if spatial == 1
            else []
        ),
    ]


def adaptive_cases(spatial: int) -> list[Case]:
    size = (6, 7, 9)[:spatial]
    return [
        x(4, *size),
        x(4, *size, output_size=3),
        x(4, *size, output_size=[2, 3, 4][-spatial:]),
        frames(5, 4, *size, output_size=2),
        *([frames(9, 4, output_size=3)] if spatial == 1 else []),
    ]


def transpose_cases(spatial: int) -> list[Case]:
    size = (5, 4, 6)[:spatial]
    return [
        x(4, *size),
        x(2, *size, kernel_size=3, stride=2, padding=1, output_padding=1, out_channels=6),
        frames(3, 4, *size, out_channels=2, bias=False),
        x(4, *size, kernel_size=[3, 2, 4][-spatial:], stride=[1, 2, 3][-spatial:], groups=2),
        x(2, *size, kernel_size=2, stride=1, dilation=[2, 3, 2][-spatial:], output_padding=1),
        *([frames(5, 3, out_channels=4)] if spatial == 1 else []),
    ]


def activation_cases(**params: Any) -> list[Case]:
    return [x(10, **params), frames(4, 3, 8, 8, **params), x(2, 5, **params)]


def with_state(rows: int, hidden: int, steps: int = 6, features: int = 3, **params: Any) -> Case:
    """A sequence and an initial state (N, rows, hidden) for the second port."""
    return Case(((steps, features), (rows, hidden)), {"initial_state": True, **params}, True)


def recurrent_cases(pair: int = 1, **extra: Any) -> list[Case]:
    """`pair`: 2 for an LSTM, whose state stacks h_n and c_n rows."""
    return [
        frames(10, 3, output="state", hidden_size=5, **extra),
        frames(7, 4, output="state", num_layers=2, bidirectional=True, hidden_size=3, **extra),
        with_state(pair, 8, hidden_size=8, **extra),
        with_state(pair * 4, 5, hidden_size=5, num_layers=2, bidirectional=True, **extra),
        with_state(pair * 2, 4, hidden_size=4, num_layers=2, output="state", **extra),
        frames(10, 3, **extra),
        frames(7, 5, bidirectional=True, output="sequence", num_layers=2, dropout=0.1, **extra),
        frames(4, 6, hidden_size=8, bidirectional=True, output="last", **extra),
        frames(1, 1, hidden_size=1, num_layers=3, output="sequence", **extra),
    ]


CASES: dict[str, list[Case]] = {
    "Input": [
        source([3, 8, 8]),
        source([8, 1, 16, 16], sequence=True),
        source([5]),
    ],
    "Output": [
        x(10),
        x(4, 8, 8),
        frames(6, 3, loss="mse"),
        x(1, loss="bce"),
    ],
    "Conv1d": [
        x(4, 20),
        x(4, 20, kernel_size=5, stride=2, padding="valid", dilation=2, out_channels=3),
        frames(5, 4, 20, out_channels=8, padding=1, bias=False),
        # depthwise: one filter per channel
        x(4, 20, out_channels=4, groups=4, padding_mode="reflect"),
        x(4, 20, kernel_size=[3], stride=[2], padding=[2], padding_mode="circular"),
        # straight on a sequence (N, T, F): slides along time, F are the channels
        frames(10, 3, out_channels=8),
        frames(9, 4, kernel_size=3, stride=2, padding="valid", groups=2, out_channels=2),
    ],
    "Conv2d": [
        x(3, 8, 8),
        x(3, 9, 9, kernel_size=3, stride=2, padding="valid"),
        x(3, 10, 12, dilation=2, kernel_size=5),
        frames(4, 1, 16, 16, out_channels=8),
        x(3, 9, 12, kernel_size=[1, 3], stride=[1, 2], padding=[0, 1], dilation=[2, 1]),
        x(3, 9, 12, kernel_size=[3, 5], dilation=[1, 2]),  # 'same' per axis
        # ResNeXt-style grouped 3×3, and a depthwise 3×3 with mirrored edges
        x(8, 6, 6, out_channels=16, groups=4, bias=False),
        x(6, 6, 6, out_channels=6, groups=6, padding_mode="reflect"),
        x(2, 5, 5, padding=[2, 1], padding_mode="replicate"),
    ],
    "Conv3d": [
        x(2, 6, 8, 8),
        x(1, 5, 5, 5, kernel_size=3, stride=2, padding="valid"),
        frames(3, 2, 4, 6, 6, out_channels=4, kernel_size=1),
        # C3D-like: 3×3×3 kernels padded (0, 1, 1), time kept at first
        x(3, 8, 12, 12, kernel_size=3, padding=[0, 1, 1], out_channels=8),
        x(
            4,
            5,
            6,
            7,
            kernel_size=[1, 3, 3],
            stride=[1, 2, 2],
            padding=[0, 1, 1],
            groups=2,
            padding_mode="circular",
        ),
    ],
    **{f"ConvTranspose{n}d": transpose_cases(n) for n in (1, 2, 3)},
    "Upsample": [
        x(3, 4, 4),
        x(2, 5, 3, scale_factor=3, mode="bilinear"),
        frames(4, 3, 4, 4),
        frames(2, 3, 2, 5, mode="bilinear"),
        x(2, 5, 3, scale_factor=[1, 2], mode="bicubic", align_corners=True),
    ],
    "Upsample1d": [
        x(3, 7),
        x(3, 7, scale_factor=[3], mode="linear"),
        frames(4, 2, 5),
        frames(6, 3, mode="linear"),
    ],
    "Upsample3d": [
        x(2, 3, 4, 5),
        x(2, 3, 4, 5, scale_factor=[1, 2, 2], mode="trilinear", align_corners=True),
        frames(3, 2, 2, 3, 3, mode="trilinear"),
    ],
    **{f"{kind}Pool{n}d": pool_cases(n) for kind in ("Max", "Avg") for n in (1, 2, 3)},
    **{f"Adaptive{kind}Pool{n}d": adaptive_cases(n) for kind in ("Avg", "Max") for n in (1, 2, 3)},
    "GlobalPool": [x(8, 4, 4), x(8, 10, mode="max"), frames(5, 8, 4, 4), frames(3, 2, 2, 3, 3)],
    "Dense": [
        x(20),
        frames(5, 20),
        x(3, 7, units=4, bias=False),
        x(5, 6, 8, units=12, over="last axis"),
        frames(4, 3, 5, 6, units=2, over="last axis"),
    ],
    "Flatten": [x(3, 4, 5), frames(6, 3, 4, 4), x(7)],
    "Dropout": [x(10), frames(5, 3, 4, 4), x(3, 8, 8, p=0.2)],
    "Dropout2d": [x(3, 8, 8), frames(5, 3, 4, 4, p=0.2), x(1, 2, 9)],
    "Embedding": [
        ids(12),
        ids(7, sequence=False, num_embeddings=50, embedding_dim=4),
        ids(5, 3, embedding_dim=6),
        ids(6, num_embeddings=20, padding_idx=0),
        ids(6, num_embeddings=20, padding_idx=19),
    ],
    "RNN": [*recurrent_cases(nonlinearity="relu"), frames(5, 3, bias=False, num_layers=2)],
    "GRU": [*recurrent_cases(), frames(5, 3, bias=False, bidirectional=True)],
    "LSTM": [*recurrent_cases(pair=2), frames(5, 3, bias=False, hidden_size=4)],
    "BatchNorm": [
        x(10),
        x(4, 8, 8),
        x(2, 3, 4, 5),
        frames(5, 4, 8, 8),
        frames(6, 3, momentum=0),
        x(4, 8, 8, affine=False),
        x(4, 8, 8, eps=1e-3, track_running_stats=False),
    ],
    "LayerNorm": [
        x(10),
        frames(6, 10),
        x(3, 4, 5),
        x(3, 4, 5, axes=3),  # over (C, H, W)
        frames(6, 4, 5, axes=2, bias=False),
        x(3, 4, 5, axes=2, affine=False),
        x(3, 4, 5, eps=1e-6),
    ],
    "GroupNorm": [
        x(8, 4, 4, num_groups=4),
        x(6, 10, num_groups=3, affine=False),
        frames(5, 4, 3, 3, num_groups=2),
        x(4, 2, 3, 3),
        x(6),
        x(8, 4, num_groups=2, eps=1e-6),
    ],
    "InstanceNorm": [
        x(4, 10),
        x(3, 8, 8, affine=True),
        x(2, 3, 4, 5),
        frames(5, 3, 4, 4),
        x(3, 8, 8, eps=1e-3),
    ],
    "ReLU": activation_cases(),
    "ReLU6": activation_cases(),
    "Hardtanh": [*activation_cases(min_val=0.0, max_val=6.0), x(3, max_val=2.5)],
    "Hardsigmoid": activation_cases(),
    "LeakyReLU": activation_cases(negative_slope=0.2),
    "GELU": [*activation_cases(), x(3, approximate="tanh")],
    "Tanh": activation_cases(),
    "Sigmoid": activation_cases(),
    "SiLU": activation_cases(),
    "ELU": [*activation_cases(alpha=0.5), x(3, alpha=1.0)],
    "Hardswish": activation_cases(),
    "Mish": activation_cases(),
    "PReLU": [
        *activation_cases(),
        *activation_cases(slopes="channels"),
        frames(5, 3, slopes="channels"),
    ],
    "LogSoftmax": [x(10), x(3, 4, 4, axis="channels"), frames(5, 3, 4, 4, axis="channels")],
    "Softmax": [x(10), x(3, 4, 4, axis="channels"), frames(5, 3, 4, 4, axis="channels")],
    "Add": [
        merge((3, 8, 8), (3, 8, 8)),
        merge((5, 4), (5, 4), sequence=True),
        merge((10,), (10,), (10,)),
        merge(*[(3, 2, 2)] * 25),
    ],
    "Multiply": [
        merge((3, 8, 8), (3, 8, 8)),
        merge((3, 8, 8), (3, 1, 1)),  # squeeze-and-excitation: a gate per channel
        merge((5, 4), (5, 4), sequence=True),  # a gated unit
        merge((1, 4), (3, 1), (3, 4)),
    ],
    "Concat": [
        merge((3, 8, 8), (5, 8, 8)),
        merge((5, 4), (5, 6), sequence=True),
        merge((2,), (3,), (4,)),
        merge((4, 2, 3, 3), (4, 5, 3, 3), sequence=True),
        merge(*[(c, 2, 2) for c in range(1, 65)]),  # densenet joins many branches
    ],
    "Reshape": [x(12, shape=[3, 4]), x(3, 4, 4, shape=[-1]), frames(5, 2, 6, shape=[3, -1])],
    "Mean": [
        x(3, 8, 8),
        x(3, 8, 8, axes=[2, 3], keepdim=True),
        frames(5, 4, axes=[1]),  # over time
        frames(5, 4, 6, axes=[3, 2]),
        x(3, 4, 5, axes=[1, 2, 3], keepdim=True),
        x(3, 8, 8, reduce="sum"),  # resnest's .sum(dim)
        frames(5, 4, axes=[1], reduce="max"),
    ],
    "Split": [
        x(6, 4, 4, sizes=[2, 4]),  # torch.split(x, [2, 4], dim=1)
        x(6, 4, 4, axis=3, sizes=[1, 1, 1, 1], squeeze=True),  # unbind
        frames(5, 3, sizes=[2, 3]),  # along time
        frames(4, 6, axis=2, sizes=[3, 3]),
        frames(3, 4, axis=1, sizes=[1, 1, 1], squeeze=True),  # each step, without time
    ],
    "Slice": [
        x(8, 4, 4, stop=4),
        frames(6, 5, start=-3),
        x(8, 6, axis=2, start=1, stop=-1, step=2),
    ],
    "Select": [
        frames(5, 4),  # the last step: (N, T, F) → (N, F)
        x(3, 4, 5, axis=2, index=0),
        frames(5, 3, 4, 4, axis=2, index=1),
    ],
    "LayerScale": [
        x(8, 4, 4),
        frames(5, 6),
        x(4, 5, axis="last", init=0.5),
        frames(3, 2, 4, 4),
    ],
    "DropPath": [x(10), frames(5, 3, 4, 4, p=0.2), x(3, 8, 8, mode="batch")],
    "Permute": [
        x(3, 5),
        frames(5, 3, dims=[2, 1]),
        x(2, 3, 4, dims=[3, 1, 2]),
        frames(5, 2, 3, dims=[1, 3, 2]),
    ],
}
# timm's ResNet-D shortcut: AvgPool2d(2, 2, ceil_mode=True, count_include_pad=False)
for _n in (1, 2, 3):
    CASES[f"AvgPool{_n}d"].append(
        x(
            2,
            *(7,) * _n,
            kernel_size=3,
            stride=2,
            padding=1,
            ceil_mode=True,
            count_include_pad=False,
        )
    )


@dataclass(frozen=True)
class Wrong:
    """An input a block must refuse: what its message expects and the shape it names."""

    case: Case
    expects: str
    got: str  # the received shape, as the message prints it


def no_ids() -> Wrong:
    return Wrong(ids(5), "needs float input", "token ids (N, T)")


def _layout(rank: int, natural: str, framed: str) -> str:
    return f"needs {rank}-D input {natural} or frames {framed}"


CONV_EXPECTS = {
    1: _layout(3, "(N, C, L)", "(N, T, C, L)"),
    2: _layout(4, "(N, C, H, W)", "(N, T, C, H, W)"),
    3: _layout(5, "(N, C, D, H, W)", "(N, T, C, D, H, W)"),
}

WRONG: dict[str, list[Wrong]] = {
    "Output": [Wrong(frames(6, 3), "needs class scores (N, classes)", "(N, T, 3)")],
    "Conv1d": [
        Wrong(x(64), CONV_EXPECTS[1], "(N, 64)"),
    ],
    "Conv2d": [
        Wrong(x(64), CONV_EXPECTS[2], "(N, 64)"),
        Wrong(frames(4, 16, 16), CONV_EXPECTS[2], "(N, T, 16, 16)"),
    ],
    "Conv3d": [Wrong(x(3, 8, 8), CONV_EXPECTS[3], "(N, 3, 8, 8)")],
    **{f"ConvTranspose{n}d": [Wrong(x(64), CONV_EXPECTS[n], "(N, 64)")] for n in (1, 2, 3)},
    "Upsample": [Wrong(x(3, 10), CONV_EXPECTS[2], "(N, 3, 10)")],
    "Upsample1d": [Wrong(x(64), CONV_EXPECTS[1], "(N, 64)")],
    "Upsample3d": [Wrong(x(3, 10, 10), CONV_EXPECTS[3], "(N, 3, 10, 10)")],
    **{
        f"{kind}Pool{n}d": [Wrong(x(64), CONV_EXPECTS[n], "(N, 64)")]
        for kind in ("Max", "Avg")
        for n in (1, 2, 3)
    },
    **{
        f"Adaptive{kind}Pool{n}d": [Wrong(x(10), CONV_EXPECTS[n], "(N, 10)")]
        for kind in ("Avg", "Max")
        for n in (1, 2, 3)
    },
    "GlobalPool": [Wrong(x(10), "needs channels and at least one spatial axis", "(N, 10)")],
    "Dense": [Wrong(x(3, 8, 8), "needs (N, F) or a sequence (N, T, F)", "(N, 3, 8, 8)")],
    "Flatten": [Wrong(frames(5), "needs features to flatten after (N, T)", "(N, T)")],
    "Dropout": [no_ids()],
    "Embedding": [Wrong(frames(12), "needs token ids", "floats (N, T)")],
    **{
        cell: [
            Wrong(frames(5, 3, 8, 8), "needs a sequence (N, T, F)", "(N, T, 3, 8, 8)"),
            Wrong(
                with_state(3, 8, hidden_size=8),
                f"needs an initial state (N, {2 if cell == 'LSTM' else 1}, 8)",
                "(N, T, 8)",
            ),
        ]
        for cell in ("RNN", "GRU", "LSTM")
    },
    "BatchNorm": [
        Wrong(x(1, 2, 3, 4, 5), "needs (N, C), (N, C, L), (N, C, H, W)", "(N, 1, 2, 3, 4, 5)")
    ],
    "LayerNorm": [no_ids(), Wrong(x(10, axes=2), "with axes 2 needs at least 2 axes", "(N, 10)")],
    "GroupNorm": [
        Wrong(x(6, 4, num_groups=4), "num_groups 4 must divide the channels (6)", "(N, 6, 4)")
    ],
    "InstanceNorm": [
        Wrong(x(10), "needs (N, C, L), (N, C, H, W)", "(N, 10)"),
        Wrong(frames(4, 3, 1, 1), "needs more than one value per channel", "(N, T, 3, 1, 1)"),
    ],
    "Dropout2d": [Wrong(x(10), CONV_EXPECTS[2], "(N, 10)")],
    "PReLU": [
        no_ids(),
        Wrong(
            frames(5, slopes="channels"), "with slopes 'channels' needs a channels axis", "(N, T)"
        ),
    ],
    "Multiply": [
        Wrong(merge((3, 8, 8), (3, 8)), "needs inputs with the same number of axes", "(N, 3, 8)"),
        Wrong(
            merge((3, 8, 8), (2, 1, 1)), "needs every axis to be of one size or 1", "(N, 2, 1, 1)"
        ),
    ],
    "Mean": [
        Wrong(x(3, 5, axes=[1, 3]), "axes must be distinct axes among 1, 2", "(N, 3, 5)"),
        Wrong(x(3, 5, axes=[1, 2]), "would leave no axis after N", "(N, 3, 5)"),
    ],
    **{
        name: [no_ids()]
        for name in ("ReLU", "LeakyReLU", "GELU", "Tanh", "Sigmoid", "SiLU", "ELU", "Hardswish")
    },
    **{name: [no_ids()] for name in ("ReLU6", "Hardtanh", "Hardsigmoid")},
    "Mish": [no_ids()],
    "Softmax": [no_ids()],
    "LogSoftmax": [no_ids()],
    "Add": [
        Wrong(merge((3, 8, 8), (4, 8, 8)), "needs inputs of one shape", "(N, 3, 8, 8)"),
        Wrong(merge((5, 4), (5, 4), (6, 4)), "needs inputs of one shape", "(N, 6, 4)"),
    ],
    "Concat": [
        Wrong(
            merge((3, 8, 8), (3, 4, 4)), "needs inputs that differ only in channels", "(N, 3, 4, 4)"
        )
    ],
    "Reshape": [Wrong(x(10, shape=[3, 4]), "target (3, 4) holds 12 values", "(N, 10)")],
    "Permute": [Wrong(x(3, 5, dims=[1, 2, 3]), "dims must order the axes 1, 2", "(N, 3, 5)")],
    "Split": [
        Wrong(x(6, 4, sizes=[2, 3]), "sizes (2, 3) add up to 5, but axis 1 has 6", "(N, 6, 4)"),
        Wrong(x(6, axis=2, sizes=[3, 3]), "axis 2 is out of range", "(N, 6)"),
        Wrong(
            x(3, 4, sizes=[1, 2], squeeze=True), "with squeeze every size must be 1", "(N, 3, 4)"
        ),
    ],
    "Slice": [
        Wrong(x(4, 5, start=4, stop=2), "keep nothing of axis 1", "(N, 4, 5)"),
        Wrong(x(4, 5, axis=3), "axis 3 is out of range", "(N, 4, 5)"),
    ],
    "Select": [
        Wrong(frames(5, 4, index=5), "index 5 is out of range for axis 1 of size 5", "(N, T, 4)"),
        Wrong(x(4), "would leave no axis after N", "(N, 4)"),
    ],
    "LayerScale": [no_ids(), Wrong(frames(5), "needs a channels or feature axis", "(N, T)")],
    "DropPath": [no_ids()],
}

WRONG["MaxPool2d"].append(Wrong(x(3, 1, 5), "window 2 leaves no output", "(N, 3, 1, 5)"))
WRONG["MaxPool3d"].append(
    Wrong(
        x(3, 1, 5, 5, kernel_size=[2, 2, 2]), "window (2, 2, 2) leaves no output", "(N, 3, 1, 5, 5)"
    )
)
WRONG["Conv2d"] += [
    Wrong(
        x(6, 8, 8, out_channels=16, groups=4),
        "groups 4 must divide the input channels (6) and the filters (16)",
        "(N, 6, 8, 8)",
    ),
    # torch mirrors at most side − 1 values: 'same' padding 2 of a 5×5 kernel on a 2×2 map
    Wrong(
        x(3, 2, 2, kernel_size=5, padding_mode="reflect"),
        "padding_mode 'reflect' needs padding smaller than each side",
        "(N, 3, 2, 2)",
    ),
]
WRONG["ConvTranspose3d"].append(
    Wrong(x(3, 4, 4, 4, groups=2), "groups 2 must divide the input channels (3)", "(N, 3, 4, 4, 4)")
)
# torch's avg_pool3d also refuses a side shorter than the window, padding or not.
WRONG["AvgPool3d"].append(
    Wrong(
        x(2, 1, 6, 6, padding=1),
        "needs every side of (1, 6, 6) to be at least 2",
        "(N, 2, 1, 6, 6)",
    )
)


# ------------------------------------------------------------------ the wiring


@dataclass
class Wired:
    graph: Graph
    block: str  # the id of the node under test
    sources: list[str]  # the Inputs wired into it, in port order


def wire(block: str, case: Case) -> Wired:
    """Input(s) → block → Output; the Input alone feeds an Output when it is the block."""
    graph = Graph()
    spec = get_spec(block)
    if spec.role == "input":
        node = graph.add_node("Input", case.params)
        graph.connect(node.id, graph.add_node("Output", {"loss": "none"}).id)
        return Wired(graph, node.id, [])
    dtype = "int64" if case.ids else "float32"
    sources = [
        graph.add_node("Input", {"shape": list(s), "sequence": case.sequence, "dtype": dtype}).id
        for s in case.inputs
    ]
    node = graph.add_node(block, case.params)
    assert len(node.ports) == len(sources), f"{block} case wires {len(sources)} inputs"
    for port, src in zip(node.ports, sources, strict=True):
        graph.connect(src, node.id, port)
    if spec.role != "output":
        # A block with several outputs (Split) feeds the Output from its first.
        output = graph.add_node("Output", {"loss": "none"}).id
        graph.connect(node.id, output, source_port=node.outputs[0])
    return Wired(graph, node.id, sources)


def sample_inputs(wired: Wired, case: Case) -> list[torch.Tensor]:
    if not wired.sources:  # the Input block itself
        dtype = torch.int64 if case.params.get("dtype") == "int64" else torch.float32
        return [torch.empty((BATCH, *case.params["shape"]), dtype=dtype)]
    dtype = torch.int64 if case.ids else torch.float32
    return [torch.empty((BATCH, *shape), dtype=dtype) for shape in case.inputs]


CASE_PARAMS = [
    pytest.param(name, case, id=f"{name}-{case.label}")
    for name, cases in CASES.items()
    for case in cases
]
WRONG_PARAMS = [
    pytest.param(name, wrong, id=f"{name}-{wrong.case.label}")
    for name, wrongs in WRONG.items()
    for wrong in wrongs
]


# ------------------------------------------------------------- table coverage


def test_every_block_has_cases() -> None:
    too_few = [s.name for s in all_specs() if len(CASES.get(s.name, [])) < 3]
    assert not too_few, f"add at least 3 cases to CASES for: {', '.join(too_few)}"
    no_frames = [s.name for s in all_specs() if not any(c.sequence for c in CASES[s.name])]
    assert not no_frames, f"add a frames/sequence case for: {', '.join(no_frames)}"


def test_every_block_with_inputs_has_a_wrong_shape() -> None:
    with_ports = [s.name for s in all_specs() if s.ports(s.defaults())]
    missing = [name for name in with_ports if not WRONG.get(name)]
    assert not missing, f"add a wrong input shape to WRONG for: {', '.join(missing)}"


def test_tables_name_only_registered_blocks() -> None:
    all_specs()
    assert set(CASES) <= set(REGISTRY) and set(WRONG) <= set(REGISTRY)


# ------------------------------------------------------------ the harness


@pytest.mark.parametrize(("block", "case"), CASE_PARAMS)
def test_shape_rule_and_param_count_match_torch(block: str, case: Case) -> None:
    wired = wire(block, case)
    analysis = analyze(wired.graph)
    assert analysis.ok, analysis.problems
    info = analysis.nodes[wired.block]
    assert info.shape is not None and info.flops >= 0

    with torch.device("meta"):
        model = build_model(wired.graph, analysis)
        output = model(*sample_inputs(wired, case))

    assert output.device.type == "meta"
    assert tuple(output.shape) == (BATCH, *info.shape.dims)
    built = sum(p.numel() for p in model.parameters())
    assert info.params == built
    assert analysis.total_params == built


@pytest.mark.parametrize(("block", "case"), CASE_PARAMS)
def test_params_round_trip_through_json(block: str, case: Case) -> None:
    graph = wire(block, case).graph
    text = json.dumps(to_dict(Project(graph)))
    reloaded = from_dict(json.loads(text)).graph

    def typed(g: Graph) -> dict[str, list[tuple[str, str, Any]]]:
        return {
            n.id: sorted((k, type(v).__name__, v) for k, v in n.params.items()) for n in g.nodes
        }

    assert typed(reloaded) == typed(graph)
    before, after = analyze(graph), analyze(reloaded)
    assert {k: i.shape for k, i in after.nodes.items()} == {
        k: i.shape for k, i in before.nodes.items()
    }


@pytest.mark.parametrize(("block", "wrong"), WRONG_PARAMS)
def test_wrong_input_shape_names_node_expectation_and_source(block: str, wrong: Wrong) -> None:
    wired = wire(block, wrong.case)
    analysis = analyze(wired.graph)
    messages = analysis.errors_of(wired.block)
    assert len(messages) == 1, analysis.problems
    message = messages[0]
    assert message.startswith(f"{wired.block}: {block} ")
    assert wrong.expects in message
    assert any(f"{wrong.got} from {src}" in message for src in wired.sources), message
    assert analysis.nodes[wired.block].shape is None
    assert not analysis.ok


def test_conv_after_dense_reads_as_the_design_says() -> None:
    graph = Graph()
    graph.add_node("Input", {"shape": [20]}, node_id="features")
    graph.add_node("Dense", {"units": 64}, node_id="dense1")
    graph.add_node("Conv2d", {}, node_id="conv2")
    graph.add_node("Output", {}, node_id="out")
    for src, dst in (("features", "dense1"), ("dense1", "conv2"), ("conv2", "out")):
        graph.connect(src, dst)
    assert [p.message for p in analyze(graph).problems] == [
        "conv2: Conv2d needs 4-D input (N, C, H, W) or frames (N, T, C, H, W); "
        "got (N, 64) from dense1"
    ]


# ---------------------------------------------------------------- parameters

SPEC_PARAMS = [
    pytest.param(spec.name, p, id=f"{spec.name}.{p.name}")
    for spec in all_specs()
    for p in spec.params
]


def refused_values(p: Param) -> list[Any]:
    """Values `p` must refuse: outside its bounds, not among its choices, or mistyped."""
    bad: list[Any] = [None, "3.5x"]
    if p.kind in ("int", "int_or_choice", "ints", "per_axis"):
        bad.append(1.5)
    if p.kind != "bool":
        bad.append(True)
    if p.kind in ("int", "float", "int_or_choice", "per_axis"):
        if p.minimum is not None:
            bad.append(int(p.minimum) - 2 if p.kind != "float" else p.minimum - 0.5)
        if p.maximum is not None:
            bad.append(int(p.maximum) + 1 if p.kind != "float" else p.maximum + 0.5)
    if p.kind == "float":
        bad += [float("nan"), float("inf")]
    if p.kind == "ints":
        bad += [[], [2] * (p.max_len + 1)]
        if p.minimum is not None:
            bad.append([2, int(p.minimum) - 1])
    if p.kind == "per_axis":
        # a list of the wrong length (one size per axis is required), a size out of range
        bad += [[], [2] * (p.max_len + 1), [int(p.minimum or 0) - 1] * p.max_len]
        if p.max_len > 1:
            bad.append([2] * (p.max_len - 1))
    if p.kind in ("bool", "choice"):
        bad.append(1)
    return bad


@pytest.mark.parametrize(("block", "param"), SPEC_PARAMS)
def test_default_validates_and_bad_values_are_refused(block: str, param: Param) -> None:
    spec = get_spec(block)
    assert spec.resolve_params({})[param.name] == param.default
    assert spec.resolve_params({param.name: param.default})[param.name] == param.default
    for value in refused_values(param):
        with pytest.raises(ParamError) as caught:
            spec.resolve_params({param.name: value})
        assert re.fullmatch(rf"{param.name}: expected .+, got .+", str(caught.value)), value


@pytest.mark.parametrize(
    ("block", "given", "message"),
    [
        (
            "Conv2d",
            {"kernel_size": -2},
            "kernel_size: expected an integer ≥ 1 or a list of 2 of them (one per axis), got -2",
        ),
        (
            "MaxPool3d",
            {"kernel_size": [1, 2]},
            "kernel_size: expected an integer ≥ 1 or a list of 3 of them (one per axis), "
            "got [1, 2]",
        ),
        ("LSTM", {"num_layers": 17}, "num_layers: expected an integer in 1..16, got 17"),
        ("Dropout", {"p": 1.5}, "p: expected a number in [0, 0.99], got 1.5"),
        (
            "Conv2d",
            {"padding": "full"},
            "padding: expected an integer ≥ 0 or a list of 2 of them (one per axis) "
            "or one of 'same', 'valid', got 'full'",
        ),
        ("GRU", {"bidirectional": "yes"}, "bidirectional: expected true or false, got 'yes'"),
        ("Input", {"shape": []}, "shape: expected a list of 1..8 integers ≥ 1, got []"),
        ("Input", {"shape": [3, 0]}, "shape: expected a list of 1..8 integers ≥ 1, got [3, 0]"),
        (
            "Output",
            {"loss": "l1"},
            "loss: expected one of 'cross_entropy', 'mse', 'bce', 'none', got 'l1'",
        ),
        ("Dense", {"units": True}, "units: expected an integer ≥ 1, got true"),
        (
            "Dense",
            {"units": 10**12},
            "units: expected an integer ≤ 65536 (NetLoom's size limit), got 1000000000000",
        ),
        (
            "Input",
            {"shape": [3, 10**7]},
            "shape: expected sizes ≤ 1000000 (NetLoom's size limit), got [3, 10000000]",
        ),
        ("Add", {"inputs": 65}, "inputs: expected an integer in 2..64, got 65"),
        (
            "Dense",
            {"unit": 3},
            "unit: Dense has no such parameter (it has: bias, over, units)",
        ),
    ],
)
def test_refusals_read_as_documented(block: str, given: dict[str, Any], message: str) -> None:
    with pytest.raises(ParamError) as caught:
        get_spec(block).resolve_params(given)
    assert str(caught.value) == message


def test_params_that_do_not_fit_together_name_the_node() -> None:
    wired = wire("Conv2d", x(3, 8, 8, kernel_size=4))
    assert analyze(wired.graph).errors_of(wired.block) == [
        f"{wired.block}: Conv2d padding 'same' needs an odd kernel_size; got 4"
    ]


def test_embedding_padding_idx_must_be_a_row_of_the_table() -> None:
    wired = wire("Embedding", ids(6, num_embeddings=20, padding_idx=20))
    assert analyze(wired.graph).errors_of(wired.block) == [
        f"{wired.block}: Embedding padding_idx must be below num_embeddings (20); got 20"
    ]


def test_a_scalar_size_means_every_axis_as_older_files_wrote_it() -> None:
    """A project saved before per-axis sizes (one number) builds the same module as the
    list form, and its export writes the number (so golden exports stay unchanged)."""
    scalar = wire("MaxPool3d", x(2, 8, 8, 8, kernel_size=2, padding=1, stride=2))
    listed = wire("MaxPool3d", x(2, 8, 8, 8, kernel_size=[2, 2, 2], padding=[1, 1, 1], stride=2))
    one, other = analyze(scalar.graph), analyze(listed.graph)
    assert one.nodes[scalar.block].shape == other.nodes[listed.block].shape
    assert one.nodes[scalar.block].op == other.nodes[listed.block].op
    assert one.nodes[scalar.block].op.kwargs == {"kernel_size": 2, "stride": 2, "padding": 1}
    # C3D's first pooling keeps the time axis: window (1, 2, 2)
    c3d = wire("MaxPool3d", x(64, 16, 112, 112, kernel_size=[1, 2, 2]))
    info = analyze(c3d.graph).nodes[c3d.block]
    assert info.shape.dims == (64, 16, 56, 56)
    assert info.op.kwargs["kernel_size"] == (1, 2, 2)


def test_conv1d_on_a_sequence_equals_the_permuted_conv() -> None:
    """Conv1d and pooling straight on (N, T, F): what a Permute before and after did."""
    graph = Graph()
    graph.add_node("Input", {"shape": [12, 5], "sequence": True}, node_id="text")
    graph.add_node("Conv1d", {"out_channels": 7, "kernel_size": 3}, node_id="conv")
    graph.add_node("MaxPool1d", {}, node_id="pool")
    graph.add_node("Output", {"loss": "none"}, node_id="out")
    for src, dst in (("text", "conv"), ("conv", "pool"), ("pool", "out")):
        graph.connect(src, dst)
    analysis = analyze(graph)
    assert str(analysis.nodes["conv"].shape) == "(N, T, 7)"
    assert analysis.nodes["pool"].shape.detailed() == "(N, T=6, 7)"
    model = build_model(graph, analysis)
    series = torch.randn(2, 12, 5)
    conv = model._modules["conv"]
    expected = nn.functional.max_pool1d(conv(series.permute(0, 2, 1)), 2).permute(0, 2, 1)
    assert torch.equal(model(series), expected)


@pytest.mark.parametrize("cell", ["GRU", "LSTM"])
def test_an_encoder_state_starts_the_decoder(cell: str) -> None:
    """Encoder–decoder: the encoder's output 'state' is the decoder's initial state,
    exactly as torch passes h_n (and c_n) from one layer to the other."""
    graph = Graph()
    graph.add_node("Input", {"shape": [7, 3], "sequence": True}, node_id="source")
    graph.add_node("Input", {"shape": [5, 4], "sequence": True}, node_id="target")
    size = {"hidden_size": 6, "num_layers": 2}
    graph.add_node(cell, {**size, "output": "state"}, node_id="encoder")
    graph.add_node(cell, {**size, "output": "sequence", "initial_state": True}, node_id="decoder")
    graph.add_node("Output", {"loss": "none"}, node_id="out")
    graph.connect("source", "encoder")
    graph.connect("target", "decoder", "x")
    graph.connect("encoder", "decoder", "state")
    graph.connect("decoder", "out")
    analysis = analyze(graph)
    rows = 4 if cell == "LSTM" else 2
    assert str(analysis.nodes["encoder"].shape) == f"(N, {rows}, 6)"
    model = build_model(graph, analysis)
    source, target = torch.randn(2, 7, 3), torch.randn(2, 5, 4)
    _, state = model._modules["encoder"](source)
    expected, _ = model._modules["decoder"](target, state)
    assert torch.equal(model(source, target), expected)


def test_multiply_and_mean_compute_what_they_say() -> None:
    """Squeeze-and-excitation by hand: mean over H, W kept as 1 × 1, times the map."""
    graph = Graph()
    graph.add_node("Input", {"shape": [3, 4, 5]}, node_id="image")
    graph.add_node("Mean", {"axes": [2, 3], "keepdim": True}, node_id="squeeze")
    graph.add_node("Multiply", {}, node_id="scale")
    graph.add_node("Output", {"loss": "none"}, node_id="out")
    graph.connect("image", "squeeze")
    graph.connect("image", "scale", "in1")
    graph.connect("squeeze", "scale", "in2")
    graph.connect("scale", "out")
    model = build_model(graph)
    image = torch.randn(2, 3, 4, 5)
    expected = image * image.mean(dim=(2, 3), keepdim=True)
    assert torch.equal(model(image), expected)


# ------------------------------------------------------------ multiply-adds


def block_info(block: str, case: Case) -> tuple[int, int]:
    wired = wire(block, case)
    info = analyze(wired.graph).nodes[wired.block]
    return info.params, info.flops


@pytest.mark.parametrize(
    ("block", "case", "flops"),
    [
        # each of 4×8×8 outputs sums 3 channels × 3×3 taps
        ("Conv2d", x(3, 8, 8, out_channels=4), 4 * 8 * 8 * 3 * 3 * 3),
        # per frame: 'valid' 3×3 over 6×6 leaves 4×4; 5 frames
        ("Conv2d", frames(5, 2, 6, 6, out_channels=3, padding="valid"), 5 * (3 * 4 * 4) * 2 * 9),
        ("Dense", x(20, units=5), 20 * 5),
        ("Dense", frames(4, 20, units=5), 4 * 20 * 5),
        # per step, 4 gates each multiply input (3) and hidden (4) by a 4-row matrix
        ("LSTM", frames(5, 3, hidden_size=4), 5 * 4 * (4 * 3 + 4 * 4)),
        ("LSTM", frames(5, 3, hidden_size=4, bidirectional=True), 2 * 5 * 4 * (4 * 3 + 4 * 4)),
        # transposed: every input pixel spreads a 2×2 patch per output channel
        ("ConvTranspose2d", frames(3, 4, 5, 5, out_channels=2), 3 * 5 * 5 * 4 * 2 * 2 * 2),
        # depthwise: each of 8×6×6 outputs sees one channel's 3×3 window
        ("Conv2d", x(8, 6, 6, out_channels=8, groups=8), 8 * 6 * 6 * 1 * 3 * 3),
        # grouped 1×3 kernel: 4 input channels per group of 2
        ("Conv2d", x(8, 5, 7, out_channels=4, groups=2, kernel_size=[1, 3]), 4 * 5 * 7 * 4 * 3),
        # 8 → 4 per axis with window (1, 2, 2): 2 × 8 × 4 × 4 outputs, 4 taps each
        ("MaxPool3d", x(2, 8, 8, 8, kernel_size=[1, 2, 2]), 2 * 8 * 4 * 4 * 4),
    ],
)
def test_flops_equal_hand_counted_multiply_adds(block: str, case: Case, flops: int) -> None:
    assert block_info(block, case)[1] == flops


def test_param_counts_equal_the_documented_formulas() -> None:
    # in_channels × filters × k × k + filters
    assert block_info("Conv2d", x(3, 8, 8, out_channels=16))[0] == 3 * 16 * 3 * 3 + 16
    # 4 × (hidden × F + hidden × hidden + 2 × hidden)
    assert block_info("LSTM", frames(5, 10, hidden_size=8))[0] == 4 * (8 * 10 + 8 * 8 + 2 * 8)
    assert block_info("Dense", frames(5, 10, units=3))[0] == 10 * 3 + 3
    # groups: in_channels / groups × filters × k × k + filters
    assert block_info("Conv2d", x(32, 8, 8, out_channels=64, groups=32))[0] == 1 * 64 * 9 + 64
    assert block_info("Conv3d", x(3, 8, 8, 8, kernel_size=[1, 3, 3], bias=False))[0] == 3 * 16 * 9
    assert block_info("LSTM", frames(5, 10, hidden_size=8, bias=False))[0] == 4 * (8 * 10 + 8 * 8)
    assert block_info("LayerNorm", x(3, 4, 5, axes=2))[0] == 2 * 4 * 5
    assert block_info("PReLU", x(6, 4, 4, slopes="channels"))[0] == 6
