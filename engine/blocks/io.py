"""The model's inputs and outputs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.blocks._common import only
from engine.blocks.spec import (
    DTYPE_PARAM,
    MAX_SIDE,
    BlockSpec,
    Op,
    Operand,
    Param,
    Shape,
    ShapeMismatch,
    register,
)

LOSSES = ("cross_entropy", "mse", "bce", "none")


def _input_shape(params: Mapping[str, Any], inputs: Mapping[str, Operand]) -> Shape:
    return Shape(tuple(params["shape"]), time=params["sequence"], ids=params["dtype"] == "int64")


def _output_shape(params: Mapping[str, Any], inputs: Mapping[str, Operand]) -> Shape:
    x = only(inputs)
    if params["loss"] == "cross_entropy" and (x.shape.time or not x.shape.dims):
        raise ShapeMismatch(
            "with loss cross_entropy needs class scores (N, classes) or per-pixel scores "
            f"(N, classes, H, W); got {x}"
        )
    return x.shape


register(
    BlockSpec(
        name="Input",
        category="Input/Output",
        summary=(
            "Where data enters. Its shape is one sample without the batch axis N; tick "
            "'sequence' when the first axis is time T (a series, or video frames)."
        ),
        shape_formula="(N, *shape), or (N, T, …) for a sequence",
        weight_formula="none",
        params=(
            Param(
                "shape",
                "ints",
                [1, 28, 28],
                "One sample's shape, e.g. [1, 28, 28] for a grey image, "
                "[8, 1, 32, 32] for 8 video frames.",
                minimum=1,
                limit=MAX_SIDE,
            ),
            Param("sequence", "bool", False, "The first axis is time (T)."),
            DTYPE_PARAM,
        ),
        shape=_input_shape,
        op=lambda params, inputs, out: Op("input"),
        id_prefix="input",
        ports=lambda params: (),
        role="input",
        aliases=("data", "source", "image", "video"),
    )
)

register(
    BlockSpec(
        name="Output",
        category="Input/Output",
        summary=(
            "A model output and the loss it is trained with: cross_entropy for classes "
            "(raw scores in, no Softmax needed), mse for numbers, bce for yes/no scores."
        ),
        shape_formula="unchanged",
        weight_formula="none",
        params=(Param("loss", "choice", "cross_entropy", "Training loss.", choices=LOSSES),),
        shape=_output_shape,
        op=lambda params, inputs, out: Op("output"),
        id_prefix="output",
        role="output",
        aliases=("loss", "target", "prediction", "result"),
    )
)
