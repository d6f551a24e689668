"""Recurrent layers: plain RNN, GRU and LSTM."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.blocks._common import only
from engine.spec import (
    MAX_WIDTH,
    BlockSpec,
    Op,
    Operand,
    Param,
    Shape,
    ShapeMismatch,
    register,
)

# Gate count per cell: a plain RNN has one weight set, GRU three, LSTM four.
GATES = {"RNN": 1, "GRU": 3, "LSTM": 4}

SUMMARIES = {
    "RNN": (
        "A plain recurrent layer: h_t = tanh(W·x_t + U·h_(t−1) + b). Simple, but its "
        "gradient fades over long sequences, so it forgets what came long ago."
    ),
    "GRU": (
        "A gated recurrent unit: update and reset gates decide how much of the past to "
        "keep, so it remembers over long sequences with fewer weights than an LSTM."
    ),
    "LSTM": (
        "Long short-term memory: a cell state carried along the sequence, guarded by "
        "input, forget and output gates, lets it learn dependencies hundreds of steps long."
    ),
}


def _directions(params: Mapping[str, Any]) -> int:
    return 2 if params["bidirectional"] else 1


def _recurrent_spec(cell: str) -> BlockSpec:
    gates = GATES[cell]

    def shape(params: Mapping[str, Any], inputs: Mapping[str, Operand]) -> Shape:
        x = only(inputs)
        if len(x.shape.dims) != 2:
            raise ShapeMismatch(f"needs a sequence (N, T, F); got {x}")
        width = params["hidden_size"] * _directions(params)
        if params["output"] == "sequence":
            return Shape((x.shape.dims[0], width), time=True)
        return Shape((width,))

    def layer_inputs(params: Mapping[str, Any], features: int) -> list[int]:
        later = params["hidden_size"] * _directions(params)
        return [features] + [later] * (params["num_layers"] - 1)

    def count(params: Mapping[str, Any], inputs: Mapping[str, Shape], out: Shape) -> int:
        h = params["hidden_size"]
        biases = 2 * h if params["bias"] else 0
        per_direction = sum(
            gates * (h * f + h * h + biases) for f in layer_inputs(params, inputs["x"].dims[-1])
        )
        return per_direction * _directions(params)

    def flops(params: Mapping[str, Any], inputs: Mapping[str, Shape], out: Shape) -> int:
        h = params["hidden_size"]
        steps, features = inputs["x"].dims
        per_step = sum(gates * (h * f + h * h) for f in layer_inputs(params, features))
        return steps * per_step * _directions(params)

    def op(params: Mapping[str, Any], inputs: Mapping[str, Shape], out: Shape) -> Op:
        kwargs: dict[str, Any] = {
            "input_size": inputs["x"].dims[-1],
            "hidden_size": params["hidden_size"],
            "num_layers": params["num_layers"],
            "batch_first": True,
        }
        # Written only when not torch's default, so older projects export as before.
        if not params["bias"]:
            kwargs["bias"] = False
        if params["bidirectional"]:
            kwargs["bidirectional"] = True
        if params["num_layers"] > 1 and params["dropout"] > 0:
            kwargs["dropout"] = params["dropout"]
        if params.get("nonlinearity", "tanh") != "tanh":
            kwargs["nonlinearity"] = params["nonlinearity"]
        return Op(
            "recurrent",
            target=cell,
            kwargs=kwargs,
            args={
                "output": params["output"],
                "bidirectional": params["bidirectional"],
                "hidden_size": params["hidden_size"],
            },
        )

    params: tuple[Param, ...] = (
        Param("hidden_size", "int", 64, "Size of the hidden state.", minimum=1, limit=MAX_WIDTH),
        Param("num_layers", "int", 1, "Recurrent layers stacked on each other.", 1, 16),
        Param("bidirectional", "bool", False, "Also read the sequence backwards."),
        Param(
            "output",
            "choice",
            "last",
            "'last': the final step only (for classifying a sequence); "
            "'sequence': every step (to stack another recurrent layer).",
            choices=("last", "sequence"),
        ),
        Param("dropout", "float", 0.0, "Dropout between stacked layers.", 0.0, 0.9),
        Param("bias", "bool", True, "Learn the two bias vectors of each gate."),
    )
    if cell == "RNN":
        params += (
            Param("nonlinearity", "choice", "tanh", "Activation.", choices=("tanh", "relu")),
        )
    return BlockSpec(
        name=cell,
        category="Recurrent",
        summary=SUMMARIES[cell],
        shape_formula=(
            "(N, T, F) → (N, hidden·directions) for 'last', "
            "(N, T, hidden·directions) for 'sequence'"
        ),
        weight_formula=(
            f"{gates} × (hidden × F + hidden × hidden + 2 × hidden) per layer and direction"
            if gates > 1
            else "hidden × F + hidden × hidden + 2 × hidden per layer and direction"
        ),
        params=params,
        shape=shape,
        op=op,
        id_prefix=cell.lower(),
        count_params=count,
        flops=flops,
        aliases=("recurrent", "sequence", "memory", "time series"),
    )


for _cell in ("RNN", "GRU", "LSTM"):
    register(_recurrent_spec(_cell))
