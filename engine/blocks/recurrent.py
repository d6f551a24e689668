"""Recurrent layers: plain RNN, GRU and LSTM."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.blocks._common import only
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


def state_rows(cell: str, params: Mapping[str, Any]) -> int:
    """Rows of the state (N, rows, hidden): one per layer and direction, twice for an
    LSTM (its h_n rows, then its c_n rows)."""
    return (2 if cell == "LSTM" else 1) * params["num_layers"] * _directions(params)


def state_ports(params: Mapping[str, Any]) -> tuple[str, ...]:
    return ("x", "state") if params["initial_state"] else ("x",)


def _recurrent_spec(cell: str) -> BlockSpec:
    gates = GATES[cell]
    state_text = "(h_n rows, then c_n rows)" if cell == "LSTM" else "(h_n)"

    def shape(params: Mapping[str, Any], inputs: Mapping[str, Operand]) -> Shape:
        x = only(inputs)
        if len(x.shape.dims) != 2:
            raise ShapeMismatch(f"needs a sequence (N, T, F); got {x}")
        state = (state_rows(cell, params), params["hidden_size"])
        given = inputs.get("state")
        if given is not None and given.shape.dims != state:
            raise ShapeMismatch(
                f"needs an initial state (N, {state[0]}, {state[1]}) {state_text}, as another "
                f"{cell} of the same size outputs with output 'state'; got {given}"
            )
        width = params["hidden_size"] * _directions(params)
        if params["output"] == "sequence":
            return Shape((x.shape.dims[0], width), time=True)
        if params["output"] == "state":
            return Shape(state)
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
                # An LSTM's state is a pair (h, c), stacked as rows in NetLoom.
                **({"state_pair": True} if cell == "LSTM" else {}),
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
            "'sequence': every step (to stack another recurrent layer); "
            "'state': the final hidden state of every layer and direction (an encoder's "
            "summary, for a decoder's initial state).",
            choices=("last", "sequence", "state"),
        ),
        Param("dropout", "float", 0.0, "Dropout between stacked layers.", 0.0, 0.9),
        Param("bias", "bool", True, "Learn the two bias vectors of each gate."),
        Param(
            "initial_state",
            "bool",
            False,
            "Take the starting state from a second input (an encoder's output 'state'), "
            "instead of zeros.",
        ),
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
            "(N, T, hidden·directions) for 'sequence', "
            f"(N, {'2·' if cell == 'LSTM' else ''}layers·directions, hidden) for 'state' "
            f"{state_text}; the optional initial state has that shape too"
        ),
        weight_formula=(
            f"{gates} × (hidden × F + hidden × hidden + 2 × hidden) per layer and direction"
            if gates > 1
            else "hidden × F + hidden × hidden + 2 × hidden per layer and direction"
        ),
        params=params,
        shape=shape,
        op=op,
        ports=state_ports,
        id_prefix=cell.lower(),
        count_params=count,
        flops=flops,
        aliases=("recurrent", "sequence", "memory", "time series"),
    )


for _cell in ("RNN", "GRU", "LSTM"):
    register(_recurrent_spec(_cell))
