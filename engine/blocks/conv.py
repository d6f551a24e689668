"""Convolutions, transposed convolution and upsampling."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.blocks._common import (
    PER_AXIS,
    axes,
    channel_dims,
    channels_first,
    check_groups,
    check_positive,
    compact,
    conv_out,
    frames,
    frames_layout,
    is_frames,
    layout,
    only,
    p_axes,
    p_bias,
    p_dilation,
    p_groups,
    p_kernel,
    p_stride,
    prod,
    refold,
    same_padding,
    shown,
    sliding_op,
)
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

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _check_padding_mode(
    mode: str, pad: tuple[int, ...], sides: tuple[int, ...], x: Operand
) -> None:
    # torch mirrors (reflect) at most size − 1 values and wraps (circular) at most size.
    room = {"reflect": 1, "circular": 0}.get(mode)
    if room is None:
        return
    if any(p > size - room for p, size in zip(pad, sides, strict=True)):
        bound = "smaller than" if room else "at most"
        raise ShapeMismatch(
            f"padding_mode {mode!r} needs padding {bound} each side; "
            f"got padding {tuple(pad)} for sides {tuple(sides)} of {x}"
        )


def _conv_spec(spatial: int) -> BlockSpec:
    name = f"Conv{spatial}d"
    axes_text = {1: "L", 2: "H, W", 3: "D, H, W"}[spatial]
    kernel = " × ".join(["k"] * spatial)

    def shape(params: Mapping[str, Any], inputs: Mapping[str, Operand]) -> Shape:
        x = only(inputs)
        dims, fold = channels_first(x, spatial)
        check_groups(params["groups"], dims[0], params["out_channels"], x)
        pad = same_padding(params, spatial)
        _check_padding_mode(params["padding_mode"], pad, dims[1:], x)
        k, s, d = (axes(params[n], spatial) for n in ("kernel_size", "stride", "dilation"))
        out = tuple(conv_out(*args) for args in zip(dims[1:], k, s, pad, d, strict=True))
        check_positive(out, f"kernel {shown(params['kernel_size'])}", x)
        return refold(x.shape, (params["out_channels"], *out), fold)

    def taps(params: Mapping[str, Any], inputs: Mapping[str, Shape]) -> int:
        """Multiply-adds per output value: input channels of its group × kernel taps."""
        c_in = _in_channels(inputs["x"], spatial) // params["groups"]
        return c_in * prod(axes(params["kernel_size"], spatial))

    def count(params: Mapping[str, Any], inputs: Mapping[str, Shape], out: Shape) -> int:
        weights = taps(params, inputs) * params["out_channels"]
        return weights + (params["out_channels"] if params["bias"] else 0)

    def flops(params: Mapping[str, Any], inputs: Mapping[str, Shape], out: Shape) -> int:
        return out.numel() * taps(params, inputs)

    def op(params: Mapping[str, Any], inputs: Mapping[str, Shape], out: Shape) -> Op:
        x = inputs["x"]
        kwargs: dict[str, Any] = {
            "in_channels": _in_channels(x, spatial),
            "out_channels": params["out_channels"],
            "kernel_size": compact(axes(params["kernel_size"], spatial)),
            "stride": compact(axes(params["stride"], spatial)),
            "padding": _padding_argument(params, spatial),
            "dilation": compact(axes(params["dilation"], spatial)),
        }
        # Written only when not torch's default, so older projects export as before.
        if params["groups"] != 1:
            kwargs["groups"] = params["groups"]
        kwargs["bias"] = params["bias"]
        if params["padding_mode"] != "zeros":
            kwargs["padding_mode"] = params["padding_mode"]
        return sliding_op(name, kwargs, x, spatial)

    return BlockSpec(
        name=name,
        category="Convolution",
        summary=(
            f"Slides {params_text(spatial)} learned filters over the input and sums each "
            "window into one output channel per filter. Receives frames "
            f"{frames_layout(spatial)} too and then filters each frame on its own."
        ),
        shape_formula=(
            f"{layout(spatial)} → (N, filters, {axes_text}′) with, per axis, "
            "out = ⌊(in + 2·padding − dilation·(k − 1) − 1) / stride⌋ + 1"
        ),
        weight_formula=f"in_channels / groups × filters × {kernel} + filters (bias)",
        params=(
            Param(
                "out_channels",
                "int",
                16,
                "Number of filters (output channels).",
                minimum=1,
                limit=MAX_WIDTH,
            ),
            p_kernel(3, spatial),
            p_stride(1, spatial),
            p_axes(
                "padding",
                "same",
                "Values added on each side: 'same' keeps the size (odd kernels), "
                "'valid' adds none, or a number.",
                spatial,
                minimum=0,
                choices=("same", "valid"),
            ),
            p_dilation(spatial),
            p_groups(),
            p_bias(),
            Param(
                "padding_mode",
                "choice",
                "zeros",
                "What the padding holds: zeros, the mirrored edge (reflect), the edge "
                "value repeated (replicate) or the opposite side (circular).",
                choices=PADDING_MODES,
            ),
        ),
        shape=shape,
        op=op,
        id_prefix="conv",
        count_params=count,
        flops=flops,
        aliases=("convolution", "filter", "cnn", "depthwise", "grouped"),
    )


def params_text(spatial: int) -> str:
    return {1: "1-D", 2: "2-D", 3: "3-D"}[spatial]


def _padding_argument(params: Mapping[str, Any], spatial: int) -> str | int | tuple[int, ...]:
    """torch's padding argument: 'same' and 'valid' as the user chose them (torch takes
    both and pads symmetrically for the odd kernels 'same' allows), so exported code
    says what was meant and imports back to it; sizes as sizes."""
    if params["padding"] in ("same", "valid"):
        return str(params["padding"])
    return compact(same_padding(params, spatial))


def _in_channels(x: Shape, spatial: int) -> int:
    return channel_dims(x, spatial)[0]


def _conv_transpose_spec(spatial: int) -> BlockSpec:
    name = f"ConvTranspose{spatial}d"
    kernel = " × ".join(["k"] * spatial)
    sizes = ("kernel_size", "stride", "padding", "output_padding", "dilation")

    def shape(params: Mapping[str, Any], inputs: Mapping[str, Operand]) -> Shape:
        x = only(inputs)
        dims, fold = channels_first(x, spatial)
        check_groups(params["groups"], dims[0], params["out_channels"], x)
        k, s, p, op_, d = (axes(params[n], spatial) for n in sizes)
        for extra, step, spacing in zip(op_, s, d, strict=True):
            if extra >= step and extra >= spacing:
                what = "stride" if spacing == 1 else "stride or dilation"
                raise ShapeMismatch(
                    f"output_padding must be smaller than {what}; got "
                    f"{shown(params['output_padding'])} ≥ {shown(params['stride'])}"
                )
        out = tuple(
            (size - 1) * si - 2 * pi + di * (ki - 1) + oi + 1
            for size, ki, si, pi, oi, di in zip(dims[1:], k, s, p, op_, d, strict=True)
        )
        check_positive(out, f"padding {shown(params['padding'])}", x)
        return refold(x.shape, (params["out_channels"], *out), fold)

    def weights(params: Mapping[str, Any], inputs: Mapping[str, Shape]) -> int:
        c_in = _in_channels(inputs["x"], spatial)
        taps = prod(axes(params["kernel_size"], spatial))
        return c_in * (params["out_channels"] // params["groups"]) * taps

    def count(params: Mapping[str, Any], inputs: Mapping[str, Shape], _: Shape) -> int:
        return weights(params, inputs) + (params["out_channels"] if params["bias"] else 0)

    def flops(params: Mapping[str, Any], inputs: Mapping[str, Shape], _: Shape) -> int:
        # every input position spreads its weighted patch onto the output
        x = inputs["x"]
        fold = is_frames(x, spatial)
        positions = frames(x, fold) * prod(channel_dims(x, spatial)[1:])
        return positions * weights(params, inputs)

    def op(params: Mapping[str, Any], inputs: Mapping[str, Shape], _: Shape) -> Op:
        x = inputs["x"]
        kwargs: dict[str, Any] = {
            "in_channels": _in_channels(x, spatial),
            "out_channels": params["out_channels"],
        }
        for n in sizes[:4]:
            kwargs[n] = compact(axes(params[n], spatial))
        # Written only when not torch's default, so older projects export as before.
        if params["groups"] != 1:
            kwargs["groups"] = params["groups"]
        kwargs["bias"] = params["bias"]
        if params["dilation"] != 1:
            kwargs["dilation"] = compact(axes(params["dilation"], spatial))
        return sliding_op(name, kwargs, x, spatial)

    return BlockSpec(
        name=name,
        category="Convolution",
        summary=(
            "A learned upsampling: each input position spreads a filter-weighted patch onto "
            "a larger output. Used by fully convolutional networks (U-Net, decoders) to grow "
            "feature maps back to full size."
        ),
        shape_formula=(
            f"{layout(spatial)} → (N, filters, …′) with, per axis, out = (in − 1)·stride − "
            "2·padding + dilation·(k − 1) + output_padding + 1"
        ),
        weight_formula=f"in_channels × filters / groups × {kernel} + filters (bias)",
        params=(
            Param(
                "out_channels",
                "int",
                16,
                "Number of filters (output channels).",
                minimum=1,
                limit=MAX_WIDTH,
            ),
            p_kernel(2, spatial),
            p_stride(2, spatial),
            p_axes("padding", 0, "Rows/columns trimmed from each side.", spatial, minimum=0),
            p_axes("output_padding", 0, "Extra size on one side.", spatial, minimum=0),
            p_bias(),
            p_groups(),
            p_dilation(spatial),
        ),
        shape=shape,
        op=op,
        id_prefix="deconv",
        count_params=count,
        flops=flops,
        aliases=("deconvolution", "transposed", "upsample"),
    )


UPSAMPLE_MODES = {
    1: ("nearest", "linear"),
    2: ("nearest", "bilinear", "bicubic"),
    3: ("nearest", "trilinear"),
}


def _upsample_spec(spatial: int) -> BlockSpec:
    # The 2-D block keeps its first name, so older projects open as they were.
    name = "Upsample" if spatial == 2 else f"Upsample{spatial}d"

    def shape(params: Mapping[str, Any], inputs: Mapping[str, Operand]) -> Shape:
        x = only(inputs)
        dims, fold = channels_first(x, spatial)
        scale = axes(params["scale_factor"], spatial)
        out = tuple(size * f for size, f in zip(dims[1:], scale, strict=True))
        return refold(x.shape, (dims[0], *out), fold)

    def op(params: Mapping[str, Any], inputs: Mapping[str, Shape], _: Shape) -> Op:
        kwargs: dict[str, Any] = {
            "scale_factor": compact(axes(params["scale_factor"], spatial)),
            "mode": params["mode"],
        }
        if params["mode"] != "nearest":
            kwargs["align_corners"] = params["align_corners"]
        return sliding_op("Upsample", kwargs, inputs["x"], spatial)

    return BlockSpec(
        name=name,
        category="Convolution",
        summary=(
            "Enlarges each feature map by repeating values (nearest) or interpolating "
            f"between them; each axis by its own factor. Frames {frames_layout(spatial)} "
            "are enlarged one by one."
        ),
        shape_formula=f"{layout(spatial)} → same channels, each axis × its factor",
        weight_formula="none",
        params=(
            Param(
                "scale_factor",
                "per_axis",
                2,
                "How many times larger." + PER_AXIS,
                minimum=1,
                maximum=16,
                min_len=spatial,
                max_len=spatial,
            ),
            Param("mode", "choice", "nearest", "Interpolation.", choices=UPSAMPLE_MODES[spatial]),
            Param(
                "align_corners",
                "bool",
                False,
                "Interpolating modes: pin the corner pixels of input and output together.",
            ),
        ),
        shape=shape,
        op=op,
        id_prefix="up",
        aliases=("resize", "interpolate"),
    )


for _spatial in (1, 2, 3):
    register(_conv_spec(_spatial))

for _spatial in (1, 2, 3):
    register(_conv_transpose_spec(_spatial))

for _spatial in (1, 2, 3):
    register(_upsample_spec(_spatial))
