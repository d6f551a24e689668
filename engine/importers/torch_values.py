"""What an fx node stands for when it is not a block's output tensor."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from torch import fx

from engine.importers.builder import Recurrent, Value


@dataclass(frozen=True)
class Meta:
    """A Python value (a size, an int) that only shapes later operations."""

    value: Any


@dataclass(frozen=True)
class Const:
    """A tensor the model holds directly (a get_attr), not the output of a layer."""

    name: str


@dataclass(frozen=True)
class RecPart:
    """Part of a recurrent layer's result: "all" (the tuple), "seq", "state" (LSTM's
    (h, c)), "hidden" (h_n), "cell" (c_n), "rows" (LSTM's torch.cat((h_n, c_n), 0)), or
    one direction's top final state of a bidirectional layer, "forward" (h_n[-2]) or
    "backward" (h_n[-1]), or both of them batch second, "top" (h_n[-2:])."""

    rec: Recurrent
    part: str


RECURRENT_PARTS = {
    "all": "uses the whole result tuple of {op}; take output or h_n[-1]",
    "state": (
        "uses the (h_n, c_n) state of {op} other than as another LSTM's initial state; "
        "NetLoom's 'state' output feeds a recurrent block's state input"
    ),
    "hidden": (
        "uses h_n of {op} (every layer's final state); NetLoom gives the top layer's "
        "last step: h_n[-1]"
    ),
    "cell": (
        "uses c_n of {op} (the cell state) other than as another LSTM's initial state; "
        "NetLoom's 'state' output feeds a recurrent block's state input"
    ),
    "rows": (
        "uses torch.cat((h_n, c_n)) of {op} other than batch first; NetLoom's 'state' "
        "output is torch.cat((h_n, c_n)).transpose(0, 1)"
    ),
    "backward": (
        "h_n[-1] of a bidirectional layer is the backward direction alone; NetLoom's "
        "'last' output joins both directions' final states: torch.cat((h_n[-2], h_n[-1]), 1)"
    ),
    "forward": (
        "h_n[-2] of a bidirectional layer is the forward direction alone; NetLoom's "
        "'last' output joins both directions' final states: torch.cat((h_n[-2], h_n[-1]), 1)"
    ),
    "top": (
        "uses h_n[-2:] of {op} (both directions' top final states, batch second) other "
        "than batch first; write h_n[-2:].transpose(0, 1) or torch.cat((h_n[-2], h_n[-1]), 1)"
    ),
}


@dataclass(frozen=True)
class Folded:
    """`x.flatten(0, 1)`: the frames of `value` (N, T, …) folded into the batch axis.

    Exported NetLoom code runs a per-frame block this way: fold, call the module,
    `unflatten(0, (n, t))`. A module called on it is the block applied to `value`
    itself (a NetLoom block folds by itself); its result is folded again until unflattened.
    """

    value: Value
    node: fx.Node


@dataclass(frozen=True)
class Swapped:
    """`x.transpose(1, 2)` of a sequence `value` (N, T, F): (N, F, T), not made yet.

    Exported NetLoom code runs a 1-D block along time this way: swap, call the module,
    swap back. A module called on it is the block applied to `value` itself (it slides
    along time by itself); any other use makes the Permute block the swap stands for.
    """

    value: Value
    node: fx.Node


@dataclass(frozen=True)
class BatchSecond:
    """`x.transpose(0, 1)` of `value` (N, rows, hidden): the batch axis second, as torch's
    recurrent layers take an initial state. Exported NetLoom code passes a state input
    this way (an LSTM's split in two by `.chunk(2)`, `halves`); nothing else takes it."""

    value: Value
    halves: bool = False


@dataclass(frozen=True)
class Parts:
    """The tuple `x.chunk(2, 1)`, `x.split(…)` or `x.unbind(1)` returns: each part is an
    output port of one Split block (`out1`, …), picked by indexing the tuple."""

    values: tuple[Value, ...]


@dataclass(frozen=True)
class MaxPair:
    """x.max(dim)'s (values, indices): `value` is the block giving the values; nothing
    gives the indices."""

    value: Value


@dataclass(frozen=True)
class Zeros:
    """A tensor of zeros made in forward (`torch.zeros(1, x.size(0), 64)`,
    `x.new_zeros(…)`): as a recurrent layer's initial state it is torch's own default,
    so the block needs no state input; nothing else takes it."""


@dataclass(frozen=True)
class Broken:
    """The result of an operation that could not be mapped (already in the report)."""
