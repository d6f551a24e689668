"""The parts of a recurrent layer's result in a traced model, picked by indexing.

torch's GRU/LSTM/RNN return (output, h_n) (an LSTM (output, (h_n, c_n))); a NetLoom
recurrent block outputs one of the sequence, its last step or its final state, chosen
by what the model takes: `out[:, -1]`, `h_n[-1]`, `torch.cat((h_n[-2], h_n[-1]), 1)`
(both directions' ends: the 'last' output), `h_n[-2:]`. What a bidirectional layer's
one direction gives is a Slice of the block's output; an `out[:, -1]` that is not the
'last' output is the sequence and a Select. A state of zeros made in forward is
torch's default, so the block starts from it without a state input.
"""

from __future__ import annotations

import operator
from typing import Any

import torch
from torch import fx

from engine.importers.builder import GraphBuilder, Recurrent, Value
from engine.importers.report import Unsupported
from engine.importers.torch_context import TorchContext
from engine.importers.torch_indexing import FULL, index_tensor, split
from engine.importers.torch_shapes import arg
from engine.importers.torch_values import RECURRENT_PARTS, BatchSecond, RecPart, Zeros


def is_last_step(index: Any) -> bool:
    """x[:, -1] or x[:, -1, :]."""
    return (
        isinstance(index, tuple)
        and index[:2] == (FULL, -1)
        and all(i == FULL for i in index[2:])
        and len(index) <= 3
    )


def _row(index: Any) -> int | None:
    """The row of h_n an index picks whole: h_n[-1], h_n[-1, :, :]."""
    if isinstance(index, tuple) and index and all(i == FULL for i in index[1:]):
        index = index[0]
    return index if isinstance(index, int) else None


def _direction_end(rec: Recurrent, index: Any) -> str | None:
    """Which direction ends at `index` of a bidirectional layer's output: "forward" at
    [:, -1, :H], "backward" at [:, 0, H:] (the values of its top layer's h_n[-2], h_n[-1])."""
    half = rec.params["hidden_size"]
    if index == (FULL, -1, slice(None, half, None)):
        return "forward"
    if index == (FULL, 0, slice(half, None, None)):
        return "backward"
    return None


def _sequence_used_otherwise(sequence: fx.Node) -> bool:
    """Whether the model takes more of a layer's output than its last step."""
    return any(
        not (user.target is operator.getitem and is_last_step(user.args[1]))
        for user in sequence.users
    )


def recurrent_item(imp: TorchContext, node: fx.Node, base: RecPart, index: Any) -> Any:
    """`result[i]` of a recurrent layer: the output or the state, a row of h_n, a step."""
    rec = base.rec
    if base.part == "all" and index in (0, 1):
        second = "state" if rec.cell == "LSTM" else "hidden"
        return RecPart(rec, "seq" if index == 0 else second)
    if base.part == "state" and index in (0, 1):
        return RecPart(rec, "hidden" if index == 0 else "cell")
    stacked = rec.params["num_layers"] * rec.directions
    row = _row(index)
    if base.part == "hidden" and row is not None and -stacked <= row < stacked:
        if row % stacked == stacked - 1:
            if rec.directions == 2:  # the backward half; with h_n[-2] beside it, see _cat
                return RecPart(rec, "backward")
            return imp.builder.recurrent(rec, "last")
        if rec.directions == 2 and row % stacked == stacked - 2:
            return RecPart(rec, "forward")
    top = (slice(-2, None, None), slice(stacked - 2, None, None), slice(stacked - 2, stacked))
    if base.part == "hidden" and rec.directions == 2 and index in top:
        return RecPart(rec, "hidden" if stacked == 2 else "top")
    if base.part == "top" and row in (-2, -1, 0, 1):
        return RecPart(rec, "forward" if row % 2 == 0 else "backward")
    if base.part == "seq":
        end = _direction_end(rec, index) if rec.directions == 2 else None
        if end is not None:
            # How exported code takes a bidirectional 'last': each direction's end,
            # joined by torch.cat as h_n[-2] and h_n[-1] are (see torch_functions._cat).
            return RecPart(rec, end)
        if (
            is_last_step(index)
            and rec.directions == 1
            and rec.mode in (None, "last")
            and not _sequence_used_otherwise(node.args[0])
        ):
            return imp.builder.recurrent(rec, "last")
        # A bidirectional layer's out[:, -1] holds the forward direction's end and the
        # backward direction's first step, not the 'last' output: the sequence, indexed.
        return index_tensor(imp, node, imp.builder.recurrent(rec, "sequence"), index)
    if base.part in RECURRENT_PARTS:
        raise Unsupported(RECURRENT_PARTS[base.part].format(op=rec.op))
    raise Unsupported(f"selects [{index!r}] of {rec.op}'s {base.part} output")


