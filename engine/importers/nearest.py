"""The nearest blocks to an operation no block computes, for the import report.

One table for both importers, keyed by the operation's name without case or underscores
(ONNX `Softplus`, torch's `nn.Softplus` and `F.softplus` are one entry), so a report
line says what a model could use instead wherever the operation came from.
"""

from __future__ import annotations

_NEAREST = {
    "softplus": "ELU, SiLU and Mish (smooth ReLUs)",
    "selu": "ELU (SELU is a scaled ELU)",
    "celu": "ELU",
    "thresholdedrelu": "ReLU",
    "threshold": "ReLU",
    "rrelu": "LeakyReLU",
    "softsign": "Tanh",
    "tanhshrink": "Tanh",
    "logsigmoid": "Sigmoid",
    "hardshrink": "Hardtanh",
    "softshrink": "Hardtanh",
    "softmin": "Softmax",
    "glu": "Split, then Sigmoid and Multiply",
    "reducemin": "Mean, which reduces by mean, sum or max",
    "amin": "Mean, which reduces by mean, sum or max",
    "reducel2": "Mean, which reduces by mean, sum or max",
    "max": "Mean with reduce max (over an axis of one tensor)",
    "expand": "Upsample with mode nearest (repeats positions)",
    "tile": "Upsample with mode nearest (repeats positions)",
    "einsum": "Dense and the Conv blocks (the usual products)",
    "lpnormalization": "LayerNorm",
    "normalize": "LayerNorm",
}


def nearest(name: str) -> str | None:
    """The blocks nearest to operation `name` (`Softplus`, `softplus`, `F.softplus`), or None."""
    key = name.rsplit(".", 1)[-1].lower().replace("_", "").strip("()")
    return _NEAREST.get(key)


def with_nearest(why: str, name: str) -> str:
    """`why`, followed by the nearest blocks to `name` where there are some."""
    near = nearest(name)
    return f"{why}; the nearest: {near}" if near else why
