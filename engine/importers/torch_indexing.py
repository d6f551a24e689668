"""Indexing, slicing, splitting and stacking tensors in a traced model → Slice, Select,
Split, Reshape, Concat and Permute blocks.

`x[:, -1]`, `x[..., :k]`, `x[:, :, 2:-2]`, `w[:, :, None, None]`, `x.narrow(…)` and
`x.select(…)` become one block per axis they touch (a Slice per sliced axis, a Select
per picked one, one Reshape for the new axes); `x.chunk`, `x.split` and `x.unbind` a
Split whose output ports the tuple's items are; `torch.stack` a Reshape per input
adding the axis, then a Concat (and a Permute when the axis is not the channel one).
Each block is checked against the shape the model gave at that step. Handlers get the
importer as a `torch_context.TorchContext`, as those of `torch_functions` do.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import fx

from engine.blocks.spec import get_spec
from engine.importers.builder import Value
from engine.importers.report import Unsupported
from engine.importers.torch_context import TorchContext
from engine.importers.torch_shapes import arg, reshaped
from engine.importers.torch_values import Meta, Parts

FULL = slice(None, None, None)


def most_inputs(block: str) -> int:
    """How many tensors an n-input block (Add, Multiply, Concat) joins at most."""
    maximum = get_spec(block).param("inputs").maximum
    return int(maximum) if maximum is not None else 2


# ------------------------------------------------------------------ indexing


def known(imp: TorchContext, item: Any) -> Any:
    """An argument with the sizes the code computed (`x.size(1) // 2`) filled in, inside
    slices, tuples and lists too."""
    if isinstance(item, fx.Node):
        value = imp.env.get(item)
        if isinstance(value, Meta) and isinstance(value.value, (int, float)):
            return value.value
        raise Unsupported(
            "takes a tensor where a fixed number is expected (an index, a size); "
            "NetLoom blocks take fixed positions and sizes"
        )
    if isinstance(item, slice):
        return slice(known(imp, item.start), known(imp, item.stop), known(imp, item.step))
    if isinstance(item, (tuple, list)):
        return type(item)(known(imp, part) for part in item)
    return item


def _expanded(index: Any, rank: int) -> list[Any]:
    """The index as one item per axis of the result's making: ints and slices each take
    an input axis (the Ellipsis the ones left over), None adds one."""
    items = list(index) if isinstance(index, tuple) else [index]
    for item in items:
        if not (item is None or item is Ellipsis or isinstance(item, (int, slice))):
            raise Unsupported(
                f"indexes with {item!r}; Slice and Select take whole numbers and slices"
            )
    taken = sum(1 for item in items if isinstance(item, (int, slice)))
    if taken > rank:
        raise Unsupported(f"indexes {taken} axes of a tensor with {rank}")
    if items.count(Ellipsis) > 1:
        raise Unsupported("indexes with two Ellipses (...)")
    rest = [FULL] * (rank - taken)
    if Ellipsis in items:
        at = items.index(Ellipsis)
        return items[:at] + rest + items[at + 1 :]
    return items + rest


def _slice_params(item: slice, axis: int, size: int, written: bool) -> dict[str, Any]:
    """A Slice's params: as the code writes them, or (`written` False) as torch reads
    them on this axis (a stop past the end stops at the end)."""
    start, stop, step = item.start, item.stop, item.step
    if not written:
        start, stop, step = item.indices(size)
        stop = None if stop >= size else stop
    return {
        "axis": axis,
        "start": 0 if start is None else start,
        "stop": "end" if stop is None else stop,
        "step": 1 if step is None else step,
    }


def index_tensor(imp: TorchContext, node: fx.Node, x: Value, index: Any) -> Value:
    """`x[index]` for basic indexing: a Slice per sliced axis, a Select per picked axis
    (from the last, so the axes before keep their numbers), one Reshape for the axes
    None adds."""
    original = imp.results[node.args[0]]
    if not isinstance(original, torch.Tensor):
        raise Unsupported("indexes something that is not one tensor")
    index = known(imp, index)
    items = _expanded(index, original.dim())
    taking = [item for item in items if item is not None]
    if taking[0] != FULL:
        raise Unsupported(
            f"picks from the batch axis N ([{index!r}]); NetLoom blocks keep every sample: "
            "index the axes after it, x[:, …]"
        )
    slices = [(axis, item) for axis, item in enumerate(taking) if isinstance(item, slice)]
    picks = [(axis, item) for axis, item in enumerate(taking) if isinstance(item, int)]
    value, current = x, original
    for axis, item in slices:
        if item == FULL:
            continue
        current = current[(FULL,) * axis + (item,)]
        value = _slice(imp, node, value, item, axis, int(original.shape[axis]), current)
    for axis, item in reversed(picks):
        current = current[(FULL,) * axis + (item,)]
        params = {"axis": axis, "index": item}
        value = imp.block(node, "Select", params, [value], expect=tuple(current.shape[1:]))
    if None in items:
        return reshaped(imp, node, value, how="other")
    if value is x and isinstance(index, tuple) and len(index) > 1 and all(i == FULL for i in index):
        # x[:, :, :] takes everything, but the code writes it: kept as the block it reads
        # like (an exported Slice of a whole axis is written so), as a reshape is kept
        axis = len(index) - 1
        whole = _slice_params(FULL, axis, int(original.shape[axis]), True)
        return imp.block(node, "Slice", whole, [x])
    if value is x:  # x[:] or x[...]: the whole tensor
        return imp.passthrough(node, x, "takes the whole tensor ([:]); left out")
    return value


def _slice(
    imp: TorchContext,
    node: fx.Node,
    x: Value,
    item: slice,
    axis: int,
    size: int,
    result: torch.Tensor,
) -> Value:
    expect = tuple(result.shape[1:])
    if item.step is not None and item.step < 1:
        raise Unsupported(f"slices with step {item.step}; Slice takes a step ≥ 1")
    try:
        return imp.block(node, "Slice", _slice_params(item, axis, size, True), [x], expect=expect)
    except Unsupported:  # past the end, as Python allows: the positions torch reads
        return imp.block(node, "Slice", _slice_params(item, axis, size, False), [x], expect=expect)


def _axis(imp: TorchContext, dim: Any, x: Value, what: str) -> int:
    """A torch dim as NetLoom's axis (N is 0, the first axis after it 1)."""
    dim = known(imp, dim)
    if not isinstance(dim, int):
        raise Unsupported(f"{what} without a dim: name the axis")
    axis = dim % (len(x.shape.dims) + 1)
    if axis == 0:
        raise Unsupported(f"{what} along the batch axis N; NetLoom blocks keep every sample")
    return axis


