"""Pooling: max/average windows, adaptive pooling and global pooling."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.blocks._common import (
    channels_first,
    check_positive,
    conv_out,
    frames_layout,
    is_frames,
    layout,
    only,
    p_kernel,
    refold,
)
from engine.spec import (
    MAX_WINDOW,
    BlockSpec,
    Op,
    Operand,
    Param,
    Shape,
    ShapeMismatch,
    register,
)


def _stride(params: Mapping[str, Any]) -> int:
    stride = params["stride"]
    return params["kernel_size"] if stride == "kernel" else stride


def _pool_spec(kind: str, spatial: int) -> BlockSpec:
    name = f"{kind}Pool{spatial}d"
    verb = "largest" if kind == "Max" else "average"

    def shape(params: Mapping[str, Any], inputs: Mapping[str, Operand]) -> Shape:
        x = only(inputs)
        dims, fold = channels_first(x, spatial)
        k, p = params["kernel_size"], params["padding"]
        if 2 * p > k:
            raise ShapeMismatch(f"padding must be at most half the kernel_size; got {p} for {k}")
        # torch's avg_pool3d, unlike the other poolings, refuses any side shorter than
        # the window even where padding would leave room for it.
        if kind == "Avg" and spatial == 3 and min(dims[1:]) < k:
            raise ShapeMismatch(f"needs every side of {dims[1:]} to be at least {k}; got {x}")
        out = tuple(conv_out(s, k, _stride(params), p) for s in dims[1:])
        check_positive(out, f"window {k}", x)
        return refold(x.shape, (dims[0], *out), fold)

    def flops(params: Mapping[str, Any], inputs: Mapping[str, Shape], out: Shape) -> int:
        return out.numel() * params["kernel_size"] ** spatial

    def op(params: Mapping[str, Any], inputs: Mapping[str, Shape], out: Shape) -> Op:
        return Op(
            "module",
            target=name,
            kwargs={
                "kernel_size": params["kernel_size"],
                "stride": _stride(params),
                "padding": params["padding"],
            },
            fold=is_frames(inputs["x"], spatial),
        )

    return BlockSpec(
        name=name,
        category="Pooling",
        summary=(
            f"Keeps the {verb} value of each window, shrinking every feature map. "
            f"Frames {frames_layout(spatial)} are pooled one by one."
        ),
        shape_formula=(
            f"{layout(spatial)} → same channels, out = ⌊(in + 2·padding − k) / stride⌋ + 1"
        ),
        weight_formula="none",
        params=(
            p_kernel(2),
            Param(
                "stride",
                "int_or_choice",
                "kernel",
                "Step between windows; 'kernel' steps by the kernel size.",
                minimum=1,
                limit=MAX_WINDOW,
                choices=("kernel",),
            ),
            Param(
                "padding",
                "int",
                0,
                "Padding on each side (≤ kernel/2).",
                minimum=0,
                limit=MAX_WINDOW,
            ),
        ),
        shape=shape,
        op=op,
        id_prefix="pool",
        flops=flops,
        aliases=("pooling", "downsample", "subsample"),
    )


def _adaptive_spec(spatial: int) -> BlockSpec:
    name = f"AdaptiveAvgPool{spatial}d"

    def shape(params: Mapping[str, Any], inputs: Mapping[str, Operand]) -> Shape:
        x = only(inputs)
        dims, fold = channels_first(x, spatial)
        return refold(x.shape, (dims[0], *([params["output_size"]] * spatial)), fold)

    def flops(params: Mapping[str, Any], inputs: Mapping[str, Shape], out: Shape) -> int:
        return inputs["x"].numel()

    def op(params: Mapping[str, Any], inputs: Mapping[str, Shape], out: Shape) -> Op:
        return Op(
            "module",
            target=name,
            kwargs={"output_size": params["output_size"]},
            fold=is_frames(inputs["x"], spatial),
        )

    return BlockSpec(
        name=name,
        category="Pooling",
        summary="Averages each feature map down to a fixed size, whatever the input size.",
        shape_formula=f"{layout(spatial)} → (N, C, size{', size' * (spatial - 1)})",
        weight_formula="none",
        params=(
            Param("output_size", "int", 1, "Output size per axis.", minimum=1, limit=MAX_WINDOW),
        ),
        shape=shape,
        op=op,
        id_prefix="apool",
        flops=flops,
        aliases=("adaptive",),
    )


def _global_shape(params: Mapping[str, Any], inputs: Mapping[str, Operand]) -> Shape:
    x = only(inputs)
    features = x.shape.features
    if len(features) < 2:
        raise ShapeMismatch(
            "needs channels and at least one spatial axis, (N, C, …) or frames (N, T, C, …); "
            f"got {x}"
        )
    return x.shape.with_features((features[0],))


def _global_op(params: Mapping[str, Any], inputs: Mapping[str, Shape], out: Shape) -> Op:
    x = inputs["x"]
    first = 3 if x.time else 2
    return Op("global_pool", args={"mode": params["mode"], "dims": tuple(range(first, x.rank))})


register(
    BlockSpec(
        name="GlobalPool",
        category="Pooling",
        summary=(
            "Reduces each whole feature map to one number (its mean or maximum), leaving one "
            "value per channel. With a time axis, each frame is reduced on its own."
        ),
        shape_formula="(N, C, …) → (N, C); (N, T, C, …) → (N, T, C)",
        weight_formula="none",
        params=(Param("mode", "choice", "avg", "Mean or maximum.", choices=("avg", "max")),),
        shape=_global_shape,
        op=_global_op,
        id_prefix="gpool",
        flops=lambda params, inputs, out: inputs["x"].numel(),
        aliases=("global average pooling", "gap"),
    )
)

for _kind in ("Max", "Avg"):
    for _spatial in (1, 2, 3):
        register(_pool_spec(_kind, _spatial))
for _spatial in (1, 2):
    register(_adaptive_spec(_spatial))
