"""Blocks that take part of a tensor along one axis: Split, Slice and Select.

Axes count after N, from 1 (as Mean and Permute count them); a sequence's time axis T
is axis 1. Each op's `dim` counts N as 0, as torch does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.blocks._common import only
from engine.blocks.spec import (
    MAX_SIDE,
    BlockSpec,
    Op,
    Operand,
    Param,
    Shape,
    ShapeMismatch,
    register,
)

MAX_PARTS = 64  # Split's outputs: densenet-sized fan-outs, still a readable canvas


def _axis_param() -> Param:
    return Param(
        "axis",
        "int",
        1,
        "Axis after N, counting from 1: 1 is the channels of (N, C, H, W), the time of (N, T, F).",
        minimum=1,
        limit=8,
    )


def _axis_size(axis: int, x: Operand) -> int:
    """The size of `axis` (after N, from 1) of `x`, or a clear refusal."""
    dims = x.shape.dims
    if axis > len(dims):
        listed = ", ".join(str(i) for i in range(1, len(dims) + 1))
        raise ShapeMismatch(f"axis {axis} is out of range: {x} has axes {listed} after N")
    return dims[axis - 1]


def _keeps_an_axis(x: Operand) -> None:
    """Refuse to remove the one axis after N (the batch alone is no sample)."""
    if len(x.shape.dims) == 1:
        raise ShapeMismatch(f"would leave no axis after N; got {x}")


def without_axis(axis: int, shape: Shape) -> Shape:
    """`shape` with `axis` removed; without time if that axis was time."""
    rest = shape.dims[: axis - 1] + shape.dims[axis:]
    return Shape(rest, time=shape.time and axis != 1)


def resized(axis: int, size: int, shape: Shape) -> Shape:
    dims = list(shape.dims)
    dims[axis - 1] = size
    return Shape(tuple(dims), time=shape.time)


# --------------------------------------------------------------------- Split


def split_ports(params: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(f"out{i}" for i in range(1, len(params["sizes"]) + 1))


def split_shapes(params: Mapping[str, Any], x: Shape) -> dict[str, Shape]:
    """Each output port's shape, for params the shape rule accepted."""
    axis, sizes = params["axis"], params["sizes"]
    if params["squeeze"]:
        return {port: without_axis(axis, x) for port in split_ports(params)}
    return {port: resized(axis, s, x) for port, s in zip(split_ports(params), sizes, strict=True)}


def _split_shape(params: Mapping[str, Any], inputs: Mapping[str, Operand]) -> Shape:
    x = only(inputs)
    axis, sizes = params["axis"], params["sizes"]
    size = _axis_size(axis, x)
    if sum(sizes) != size:
        raise ShapeMismatch(
            f"sizes {tuple(sizes)} add up to {sum(sizes)}, but axis {axis} has {size}; got {x}"
        )
    if params["squeeze"]:
        if any(s != 1 for s in sizes):
            raise ShapeMismatch(
                f"with squeeze every size must be 1 (one part per position); "
                f"got sizes {tuple(sizes)} for {x}"
            )
        _keeps_an_axis(x)
    return split_shapes(params, x.shape)["out1"]


def _split_op(params: Mapping[str, Any], inputs: Mapping[str, Shape], out: Shape) -> Op:
    args = {
        "dim": params["axis"],
        "sizes": tuple(params["sizes"]),
        "squeeze": params["squeeze"],
        "output_shapes": split_shapes(params, inputs["x"]),
    }
    return Op("split", args=args)


register(
    BlockSpec(
        name="Split",
        category="Reshape",
        summary=(
            "Cuts its input into consecutive parts along one axis, one output per part: "
            "sizes [16, 16] on axis 1 turn (N, 32, H, W) into two (N, 16, H, W) (torch.chunk, "
            "torch.split; shufflenet's two branches). With squeeze, every part is one "
            "position and loses the axis (torch.unbind)."
        ),
        shape_formula="(N, …, sum(sizes), …) → one (N, …, size_k, …) per part",
        weight_formula="none",
        params=(
            _axis_param(),
            Param(
                "sizes",
                "ints",
                [1, 1],
                "The size of each part, in order; they must add up to the axis.",
                minimum=1,
                min_len=2,
                max_len=MAX_PARTS,
                limit=MAX_SIDE,
            ),
            Param("squeeze", "bool", False, "Remove the axis from each part (sizes all 1)."),
        ),
        shape=_split_shape,
        op=_split_op,
        id_prefix="split",
        outputs=split_ports,
        aliases=("chunk", "unbind", "cut", "branches"),
    )
)


