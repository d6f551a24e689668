"""ONNX LSTM / GRU / RNN nodes → NetLoom recurrent blocks.

ONNX orders the gates differently from torch (LSTM i,o,f,c vs torch i,f,g,o; GRU
z,r,h vs torch r,z,n), lays its output out time-major with a direction axis,
Y (T, D, N, H), and returns the final states Y_h (D, N, H) beside it. Exporters wrap
the node in Transpose / Squeeze / Reshape / Gather / Concat nodes to get back to
torch's batch-first tensors. An `RnnPart` follows those nodes, naming each axis,
until the value is a batch-first sequence (N, T, H·D) or a last step (N, H·D): only
then does it become a block, in the matching output mode.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch

from engine.importers.builder import Recurrent, Value
from engine.importers.onnx_context import OnnxContext, Static, Transposed
from engine.importers.report import Unsupported

# Position in the ONNX weights of each torch gate, in torch's order.
TORCH_ORDER = {"LSTM": (0, 2, 3, 1), "GRU": (1, 0, 2), "RNN": (0,)}
DEFAULT_ACTIVATIONS = {"LSTM": ["Sigmoid", "Tanh", "Tanh"], "GRU": ["Sigmoid", "Tanh"]}
WIDTHS = ("H", "DH")


@dataclass(frozen=True)
class RnnPart:
    """An output of recurrent node(s), with a name per axis.

    Axes: T time, D direction, N batch, H hidden, DH both directions side by side,
    L stacked final states of several layers. `last` marks final states / a last step.
    """

    recs: tuple[Recurrent, ...]
    labels: tuple[str, ...]
    last: bool
    cell: bool = False
    direction: str | None = None  # one direction's final state of a bidirectional layer

    @property
    def rec(self) -> Recurrent:
        return self.recs[-1]


def sizes(imp: OnnxContext, part: RnnPart) -> tuple[int, ...]:
    rec = part.rec
    table = {
        "T": rec.steps,
        "D": rec.directions,
        "N": imp.batch,
        "H": rec.params["hidden_size"],
        "DH": rec.width,
        "L": len(part.recs) * rec.directions,
    }
    return tuple(table[label] for label in part.labels)


def _torch_gates(array: np.ndarray, cell: str, hidden: int) -> torch.Tensor:
    chunks = [array[i * hidden : (i + 1) * hidden] for i in range(len(TORCH_ORDER[cell]))]
    return torch.from_numpy(
        np.ascontiguousarray(np.concatenate([chunks[i] for i in TORCH_ORDER[cell]]))
    )


def _weights(
    cell: str, hidden: int, w: np.ndarray, r: np.ndarray, b: np.ndarray | None
) -> dict[str, torch.Tensor]:
    gates = len(TORCH_ORDER[cell])
    weights = {}
    for d in range(w.shape[0]):
        suffix = "_reverse" if d else ""
        bias = b[d] if b is not None else np.zeros(2 * gates * hidden, dtype=w.dtype)
        weights[f"weight_ih_l0{suffix}"] = _torch_gates(w[d], cell, hidden)
        weights[f"weight_hh_l0{suffix}"] = _torch_gates(r[d], cell, hidden)
        weights[f"bias_ih_l0{suffix}"] = _torch_gates(bias[: gates * hidden], cell, hidden)
        weights[f"bias_hh_l0{suffix}"] = _torch_gates(bias[gates * hidden :], cell, hidden)
    return weights


def _decode(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def _source(imp: OnnxContext, node: Any, layout: int) -> Value:
    """The batch-first (N, T, F) input of a recurrent node."""
    name = node.input[0]
    value = imp.values.get(name)
    if layout == 0:
        if isinstance(value, Transposed) and value.perm == (1, 0, 2):
            return value.value
        if isinstance(value, Transposed) and value.perm == (2, 0, 1):
            # x.permute(0, 2, 1) of channels-first (N, F, T) maps, folded by the exporter
            # into the (1, 0, 2) it writes before a batch-first layer.
            x = value.value
            if len(x.shape.dims) == 2:
                return imp.builder.add(
                    "Permute",
                    {"dims": [2, 1]},
                    [x],
                    place=imp.place(node),
                    op="Transpose",
                    expect=(x.shape.dims[1], x.shape.dims[0]),
                )
        if isinstance(value, RnnPart) and value.labels[:2] == ("T", "N"):
            return materialize(imp, replace(value, labels=("N", "T", *value.labels[2:])))
        raise Unsupported("its input is not a (T, N, F) view of a batch-first sequence")
    return imp.tensor(name)


def recurrent(imp: OnnxContext, node: Any) -> list[Any]:
    cell = node.op_type
    attrs = {k: _decode(v) for k, v in imp.attrs(node).items()}
    direction = attrs.get("direction", "forward")
    if direction == "reverse":
        raise Unsupported("direction=reverse: NetLoom reads forwards (or both ways)")
    for name in ("clip", "input_forget"):
        if attrs.get(name):
            raise Unsupported(f"{name}: NetLoom's {cell} has none")
    if cell == "GRU" and attrs.get("linear_before_reset", 0) != 1:
        raise Unsupported("linear_before_reset=0: torch's (and NetLoom's) GRU resets after")
    directions = 2 if direction == "bidirectional" else 1
    activations = attrs.get("activations")
    params: dict[str, Any] = {
        "hidden_size": int(attrs["hidden_size"]),
        "num_layers": 1,
        "bidirectional": directions == 2,
        "dropout": 0.0,
    }
    if cell == "RNN":
        kinds = set(activations or ["Tanh"])
        if kinds not in ({"Tanh"}, {"Relu"}):
            raise Unsupported(f"activations {activations}: RNN takes tanh or relu")
        params["nonlinearity"] = kinds.pop().lower()
    elif activations and activations != DEFAULT_ACTIVATIONS[cell] * directions:
        raise Unsupported(f"activations {activations}: NetLoom's {cell} uses the standard ones")
    inputs = list(node.input) + [""] * 8
    if inputs[4]:
        raise Unsupported("sequence_lens: NetLoom runs every sequence to its end")
    given = [name for name in (inputs[5], inputs[6]) if name and not _static_zeros(imp, name)]
    state = _initial_state(imp, cell, given, directions) if given else None
    if cell == "LSTM" and inputs[7]:
        raise Unsupported("peephole weights P: NetLoom's LSTM has none")
    layout = int(attrs.get("layout", 0))
    source = _source(imp, node, layout)
    w, r = imp.static(node.input[1], "W"), imp.static(node.input[2], "R")
    b = imp.static(inputs[3], "B") if inputs[3] else None
    rec = Recurrent(
        cell,
        params,
        source,
        imp.hint(node),
        imp.place(node),
        cell,
        _weights(cell, params["hidden_size"], w, r, b),
        steps=source.shape.dims[0] if source.shape.dims else 0,
        state=state,
    )
    y = ("T", "D", "N", "H") if layout == 0 else ("N", "T", "D", "H")
    y_h = ("D", "N", "H") if layout == 0 else ("N", "D", "H")
    return [RnnPart((rec,), y, False), RnnPart((rec,), y_h, True), RnnPart((rec,), y_h, True, True)]


def _initial_state(imp: OnnxContext, cell: str, names: list[str], directions: int) -> Value:
    """initial_h (and initial_c) taken whole from another one-layer recurrent node's
    final states Y_h (and Y_c): that node outputs its 'state' into this one's state input."""
    parts = [imp.values.get(name) for name in names]
    wanted = [False, True] if cell == "LSTM" else [False]
    if not (
        all(isinstance(p, RnnPart) for p in parts)
        and [p.cell for p in parts] == wanted
        and all(p.rec is parts[0].rec and len(p.recs) == 1 for p in parts)
        and all(p.last and p.labels == ("D", "N", "H") and p.direction is None for p in parts)
    ):
        raise Unsupported(
            "an initial state that is not another one-layer recurrent node's whole final "
            "state; NetLoom's state input takes that (h_n, or h_n and c_n for an LSTM)"
        )
    source = parts[0].rec
    if source.cell != cell or source.directions != directions:
        raise Unsupported(f"takes its initial state from a {source.op} of another kind or width")
    return imp.builder.recurrent(source, "state")


