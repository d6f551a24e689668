"""Normalisation layers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.blocks._common import only
from engine.spec import BlockSpec, Op, Operand, Param, Shape, ShapeMismatch, register


def _batchnorm_shape(params: Mapping[str, Any], inputs: Mapping[str, Operand]) -> Shape:
    x = only(inputs)
    if not 1 <= len(x.shape.features) <= 4:
        raise ShapeMismatch(
            f"needs (N, C), (N, C, L), (N, C, H, W) or (N, C, D, H, W), or frames of them; got {x}"
        )
    return x.shape


def _batchnorm_op(params: Mapping[str, Any], inputs: Mapping[str, Shape], out: Shape) -> Op:
    x = inputs["x"]
    features = x.features
    # BatchNorm1d covers (C,) and (C, L); 2d and 3d take images and volumes.
    flavour = max(1, len(features) - 1)
    return Op(
        "module",
        target=f"BatchNorm{flavour}d",
        kwargs={"num_features": features[0], "momentum": params["momentum"]},
        fold=x.time,
    )


def _layernorm_shape(params: Mapping[str, Any], inputs: Mapping[str, Operand]) -> Shape:
    return only(inputs).shape


register(
    BlockSpec(
        name="BatchNorm",
        category="Normalization",
        summary=(
            "Normalises each channel to zero mean and unit variance over the batch, then "
            "scales and shifts it with learned weights. Speeds up and steadies training. "
            "With a time axis, each frame is normalised as a batch member."
        ),
        shape_formula="unchanged",
        weight_formula="2 × channels (scale and shift)",
        params=(
            Param("momentum", "float", 0.1, "Weight of a new batch in the running stats.", 0, 1),
        ),
        shape=_batchnorm_shape,
        op=_batchnorm_op,
        id_prefix="bn",
        count_params=lambda params, inputs, out: 2 * inputs["x"].features[0],
        flops=lambda params, inputs, out: inputs["x"].numel(),
        aliases=("batch normalization", "normalize"),
    )
)

register(
    BlockSpec(
        name="LayerNorm",
        category="Normalization",
        summary=(
            "Normalises the last axis of each sample to zero mean and unit variance, then "
            "scales and shifts it. Independent of the batch; common in sequence models."
        ),
        shape_formula="unchanged",
        weight_formula="2 × F (scale and shift over the last axis)",
        params=(),
        shape=_layernorm_shape,
        op=lambda params, inputs, out: Op(
            "module", target="LayerNorm", kwargs={"normalized_shape": inputs["x"].dims[-1]}
        ),
        id_prefix="ln",
        count_params=lambda params, inputs, out: 2 * inputs["x"].dims[-1],
        flops=lambda params, inputs, out: inputs["x"].numel(),
        aliases=("layer normalization", "normalize"),
    )
)
