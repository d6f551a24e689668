"""Shape-only torch operations in a traced model → NetLoom blocks: view, reshape,
flatten, unflatten, squeeze, permute/transpose, contiguous.

Each is mapped from the shape the original produced, checked against the block's own
shape rule; a few are steps of a pattern rather than blocks of their own (frames folded
into the batch axis for a per-frame layer, a 1-D layer slid along time between two
transposes, a recurrent layer's state made batch first). Handlers get the importer as a
`torch_context.TorchContext`, as those of `engine.importers.torch_functions` do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import fx

from engine.importers.builder import Value
from engine.importers.report import Unsupported
from engine.importers.torch_context import TorchContext
from engine.importers.torch_values import BatchSecond, Folded, RecPart, Swapped

Handler = Callable[[TorchContext, fx.Node], Any]


def arg(node: fx.Node, index: int, name: str, default: Any = None) -> Any:
    """A call's argument by position or keyword, with the default torch would use."""
    if len(node.args) > index:
        return node.args[index]
    return node.kwargs.get(name, default)


def written_sizes(node: fx.Node, x: Value) -> list[int] | None:
    """The sizes a view/reshape spells out after the axes it keeps (N, and T for a
    sequence), when the code writes them as numbers: `x.view(x.size(0), -1)` → [-1].
    None when they are computed from other sizes."""
    sizes = node.args[1:] if node.op == "call_method" else (arg(node, 1, "shape"),)
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    keep = 2 if x.shape.time else 1
    lead, rest = sizes[:keep], list(sizes[keep:])
    if len(lead) != keep or not rest or not all(isinstance(s, int) for s in rest):
        return None
    if all(isinstance(s, fx.Node) for s in lead):
        return rest
    if keep == 1 and lead[0] == -1 and -1 not in rest:  # x.view(-1, 320): -1 stands for N
        return rest
    return None


def reshaped(
    imp: TorchContext, node: fx.Node, x: Value, hint: str | None = None, how: str = "reshape"
) -> Value:
    """A view/reshape (`how` "reshape"), flatten ("flatten") or squeeze ("other"), mapped
    to the block that reads like it: Flatten for a flatten to one axis, Reshape with the
    sizes the code writes; `hint` names the block after its module (an nn.Flatten)."""
    out = imp.expect(node)
    features = out
    if x.shape.time:
        if not out or out[0] != x.shape.dims[0]:
            raise Unsupported(
                f"reshapes {x.shape} across the time axis T to (N, {', '.join(map(str, out))}); "
                "NetLoom keeps T (per-frame blocks take (N, T, …) as they are)"
            )
        features = out[1:]
        if not features:
            raise Unsupported("removes every axis after T")
    # A flatten or reshape the code spells out is kept even where it changes nothing:
    # the block says what the code says (and an exported Flatten imports back as one).
    if how == "flatten" and len(features) == 1:
        return imp.block(node, "Flatten", {}, [x], hint)
    written = written_sizes(node, x) if how == "reshape" else None
    if written is not None:
        try:
            return imp.block(node, "Reshape", {"shape": written}, [x], hint)
        except Unsupported:
            pass  # NetLoom reads those sizes otherwise: use the shape the model gave
    if out == x.shape.dims:
        return imp.passthrough(node, x, "does not change the shape; left out")
    if len(features) == 1 and len(x.shape.features) > 1:
        return imp.block(node, "Flatten", {}, [x], hint)
    return imp.block(node, "Reshape", {"shape": list(features)}, [x], hint)


def unfolded(imp: TorchContext, node: fx.Node, folded: Folded) -> Value:
    """`y.unflatten(0, (n, t))` (or a reshape to (n, t, …)) of folded frames: the per-frame
    block's own (N, T, …) output."""
    frames = folded.value.shape.dims
    if imp.expect(node) != frames:
        raise Unsupported(
            f"unfolds frames to {imp.expect(node)}, not the (N, {', '.join(map(str, frames))}) "
            "they were folded from"
        )
    return folded.value


def reshape_as(how: str) -> Handler:
    def handle(imp: TorchContext, node: fx.Node) -> Value:
        base = imp.env.get(node.args[0])
        if isinstance(base, Folded):
            return unfolded(imp, node, base)
        return reshaped(imp, node, imp.tensor(node.args[0]), how=how)

    return handle


reshape = reshape_as("reshape")
flatten_like = reshape_as("flatten")
squeeze_like = reshape_as("other")


