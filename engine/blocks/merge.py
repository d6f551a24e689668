"""Blocks that join several branches: Add, Multiply and Concat."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.blocks.spec import BlockSpec, Op, Operand, Param, Shape, ShapeMismatch, register

# densenet121 joins up to 25 branches in one torch.cat.
MAX_INPUTS = 64


def merge_ports(params: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(f"in{i}" for i in range(1, params["inputs"] + 1))


def _inputs_param() -> Param:
    return Param("inputs", "int", 2, "Number of branches joined.", minimum=2, maximum=MAX_INPUTS)


def _listing(inputs: Mapping[str, Operand]) -> str:
    return ", ".join(str(x) for x in inputs.values())


def _add_shape(params: Mapping[str, Any], inputs: Mapping[str, Operand]) -> Shape:
    first, *others = (x.shape for x in inputs.values())
    if any(shape != first for shape in others):
        raise ShapeMismatch(f"needs inputs of one shape; got {_listing(inputs)}")
    return first


def _multiply_shape(params: Mapping[str, Any], inputs: Mapping[str, Operand]) -> Shape:
    shapes = [x.shape for x in inputs.values()]
    rank = len(shapes[0].dims)
    if any(len(s.dims) != rank for s in shapes):
        raise ShapeMismatch(f"needs inputs with the same number of axes; got {_listing(inputs)}")
    dims = []
    for sizes in zip(*(s.dims for s in shapes), strict=True):
        wide = set(sizes) - {1}
        if len(wide) > 1:
            raise ShapeMismatch(
                "needs every axis to be of one size or 1 across inputs (broadcasting); "
                f"got {_listing(inputs)}"
            )
        dims.append(wide.pop() if wide else 1)
    # The first axis is time when any input's is: the others broadcast along it.
    return Shape(tuple(dims), time=any(s.time for s in shapes))


def _concat_shape(params: Mapping[str, Any], inputs: Mapping[str, Operand]) -> Shape:
    operands = list(inputs.values())
    first = operands[0].shape
    if not first.features:
        raise ShapeMismatch(f"needs a feature axis to join along; got {operands[0]}")
    for x in operands[1:]:
        s = x.shape
        fits = (
            s.time == first.time
            and len(s.dims) == len(first.dims)
            and s.steps == first.steps
            and s.features[1:] == first.features[1:]
        )
        if not fits:
            raise ShapeMismatch(
                f"needs inputs that differ only in channels; got {_listing(inputs)}"
            )
    channels = sum(x.shape.features[0] for x in operands)
    return first.with_features((channels, *first.features[1:]))


register(
    BlockSpec(
        name="Add",
        category="Merge",
        summary="Adds its inputs element by element (a residual or skip connection).",
        shape_formula="all inputs (N, …) of one shape → that shape",
        weight_formula="none",
        params=(_inputs_param(),),
        shape=_add_shape,
        op=lambda params, inputs, out: Op("add"),
        id_prefix="add",
        ports=merge_ports,
        flops=lambda params, inputs, out: out.numel() * (len(inputs) - 1),
        aliases=("sum", "residual", "skip"),
    )
)

register(
    BlockSpec(
        name="Multiply",
        category="Merge",
        summary=(
            "Multiplies its inputs element by element. An axis of size 1 stretches to "
            "match the others (broadcasting): a (N, C, 1, 1) gate scales every pixel of a "
            "(N, C, H, W) map, as in squeeze-and-excitation or gated units."
        ),
        shape_formula="(N, C, H, W) × (N, C, 1, 1) → (N, C, H, W); each axis equal or 1",
        weight_formula="none",
        params=(_inputs_param(),),
        shape=_multiply_shape,
        op=lambda params, inputs, out: Op("multiply"),
        id_prefix="mul",
        ports=merge_ports,
        flops=lambda params, inputs, out: out.numel() * (len(inputs) - 1),
        aliases=("product", "gate", "gating", "scale", "squeeze excitation", "attention"),
    )
)

register(
    BlockSpec(
        name="Concat",
        category="Merge",
        summary=(
            "Joins its inputs along the channel/feature axis (the first after N and T); "
            "every other axis must match."
        ),
        shape_formula="(N, C1, …), (N, C2, …) → (N, C1 + C2, …)",
        weight_formula="none",
        params=(_inputs_param(),),
        shape=_concat_shape,
        op=lambda params, inputs, out: Op(
            "concat", args={"dim": 2 if next(iter(inputs.values())).time else 1}
        ),
        id_prefix="concat",
        ports=merge_ports,
        aliases=("join", "merge", "stack"),
    )
)