def _static_zeros(imp: OnnxContext, name: str) -> bool:
    value = imp.values.get(name)
    return isinstance(value, Static) and not np.any(value.array)


def transpose_part(imp: OnnxContext, node: Any, part: RnnPart) -> RnnPart:
    """A Transpose, Squeeze, Unsqueeze or Reshape applied to a recurrent output."""
    if node.op_type == "Transpose":
        perm = imp.attrs(node)["perm"]
        return replace(part, labels=tuple(part.labels[p] for p in perm))
    out = tuple(imp.probe[node.output[0]].shape)
    candidates = []
    if part.rec.directions == 1:
        candidates.append(tuple(label for label in part.labels if label != "D"))
    for i in range(len(part.labels) - 1):
        if part.labels[i : i + 2] == ("D", "H"):
            candidates.append((*part.labels[:i], "DH", *part.labels[i + 2 :]))
    if len(part.recs) * part.rec.directions == 1:
        candidates.append(tuple(label for label in part.labels if label != "L"))
    for labels in candidates:
        moved = replace(part, labels=labels)
        if sizes(imp, moved) == out:
            return moved
    raise Unsupported(
        f"reshapes {part.rec.op}'s output {part.labels} in a way NetLoom cannot follow"
    )


def select(imp: OnnxContext, node: Any, part: RnnPart) -> RnnPart | Value:
    """A Gather of one index: the last step of T, the only direction, or the top layer.
    The last step of both directions is a Select on the sequence, a `Value`."""
    axis = imp.attrs(node).get("axis", 0) % len(part.labels)
    indices = np.asarray(imp.static(node.input[1], "index"))
    if indices.ndim != 0:
        raise Unsupported("selects several entries of a recurrent output")
    index = int(indices)
    label, size = part.labels[axis], sizes(imp, part)[axis]
    labels = part.labels[:axis] + part.labels[axis + 1 :]
    top_forward = label in ("D", "L") and part.rec.directions == 2 and index % size == size - 2
    if index % size != size - 1 and not (label == "D" and size == 1) and not top_forward:
        raise Unsupported(f"selects entry {index} of the {label} axis; NetLoom gives the last")
    if label == "T":
        if part.rec.directions == 2:
            return _last_step_of_both(imp, node, part, labels)
        return replace(part, labels=labels, last=True)
    if label == "D" and size == 1:
        return replace(part, labels=labels)
    if label == "L" and part.rec.directions == 1:
        return RnnPart((part.rec,), labels, True, part.cell)
    if label in ("D", "L") and part.rec.directions == 2:
        direction = "backward" if index % size == size - 1 else "forward"
        return RnnPart((part.rec,), labels, True, part.cell, direction)
    raise Unsupported(f"selects one direction of {part.rec.op}; NetLoom joins both")