def direction(builder: GraphBuilder, rec: Recurrent, part: str) -> Value:
    """One direction's top final state of a bidirectional layer (h_n[-2] "forward",
    h_n[-1] "backward") from the block's output: half of 'last' (a Slice), or the end
    of each direction in the sequence (a Select, then a Slice)."""
    hidden = rec.params["hidden_size"]
    forward = part == "forward"
    half = {"axis": 1, "start": 0 if forward else hidden, "stop": hidden if forward else "end"}
    where = {"place": rec.place, "op": rec.op}
    if rec.mode == "state":
        raise Unsupported(RECURRENT_PARTS[part].format(op=rec.op))
    if rec.mode == "sequence":
        step = {"axis": 1, "index": -1 if forward else 0}
        ends = builder.add("Select", step, [rec.value], expect=(2 * hidden,), **where)
        return builder.add("Slice", half, [ends], expect=(hidden,), **where)
    last = builder.recurrent(rec, "last")
    return builder.add("Slice", half, [last], expect=(hidden,), **where)


# ------------------------------------------------------------------ initial states


def chunk(imp: TorchContext, node: fx.Node) -> Any:
    """x.chunk(k, dim) as a Split; an initial state split into an LSTM's (h_0, c_0) by
    `.chunk(2)` along the rows is how exported code passes a state input."""
    base = imp.env.get(node.args[0])
    if isinstance(base, BatchSecond):
        if not base.halves and arg(node, 1, "chunks") == 2 and arg(node, 2, "dim", 0) == 0:
            return BatchSecond(base.value, halves=True)
        raise Unsupported("splits a state with its batch axis moved other than .chunk(2)")
    return split(imp, node, 2, squeeze=False)


def zeros(imp: TorchContext, node: fx.Node) -> Zeros:
    """torch.zeros(…), x.new_zeros(…), torch.zeros_like(…): meaningful as an initial
    state only (see `Zeros`)."""
    return Zeros()


def moved(imp: TorchContext, node: fx.Node) -> Any:
    """x.to(device), .cuda(), .cpu(): no change to a NetLoom graph, unless the dtype
    changes; .detach() of zeros made in forward."""
    base = imp.env.get(node.args[0])
    if isinstance(base, Zeros):
        return base
    if node.target == "detach":
        raise Unsupported("detaches a tensor from autograd; NetLoom trains through every block")
    before, after = imp.results.get(node.args[0]), imp.results.get(node)
    if not (isinstance(before, torch.Tensor) and isinstance(after, torch.Tensor)):
        raise Unsupported("moves something that is not one tensor")
    if before.dtype != after.dtype:
        raise Unsupported(
            f"changes the dtype from {before.dtype} to {after.dtype}; NetLoom computes in "
            f"{before.dtype}"
        )
    return imp.passthrough(node, imp.tensor(node.args[0]), "moves to a device only; left out")


def is_zero_state(imp: TorchContext, given: Any) -> bool:
    """Whether an initial state (h_0, or (h_0, c_0)) is zeros made in forward."""
    items = given if isinstance(given, (tuple, list)) else (given,)
    return all(isinstance(imp.env.get(g), Zeros) for g in items)