def flatten(imp: TorchContext, node: fx.Node) -> Any:
    base = imp.env.get(node.args[0])
    if isinstance(base, RecPart):  # a recurrent layer's output sequence, made here
        base = imp.tensor(node.args[0])
    start, end = arg(node, 1, "start_dim", 0), arg(node, 2, "end_dim", -1)
    if (start, end) == (0, 1) and isinstance(base, Value) and len(base.shape.dims) >= 2:
        return Folded(base, node)  # frames into the batch axis, for a per-frame layer
    return flatten_like(imp, node)


def unflatten(imp: TorchContext, node: fx.Node) -> Value:
    base = imp.env.get(node.args[0])
    if isinstance(base, Folded) and arg(node, 1, "dim") == 0:
        return unfolded(imp, node, base)
    return squeeze_like(imp, node)


def permutation(node: fx.Node, rank: int) -> list[int]:
    name = node.target if node.op == "call_method" else getattr(node.target, "__name__", "")
    if name == "transpose":
        a, b = (int(d) % rank for d in (arg(node, 1, "dim0"), arg(node, 2, "dim1")))
        order = list(range(rank))
        order[a], order[b] = order[b], order[a]
        return order
    dims = node.args[1:] if node.op == "call_method" else (arg(node, 1, "dims"),)
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    if not dims:
        dims = tuple(node.kwargs.get("dims", ()))
    return [int(d) % rank for d in dims]


def permute(imp: TorchContext, node: fx.Node) -> Any:
    base = imp.env.get(node.args[0])
    if isinstance(base, RecPart) and permutation(node, 3) == [1, 0, 2]:
        # The final state batch first, (N, rows, hidden): a recurrent block's 'state'
        # output (an LSTM's h_n rows, then its c_n rows).
        rows = "rows" if base.rec.cell == "LSTM" else "hidden"
        if base.part == rows:
            return imp.builder.recurrent(base.rec, "state")
        if base.rec.cell == "LSTM" and base.part in ("hidden", "cell"):
            # h_n (or c_n) of an LSTM batch first: its rows of the 'state' output
            rows = base.rec.params["num_layers"] * base.rec.directions
            state = imp.builder.recurrent(base.rec, "state")
            cut = {"axis": 1, "start": 0, "stop": rows}
            if base.part == "cell":
                cut = {"axis": 1, "start": rows, "stop": "end"}
            return imp.block(node, "Slice", cut, [state])
        if base.part == "top":  # h_n[-2:] batch first: the 'last' output's two halves
            hidden = base.rec.params["hidden_size"]
            last = imp.builder.recurrent(base.rec, "last")
            return imp.block(node, "Reshape", {"shape": [2, hidden]}, [last])
    if isinstance(base, RecPart):  # a recurrent layer's output sequence, made here
        base = imp.tensor(node.args[0])
    swap = [0, 2, 1]
    if isinstance(base, Swapped) and permutation(node, 3) == swap:
        return base.value  # swapped back after a 1-D layer ran along time
    transpose = getattr(node.target, "__name__", node.target) == "transpose"
    if transpose and isinstance(base, Value) and base.shape.time and len(base.shape.dims) == 2:
        # x.transpose(1, 2) around a 1-D layer is how code slides it along time; a
        # permute stays a Permute block (as exported code writes one).
        if permutation(node, 3) == swap:
            return Swapped(base, node)  # becomes a Permute unless a 1-D layer takes it
    x = imp.tensor(node.args[0])
    order = permutation(node, len(x.shape.dims) + 1)
    if order == [1, 0, 2]:
        return BatchSecond(x)  # a recurrent layer's initial state, if one takes it
    if order[0] != 0:
        raise Unsupported(f"moves the batch axis N (order {order}); NetLoom keeps N first")
    # Kept even when it keeps every axis in place: the block says what the code says.
    return imp.block(node, "Permute", {"dims": order[1:]}, [x])


def contiguous(imp: TorchContext, node: fx.Node) -> Any:
    base = imp.env.get(node.args[0])
    if isinstance(base, BatchSecond):
        return base
    return imp.tensor(node.args[0])  # memory layout only: NetLoom's Reshape copies as needed


def squeeze(imp: TorchContext, node: fx.Node) -> Any:
    base = imp.env[node.args[0]]
    if isinstance(base, RecPart) and base.part == "hidden":
        if base.rec.params["num_layers"] * base.rec.directions == 1:
            return imp.builder.recurrent(base.rec, "last")
    return squeeze_like(imp, node)
