"""Blocks that rearrange axes: Reshape, Permute, and Mean over chosen axes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.blocks._common import only, prod
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


def resolve_target(target: list[int], size: int, x: Operand) -> tuple[int, ...]:
    """Fill in the one -1 of a reshape target so it holds `size` values."""
    if 0 in target or target.count(-1) > 1:
        raise ShapeMismatch(f"shape {tuple(target)} may hold one -1 and no 0")
    known = prod([d for d in target if d != -1])
    if -1 in target:
        if size % known:
            raise ShapeMismatch(
                f"cannot fit {size} values per sample into {tuple(target)}; got {x}"
            )
        return tuple(size // known if d == -1 else d for d in target)
    if known != size:
        raise ShapeMismatch(
            f"target {tuple(target)} holds {known} values per sample, the input {size}; got {x}"
        )
    return tuple(target)


def _reshape_shape(params: Mapping[str, Any], inputs: Mapping[str, Operand]) -> Shape:
    x = only(inputs)
    features = resolve_target(params["shape"], prod(x.shape.features), x)
    return x.shape.with_features(features)


def _reshape_op(params: Mapping[str, Any], inputs: Mapping[str, Shape], out: Shape) -> Op:
    # The target as the user wrote it, -1 included (torch fills it in as the shape rule
    # does): exported code then says what the block says, and imports back to it.
    return Op("reshape", args={"keep": 2 if out.time else 1, "shape": tuple(params["shape"])})


def _permute_shape(params: Mapping[str, Any], inputs: Mapping[str, Operand]) -> Shape:
    x = only(inputs)
    order = params["dims"]
    if sorted(order) != list(range(1, len(x.shape.dims) + 1)):
        axes = ", ".join(str(i) for i in range(1, len(x.shape.dims) + 1))
        raise ShapeMismatch(f"dims must order the axes {axes} (after N); got {order} for {x}")
    dims = tuple(x.shape.dims[i - 1] for i in order)
    # The time axis stays one only while it stays first.
    return Shape(dims, time=x.shape.time and order[0] == 1)


# Mean's `reduce` → the global_pool mode the op runs (mean, sum, amax).
REDUCE_MODES = {"mean": "avg", "sum": "sum", "max": "max"}


def _mean_axes(params: Mapping[str, Any], x: Operand) -> list[int]:
    axes = sorted(set(params["axes"]))
    rank = len(x.shape.dims)
    if len(axes) != len(params["axes"]) or axes[-1] > rank:
        listed = ", ".join(str(i) for i in range(1, rank + 1))
        raise ShapeMismatch(f"axes must be distinct axes among {listed} (after N); got {x}")
    if len(axes) == rank and not params["keepdim"]:
        raise ShapeMismatch(f"would leave no axis after N; keep one, or set keepdim; got {x}")
    return axes


def _mean_shape(params: Mapping[str, Any], inputs: Mapping[str, Operand]) -> Shape:
    x = only(inputs)
    axes = _mean_axes(params, x)
    dims = x.shape.dims
    if params["keepdim"]:
        out = tuple(1 if i + 1 in axes else d for i, d in enumerate(dims))
    else:
        out = tuple(d for i, d in enumerate(dims) if i + 1 not in axes)
    # Averaging over time (axis 1) leaves no time axis.
    return Shape(out, time=x.shape.time and 1 not in axes)


register(
    BlockSpec(
        name="Mean",
        category="Reshape",
        summary=(
            "Averages over the chosen axes after N (counting from 1): axes [2, 3] of "
            "(N, C, H, W) leave (N, C); axis [1] of a sequence (N, T, F) averages over time. "
            "With keepdim, each averaged axis stays with size 1 (ready to Multiply back). "
            "reduce 'sum' adds the values up instead, 'max' keeps the largest."
        ),
        shape_formula="(N, d1, d2, …) → (N, …) without the averaged axes (size 1 with keepdim)",
        weight_formula="none",
        params=(
            Param("axes", "ints", [2, 3], "Axes after N to average over.", minimum=1, limit=8),
            Param("keepdim", "bool", False, "Keep each averaged axis with size 1."),
            Param(
                "reduce",
                "choice",
                "mean",
                "How the values of the axes become one: their mean, sum or maximum.",
                choices=tuple(REDUCE_MODES),
            ),
        ),
        shape=_mean_shape,
        op=lambda params, inputs, out: Op(
            "global_pool",
            args={
                "mode": REDUCE_MODES[params["reduce"]],
                "dims": tuple(sorted(params["axes"])),
                **({"keepdim": True} if params["keepdim"] else {}),
            },
        ),
        id_prefix="mean",
        flops=lambda params, inputs, out: inputs["x"].numel(),
        aliases=("average", "reduce", "mean over axes"),
    )
)

register(
    BlockSpec(
        name="Reshape",
        category="Reshape",
        summary=(
            "Gives each sample (each frame, with a time axis) a new shape holding the same "
            "values. One entry may be -1: it takes whatever size is left."
        ),
        shape_formula="(N, …) → (N, *shape); (N, T, …) → (N, T, *shape)",
        weight_formula="none",
        params=(
            Param(
                "shape", "ints", [-1], "Target shape after N (and T).", minimum=-1, limit=MAX_SIDE
            ),
        ),
        shape=_reshape_shape,
        op=_reshape_op,
        id_prefix="reshape",
        aliases=("view", "unflatten"),
    )
)

register(
    BlockSpec(
        name="Permute",
        category="Reshape",
        summary=(
            "Reorders the axes after N. Axes count from 1: dims [2, 1] turns (N, T, F) into "
            "(N, F, T). (A Conv1d or pooling takes (N, T, F) directly and slides along time.)"
        ),
        shape_formula="(N, d1, d2, …) → (N, d[dims[0]], d[dims[1]], …)",
        weight_formula="none",
        params=(
            Param("dims", "ints", [2, 1], "New order of the axes after N.", minimum=1, limit=8),
        ),
        shape=_permute_shape,
        op=lambda params, inputs, out: Op("permute", args={"dims": (0, *params["dims"])}),
        id_prefix="permute",
        aliases=("transpose", "swap axes"),
    )
)
