"""Blocks of the residual branches of modern nets: LayerScale and DropPath.

Both sit at the end of a residual branch, just before the Add (convnext, CaiT, the
EfficientNets): LayerScale scales each channel by a learned factor that starts near
zero; DropPath drops the whole branch of a sample while training (stochastic depth).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.blocks._common import only
from engine.blocks.spec import BlockSpec, Op, Operand, Param, Shape, ShapeMismatch, register


def scale_shape(axis: str, x: Shape) -> tuple[int, ...]:
    """The learned factor's shape: (C, 1, 1) for the channels of (N, C, H, W), which
    broadcasts over the axes after them; (F,) for the last axis."""
    if axis == "last":
        return (x.dims[-1],)
    features = x.features
    return (features[0], *(1 for _ in features[1:]))


def _layer_scale_shape(params: Mapping[str, Any], inputs: Mapping[str, Operand]) -> Shape:
    x = only(inputs)
    if not x.shape.features:
        raise ShapeMismatch(f"needs a channels or feature axis after (N, T); got {x}")
    return x.shape


def _layer_scale_op(params: Mapping[str, Any], inputs: Mapping[str, Shape], out: Shape) -> Op:
    args = {
        "axis": params["axis"],
        "shape": scale_shape(params["axis"], inputs["x"]),
        "init": params["init"],
    }
    return Op("layer_scale", args=args)


register(
    BlockSpec(
        name="DropPath",
        category="Core",
        summary=(
            "Stochastic depth: while training, drops the whole input of a sample with "
            "probability p ('row'; or of the whole batch, 'batch') and scales what is kept "
            "by 1/(1 − p); does nothing in evaluation. Put it at the end of a residual "
            "branch, before the Add: a dropped sample then skips the branch."
        ),
        shape_formula="unchanged",
        weight_formula="none",
        params=(
            Param("p", "float", 0.1, "Probability of dropping a sample's branch.", 0.0, 0.99),
            Param(
                "mode",
                "choice",
                "row",
                "'row' drops each sample on its own; 'batch' the whole batch at once.",
                choices=("row", "batch"),
            ),
        ),
        shape=lambda params, inputs: only(inputs).shape,
        op=lambda params, inputs, out: Op(
            "drop_path", args={"p": params["p"], "mode": params["mode"]}
        ),
        id_prefix="droppath",
        aliases=("stochastic depth", "drop path", "regularization"),
    )
)


register(
    BlockSpec(
        name="LayerScale",
        category="Core",
        summary=(
            "Multiplies each channel by its own learned factor, which starts at init (1e-6): "
            "a residual branch then begins almost switched off and learns how much to add "
            "(convnext, CaiT). 'channels' scales axis C of (N, C, H, W); 'last' the last "
            "axis, as after a Dense or in channels-last layouts (N, H, W, C)."
        ),
        shape_formula="unchanged",
        weight_formula="C (one factor per channel)",
        params=(
            Param(
                "axis",
                "choice",
                "channels",
                "Which axis has a factor per position: the channels (first after N and T) "
                "or the last.",
                choices=("channels", "last"),
            ),
            Param(
                "init", "float", 1e-6, "Starting value of every factor.", minimum=-1e6, maximum=1e6
            ),
        ),
        shape=_layer_scale_shape,
        op=_layer_scale_op,
        id_prefix="ls",
        count_params=lambda params, inputs, out: scale_shape(params["axis"], inputs["x"])[0],
        flops=lambda params, inputs, out: out.numel(),
        aliases=("gamma", "layer scale", "learned scale", "per-channel scale"),
    )
)
