"""Helpers shared by block declarations: layouts, frame folding, output sizes."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from engine.blocks.spec import MAX_WIDTH, MAX_WINDOW, Op, Operand, Param, Shape, ShapeMismatch

SPATIAL_LAYOUTS = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}


def layout(spatial: int, channels: str = "C") -> str:
    return "(" + ", ".join(["N", channels, *SPATIAL_LAYOUTS[spatial]]) + ")"


def frames_layout(spatial: int, channels: str = "C") -> str:
    return "(" + ", ".join(["N", "T", channels, *SPATIAL_LAYOUTS[spatial]]) + ")"


def channels_first(x: Operand, spatial: int) -> tuple[tuple[int, ...], bool]:
    """The (C, *spatial) dims a block works on, and whether it applies per frame.

    A block that needs (N, C, *spatial) also accepts one extra leading axis,
    (N, T, C, *spatial): it is then applied to each frame. A 1-D block given a
    sequence (N, T, F) slides along time with F as its channels (see `along_time`).
    Any other sequence of the natural rank, (N, T, *spatial), is refused: torch would
    take its time axis for channels.
    """
    dims = x.shape.dims
    natural = spatial + 1
    expected = f"needs {natural + 1}-D input {layout(spatial)} or frames {frames_layout(spatial)}"
    if len(dims) == natural + 1:
        return dims[1:], True
    if along_time(x.shape, spatial):
        return (dims[1], dims[0]), False
    if len(dims) == natural and x.shape.time:
        # torch would read the time axis as channels and mix all steps into each output.
        raise ShapeMismatch(f"{expected}; got {x}, whose T is time, not channels")
    if len(dims) == natural:
        return dims, False
    raise ShapeMismatch(f"{expected}; got {x}")


def along_time(x: Shape, spatial: int) -> bool:
    """Whether a 1-D block receives a sequence (N, T, F): it then slides along T with the
    F features as channels, and its output is a sequence again, (N, T′, C′). torch wants
    (N, C, L), so the axes are swapped before the module and back after it."""
    return spatial == 1 and x.time and len(x.dims) == 2


def sliding_op(target: str, kwargs: dict[str, Any], x: Shape, spatial: int) -> Op:
    """The module op of a block over `spatial` axes: per frame, or along time."""
    args = {"along_time": True} if along_time(x, spatial) else {}
    return Op("module", target=target, kwargs=kwargs, fold=is_frames(x, spatial), args=args)


def channel_dims(x: Shape, spatial: int) -> tuple[int, ...]:
    """The (C, *spatial) dims the module itself sees, for counting."""
    if along_time(x, spatial):
        return (x.dims[1], x.dims[0])
    return per_frame_dims(x, is_frames(x, spatial))


def is_frames(x: Shape, spatial: int) -> bool:
    """Whether a block over `spatial` axes receives frames (N, T, C, *spatial).

    `Shape.dims` leaves out the batch axis, so frames carry `spatial + 2` dims.
    """
    return len(x.dims) == spatial + 2


def refold(x: Shape, features: tuple[int, ...], fold: bool) -> Shape:
    """The output shape: per-frame features under the input's leading axis if folded;
    (N, T′, C′) again for a block that slid along time (`along_time`)."""
    if along_time(x, len(features) - 1):
        return Shape((features[1], features[0]), time=True)
    if fold:
        return Shape((x.dims[0], *features), x.time)
    return Shape(features)


def per_frame_dims(x: Shape, fold: bool) -> tuple[int, ...]:
    return x.dims[1:] if fold else x.dims


def frames(x: Shape, fold: bool) -> int:
    """How many times a per-frame module runs per sample."""
    return x.dims[0] if fold else 1


def conv_out(
    size: int, kernel: int, stride: int, padding: int, dilation: int = 1, ceil: bool = False
) -> int:
    """torch's output length of a window sliding over `size` (pooling's ceil_mode too)."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    out = (span + (stride - 1 if ceil else 0)) // stride + 1
    # With ceil_mode, torch drops a last window that would start in the right padding.
    if ceil and (out - 1) * stride >= size + padding:
        out -= 1
    return out