def _last_step_of_both(
    imp: OnnxContext, node: Any, part: RnnPart, labels: tuple[str, ...]
) -> Value:
    """`out[:, -1]` of a bidirectional output: the forward direction's end beside the
    backward direction's first step, which NetLoom's 'last' (each direction's end) is not.
    The 'sequence' output, batch-first, and a Select of its last step are exactly that."""
    if labels != ("N", "DH") or part.cell or len(part.recs) != 1:
        raise Unsupported(
            "the last step of a bidirectional output mixes the forward end with the "
            "backward start; NetLoom maps it only once both directions sit side by side "
            "(a (T, N, 2·H) or (N, T, 2·H) view), as the sequence and a Select"
        )
    sequence = materialize(imp, replace(part, labels=("N", "T", "DH")))
    return imp.block(node, "Select", {"axis": 1, "index": -1}, [sequence])


def stack(imp: OnnxContext, node: Any, parts: list[Any]) -> RnnPart:
    """Final states of stacked layers joined along their first axis: h_n of a deep RNN."""
    first = parts[0]
    axis = imp.attrs(node)["axis"] % len(first.labels)
    if [p.direction for p in parts] == ["forward", "backward"] and first.rec is parts[1].rec:
        # both directions' top final states side by side: a bidirectional 'last' output
        if first.labels[axis] == "H" and not first.cell:
            return RnnPart((first.rec,), (*first.labels[:axis], "DH"), True)
    if not (first.last and first.labels[axis] in ("D", "L")) or any(
        p.labels != first.labels or p.cell != first.cell for p in parts
    ):
        raise Unsupported("joins recurrent outputs in a way NetLoom cannot follow")
    recs = tuple(rec for p in parts for rec in p.recs)
    labels = first.labels[:axis] + ("L",) + first.labels[axis + 1 :]
    return RnnPart(recs, labels, True, first.cell)


def materialize(imp: OnnxContext, part: RnnPart) -> Value:
    """The block for a recurrent output used as data: a sequence or a last step."""
    rec = part.rec
    if part.cell:
        raise Unsupported(
            f"uses c_n of {rec.op} other than as another LSTM's initial state; NetLoom's "
            "'state' output feeds a recurrent block's state input"
        )
    if part.direction is not None:
        raise Unsupported(
            f"uses the {part.direction} direction's final state of {rec.op} alone; NetLoom's "
            "'last' output joins both directions'"
        )
    width_ok = len(part.labels) >= 2 and (
        part.labels[-1] == "DH" or (part.labels[-1] == "H" and rec.directions == 1)
    )
    if width_ok and part.labels == ("N", "T", part.labels[-1]) and not part.last:
        return imp.builder.recurrent(rec, "sequence")
    if width_ok and part.labels == ("N", part.labels[-1]) and part.last and len(part.recs) == 1:
        return imp.builder.recurrent(rec, "last")
    raise Unsupported(
        f"uses {rec.op}'s output laid out as ({', '.join(part.labels)}); NetLoom's recurrent "
        "blocks give (N, T, H) or the last step (N, H)"
    )
