"""ONNX nodes that take part of a tensor → Split, Slice and Select blocks.

Split's part sizes come from the shapes ONNX Runtime gave its outputs on the probe, so
every way the exporters write them (a `split` attribute before opset 13, an input
after, `num_outputs` from opset 18, equal parts when neither is given) reads the same.
A Slice of several axes becomes one Slice block per axis that it cuts. A Gather of one
fixed index is a Select (`x[:, -1]`); a Gather of a run of consecutive indices is a
Slice. Axes here count N as 0, which is NetLoom's axis numbering after N from 1.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.blocks.spec import Shape
from engine.importers.builder import Value
from engine.importers.onnx_context import OnnxContext, Static, Transposed
from engine.importers.onnx_recurrent import RnnPart, select
from engine.importers.report import Unsupported

Handler = Callable[[OnnxContext, Any], list[Any]]

# torch's decomposition of an adaptive pool whose output size does not divide its input
ADAPTIVE_POOL = (
    "gathers overlapping windows of positions, as the dynamo exporter writes an adaptive "
    "pool whose output size does not divide its input (vgg's 7×7 pool on a 2×2 map): no "
    "block gathers; export with an input size the adaptive pool divides (vgg, alexnet: "
    "224×224, a 7×7 map): the exporter then writes the pool as one AveragePool, which imports"
)


def _axis(imp: OnnxContext, node: Any, x: Value, axis: int, what: str) -> int:
    """An ONNX axis of `x` (N is 0, negative from the end) as NetLoom's, after N from 1."""
    rank = len(x.shape.dims) + 1
    if not -rank <= axis < rank:
        raise Unsupported(f"{what} axis {axis}, out of range for rank {rank}")
    axis %= rank
    if axis == 0:
        raise Unsupported(f"{what} the batch axis N; NetLoom blocks keep every sample")
    return axis


def after_unmapped(imp: OnnxContext, node: Any, x: Value) -> list[Any] | None:
    """Stand-ins for the node's outputs when its input comes from an unmapped node
    (reported there already), else None."""
    if x.node is not None:
        return None
    return [imp.broken(name) for name in node.output]


def split(imp: OnnxContext, node: Any) -> list[Any]:
    x = imp.tensor(node.input[0])
    if (unmapped := after_unmapped(imp, node, x)) is not None:
        return unmapped
    axis = _axis(imp, node, x, int(imp.attrs(node).get("axis", 0)), "splits")
    outputs = list(node.output)
    sizes = [int(imp.probe[name].shape[axis]) for name in outputs]
    if len(outputs) == 1:
        return imp.passthrough(node, x, "a Split into one part is its input; left out")
    params = {"axis": axis, "sizes": sizes}
    whole = imp.block(node, "Split", params, [x], output=outputs[0])
    parts = [Value(whole.node, whole.shape, "out1")]
    for i, name in enumerate(outputs[1:], start=2):
        dims = list(x.shape.dims)
        dims[axis - 1] = sizes[i - 1]
        shape = Shape(tuple(dims), time=whole.shape.time)
        if whole.node is not None and tuple(dims) != imp.expect(name):
            raise Unsupported(f"part {i} would be {shape}, the file gives {imp.expect(name)}")
        parts.append(Value(whole.node, shape, f"out{i}"))
    return parts


def _slice_inputs(imp: OnnxContext, node: Any, rank: int) -> list[tuple[int, int, int, int]]:
    """(axis, start, end, step) per axis the node names, as inputs or (opset < 10) attrs."""
    if imp.opset < 10:
        attrs = imp.attrs(node)
        starts, ends = attrs["starts"], attrs["ends"]
        axes = attrs.get("axes", list(range(len(starts))))
        steps = [1] * len(starts)
    else:

        def given(position: int, what: str) -> list[int] | None:
            if len(node.input) <= position or not node.input[position]:
                return None
            return [int(v) for v in imp.static(node.input[position], what).reshape(-1)]

        starts, ends = given(1, "start"), given(2, "end")
        if starts is None or ends is None:
            raise Unsupported("has no starts or ends: ONNX requires both")
        axes = given(3, "axes") or list(range(len(starts)))
        steps = given(4, "steps") or [1] * len(starts)
    return [
        (int(a) % rank, int(s), int(e), int(t))
        for a, s, e, t in zip(axes, starts, ends, steps, strict=True)
    ]