# --------------------------------------------------------------------- Slice


def slice_range(params: Mapping[str, Any], size: int) -> range:
    """The positions a Slice keeps of an axis of `size`, as Python slicing counts them."""
    stop = None if params["stop"] == "end" else params["stop"]
    return range(size)[params["start"] : stop : params["step"]]


def _slice_shape(params: Mapping[str, Any], inputs: Mapping[str, Operand]) -> Shape:
    x = only(inputs)
    axis = params["axis"]
    kept = slice_range(params, _axis_size(axis, x))
    if not kept:
        stop = params["stop"]
        raise ShapeMismatch(
            f"start {params['start']}, stop {stop} keep nothing of axis {axis}; got {x}"
        )
    return resized(axis, len(kept), x.shape)


def _slice_op(params: Mapping[str, Any], inputs: Mapping[str, Shape], out: Shape) -> Op:
    stop = None if params["stop"] == "end" else params["stop"]
    args = {"dim": params["axis"], "start": params["start"], "stop": stop, "step": params["step"]}
    return Op("slice", args=args)


register(
    BlockSpec(
        name="Slice",
        category="Reshape",
        summary=(
            "Keeps positions start, start + step, … before stop along one axis, as Python "
            "slicing does: start 0, stop 16 on axis 1 keeps the first 16 channels "
            "(x[:, 0:16]). Negative start or stop count from the end; stop 'end' runs to it."
        ),
        shape_formula="(N, …, L, …) → (N, …, len(range(L)[start:stop:step]), …)",
        weight_formula="none",
        params=(
            _axis_param(),
            Param(
                "start",
                "int",
                0,
                "First position kept (negative: from the end).",
                minimum=-MAX_SIDE,
                maximum=MAX_SIDE,
            ),
            Param(
                "stop",
                "int_or_choice",
                "end",
                "Position to stop before (negative: from the end), or 'end'.",
                minimum=-MAX_SIDE,
                maximum=MAX_SIDE,
                choices=("end",),
            ),
            Param("step", "int", 1, "Keep every step-th position.", minimum=1, limit=MAX_SIDE),
        ),
        shape=_slice_shape,
        op=_slice_op,
        id_prefix="slice",
        aliases=("narrow", "crop", "index", "range", "take"),
    )
)


# -------------------------------------------------------------------- Select


def _select_shape(params: Mapping[str, Any], inputs: Mapping[str, Operand]) -> Shape:
    x = only(inputs)
    axis, index = params["axis"], params["index"]
    size = _axis_size(axis, x)
    if not -size <= index < size:
        raise ShapeMismatch(
            f"index {index} is out of range for axis {axis} of size {size} "
            f"(use {-size}..{size - 1}); got {x}"
        )
    _keeps_an_axis(x)
    return without_axis(axis, x.shape)


register(
    BlockSpec(
        name="Select",
        category="Reshape",
        summary=(
            "Picks one position along an axis and removes that axis: index -1 on axis 1 of "
            "a sequence (N, T, F) gives the last step (N, F), as x[:, -1] does. Negative "
            "indices count from the end."
        ),
        shape_formula="(N, …, L, …) → (N, …, …) without the axis",
        weight_formula="none",
        params=(
            _axis_param(),
            Param(
                "index",
                "int",
                -1,
                "Position to pick (negative: from the end).",
                minimum=-MAX_SIDE,
                maximum=MAX_SIDE,
            ),
        ),
        shape=_select_shape,
        op=lambda params, inputs, out: Op(
            "select", args={"dim": params["axis"], "index": params["index"]}
        ),
        id_prefix="select",
        aliases=("last step", "pick", "index", "gather", "x[:, -1]"),
    )
)