def narrow(imp: TorchContext, node: fx.Node) -> Value:
    """x.narrow(dim, start, length) → Slice(start, start + length)."""
    x = imp.tensor(node.args[0])
    axis = _axis(imp, arg(node, 1, "dim"), x, "narrows")
    size = x.shape.dims[axis - 1]
    start = known(imp, arg(node, 2, "start"))
    length = known(imp, arg(node, 3, "length"))
    start = start % size if start < 0 else start
    item = slice(start, None if start + length >= size else start + length)
    return imp.block(node, "Slice", _slice_params(item, axis, size, True), [x])


def select(imp: TorchContext, node: fx.Node) -> Value:
    """x.select(dim, index) → Select."""
    x = imp.tensor(node.args[0])
    axis = _axis(imp, arg(node, 1, "dim"), x, "selects")
    index = known(imp, arg(node, 2, "index"))
    return imp.block(node, "Select", {"axis": axis, "index": index}, [x])


# ------------------------------------------------------------------ splitting


def split(imp: TorchContext, node: fx.Node, dim_at: int, squeeze: bool) -> Parts:
    """x.chunk(k, dim), x.split(sizes, dim), x.unbind(dim) → one Split block; the parts
    are its output ports, with the sizes the model gave each."""
    x = imp.tensor(node.args[0])
    what = "unbinds" if squeeze else "splits"
    axis = _axis(imp, arg(node, dim_at, "dim", 0), x, what)
    result = imp.results[node]
    sizes = [1 if squeeze else int(part.shape[axis]) for part in result]
    shapes = [tuple(int(d) for d in part.shape[1:]) for part in result]
    if len(sizes) == 1 and not squeeze:
        return Parts((imp.passthrough(node, x, "splits into one part, the whole; left out"),))
    if len(sizes) > 64:
        raise Unsupported(f"{what} into {len(sizes)} parts; Split gives at most 64")
    params = {"axis": axis, "sizes": sizes, "squeeze": squeeze}
    made = imp.block(node, "Split", params, [x], expect=shapes[0])  # its shape is out1's
    if made.node is None:
        return Parts(tuple(Value(None, made.shape) for _ in sizes))
    outputs = imp.builder.ops[made.node].args["output_shapes"]
    parts = []
    for k, expect in enumerate(shapes, start=1):
        shape = outputs[f"out{k}"]
        if shape.dims != expect:
            imp.builder.remove(made.node)
            raise Unsupported(
                f"NetLoom's Split would give part {k} the shape {shape} where the model "
                f"gives (N, {', '.join(map(str, expect))})"
            )
        parts.append(Value(made.node, shape, port=f"out{k}"))
    return Parts(tuple(parts))


