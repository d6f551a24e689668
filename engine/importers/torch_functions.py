"""torch functions and tensor methods in a traced model → NetLoom blocks.

Each handler gets the importer (as a `torch_context.TorchContext`) and the fx node; it
reads the node's arguments (with the defaults torch would use) and asks for a block, or
raises `Unsupported` with the reason. Shape-only operations (`view`, `flatten`,
`permute`, …) have their handlers in engine.importers.torch_shapes; the tables here
name every handler.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from functools import cache
from typing import Any

import torch
import torch.nn.functional as F
from torch import fx, nn

from engine.importers import torch_activations, torch_modules, torch_norms
from engine.importers.builder import Value
from engine.importers.nearest import with_nearest
from engine.importers.report import Unsupported
from engine.importers.torch_context import TorchContext
from engine.importers.torch_indexing import (
    index_tensor,
    join_along,
    known,
    most_inputs,
    narrow,
    pick_part,
    select,
    split,
    stack,
)
from engine.importers.torch_recurrent import chunk, moved, recurrent_item, zeros
from engine.importers.torch_shapes import (
    arg,
    contiguous,
    flatten,
    permute,
    reshape,
    reshaped,
    squeeze,
    squeeze_like,
    unflatten,
)
from engine.importers.torch_values import RECURRENT_PARTS, Broken, MaxPair, Meta, Parts, RecPart

Handler = Callable[[TorchContext, fx.Node], Any]

SYMBOLS = {
    operator.add: "+",
    operator.iadd: "+=",
    operator.mul: "*",
    operator.imul: "*=",
    operator.sub: "-",
    operator.truediv: "/",
    operator.matmul: "@",
    operator.getitem: "[…]",
    operator.neg: "unary -",
}


@cache
def _public_names() -> dict[int, str]:
    import torch.fft
    import torch.linalg
    import torch.special

    names: dict[int, str] = {}
    for prefix, namespace in (
        ("torch.special", torch.special),
        ("torch.linalg", torch.linalg),
        ("torch.fft", torch.fft),
        ("F", F),
        ("torch", torch),
    ):
        for name in dir(namespace):
            if not name.startswith("_"):
                names[id(getattr(namespace, name))] = f"{prefix}.{name}"
    return names


def qualified_name(target: Any) -> str:
    """How the source spells a function: 'torch.fft.fft', 'F.relu', '*'."""
    if target in SYMBOLS:
        return SYMBOLS[target]
    return _public_names().get(id(target), getattr(target, "__name__", str(target)))


# ------------------------------------------------------------------ handlers


def _activation(type_name: str) -> Handler:
    def handle(imp: TorchContext, node: fx.Node) -> Value:
        return imp.block(node, type_name, {}, [imp.tensor(node.args[0])])

    return handle


def _leaky_relu(imp: TorchContext, node: fx.Node) -> Value:
    slope = arg(node, 1, "negative_slope", 0.01)
    return imp.block(node, "LeakyReLU", {"negative_slope": slope}, [imp.tensor(node.args[0])])


def _gelu(imp: TorchContext, node: fx.Node) -> Value:
    if arg(node, 1, "approximate", "none") != "none":
        raise Unsupported("approximate='tanh': NetLoom's GELU is the exact one")
    return imp.block(node, "GELU", {}, [imp.tensor(node.args[0])])


def softmax_axis(dim: Any, x: Value) -> str:
    if not isinstance(dim, int):
        raise Unsupported("softmax without dim: name the axis")
    rank = len(x.shape.dims) + 1
    axis = dim % rank
    if axis == rank - 1:
        return "last"
    if axis == (2 if x.shape.time else 1):
        return "channels"
    raise Unsupported(f"softmax over axis {dim}; NetLoom's Softmax takes the last or channel axis")


def _softmax_of(block: str) -> Handler:
    def handle(imp: TorchContext, node: fx.Node) -> Value:
        x = imp.tensor(node.args[0])
        if arg(node, 3 if node.op == "call_function" else 2, "dtype", None) is not None:
            raise Unsupported(f"softmax with a dtype: NetLoom's {block} keeps the input's")
        return imp.block(node, block, {"axis": softmax_axis(arg(node, 1, "dim"), x)}, [x])

    return handle


_softmax = _softmax_of("Softmax")
_log_softmax = _softmax_of("LogSoftmax")


def _elu(imp: TorchContext, node: fx.Node) -> Value:
    alpha = arg(node, 1, "alpha", 1.0)
    return imp.block(node, "ELU", {"alpha": alpha}, [imp.tensor(node.args[0])])


def _merge(imp: TorchContext, node: fx.Node, block: str, a: Any, b: Any) -> Value:
    """`a + b` (or `a * b`) as an Add (Multiply) block. When `a` is itself such a sum on
    the same line, feeding only this one, the two become one block with one more input:
    `x + y + z` is ((x + y) + z) in Python, the order NetLoom's n-input block adds in too
    (sums written on two lines stay two blocks). A sum with an unmapped term stays
    unmade: that term is in the report."""
    parts = imp.merged.get(a) if isinstance(a, fx.Node) and len(a.users) == 1 else None
    same_line = parts is not None and imp.place(a) == imp.place(node)
    if same_line and parts[0] == block and len(parts[1]) < most_inputs(block):
        first = imp.env[a]
        inputs = [*parts[1], imp.tensor(b)]
        if first.node is not None:
            imp.builder.remove(first.node)
    else:
        inputs = [imp.tensor(a), imp.tensor(b)]
    value = imp.block(node, block, {"inputs": len(inputs)}, inputs)
    imp.merged[node] = (block, inputs)
    return value


def _mul(imp: TorchContext, node: fx.Node) -> Value:
    a, b = node.args[0], arg(node, 1, "other")
    for operand in (a, b):
        if not isinstance(operand, fx.Node) or isinstance(imp.env[operand], Meta):
            raise Unsupported(
                f"multiplies by the constant {operand!r}; Multiply multiplies tensors only"
            )
    return _merge(imp, node, "Multiply", a, b)


def _add(imp: TorchContext, node: fx.Node) -> Value:
    a, b = node.args[0], arg(node, 1, "other")
    if arg(node, 2, "alpha", 1) != 1:
        raise Unsupported("add with alpha: no block scales while adding")
    for operand in (a, b):
        if not isinstance(operand, fx.Node) or isinstance(imp.env[operand], Meta):
            raise Unsupported(f"adds the constant {operand!r}; no block adds a constant")
    return _merge(imp, node, "Add", a, b)


def _cat(imp: TorchContext, node: fx.Node) -> Value:
    tensors = arg(node, 0, "tensors")
    if isinstance(tensors, fx.Node) and isinstance(imp.env.get(tensors), Parts):
        tensors = imp.env[tensors].values  # torch.cat(x.chunk(2, 1)): the split's parts
    if not isinstance(tensors, (tuple, list)):  # torch.cat(state): the parts of one result
        value = imp.env.get(tensors)
        if isinstance(value, RecPart) and value.part == "state" and arg(node, 1, "dim", 0) == 0:
            return RecPart(value.rec, "rows")  # h_n's rows, then c_n's: see torch_shapes.permute
        if isinstance(value, RecPart):
            raise Unsupported(RECURRENT_PARTS.get(value.part, "{op}").format(op=value.rec.op))
        raise Unsupported("joins the parts of one result; Concat joins separate tensors")
    parts = [imp.env.get(t) for t in tensors]
    if [getattr(p, "part", None) for p in parts] == ["forward", "backward"]:
        # torch.cat((h_n[-2], h_n[-1]), dim=1): both directions' final states of the top
        # layer, which is exactly a bidirectional block's 'last' output.
        if parts[0].rec is parts[1].rec and arg(node, 1, "dim", 0) in (1, -1):
            return imp.builder.recurrent(parts[0].rec, "last")
    values = [imp.tensor(t) for t in tensors]
    if any(v.node is None for v in values):  # after an unmapped operation: that one is reported
        return imp.broken(node)
    dim = arg(node, 1, "dim", 0)
    rank = len(values[0].shape.dims) + 1
    channel = 2 if values[0].shape.time else 1
    if dim % rank < channel:
        raise Unsupported(
            f"joins along axis {dim}; NetLoom's Concat joins along the channel/feature "
            f"axis ({channel}) or, swapped there, one after it: N{' and T' if channel == 2 else ''}"
            " stay as they are"
        )
    if len(values) == 1:
        return imp.passthrough(node, values[0], "a concatenation of one tensor; left out")
    if len(values) > most_inputs("Concat"):
        raise Unsupported(
            f"joins {len(values)} tensors; Concat takes at most {most_inputs('Concat')}"
        )
    if dim % rank != channel:
        return join_along(imp, node, values, dim % rank)
    return imp.block(node, "Concat", {"inputs": len(values)}, values)


def _reduce(mode: str, pair: bool = False) -> Handler:
    """mean/amax/sum over chosen axes; with `pair`, x.max(dim), whose result is
    (values, indices): the block gives the values (`[0]`, `.values`)."""

    def handle(imp: TorchContext, node: fx.Node) -> Any:
        x = imp.tensor(node.args[0])
        dims = known(imp, arg(node, 1, "dim"))
        rank = len(x.shape.dims) + 1
        if dims is None:
            raise Unsupported("reduces every axis, the batch too")
        dims = sorted(
            {int(d) % rank for d in (dims if isinstance(dims, (tuple, list)) else [dims])}
        )
        if 0 in dims:
            raise Unsupported(f"reduces over axes {dims}, the batch axis N too")
        if node.kwargs.get("dtype") is not None:
            raise Unsupported("a dtype: NetLoom keeps the input's")
        keepdim = bool(arg(node, 2, "keepdim", False))
        first = 3 if x.shape.time else 2
        expect = tuple(imp.results[node][0].shape[1:]) if pair else None
        if dims == list(range(first, rank)) and not keepdim and mode != "sum":
            value = imp.block(node, "GlobalPool", {"mode": mode}, [x], expect=expect)
        else:
            reduce = {"avg": "mean", "max": "max", "sum": "sum"}[mode]
            params = {"axes": dims, "keepdim": keepdim, "reduce": reduce}
            value = imp.block(node, "Mean", params, [x], expect=expect)
        return MaxPair(value) if pair else value

    return handle


def _max(imp: TorchContext, node: fx.Node) -> Any:
    """x.max(dim) (torch.max(x, dim)): a Mean block with reduce max gives its values."""
    dim = arg(node, 1, "dim")
    if dim is None:
        raise Unsupported("the maximum of every value, the batch too: name the axes (amax)")
    if isinstance(dim, fx.Node) and not isinstance(imp.env.get(dim), Meta):
        raise Unsupported("the element-wise maximum of two tensors: no block takes one")
    return _reduce("max", pair=True)(imp, node)


def _attribute(imp: TorchContext, node: fx.Node) -> Any:
    """`.values` of x.max(dim); any other attribute that is a tensor has no block."""
    base, name = imp.env.get(node.args[0]), node.args[1]
    if isinstance(base, MaxPair) and name in ("values", "indices"):
        return pick_maximum(base, 0 if name == "values" else 1)
    raise Unsupported(f"no NetLoom block computes .{name}")


def pick_maximum(pair: MaxPair, index: Any) -> Value:
    if index in (0, -2):
        return pair.value
    raise Unsupported("takes the positions of a maximum (indices); no block gives positions")


def _functional_module(cls: type[nn.Module]) -> Handler:
    """F.max_pool2d(x, …) and friends: their arguments are the module's constructor's."""

    def handle(imp: TorchContext, node: fx.Node) -> Value:
        x = imp.tensor(node.args[0])
        try:
            args = known(imp, node.args[1:])  # sizes the code computed, filled in
            module = cls(*args, **{k: known(imp, v) for k, v in node.kwargs.items()})
        except TypeError as err:
            raise Unsupported(f"arguments {cls.__name__} does not take: {err}") from None
        type_name, params = torch_modules.MODULE_RULES[cls](module)
        return imp.block(node, type_name, params, [x])

    return handle


def _interpolate(imp: TorchContext, node: fx.Node) -> Value:
    module = nn.Upsample(
        arg(node, 1, "size"),
        arg(node, 2, "scale_factor"),
        arg(node, 3, "mode", "nearest"),
        arg(node, 4, "align_corners"),
    )
    x = imp.tensor(node.args[0])
    _, params = torch_modules.upsample(module)
    block = torch_modules.upsample_block(len(x.shape.features) - 1)
    return imp.block(node, block, params, [x])


def _dropout_of(block: str) -> Handler:
    def handle(imp: TorchContext, node: fx.Node) -> Value:
        x = imp.tensor(node.args[0])
        if not arg(node, 2, "training", True):
            return imp.passthrough(node, x, "dropout with training=False does nothing; left out")
        return imp.block(node, block, {"p": arg(node, 1, "p", 0.5)}, [x])

    return handle


def _getitem(imp: TorchContext, node: fx.Node) -> Any:
    base, index = imp.env[node.args[0]], node.args[1]
    if isinstance(base, Broken) or (isinstance(base, Value) and base.node is None):
        return imp.broken(node)
    if isinstance(base, Meta):
        return Meta(imp.results.get(node))
    if isinstance(base, Parts):
        return pick_part(imp, node, base, index)
    if isinstance(base, MaxPair):
        return pick_maximum(base, index)
    if isinstance(base, RecPart):
        return recurrent_item(imp, node, base, index)
    return index_tensor(imp, node, imp.tensor(node.args[0]), index)


def _split(imp: TorchContext, node: fx.Node) -> Parts:
    return split(imp, node, 2, squeeze=False)


def _unbind(imp: TorchContext, node: fx.Node) -> Parts:
    return split(imp, node, 1, squeeze=True)


FUNCTIONS: dict[Any, Handler] = {
    F.relu: _activation("ReLU"),
    torch.relu: _activation("ReLU"),
    F.relu_: _activation("ReLU"),
    torch.sigmoid: _activation("Sigmoid"),
    F.sigmoid: _activation("Sigmoid"),
    torch.tanh: _activation("Tanh"),
    F.tanh: _activation("Tanh"),
    F.leaky_relu: _leaky_relu,
    F.silu: _activation("SiLU"),
    F.hardswish: _activation("Hardswish"),
    F.mish: _activation("Mish"),
    F.elu: _elu,
    F.log_softmax: _log_softmax,
    torch.log_softmax: _log_softmax,
    operator.mul: _mul,
    operator.imul: _mul,
    torch.mul: _mul,
    torch.multiply: _mul,
    F.gelu: _gelu,
    F.softmax: _softmax,
    torch.softmax: _softmax,
    operator.add: _add,
    operator.iadd: _add,
    torch.add: _add,
    torch.cat: _cat,
    torch.concat: _cat,
    torch.stack: stack,
    torch.chunk: chunk,
    torch.split: _split,
    torch.unbind: _unbind,
    torch.narrow: narrow,
    torch.select: select,
    torch.zeros: zeros,
    torch.zeros_like: zeros,
    torch.flatten: flatten,
    torch.unflatten: unflatten,
    torch.reshape: reshape,
    torch.squeeze: squeeze,
    torch.unsqueeze: squeeze_like,
    torch.permute: permute,
    torch.transpose: permute,
    torch.mean: _reduce("avg"),
    torch.amax: _reduce("max"),
    torch.sum: _reduce("sum"),
    torch.max: _max,
    getattr: _attribute,
    F.max_pool1d: _functional_module(nn.MaxPool1d),
    F.max_pool2d: _functional_module(nn.MaxPool2d),
    F.max_pool3d: _functional_module(nn.MaxPool3d),
    F.avg_pool1d: _functional_module(nn.AvgPool1d),
    F.avg_pool2d: _functional_module(nn.AvgPool2d),
    F.avg_pool3d: _functional_module(nn.AvgPool3d),
    F.adaptive_avg_pool1d: _functional_module(nn.AdaptiveAvgPool1d),
    F.adaptive_avg_pool2d: _functional_module(nn.AdaptiveAvgPool2d),
    F.adaptive_avg_pool3d: _functional_module(nn.AdaptiveAvgPool3d),
    F.adaptive_max_pool1d: _functional_module(nn.AdaptiveMaxPool1d),
    F.adaptive_max_pool2d: _functional_module(nn.AdaptiveMaxPool2d),
    F.adaptive_max_pool3d: _functional_module(nn.AdaptiveMaxPool3d),
    F.interpolate: _interpolate,
    F.dropout: _dropout_of("Dropout"),
    F.dropout2d: _dropout_of("Dropout2d"),
    operator.getitem: _getitem,
}

METHODS: dict[str, Handler] = {
    "relu": _activation("ReLU"),
    "sigmoid": _activation("Sigmoid"),
    "tanh": _activation("Tanh"),
    "softmax": _softmax,
    "log_softmax": _log_softmax,
    "add": _add,
    "mul": _mul,
    "mul_": _mul,
    "flatten": flatten,
    "unflatten": unflatten,
    "view": reshape,
    "reshape": reshape,
    "squeeze": squeeze,
    "unsqueeze": squeeze_like,
    "permute": permute,
    "transpose": permute,
    "mean": _reduce("avg"),
    "amax": _reduce("max"),
    "sum": _reduce("sum"),
    "max": _max,
    "contiguous": contiguous,
    "chunk": chunk,
    "split": _split,
    "unbind": _unbind,
    "narrow": narrow,
    "select": select,
    "new_zeros": zeros,
    "to": moved,
    "cuda": moved,
    "cpu": moved,
    "detach": moved,
}

# Why common operations have no block, in the user's terms.
REASONS: dict[Any, str] = {
    operator.sub: "a subtraction: no block subtracts",
    operator.truediv: "a division: no block divides",
    operator.matmul: "a product of two tensors: only Dense multiplies, by its own weights",
    torch.matmul: "a product of two tensors: only Dense multiplies, by its own weights",
}

# Activations, functional norms, layer scale, stochastic depth (B1's modules).
torch_activations.register(FUNCTIONS, METHODS)
torch_norms.register(FUNCTIONS, METHODS)


def map_call(imp: TorchContext, node: fx.Node) -> Any:
    after_unmapped = any(
        isinstance(v, Broken) or (isinstance(v, Value) and v.node is None)
        for v in (imp.env.get(a) for a in node.all_input_nodes)
    )
    if after_unmapped and node.target in (operator.getitem, getattr):
        return imp.broken(node)  # a part of an unmapped result: that one is reported
    table: dict[Any, Handler] = METHODS if node.op == "call_method" else FUNCTIONS
    handler = table.get(node.target)
    if handler is None and node.op == "call_function":  # torchvision's stochastic_depth
        handler = torch_norms.library_handler(node.target)
    if handler is None:
        name = qualified_name(node.target) if node.op == "call_function" else f".{node.target}()"
        if node.target is getattr:
            name = f".{node.args[1]}"
        reason = REASONS.get(node.target)
        if reason is None and "fft" in name:
            reason = "a Fourier transform: no block computes one"
        raise Unsupported(reason or with_nearest(f"no NetLoom block computes {name}", name))
    return handler(imp, node)


def map_shaped_module(imp: TorchContext, node: fx.Node, module: nn.Module) -> Value:
    x = imp.tensor(node.args[0])
    hint = str(node.target)  # named after the module, as layers are
    if isinstance(module, (nn.Softmax, nn.LogSoftmax)):
        block = type(module).__name__
        return imp.block(node, block, {"axis": softmax_axis(module.dim, x)}, [x], hint)
    if isinstance(module, nn.Flatten):
        return reshaped(imp, node, x, hint, how="flatten")
    return imp.passthrough(node, x, "nn.Identity does nothing; left out")