def axes(value: int | list[int], spatial: int) -> tuple[int, ...]:
    """A per-axis param as one size per axis: a single number means every axis."""
    return tuple(value) if isinstance(value, list) else (int(value),) * spatial


def compact(values: tuple[int, ...]) -> int | tuple[int, ...]:
    """Sizes as torch's argument: one number when every axis agrees (as files wrote it
    before per-axis sizes existed, so their exported code stays the same), else a tuple."""
    return values[0] if len(set(values)) == 1 else values


def same_padding(params: Mapping[str, Any], spatial: int = 1) -> tuple[int, ...]:
    """Resolve "same"/"valid"/sizes padding to the symmetric sizes torch takes, per axis."""
    padding = params["padding"]
    if padding == "valid":
        return (0,) * spatial
    if padding == "same":
        k = axes(params["kernel_size"], spatial)
        d = axes(params.get("dilation", 1), spatial)
        s = axes(params.get("stride", 1), spatial)
        if any(size % 2 == 0 for size in k):
            raise ShapeMismatch(
                f"padding 'same' needs an odd kernel_size; got {shown(params['kernel_size'])}"
            )
        if any(step != 1 for step in s):
            raise ShapeMismatch(
                f"padding 'same' needs stride 1; got stride {shown(params.get('stride', 1))}"
            )
        return tuple(di * (ki - 1) // 2 for ki, di in zip(k, d, strict=True))
    return axes(padding, spatial)


def shown(value: Any) -> str:
    """A per-axis value as the user wrote it: 3, or (1, 2, 2)."""
    return str(tuple(value)) if isinstance(value, list) else str(value)


def check_positive(dims: tuple[int, ...], what: str, x: Operand) -> tuple[int, ...]:
    if any(d < 1 for d in dims):
        raise ShapeMismatch(f"{what} leaves no output (size {tuple(dims)}); got {x}")
    return dims


def prod(values: tuple[int, ...] | list[int]) -> int:
    return math.prod(values)


PER_AXIS = " One number for every axis, or one per axis: 1, 2, 2."


def p_axes(
    name: str,
    default: int | str,
    help: str,
    spatial: int,
    minimum: int = 1,
    choices: tuple[str, ...] = (),
) -> Param:
    """A size per spatial axis (see the "per_axis" kind): kernel, stride, padding…"""
    return Param(
        name,
        "per_axis",
        default,
        help + PER_AXIS,
        minimum=minimum,
        limit=MAX_WINDOW,
        choices=choices,
        min_len=spatial,
        max_len=spatial,
    )


def p_kernel(default: int = 3, spatial: int = 1) -> Param:
    return p_axes("kernel_size", default, "Size of the window along each axis.", spatial)


def p_stride(default: int = 1, spatial: int = 1) -> Param:
    return p_axes("stride", default, "Step between windows.", spatial)


def p_dilation(spatial: int) -> Param:
    return p_axes("dilation", 1, "Spacing between kernel taps.", spatial)


def p_groups() -> Param:
    return Param(
        "groups",
        "int",
        1,
        "Split channels into this many groups, each filtered on its own: channels for "
        "depthwise, 32 for ResNeXt. Input and output channels must divide by it.",
        minimum=1,
        limit=MAX_WIDTH,
    )


def check_groups(groups: int, c_in: int, c_out: int, x: Operand) -> None:
    if c_in % groups or c_out % groups:
        raise ShapeMismatch(
            f"groups {groups} must divide the input channels ({c_in}) and the filters "
            f"({c_out}); got {x}"
        )


def p_bias() -> Param:
    return Param("bias", "bool", True, "Learn an additive bias per output.")


def only(inputs: Mapping[str, Operand]) -> Operand:
    return inputs["x"]