def pick_part(imp: TorchContext, node: fx.Node, parts: Parts, index: Any) -> Any:
    """`parts[i]` (or `parts[i:j]`) of a split's tuple."""
    index = known(imp, index)
    if isinstance(index, int) and -len(parts.values) <= index < len(parts.values):
        return parts.values[index]
    if isinstance(index, slice):
        return Parts(parts.values[index])
    raise Unsupported(f"indexes the parts of a split with [{index!r}]")


# ------------------------------------------------------------------ stacking


def stack(imp: TorchContext, node: fx.Node) -> Value:
    """torch.stack(tensors, dim): each input with the new axis (a Reshape adding a size-1
    channel axis), joined by a Concat, then a Permute moving that axis to `dim`."""
    tensors = arg(node, 0, "tensors")
    if isinstance(tensors, fx.Node) and isinstance(imp.env.get(tensors), Parts):
        values = list(imp.env[tensors].values)
    elif isinstance(tensors, (tuple, list)):
        values = [imp.tensor(t) for t in tensors]
    else:
        raise Unsupported("stacks the parts of one result; Concat joins separate tensors")
    first = values[0].shape
    rank = len(first.dims) + 2  # with N and the new axis
    dim = known(imp, arg(node, 1, "dim", 0))
    axis = dim % rank
    channel = 2 if first.time else 1
    if axis < channel:
        raise Unsupported(
            f"stacks on a new axis {dim} before the {'features' if first.time else 'channels'}"
            f"; NetLoom keeps N{' and T' if first.time else ''} first"
        )
    if len(values) > most_inputs("Concat"):
        raise Unsupported(f"stacks {len(values)} tensors; Concat joins at most 64")
    kept = first.dims[: channel - 1]
    lifted = []
    for x in values:
        features = list(x.shape.dims[channel - 1 :])
        expect = (*kept, 1, *features)
        lifted.append(imp.block(node, "Reshape", {"shape": [1, *features]}, [x], expect=expect))
    joined = lifted[0]
    if len(lifted) > 1:
        expect = (*kept, len(lifted), *first.dims[channel - 1 :])
        joined = imp.block(node, "Concat", {"inputs": len(lifted)}, lifted, expect=expect)
    if axis == channel:
        return joined
    order = [a for a in range(1, rank) if a != channel]
    order.insert(axis - 1, channel)
    return imp.block(node, "Permute", {"dims": order}, [joined])


def join_along(imp: TorchContext, node: fx.Node, values: list[Value], axis: int) -> Value:
    """torch.cat along an axis after the channels (two (N, C, H, W) joined along H): each
    input with that axis swapped into the channels' place (a Permute), a Concat, and the
    two axes swapped back (a Permute)."""
    first = values[0].shape
    channel = 2 if first.time else 1
    order = list(range(1, len(first.dims) + 1))
    order[channel - 1], order[axis - 1] = order[axis - 1], order[channel - 1]
    swapped = []
    for x in values:
        expect = tuple(x.shape.dims[i - 1] for i in order)
        swapped.append(imp.block(node, "Permute", {"dims": order}, [x], expect=expect))
    joined_dims = list(swapped[0].shape.dims)
    joined_dims[channel - 1] = sum(x.shape.dims[channel - 1] for x in swapped)
    joined = imp.block(node, "Concat", {"inputs": len(swapped)}, swapped, expect=tuple(joined_dims))
    return imp.block(node, "Permute", {"dims": order}, [joined])