def slice_(imp: OnnxContext, node: Any) -> list[Any]:
    """One Slice block per axis the node cuts; an axis it keeps whole makes none."""
    x = imp.tensor(node.input[0])
    if (unmapped := after_unmapped(imp, node, x)) is not None:
        return unmapped
    rank = len(x.shape.dims) + 1
    cuts = []
    for axis, start, end, step in _slice_inputs(imp, node, rank):
        size = imp.batch if axis == 0 else x.shape.dims[axis - 1]
        if step < 1:
            raise Unsupported(f"steps by {step} along axis {axis}: Slice steps forward only")
        kept = range(size)[start:end:step]
        if kept == range(size):
            continue  # the whole axis (N too: exporters write x[:, a:b] as a slice of both)
        if axis == 0:
            raise Unsupported("takes part of the batch axis N; NetLoom blocks keep every sample")
        stop: int | str = "end" if end >= size else max(end, -size)
        first = start if -size <= start < size else kept.start
        cuts.append({"axis": axis, "start": first, "stop": stop, "step": step})
    if not cuts:
        return imp.passthrough(node, x, "a Slice that keeps every position; left out")
    for params in cuts[:-1]:  # checked against the file's shape once, after the last
        x = imp.builder.add(
            "Slice", params, [x], place=imp.place(node), op=node.op_type, expect=None
        )
    return [imp.block(node, "Slice", cuts[-1], [x])]


def gather(imp: OnnxContext, node: Any) -> list[Any]:
    """An embedding table's lookup, a recurrent layer's step or direction, a Select of one
    fixed index (`x[:, -1]`), or a Slice of consecutive indices (`x[:, [2, 3]]`)."""
    data = imp.values.get(node.input[0])
    axis = int(imp.attrs(node).get("axis", 0))
    if isinstance(data, RnnPart):
        return [select(imp, node, data)]
    if isinstance(data, Static) and data.array.ndim == 2 and axis == 0:
        table = data.array
        params = {"num_embeddings": int(table.shape[0]), "embedding_dim": int(table.shape[1])}
        ids = imp.tensor(node.input[1])
        return [imp.block(node, "Embedding", params, [ids], {"weight": table})]
    if not isinstance(imp.values.get(node.input[1]), Static):
        raise Unsupported(
            "picks positions computed from the data: no block does (Embedding looks up "
            "a table of weights, Select and Slice pick fixed positions)"
        )
    x = imp.tensor(node.input[0])
    if (unmapped := after_unmapped(imp, node, x)) is not None:
        return unmapped
    axis = _axis(imp, node, x, axis, "picks along")
    index = imp.static(node.input[1], "index")
    size = x.shape.dims[axis - 1]
    if index.ndim == 0:
        return [imp.block(node, "Select", {"axis": axis, "index": int(index)}, [x])]
    picked = [int(i) % size for i in index.reshape(-1)]
    if index.ndim == 1 and picked == list(range(picked[0], picked[0] + len(picked))):
        stop = picked[-1] + 1
        params = {"axis": axis, "start": picked[0], "stop": "end" if stop == size else stop}
        return [imp.block(node, "Slice", params, [x])]
    raise Unsupported(
        f"picks positions {index.tolist()} along axis {axis}: Select picks one, Slice a "
        "run of consecutive positions"
    )


def gather_nd(imp: OnnxContext, node: Any) -> list[Any]:
    if isinstance(imp.values.get(node.input[0]), Transposed):  # the batch axis moved away
        raise Unsupported(ADAPTIVE_POOL)
    raise Unsupported(
        "gathers the positions an index tensor lists: no block gathers (Select picks one "
        "fixed position, Slice a run of them)"
    )


HANDLERS: dict[str, Handler] = {
    "Split": split,
    "Slice": slice_,
    "Gather": gather,
    "GatherND": gather_nd,
}
