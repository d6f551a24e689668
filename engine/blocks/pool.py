"""Pooling: max/average windows, adaptive pooling and global pooling."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.blocks._common import (
    axes,
    channels_first,
    check_positive,
    compact,
    conv_out,
    frames_layout,
    layout,
    only,
    p_axes,
    p_dilation,
    p_kernel,
    prod,
    refold,
    shown,
    sliding_op,
)
from engine.blocks.spec import (
    BlockSpec,
    Op,
    Operand,
    Param,
    Shape,
    ShapeMismatch,
    register,
)


def _windows(params: Mapping[str, Any], spatial: int) -> tuple[tuple[int, ...], ...]:
    """Kernel, stride ('kernel': the kernel's), padding and dilation, one size per axis."""
    k = axes(params["kernel_size"], spatial)
    stride = params["stride"]
    s = k if stride == "kernel" else axes(stride, spatial)
    return k, s, axes(params["padding"], spatial), axes(params.get("dilation", 1), spatial)


def _pool_spec(kind: str, spatial: int) -> BlockSpec:
    name = f"{kind}Pool{spatial}d"
    verb = "largest" if kind == "Max" else "average"

    def shape(params: Mapping[str, Any], inputs: Mapping[str, Operand]) -> Shape:
        x = only(inputs)
        dims, fold = channels_first(x, spatial)
        k, s, p, d = _windows(params, spatial)
        if any(2 * pi > ki for pi, ki in zip(p, k, strict=True)):
            raise ShapeMismatch(
                "padding must be at most half the kernel_size; got "
                f"{shown(params['padding'])} for {shown(params['kernel_size'])}"
            )
        # torch's avg_pool3d, unlike the other poolings, refuses any side shorter than
        # the window even where padding would leave room for it.
        if kind == "Avg" and spatial == 3 and any(a < b for a, b in zip(dims[1:], k, strict=True)):
            raise ShapeMismatch(
                f"needs every side of {dims[1:]} to be at least {shown(params['kernel_size'])}; "
                f"got {x}"
            )
        ceil = params["ceil_mode"]
        out = tuple(
            conv_out(size, ki, si, pi, di, ceil)
            for size, ki, si, pi, di in zip(dims[1:], k, s, p, d, strict=True)
        )
        check_positive(out, f"window {shown(params['kernel_size'])}", x)
        return refold(x.shape, (dims[0], *out), fold)

    def flops(params: Mapping[str, Any], inputs: Mapping[str, Shape], out: Shape) -> int:
        return out.numel() * prod(axes(params["kernel_size"], spatial))

    def op(params: Mapping[str, Any], inputs: Mapping[str, Shape], out: Shape) -> Op:
        k, s, p, d = _windows(params, spatial)
        kwargs: dict[str, Any] = {
            "kernel_size": compact(k),
            "stride": compact(s),
            "padding": compact(p),
        }
        # Written only when not torch's default, so older projects export as before.
        if kind == "Max" and params["dilation"] != 1:
            kwargs["dilation"] = compact(d)
        if params["ceil_mode"]:
            kwargs["ceil_mode"] = True
        if kind == "Avg" and not params["count_include_pad"]:
            kwargs["count_include_pad"] = False
        return sliding_op(name, kwargs, inputs["x"], spatial)

    params: tuple[Param, ...] = (
        p_kernel(2, spatial),
        p_axes(
            "stride",
            "kernel",
            "Step between windows; 'kernel' steps by the kernel size.",
            spatial,
            choices=("kernel",),
        ),
        p_axes("padding", 0, "Padding on each side (≤ kernel/2).", spatial, minimum=0),
    )
    if kind == "Max":
        params += (p_dilation(spatial),)
    params += (
        Param(
            "ceil_mode",
            "bool",
            False,
            "Round the output size up: a last, partial window still yields a value.",
        ),
    )
    if kind == "Avg":
        params += (
            Param(
                "count_include_pad",
                "bool",
                True,
                "Count the zero padding in each window's average; off, divide by the "
                "values actually inside the input (timm's ResNet-D shortcut).",
            ),
        )
    return BlockSpec(
        name=name,
        category="Pooling",
        summary=(
            f"Keeps the {verb} value of each window, shrinking every feature map. "
            f"Frames {frames_layout(spatial)} are pooled one by one."
        ),
        shape_formula=(
            f"{layout(spatial)} → same channels, per axis "
            "out = ⌊(in + 2·padding − dilation·(k − 1) − 1) / stride⌋ + 1 (⌈…⌉ with ceil_mode)"
        ),
        weight_formula="none",
        params=params,
        shape=shape,
        op=op,
        id_prefix="pool",
        flops=flops,
        aliases=("pooling", "downsample", "subsample"),
    )


def _adaptive_spec(kind: str, spatial: int) -> BlockSpec:
    name = f"Adaptive{kind}Pool{spatial}d"
    verb = "Averages" if kind == "Avg" else "Takes the maximum of"

    def shape(params: Mapping[str, Any], inputs: Mapping[str, Operand]) -> Shape:
        x = only(inputs)
        dims, fold = channels_first(x, spatial)
        return refold(x.shape, (dims[0], *axes(params["output_size"], spatial)), fold)

    def flops(params: Mapping[str, Any], inputs: Mapping[str, Shape], out: Shape) -> int:
        return inputs["x"].numel()

    def op(params: Mapping[str, Any], inputs: Mapping[str, Shape], out: Shape) -> Op:
        kwargs = {"output_size": compact(axes(params["output_size"], spatial))}
        return sliding_op(name, kwargs, inputs["x"], spatial)

    return BlockSpec(
        name=name,
        category="Pooling",
        summary=(
            f"{verb} windows that divide each feature map into a fixed grid, "
            "whatever the input size."
        ),
        shape_formula=f"{layout(spatial)} → (N, C, size{', size' * (spatial - 1)})",
        weight_formula="none",
        params=(p_axes("output_size", 1, "Output size per axis.", spatial),),
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
for _kind in ("Avg", "Max"):
    for _spatial in (1, 2, 3):
        register(_adaptive_spec(_kind, _spatial))
