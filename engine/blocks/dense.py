"""Fully connected layers and the blocks that usually sit around them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.blocks._common import channels_first, is_frames, only, p_bias, prod
from engine.blocks.spec import (
    MAX_VOCABULARY,
    MAX_WIDTH,
    BlockSpec,
    Op,
    Operand,
    Param,
    Shape,
    ShapeMismatch,
    register,
)


def _dense_shape(params: Mapping[str, Any], inputs: Mapping[str, Operand]) -> Shape:
    x = only(inputs)
    if params["over"] == "last axis":
        # nn.Linear's own rule: every axis but the last is carried through, as
        # torchvision's ConvNeXt runs it on channels-last (N, H, W, C).
        if not x.shape.dims:
            raise ShapeMismatch(f"needs an axis to apply to after N; got {x}")
        # On (N, T) the last axis is the time axis: its weighted sums are no steps.
        time = x.shape.time and len(x.shape.dims) > 1
        return Shape((*x.shape.dims[:-1], params["units"]), time)
    if len(x.shape.dims) not in (1, 2):
        hint = " — add a Flatten before it" if len(x.shape.dims) > 2 else ""
        raise ShapeMismatch(f"needs (N, F) or a sequence (N, T, F); got {x}{hint}")
    return Shape((*x.shape.dims[:-1], params["units"]), x.shape.time)


def _dense_count(params: Mapping[str, Any], inputs: Mapping[str, Shape], out: Shape) -> int:
    return inputs["x"].dims[-1] * params["units"] + (params["units"] if params["bias"] else 0)


def _dense_flops(params: Mapping[str, Any], inputs: Mapping[str, Shape], out: Shape) -> int:
    return prod(inputs["x"].dims) * params["units"]


def _dense_op(params: Mapping[str, Any], inputs: Mapping[str, Shape], out: Shape) -> Op:
    kwargs = {
        "in_features": inputs["x"].dims[-1],
        "out_features": params["units"],
        "bias": params["bias"],
    }
    return Op("module", target="Linear", kwargs=kwargs)


def _flatten_shape(params: Mapping[str, Any], inputs: Mapping[str, Operand]) -> Shape:
    x = only(inputs)
    if not x.shape.features:
        raise ShapeMismatch(f"needs features to flatten after (N, T); got {x}")
    return x.shape.with_features((prod(x.shape.features),))


def _flatten_op(params: Mapping[str, Any], inputs: Mapping[str, Shape], out: Shape) -> Op:
    # Per frame when there is a time axis: (N, T, C, H, W) -> (N, T, C·H·W).
    return Op("module", target="Flatten", kwargs={"start_dim": 2 if inputs["x"].time else 1})


def _same_shape(params: Mapping[str, Any], inputs: Mapping[str, Operand]) -> Shape:
    return only(inputs).shape


def _embedding_shape(params: Mapping[str, Any], inputs: Mapping[str, Operand]) -> Shape:
    x = only(inputs)
    padding = params["padding_idx"]
    if padding != "none" and padding >= params["num_embeddings"]:
        raise ShapeMismatch(
            f"padding_idx must be below num_embeddings ({params['num_embeddings']}); got {padding}"
        )
    if not x.shape.ids:
        raise ShapeMismatch(
            f"needs token ids (an Input with dtype int64), (N, T) or (N, L); got floats {x}"
        )
    return Shape((*x.shape.dims, params["embedding_dim"]), x.shape.time)


register(
    BlockSpec(
        name="Dense",
        category="Core",
        summary=(
            "Every output is a weighted sum of all inputs plus a bias (a fully connected "
            "layer). On a sequence (N, T, F) it applies to each step; over the last axis, "
            "to every position of any input, e.g. channels-last (N, H, W, C)."
        ),
        shape_formula=(
            "(N, F) → (N, units); (N, T, F) → (N, T, units); "
            "over the last axis: (N, …, F) → (N, …, units)"
        ),
        weight_formula="F × units + units (bias)",
        params=(
            Param("units", "int", 10, "Number of outputs.", minimum=1, limit=MAX_WIDTH),
            p_bias(),
            Param(
                "over",
                "choice",
                "features",
                "'features': (N, F) or a sequence (N, T, F), as after a Flatten; "
                "'last axis': the last axis of any input, e.g. channels-last (N, H, W, C).",
                choices=("features", "last axis"),
            ),
        ),
        shape=_dense_shape,
        op=_dense_op,
        id_prefix="dense",
        count_params=_dense_count,
        flops=_dense_flops,
        aliases=("linear", "fully connected", "fc", "mlp"),
    )
)

register(
    BlockSpec(
        name="Flatten",
        category="Core",
        summary=(
            "Lays every feature map out as one long vector. With a time axis each frame "
            "is flattened on its own, so (N, T, C, H, W) becomes (N, T, C·H·W) — ready "
            "for an LSTM."
        ),
        shape_formula="(N, C, H, W) → (N, C·H·W); (N, T, C, H, W) → (N, T, C·H·W)",
        weight_formula="none",
        params=(),
        shape=_flatten_shape,
        op=_flatten_op,
        id_prefix="flatten",
        aliases=("vector", "ravel"),
    )
)

register(
    BlockSpec(
        name="Dropout",
        category="Core",
        summary=(
            "While training, zeroes each value with probability p and scales the rest by "
            "1/(1 − p); does nothing in evaluation. Fights overfitting."
        ),
        shape_formula="unchanged",
        weight_formula="none",
        params=(Param("p", "float", 0.5, "Probability of dropping a value.", 0.0, 0.99),),
        shape=_same_shape,
        op=lambda params, inputs, out: Op("module", target="Dropout", kwargs={"p": params["p"]}),
        id_prefix="dropout",
        aliases=("regularization",),
    )
)


def _dropout2d_shape(params: Mapping[str, Any], inputs: Mapping[str, Operand]) -> Shape:
    x = only(inputs)
    channels_first(x, 2)
    return x.shape


register(
    BlockSpec(
        name="Dropout2d",
        category="Core",
        summary=(
            "While training, zeroes whole channels (entire feature maps) with probability "
            "p and scales the rest by 1/(1 − p): neighbouring pixels are too alike for "
            "plain Dropout to help. Frames are treated one by one."
        ),
        shape_formula="unchanged",
        weight_formula="none",
        params=(Param("p", "float", 0.5, "Probability of dropping a channel.", 0.0, 0.99),),
        shape=_dropout2d_shape,
        op=lambda params, inputs, out: Op(
            "module", target="Dropout2d", kwargs={"p": params["p"]}, fold=is_frames(inputs["x"], 2)
        ),
        id_prefix="dropout",
        aliases=("regularization", "spatial dropout", "channel dropout"),
    )
)


def _embedding_kwargs(params: Mapping[str, Any]) -> dict[str, Any]:
    kwargs = {
        "num_embeddings": params["num_embeddings"],
        "embedding_dim": params["embedding_dim"],
    }
    if params["padding_idx"] != "none":
        kwargs["padding_idx"] = params["padding_idx"]
    return kwargs


register(
    BlockSpec(
        name="Embedding",
        category="Core",
        summary="Looks up a learned vector for each token id (an integer below vocabulary).",
        shape_formula="(N, T) → (N, T, dim)",
        weight_formula="vocabulary × dim",
        params=(
            Param(
                "num_embeddings",
                "int",
                1000,
                "Vocabulary size (ids 0..size−1).",
                minimum=1,
                limit=MAX_VOCABULARY,
            ),
            Param("embedding_dim", "int", 32, "Length of each vector.", minimum=1, limit=MAX_WIDTH),
            Param(
                "padding_idx",
                "int_or_choice",
                "none",
                "The id of padding tokens: its vector stays zero and learns nothing.",
                minimum=0,
                limit=MAX_VOCABULARY,
                choices=("none",),
            ),
        ),
        shape=_embedding_shape,
        op=lambda params, inputs, out: Op(
            "module", target="Embedding", kwargs=_embedding_kwargs(params)
        ),
        id_prefix="embed",
        count_params=lambda params, inputs, out: params["num_embeddings"] * params["embedding_dim"],
        aliases=("token", "lookup", "words"),
        takes_ids=True,
    )
)
