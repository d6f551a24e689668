"""Normalisation layers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.blocks._common import only, prod
from engine.blocks.spec import (
    MAX_WIDTH,
    BlockSpec,
    Op,
    Operand,
    Param,
    Shape,
    ShapeMismatch,
    register,
)

# torch's default eps: a kwarg is written only for another value, so older projects
# export as before.
EPS = 1e-5


def _eps() -> Param:
    return Param(
        "eps",
        "float",
        EPS,
        "Added to the variance before its square root, so a flat channel does not divide by 0.",
        0.0,
        1.0,
    )


def _check_eps(params: Mapping[str, Any]) -> None:
    # The param's range admits 0 (a spin box's floor); torch would divide by zero there.
    if params["eps"] <= 0:
        raise ShapeMismatch(f"needs eps above 0; got eps {params['eps']:g} — use 1e-5")


def _eps_kwarg(params: Mapping[str, Any]) -> dict[str, float]:
    return {} if params["eps"] == EPS else {"eps": params["eps"]}


def _batchnorm_shape(params: Mapping[str, Any], inputs: Mapping[str, Operand]) -> Shape:
    _check_eps(params)
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
        kwargs={
            "num_features": features[0],
            **_eps_kwarg(params),
            "momentum": params["momentum"],
            # Written only when not torch's default, so older projects export as before.
            **({} if params["affine"] else {"affine": False}),
            **({} if params["track_running_stats"] else {"track_running_stats": False}),
        },
        fold=x.time,
    )


def _layernorm_shape(params: Mapping[str, Any], inputs: Mapping[str, Operand]) -> Shape:
    _check_eps(params)
    x = only(inputs)
    if params["axes"] > len(x.shape.dims):
        raise ShapeMismatch(
            f"with axes {params['axes']} needs at least {params['axes']} axes after N; got {x}"
        )
    return x.shape


def _normalized(params: Mapping[str, Any], x: Shape) -> tuple[int, ...]:
    return x.dims[-params["axes"] :]


def _layernorm_op(params: Mapping[str, Any], inputs: Mapping[str, Shape], out: Shape) -> Op:
    shape = _normalized(params, inputs["x"])
    kwargs: dict[str, Any] = {
        "normalized_shape": shape[0] if len(shape) == 1 else shape,
        **_eps_kwarg(params),
    }
    # Written only when not torch's default, so older projects export as before.
    if not params["affine"]:
        kwargs["elementwise_affine"] = False
    elif not params["bias"]:
        kwargs["bias"] = False
    return Op("module", target="LayerNorm", kwargs=kwargs)


def _layernorm_count(params: Mapping[str, Any], inputs: Mapping[str, Shape], out: Shape) -> int:
    if not params["affine"]:
        return 0
    return prod(_normalized(params, inputs["x"])) * (2 if params["bias"] else 1)


def _channels(x: Operand, what: str) -> tuple[int, ...]:
    """The per-frame (C, *spatial) dims of a norm that works per sample and channel."""
    features = x.shape.features
    if not 2 <= len(features) <= 4:
        raise ShapeMismatch(
            f"needs (N, C, L), (N, C, H, W) or (N, C, D, H, W), or frames of them{what}; got {x}"
        )
    return features


def _groupnorm_shape(params: Mapping[str, Any], inputs: Mapping[str, Operand]) -> Shape:
    _check_eps(params)
    x = only(inputs)
    features = x.shape.features
    if not features:
        raise ShapeMismatch(f"needs a channels axis, (N, C, …) or (N, T, C, …); got {x}")
    if features[0] % params["num_groups"]:
        raise ShapeMismatch(
            f"num_groups {params['num_groups']} must divide the channels ({features[0]}); got {x}"
        )
    return x.shape


def _instancenorm_shape(params: Mapping[str, Any], inputs: Mapping[str, Operand]) -> Shape:
    _check_eps(params)
    x = only(inputs)
    features = _channels(x, "")
    # One value per channel has no spread to normalise; torch refuses it while training.
    if prod(features[1:]) == 1:
        raise ShapeMismatch(f"needs more than one value per channel; got {x}")
    return x.shape


def _instancenorm_op(params: Mapping[str, Any], inputs: Mapping[str, Shape], out: Shape) -> Op:
    x = inputs["x"]
    kwargs: dict[str, Any] = {"num_features": x.features[0], **_eps_kwarg(params)}
    if params["affine"]:
        kwargs["affine"] = True
    return Op("module", target=f"InstanceNorm{len(x.features) - 1}d", kwargs=kwargs, fold=x.time)


def _affine(default: bool) -> Param:
    return Param("affine", "bool", default, "Learn a scale and a shift per channel.")


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
            _affine(True),
            _eps(),
            Param(
                "track_running_stats",
                "bool",
                True,
                "Keep running statistics for evaluation; off, every batch (in eval too) "
                "is normalised by its own statistics.",
            ),
        ),
        shape=_batchnorm_shape,
        op=_batchnorm_op,
        id_prefix="bn",
        count_params=lambda params, inputs, out: 2 * inputs["x"].features[0] * params["affine"],
        flops=lambda params, inputs, out: inputs["x"].numel(),
        aliases=("batch normalization", "normalize"),
    )
)

register(
    BlockSpec(
        name="LayerNorm",
        category="Normalization",
        summary=(
            "Normalises the last axes of each sample (the last one, or the last k: "
            "(C, H, W) for 3) to zero mean and unit variance, then scales and shifts it. "
            "Independent of the batch; common in sequence models."
        ),
        shape_formula="unchanged",
        weight_formula="2 × size of the last k axes (scale and shift)",
        params=(
            Param("axes", "int", 1, "How many trailing axes to normalise over.", 1, 8),
            Param("affine", "bool", True, "Learn a scale (and shift) per normalised value."),
            Param("bias", "bool", True, "Learn the shift too (with affine)."),
            _eps(),
        ),
        shape=_layernorm_shape,
        op=_layernorm_op,
        id_prefix="ln",
        count_params=_layernorm_count,
        flops=lambda params, inputs, out: inputs["x"].numel(),
        aliases=("layer normalization", "normalize"),
    )
)

register(
    BlockSpec(
        name="GroupNorm",
        category="Normalization",
        summary=(
            "Splits the channels into groups and normalises each group of each sample to "
            "zero mean and unit variance, then scales and shifts per channel. Independent "
            "of the batch size, so it works with batches of 1 (detection, segmentation)."
        ),
        shape_formula="unchanged",
        weight_formula="2 × channels (scale and shift)",
        params=(
            Param(
                "num_groups",
                "int",
                1,
                "Groups the channels are split into.",
                minimum=1,
                limit=MAX_WIDTH,
            ),
            _affine(True),
            _eps(),
        ),
        shape=_groupnorm_shape,
        op=lambda params, inputs, out: Op(
            "module",
            target="GroupNorm",
            kwargs={
                "num_groups": params["num_groups"],
                "num_channels": inputs["x"].features[0],
                **_eps_kwarg(params),
                **({} if params["affine"] else {"affine": False}),
            },
            fold=inputs["x"].time,
        ),
        id_prefix="gn",
        count_params=lambda params, inputs, out: 2 * inputs["x"].features[0] * params["affine"],
        flops=lambda params, inputs, out: inputs["x"].numel(),
        aliases=("group normalization", "normalize"),
    )
)

register(
    BlockSpec(
        name="InstanceNorm",
        category="Normalization",
        summary=(
            "Normalises each channel of each sample on its own (over its length, or "
            "height and width): removes per-image contrast, as style transfer needs."
        ),
        shape_formula="unchanged",
        weight_formula="2 × channels with affine, else none",
        params=(_affine(False), _eps()),
        shape=_instancenorm_shape,
        op=_instancenorm_op,
        id_prefix="inorm",
        count_params=lambda params, inputs, out: 2 * inputs["x"].features[0] * params["affine"],
        flops=lambda params, inputs, out: inputs["x"].numel(),
        aliases=("instance normalization", "normalize", "style"),
    )
)
