"""Convolutions, transposed convolution and upsampling."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.blocks._common import (
    channels_first,
    check_positive,
    conv_out,
    frames,
    frames_layout,
    is_frames,
    layout,
    only,
    p_bias,
    p_kernel,
    p_stride,
    per_frame_dims,
    prod,
    refold,
    same_padding,
)
from engine.spec import (
    MAX_WIDTH,
    MAX_WINDOW,
    BlockSpec,
    Op,
    Operand,
    Param,
    Shape,
    ShapeMismatch,
    register,
)


def _conv_spec(spatial: int) -> BlockSpec:
    name = f"Conv{spatial}d"
    axes = {1: "L", 2: "H, W", 3: "D, H, W"}[spatial]
    kernel = " × ".join(["k"] * spatial)

    def shape(params: Mapping[str, Any], inputs: Mapping[str, Operand]) -> Shape:
        x = only(inputs)
        dims, fold = channels_first(x, spatial)
        pad = same_padding(params)
        out = tuple(
            conv_out(s, params["kernel_size"], params["stride"], pad, params["dilation"])
            for s in dims[1:]
        )
        check_positive(out, f"kernel {params['kernel_size']}", x)
        return refold(x.shape, (params["out_channels"], *out), fold)

    def count(params: Mapping[str, Any], inputs: Mapping[str, Shape], out: Shape) -> int:
        c_in = _in_channels(inputs["x"], spatial)
        weights = c_in * params["out_channels"] * params["kernel_size"] ** spatial
        return weights + (params["out_channels"] if params["bias"] else 0)

    def flops(params: Mapping[str, Any], inputs: Mapping[str, Shape], out: Shape) -> int:
        c_in = _in_channels(inputs["x"], spatial)
        return out.numel() * c_in * params["kernel_size"] ** spatial

    def op(params: Mapping[str, Any], inputs: Mapping[str, Shape], out: Shape) -> Op:
        x = inputs["x"]
        return Op(
            "module",
            target=name,
            kwargs={
                "in_channels": _in_channels(x, spatial),
                "out_channels": params["out_channels"],
                "kernel_size": params["kernel_size"],
                "stride": params["stride"],
                "padding": same_padding(params),
                "dilation": params["dilation"],
                "bias": params["bias"],
            },
            fold=is_frames(x, spatial),
        )

    return BlockSpec(
        name=name,
        category="Convolution",
        summary=(
            f"Slides {params_text(spatial)} learned filters over the input and sums each "
            "window into one output channel per filter. Receives frames "
            f"{frames_layout(spatial)} too and then filters each frame on its own."
        ),
        shape_formula=(
            f"{layout(spatial)} → (N, filters, {axes}′) with "
            "out = ⌊(in + 2·padding − dilation·(k − 1) − 1) / stride⌋ + 1"
        ),
        weight_formula=f"in_channels × filters × {kernel} + filters (bias)",
        params=(
            Param(
                "out_channels",
                "int",
                16,
                "Number of filters (output channels).",
                minimum=1,
                limit=MAX_WIDTH,
            ),
            p_kernel(3),
            p_stride(1),
            Param(
                "padding",
                "int_or_choice",
                "same",
                "Zeros added on each side: 'same' keeps the size (odd kernels), "
                "'valid' adds none, or a number.",
                minimum=0,
                limit=MAX_WINDOW,
                choices=("same", "valid"),
            ),
            Param(
                "dilation", "int", 1, "Spacing between kernel taps.", minimum=1, limit=MAX_WINDOW
            ),
            p_bias(),
        ),
        shape=shape,
        op=op,
        id_prefix="conv",
        count_params=count,
        flops=flops,
        aliases=("convolution", "filter", "cnn"),
    )


def params_text(spatial: int) -> str:
    return {1: "1-D", 2: "2-D", 3: "3-D"}[spatial]


def _in_channels(x: Shape, spatial: int) -> int:
    return per_frame_dims(x, is_frames(x, spatial))[0]


def _conv_transpose_shape(params: Mapping[str, Any], inputs: Mapping[str, Operand]) -> Shape:
    x = only(inputs)
    dims, fold = channels_first(x, 2)
    k, s, p, op_ = (params[n] for n in ("kernel_size", "stride", "padding", "output_padding"))
    if op_ >= s:
        raise ShapeMismatch(f"output_padding must be smaller than stride; got {op_} ≥ {s}")
    out = tuple((size - 1) * s - 2 * p + (k - 1) + op_ + 1 for size in dims[1:])
    check_positive(out, f"padding {p}", x)
    return refold(x.shape, (params["out_channels"], *out), fold)


def _conv_transpose_count(params: Mapping[str, Any], inputs: Mapping[str, Shape], _: Shape) -> int:
    c_in = _in_channels(inputs["x"], 2)
    weights = c_in * params["out_channels"] * params["kernel_size"] ** 2
    return weights + (params["out_channels"] if params["bias"] else 0)


def _conv_transpose_flops(params: Mapping[str, Any], inputs: Mapping[str, Shape], _: Shape) -> int:
    x = inputs["x"]
    fold = is_frames(x, 2)
    c_in, *hw = per_frame_dims(x, fold)
    return frames(x, fold) * prod(hw) * c_in * params["out_channels"] * params["kernel_size"] ** 2


def _conv_transpose_op(params: Mapping[str, Any], inputs: Mapping[str, Shape], _: Shape) -> Op:
    x = inputs["x"]
    return Op(
        "module",
        target="ConvTranspose2d",
        kwargs={
            "in_channels": _in_channels(x, 2),
            "out_channels": params["out_channels"],
            "kernel_size": params["kernel_size"],
            "stride": params["stride"],
            "padding": params["padding"],
            "output_padding": params["output_padding"],
            "bias": params["bias"],
        },
        fold=is_frames(x, 2),
    )


def _upsample_shape(params: Mapping[str, Any], inputs: Mapping[str, Operand]) -> Shape:
    x = only(inputs)
    dims, fold = channels_first(x, 2)
    f = params["scale_factor"]
    return refold(x.shape, (dims[0], dims[1] * f, dims[2] * f), fold)


def _upsample_op(params: Mapping[str, Any], inputs: Mapping[str, Shape], _: Shape) -> Op:
    kwargs: dict[str, Any] = {"scale_factor": params["scale_factor"], "mode": params["mode"]}
    if params["mode"] == "bilinear":
        kwargs["align_corners"] = False
    return Op("module", target="Upsample", kwargs=kwargs, fold=is_frames(inputs["x"], 2))


for _spatial in (1, 2, 3):
    register(_conv_spec(_spatial))

register(
    BlockSpec(
        name="ConvTranspose2d",
        category="Convolution",
        summary=(
            "A learned upsampling: each input pixel spreads a filter-weighted patch onto a "
            "larger output. Used by fully convolutional networks to grow feature maps back "
            "to image size."
        ),
        shape_formula=(
            "(N, C, H, W) → (N, filters, H′, W′) with "
            "out = (in − 1)·stride − 2·padding + k + output_padding"
        ),
        weight_formula="in_channels × filters × k × k + filters (bias)",
        params=(
            Param(
                "out_channels",
                "int",
                16,
                "Number of filters (output channels).",
                minimum=1,
                limit=MAX_WIDTH,
            ),
            p_kernel(2),
            p_stride(2),
            Param(
                "padding",
                "int",
                0,
                "Rows/columns trimmed from each side.",
                minimum=0,
                limit=MAX_WINDOW,
            ),
            Param(
                "output_padding", "int", 0, "Extra size on one side.", minimum=0, limit=MAX_WINDOW
            ),
            p_bias(),
        ),
        shape=_conv_transpose_shape,
        op=_conv_transpose_op,
        id_prefix="deconv",
        count_params=_conv_transpose_count,
        flops=_conv_transpose_flops,
        aliases=("deconvolution", "transposed", "upsample"),
    )
)

register(
    BlockSpec(
        name="Upsample",
        category="Convolution",
        summary="Enlarges each feature map by repeating (nearest) or interpolating (bilinear).",
        shape_formula="(N, C, H, W) → (N, C, H·factor, W·factor)",
        weight_formula="none",
        params=(
            Param("scale_factor", "int", 2, "How many times larger.", minimum=1, maximum=16),
            Param("mode", "choice", "nearest", "Interpolation.", choices=("nearest", "bilinear")),
        ),
        shape=_upsample_shape,
        op=_upsample_op,
        id_prefix="up",
        aliases=("resize", "interpolate"),
    )
)
