"""Element-wise activations and softmax."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from engine.blocks._common import only
from engine.blocks.spec import BlockSpec, Op, Operand, Param, Shape, ShapeMismatch, register


def _same(params: Mapping[str, Any], inputs: Mapping[str, Operand]) -> Shape:
    return only(inputs).shape


def _softmax_shape(params: Mapping[str, Any], inputs: Mapping[str, Operand]) -> Shape:
    x = only(inputs)
    # The channels axis follows N (and T): a sequence of plain values (N, T) has none.
    if params["axis"] == "channels" and not x.shape.features:
        raise ShapeMismatch(
            f"with axis 'channels' needs a channels axis, (N, C, …) or (N, T, C, …); got {x} "
            "— use axis 'last'"
        )
    return x.shape


def _activation(
    name: str,
    summary: str,
    params: tuple[Param, ...] = (),
    kwargs: Callable[[Mapping[str, Any], Shape], dict[str, Any]] = lambda p, x: {},
    aliases: tuple[str, ...] = (),
    shape: Callable[[Mapping[str, Any], Mapping[str, Operand]], Shape] = _same,
) -> None:
    register(
        BlockSpec(
            name=name,
            category="Activation",
            summary=summary,
            shape_formula="unchanged",
            weight_formula="none",
            params=params,
            shape=shape,
            op=lambda p, inputs, out: Op("module", target=name, kwargs=kwargs(p, inputs["x"])),
            id_prefix=name.lower(),
            aliases=("activation", "nonlinearity", *aliases),
        )
    )


_activation("ReLU", "max(0, x): passes positives, zeroes negatives.", aliases=("rectifier",))
_activation(
    "ReLU6",
    "min(max(0, x), 6): a ReLU capped at 6, as MobileNetV2 uses.",
    aliases=("rectifier", "clamp", "clip"),
)


def _hardtanh_shape(params: Mapping[str, Any], inputs: Mapping[str, Operand]) -> Shape:
    if params["min_val"] >= params["max_val"]:
        raise ShapeMismatch(
            f"needs min_val below max_val; got min_val {params['min_val']:g} and "
            f"max_val {params['max_val']:g} — lower min_val or raise max_val"
        )
    return only(inputs).shape


def _hardtanh_kwargs(params: Mapping[str, Any], x: Shape) -> dict[str, Any]:
    # Written only when not torch's default, so `clamp(x, -1, 1)` exports as nn.Hardtanh().
    return {
        name: params[name]
        for name, default in (("min_val", -1.0), ("max_val", 1.0))
        if params[name] != default
    }


_activation(
    "Hardtanh",
    "Clamps values into [min_val, max_val]: torch.clamp(x, a, b), ONNX Clip.",
    params=(
        Param("min_val", "float", -1.0, "Smallest value let through; below it, this value."),
        Param("max_val", "float", 1.0, "Largest value let through; above it, this value."),
    ),
    kwargs=_hardtanh_kwargs,
    aliases=("clamp", "clip"),
    shape=_hardtanh_shape,
)
_activation(
    "LeakyReLU",
    "x for positives, slope·x for negatives, so no unit goes silent for good.",
    params=(Param("negative_slope", "float", 0.01, "Slope for x < 0.", 0.0, 1.0),),
    kwargs=lambda p, x: {"negative_slope": p["negative_slope"]},
)
_activation(
    "GELU",
    "x·Φ(x): a smooth ReLU used by transformers; 'tanh' computes Φ with the tanh formula.",
    params=(
        Param(
            "approximate",
            "choice",
            "none",
            "'none': the exact Φ (erf); 'tanh': the tanh approximation (GPT-2, some ViTs).",
            choices=("none", "tanh"),
        ),
    ),
    kwargs=lambda p, x: {"approximate": p["approximate"]} if p["approximate"] != "none" else {},
)
_activation("Tanh", "Squashes values into (−1, 1).", aliases=("hyperbolic",))
_activation("Sigmoid", "Squashes values into (0, 1); a probability for yes/no outputs.")
_activation("SiLU", "x·sigmoid(x) (swish): a smooth ReLU used by EfficientNet and MobileNetV3.")
_activation(
    "ELU",
    "x for positives, alpha·(eˣ − 1) for negatives: smooth, with negative outputs.",
    params=(Param("alpha", "float", 1.0, "Value approached for very negative x.", 0.0, 10.0),),
    kwargs=lambda p, x: {"alpha": p["alpha"]} if p["alpha"] != 1.0 else {},
)
_activation("Hardswish", "x·ReLU6(x + 3)/6: a cheap swish for mobile networks (MobileNetV3).")
_activation(
    "Hardsigmoid",
    "ReLU6(x + 3)/6: a cheap sigmoid for gates in mobile networks (MobileNetV3's SE).",
    aliases=("gate",),
)
_activation("Mish", "x·tanh(softplus(x)): a smooth, non-monotonic ReLU.")
_activation(
    "LogSoftmax",
    "The logarithm of softmax along an axis: log-probabilities, as NLL losses expect.",
    params=(
        Param(
            "axis",
            "choice",
            "last",
            "'last' axis, or the 'channels' axis (per pixel).",
            choices=("last", "channels"),
        ),
    ),
    kwargs=lambda p, x: {"dim": -1 if p["axis"] == "last" else (2 if x.time else 1)},
    aliases=("log probabilities",),
    shape=_softmax_shape,
)


def _prelu_shape(params: Mapping[str, Any], inputs: Mapping[str, Operand]) -> Shape:
    x = only(inputs)
    if params["slopes"] == "channels" and not x.shape.features:
        raise ShapeMismatch(
            f"with slopes 'channels' needs a channels axis, (N, C, …) or (N, T, C, …); got {x} "
            "— use slopes 'one'"
        )
    return x.shape


def _prelu_slopes(params: Mapping[str, Any], x: Shape) -> int:
    return x.features[0] if params["slopes"] == "channels" else 1


def _prelu_op(params: Mapping[str, Any], inputs: Mapping[str, Shape], out: Shape) -> Op:
    x = inputs["x"]
    slopes = _prelu_slopes(params, x)
    kwargs = {"num_parameters": slopes} if slopes != 1 else {}
    # torch learns one slope per entry of axis 1: with a time axis that is T, so the
    # per-channel form runs on each frame.
    return Op("module", target="PReLU", kwargs=kwargs, fold=slopes != 1 and x.time)


register(
    BlockSpec(
        name="PReLU",
        category="Activation",
        summary="Like LeakyReLU, but the slope for negatives is learned (one, or per channel).",
        shape_formula="unchanged",
        weight_formula="1, or one slope per channel",
        params=(
            Param(
                "slopes",
                "choice",
                "one",
                "'one' slope shared by all values, or one per 'channels' entry.",
                choices=("one", "channels"),
            ),
        ),
        shape=_prelu_shape,
        op=_prelu_op,
        id_prefix="prelu",
        count_params=lambda p, inputs, out: _prelu_slopes(p, inputs["x"]),
        flops=lambda p, inputs, out: inputs["x"].numel(),
        aliases=("activation", "nonlinearity", "parametric", "learned slope"),
    )
)

_activation(
    "Softmax",
    "Turns scores into probabilities that sum to 1 along an axis. For training with "
    "cross-entropy, leave it out: the loss applies it itself.",
    params=(
        Param(
            "axis",
            "choice",
            "last",
            "'last' axis, or the 'channels' axis (per pixel).",
            choices=("last", "channels"),
        ),
    ),
    kwargs=lambda p, x: {"dim": -1 if p["axis"] == "last" else (2 if x.time else 1)},
    aliases=("probabilities",),
    shape=_softmax_shape,
)
