"""Helpers shared by block declarations: layouts, frame folding, output sizes."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from engine.spec import MAX_WINDOW, Operand, Param, Shape, ShapeMismatch

SPATIAL_LAYOUTS = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}


def layout(spatial: int, channels: str = "C") -> str:
    return "(" + ", ".join(["N", channels, *SPATIAL_LAYOUTS[spatial]]) + ")"


def frames_layout(spatial: int, channels: str = "C") -> str:
    return "(" + ", ".join(["N", "T", channels, *SPATIAL_LAYOUTS[spatial]]) + ")"


def channels_first(x: Operand, spatial: int) -> tuple[tuple[int, ...], bool]:
    """The (C, *spatial) dims a block works on, and whether it applies per frame.

    A block that needs (N, C, *spatial) also accepts one extra leading axis,
    (N, T, C, *spatial): it is then applied to each frame. A sequence of the natural
    rank, (N, T, *spatial), is refused: torch would take its time axis for channels.
    """
    dims = x.shape.dims
    natural = spatial + 1
    expected = f"needs {natural + 1}-D input {layout(spatial)} or frames {frames_layout(spatial)}"
    if len(dims) == natural + 1:
        return dims[1:], True
    if len(dims) == natural and x.shape.time:
        # torch would read the time axis as channels and mix all steps into each output.
        hint = " — a Permute [2, 1] turns (N, T, F) into (N, F, T) to filter along time"
        raise ShapeMismatch(
            f"{expected}; got {x}, whose T is time, not channels{hint if spatial == 1 else ''}"
        )
    if len(dims) == natural:
        return dims, False
    raise ShapeMismatch(f"{expected}; got {x}")


def is_frames(x: Shape, spatial: int) -> bool:
    """Whether a block over `spatial` axes receives frames (N, T, C, *spatial).

    `Shape.dims` leaves out the batch axis, so frames carry `spatial + 2` dims.
    """
    return len(x.dims) == spatial + 2


def refold(x: Shape, features: tuple[int, ...], fold: bool) -> Shape:
    """The output shape: per-frame features under the input's leading axis if folded."""
    if fold:
        return Shape((x.dims[0], *features), x.time)
    return Shape(features)


def per_frame_dims(x: Shape, fold: bool) -> tuple[int, ...]:
    return x.dims[1:] if fold else x.dims


def frames(x: Shape, fold: bool) -> int:
    """How many times a per-frame module runs per sample."""
    return x.dims[0] if fold else 1


def conv_out(size: int, kernel: int, stride: int, padding: int, dilation: int = 1) -> int:
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def same_padding(params: Mapping[str, Any]) -> int:
    """Resolve "same"/"valid"/int padding to the symmetric integer torch takes."""
    padding = params["padding"]
    if padding == "valid":
        return 0
    if padding == "same":
        k, d, s = params["kernel_size"], params.get("dilation", 1), params.get("stride", 1)
        if k % 2 == 0:
            raise ShapeMismatch(f"padding 'same' needs an odd kernel_size; got {k}")
        if s != 1:
            raise ShapeMismatch(f"padding 'same' needs stride 1; got stride {s}")
        return d * (k - 1) // 2
    return int(padding)


def check_positive(dims: tuple[int, ...], what: str, x: Operand) -> tuple[int, ...]:
    if any(d < 1 for d in dims):
        raise ShapeMismatch(f"{what} leaves no output (size {tuple(dims)}); got {x}")
    return dims


def prod(values: tuple[int, ...] | list[int]) -> int:
    return math.prod(values)


def p_kernel(default: int = 3) -> Param:
    return Param(
        "kernel_size",
        "int",
        default,
        "Size of the window along each axis.",
        minimum=1,
        limit=MAX_WINDOW,
    )


def p_stride(default: int = 1) -> Param:
    return Param("stride", "int", default, "Step between windows.", minimum=1, limit=MAX_WINDOW)


def p_bias() -> Param:
    return Param("bias", "bool", True, "Learn an additive bias per output.")


def only(inputs: Mapping[str, Operand]) -> Operand:
    return inputs["x"]
