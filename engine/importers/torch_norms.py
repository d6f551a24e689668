"""Norms, layer scale and stochastic depth written in a model's forward → NetLoom blocks.

- Functional norms: `F.batch_norm` (timm's BatchNormAct2d calls it with its own running
  statistics), `F.layer_norm` (timm's LayerNorm2d: permute → F.layer_norm → permute),
  `F.group_norm`, `F.instance_norm` → the norm block, with the eps, momentum and affine
  the call uses and the weights it reads from the model's attributes; `F.linear(x,
  self.weight, self.bias)` (timm's Linear) → Dense, the same way.
- Layer scale: `self.gamma * x`, `x.mul(self.gamma.reshape(1, -1, 1, 1))`, torchvision's
  `self.layer_scale * result` → LayerScale holding the parameter's values.
- Stochastic depth: torchvision's `stochastic_depth(x, p, mode, training)` and timm's
  `drop_path` (traced as `x.new_empty(…).bernoulli_(keep).div_(keep)` then `x * mask`;
  exported NetLoom code draws it with `torch.empty`) → DropPath(p, mode).

engine.importers.torch_functions registers these handlers in its tables.
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass, replace
from typing import Any

import torch
import torch.nn.functional as F
from torch import fx

from engine.codegen.text import shortest_drop
from engine.importers.builder import Value
from engine.importers.parameter_source import written_fill
from engine.importers.report import Unsupported
from engine.importers.torch_context import TorchContext
from engine.importers.torch_modules import over_input
from engine.importers.torch_shapes import Handler, arg
from engine.importers.torch_values import Const, Meta

# ------------------------------------------------------------------ model-held tensors


def _held(imp: TorchContext, operand: Any, role: str, block: str) -> torch.Tensor | None:
    """The model's own tensor a call reads as its `role` (weight, running_mean, …): an
    attribute (a get_attr node, maybe reshaped), or None when the call passes none."""
    if operand is None:
        return None
    if isinstance(operand, fx.Node) and isinstance(imp.env.get(operand), Const):
        value = imp.results.get(operand)
        if isinstance(value, torch.Tensor):
            _not_shared(imp.env[operand].name, operand.graph)
            return value.detach().clone()
    raise Unsupported(
        f"uses a {role} computed in forward; NetLoom's {block} holds its own "
        f"{role} (pass a module attribute such as self.{role})"
    )


def _not_shared(name: str, graph: fx.Graph) -> None:
    """Refuse a tensor of the model's that another operation reads too (a language
    model's output layer reusing the embedding's weight): a NetLoom block owns its own."""
    owner = name.rsplit(".", 1)[0] if "." in name else None
    reads = sum(len(n.users) for n in graph.nodes if n.op == "get_attr" and n.target == name)
    called = any(n.op == "call_module" and n.target == owner for n in graph.nodes)
    if reads > 1 or called:
        raise Unsupported(
            f"uses self.{name}, which another layer uses too; its weights would be shared, "
            "and a NetLoom block owns its weights"
        )


def _weights(imp: TorchContext, node: fx.Node, block: str, at: int) -> dict[str, torch.Tensor]:
    """weight and bias of a functional norm (arguments `at`, `at + 1`): both or neither."""
    weight = _held(imp, arg(node, at, "weight"), "weight", block)
    bias = _held(imp, arg(node, at + 1, "bias"), "bias", block)
    if (weight is None) != (bias is None):
        given = "weight" if bias is None else "bias"
        raise Unsupported(
            f"an affine {given} alone; NetLoom's {block} learns both weight and bias, or neither"
        )
    return {} if weight is None else {"weight": weight, "bias": bias}


def _eps(node: fx.Node, at: int) -> float:
    eps = arg(node, at, "eps", 1e-5)
    if not isinstance(eps, (int, float)):
        raise Unsupported(f"eps computed in forward ({eps}); give it as a number")
    return float(eps)


def reshape_held(fallback: Handler) -> Handler:
    """`self.gamma.reshape(1, -1, 1, 1)` (or `.view`, `.unsqueeze`, `[:, None, None]`)
    stays the model's tensor, read where it is used (layer scale); any other is
    `fallback`'s."""

    def handle(imp: TorchContext, node: fx.Node) -> Any:
        base = imp.env.get(node.args[0]) if isinstance(node.args[0], fx.Node) else None
        if isinstance(base, Const):
            return Const(base.name)
        return fallback(imp, node)

    return handle


# ------------------------------------------------------------------ functional norms


def _module_of(imp: TorchContext, attribute: Any) -> torch.nn.Module | None:
    """The module whose attribute a get_attr node reads (`stem.bn.running_mean` → stem.bn)."""
    name = imp.env.get(attribute) if isinstance(attribute, fx.Node) else None
    if not isinstance(name, Const) or "." not in name.name:
        return None
    try:
        return imp.model.get_submodule(name.name.rsplit(".", 1)[0])
    except AttributeError:
        return None


def _batch_norm(imp: TorchContext, node: fx.Node) -> Value:
    """F.batch_norm(x, running_mean, running_var, weight, bias, training, momentum, eps)."""
    x = imp.tensor(node.args[0])
    mean_node, var_node = arg(node, 1, "running_mean"), arg(node, 2, "running_var")
    mean = _held(imp, mean_node, "running_mean", "BatchNorm")
    var = _held(imp, var_node, "running_var", "BatchNorm")
    if (mean is None) != (var is None):
        raise Unsupported("a running mean without a running variance (or the reverse)")
    tracked = mean is not None
    if not arg(node, 5, "training", False):
        raise Unsupported(
            "normalises with its running statistics while training too (training=False, "
            "a frozen BatchNorm); NetLoom's BatchNorm uses the batch's statistics in "
            "training — freeze the block instead"
        )
    owner = _module_of(imp, mean_node)
    if tracked and owner is not None and getattr(owner, "momentum", 0.1) is None:
        raise Unsupported(
            "momentum=None (a cumulative average): BatchNorm's running statistics move by "
            "a fixed momentum"
        )
    momentum = arg(node, 6, "momentum", 0.1)
    if not isinstance(momentum, (int, float)):
        raise Unsupported(f"momentum computed in forward ({momentum}); give it as a number")
    weights = _weights(imp, node, "BatchNorm", 3)
    if tracked:
        counted = getattr(owner, "num_batches_tracked", None) if owner is not None else None
        weights["running_mean"], weights["running_var"] = mean, var
        weights["num_batches_tracked"] = (
            counted.detach().clone()
            if isinstance(counted, torch.Tensor)
            else torch.tensor(0, dtype=torch.long)
        )
    params = {
        "momentum": float(momentum),
        "affine": bool(weights.get("weight") is not None),
        "eps": _eps(node, 7),
        "track_running_stats": tracked,
    }
    hint = _hint(imp, mean_node) or _hint(imp, arg(node, 3, "weight"))
    return imp.block(node, "BatchNorm", params, [x], hint, weights)


def _layer_norm(imp: TorchContext, node: fx.Node) -> Value:
    """F.layer_norm(x, normalized_shape, weight, bias, eps): over the last axes."""
    x = imp.tensor(node.args[0])
    shape = arg(node, 1, "normalized_shape")
    shape = list(shape) if isinstance(shape, (tuple, list)) else [shape]
    if not all(isinstance(s, int) for s in shape):
        raise Unsupported(f"normalized_shape computed in forward ({shape}); give the sizes")
    dims = list(x.shape.dims)
    if not shape or len(shape) > len(dims) or dims[-len(shape) :] != shape:
        raise Unsupported(
            f"normalizes over {tuple(shape)}, not the last axes of (N, "
            f"{', '.join(map(str, dims))}); LayerNorm takes the last k axes"
        )
    weight = _held(imp, arg(node, 2, "weight"), "weight", "LayerNorm")
    bias = _held(imp, arg(node, 3, "bias"), "bias", "LayerNorm")
    if weight is None and bias is not None:
        raise Unsupported("a bias without a weight; LayerNorm's bias comes with its weight")
    weights = {k: v for k, v in (("weight", weight), ("bias", bias)) if v is not None}
    params = {
        "axes": len(shape),
        "affine": weight is not None,
        "bias": bias is not None,
        "eps": _eps(node, 4),
    }
    hint = _hint(imp, arg(node, 2, "weight"))
    return imp.block(node, "LayerNorm", params, [x], hint, weights)


def _group_norm(imp: TorchContext, node: fx.Node) -> Value:
    """F.group_norm(x, num_groups, weight, bias, eps)."""
    x = imp.tensor(node.args[0])
    groups = arg(node, 1, "num_groups")
    if not isinstance(groups, int):
        raise Unsupported(f"num_groups computed in forward ({groups}); give it as a number")
    weights = _weights(imp, node, "GroupNorm", 2)
    params = {"num_groups": groups, "affine": bool(weights), "eps": _eps(node, 4)}
    hint = _hint(imp, arg(node, 2, "weight"))
    return imp.block(node, "GroupNorm", params, [x], hint, weights)


def _instance_norm(imp: TorchContext, node: fx.Node) -> Value:
    """F.instance_norm(x, running_mean, running_var, weight, bias, use_input_stats,
    momentum, eps): each sample's own statistics, as NetLoom's InstanceNorm."""
    x = imp.tensor(node.args[0])
    if arg(node, 1, "running_mean") is not None or arg(node, 2, "running_var") is not None:
        raise Unsupported(
            "running statistics (track_running_stats=True): InstanceNorm always normalises "
            "with each sample's own statistics"
        )
    if not arg(node, 5, "use_input_stats", True):
        raise Unsupported("use_input_stats=False: InstanceNorm uses each sample's statistics")
    weights = _weights(imp, node, "InstanceNorm", 3)
    params = {"affine": bool(weights), "eps": _eps(node, 7)}
    hint = _hint(imp, arg(node, 3, "weight"))
    return imp.block(node, "InstanceNorm", params, [x], hint, weights)


def _linear(imp: TorchContext, node: fx.Node) -> Value:
    """F.linear(x, self.weight, self.bias), as timm's Linear (an nn.Linear) calls it."""
    x = imp.tensor(node.args[0])
    weight = _held(imp, arg(node, 1, "weight"), "weight", "Dense")
    bias = _held(imp, arg(node, 2, "bias"), "bias", "Dense")
    if weight is None or weight.dim() != 2:
        raise Unsupported("F.linear without a 2-D weight; Dense holds an (out, in) weight")
    weights = {"weight": weight} if bias is None else {"weight": weight, "bias": bias}
    params = {"units": int(weight.shape[0]), "bias": bias is not None}
    params = over_input("Dense", params, len(x.shape.dims))
    hint = _hint(imp, arg(node, 1, "weight"))
    return imp.block(node, "Dense", params, [x], hint, weights)


def _hint(imp: TorchContext, attribute: Any) -> str | None:
    """A functional norm's block is named after the torch module whose weights it reads
    (`F.group_norm(x, 2, self.gn.weight, …)` → gn). Not after a module of the model's own
    class (timm's BatchNormAct2d calling F.batch_norm on itself): that module's id is its
    unit instance's when the class repeats."""
    name = imp.env.get(attribute) if isinstance(attribute, fx.Node) else None
    owner = _module_of(imp, attribute)
    if isinstance(name, Const) and owner is not None and _from_torch(type(owner)):
        return name.name.rsplit(".", 1)[0]
    return None


def _from_torch(cls: type) -> bool:
    return cls.__module__ == "torch" or cls.__module__.startswith("torch.")


# ------------------------------------------------------------------ layer scale


def _layer_scale(imp: TorchContext, node: fx.Node, held: fx.Node, other: Any) -> Value:
    """x times a model parameter with one value per channel (or per last-axis feature)."""
    name = imp.env[held].name
    _not_shared(name, held.graph)
    factor = imp.results.get(held)
    x = imp.tensor(other)
    if not isinstance(factor, torch.Tensor) or not factor.is_floating_point():
        raise Unsupported(f"multiplies by self.{name}, which is not a float tensor")
    dims = x.shape.dims
    features = list(x.shape.features)
    channels = (features[0], *[1] * (len(features) - 1)) if features else ()
    last = (dims[-1],) if dims else ()
    # (1, C, 1, 1) broadcasts as (C, 1, 1) does; the shape written exactly decides
    # between the two where they reach alike (a (1, 1, 1) factor of one channel).
    fits = [
        (axis, shape)
        for axis, shape in (("channels", channels), ("last", last))
        if shape and factor.dim() <= len(dims) + 1 and _unpadded(factor.shape) == _unpadded(shape)
    ]
    fits.sort(key=lambda fit: tuple(factor.shape) != fit[1])
    if fits:
        axis, shape = fits[0]
    else:
        raise Unsupported(
            f"multiplies by self.{name} of shape {tuple(factor.shape)}; LayerScale holds one "
            f"factor per channel: {channels} or {last}"
        )
    values = factor.detach().reshape(shape).clone()
    init = _init(values, _written_fill(imp, name))
    value = imp.block(node, "LayerScale", {"axis": axis, "init": init}, [x], name)
    if value.node is not None:
        # LayerScale's parameter lives on the model under the node id itself.
        imp.builder.weights[value.node] = values
        if name in dict(imp.model.named_buffers()):  # the model never learns it: frozen
            imp.builder.graph.set_frozen(value.node, True)
            imp.builder.report.note(
                imp.place(node),
                f"self.{name}",
                f"a fixed buffer, imported as {value.node} (LayerScale) frozen, so training "
                "keeps its factors as the model does (unfreeze it to let them learn)",
            )
    return value


def _init(values: torch.Tensor, written: float | None = None) -> float:
    """LayerScale's init: the factors' one value when they are all alike (a model as
    built, or exported with `torch.full`): the number the source fills them with where
    it holds that value (-999999.941, held as -999999.9375), else written as short as
    its dtype allows (1e-06, not float32's 9.999999974752427e-07); else the block's
    default."""
    first = values.flatten()[0]
    if not bool((values == first).all()) or abs(float(first)) > 1e6:
        return 1e-6
    if written is not None and bool(torch.tensor(written, dtype=first.dtype) == first):
        return written
    return float(str(first.numpy())) if first.dtype == torch.float32 else float(first)


def _written_fill(imp: TorchContext, name: str) -> float | None:
    """What the constructor of the parameter's module fills it with, as written."""
    owner, _, attribute = name.rpartition(".")
    try:
        module = imp.model.get_submodule(owner)
    except AttributeError:
        return None
    return written_fill(type(module), attribute)


def _unpadded(shape: Any) -> tuple[int, ...]:
    """A shape without its leading 1s: how far it reaches when broadcast from the right."""
    sizes = [int(n) for n in shape]
    while sizes and sizes[0] == 1:
        sizes.pop(0)
    return tuple(sizes)


def layer_scale_or(fallback: Handler) -> Handler:
    """`a * b` where one side is a parameter of the model: LayerScale; else `fallback`."""

    def handle(imp: TorchContext, node: fx.Node) -> Any:
        a, b = node.args[0], arg(node, 1, "other")
        for held, other in ((a, b), (b, a)):
            if isinstance(held, fx.Node) and isinstance(imp.env.get(held), Const):
                if isinstance(other, fx.Node) and not isinstance(imp.env.get(other), (Const, Meta)):
                    return _layer_scale(imp, node, held, other)
        for mask, other in ((a, b), (b, a)):
            if isinstance(mask, fx.Node) and isinstance(imp.env.get(mask), DropMask):
                return _masked(imp, node, imp.env[mask], other)
        return fallback(imp, node)

    return handle


# ------------------------------------------------------------------ stochastic depth


def _drop_path(imp: TorchContext, node: fx.Node, x: Value, p: Any, mode: Any) -> Value:
    if not isinstance(p, (int, float)) or not 0 <= p < 1:
        raise Unsupported(f"drop probability {p!r}; DropPath takes a number in 0..0.99")
    if mode not in ("row", "batch"):
        raise Unsupported(f"mode {mode!r}; DropPath drops a 'row' (sample) or the 'batch'")
    if p == 0:
        return imp.passthrough(node, x, "stochastic depth with p=0 does nothing; left out")
    return imp.block(node, "DropPath", {"p": float(p), "mode": mode}, [x])


def _stochastic_depth(imp: TorchContext, node: fx.Node) -> Value:
    """torchvision.ops.stochastic_depth(x, p, mode, training) (StochasticDepth calls it)."""
    x = imp.tensor(node.args[0])
    if not arg(node, 3, "training", True):
        return imp.passthrough(node, x, "stochastic depth with training=False; left out")
    return _drop_path(imp, node, x, arg(node, 1, "p"), arg(node, 2, "mode"))


@dataclass(frozen=True)
class DropMask(Meta):
    """timm's drop_path mask on its way: `x.new_empty(shape)` ("row" when shaped (N, 1, …),
    "batch" when (1, 1, …)), then `.bernoulli_(keep)`, then `.div_(keep)` (`scaled`)."""

    mode: str = "row"
    keep: float | None = None
    scaled: bool = False
    written: float | None = None  # p as the source writes the keep: `bernoulli_(1 - p)`


def _in_place(imp: TorchContext, node: fx.Node, mask: DropMask) -> DropMask:
    """`mask.div_(keep)` changes `mask` itself: later uses of it (fx names the tensor
    before the call) see the change too."""
    imp.env[node.args[0]] = mask
    return mask


def _new_empty(imp: TorchContext, node: fx.Node) -> Any:
    shape = imp.results.get(node)
    if isinstance(shape, torch.Tensor) and shape.dim() >= 1 and set(shape.shape[1:]) <= {1}:
        mode = "batch" if shape.shape[0] == 1 else "row"
        return DropMask("a drop-path mask", mode)
    raise Unsupported("makes a new tensor in forward; no block holds one")


def _bernoulli(imp: TorchContext, node: fx.Node) -> Any:
    mask = imp.env.get(node.args[0])
    keep = arg(node, 1, "p", 0.5)
    if isinstance(mask, DropMask) and mask.keep is None and isinstance(keep, (int, float)):
        written = _written_drop(node, float(keep))
        return _in_place(imp, node, DropMask(mask.value, mask.mode, float(keep), False, written))
    raise Unsupported("draws random numbers in forward; DropPath and Dropout draw their own")


_ONE_MINUS = re.compile(r"bernoulli_\(\s*1\s*-\s*([0-9][0-9.eE+-]*)\s*\)")


def _written_drop(node: fx.Node, keep: float) -> float | None:
    """p where the code's line writes the keep as `1 - p` (NetLoom's export does when the
    shortest form of 1 − p is long): 1 − p loses p's last digits, the line keeps them."""
    found = _ONE_MINUS.findall(node.stack_trace or "")  # the model's line is among the frames
    if not found:
        return None
    try:
        p = float(found[-1])
    except ValueError:
        return None
    return p if 1.0 - p == keep else None


def _drop_probability(mask: DropMask) -> float:
    """The drop probability a mask's keep stands for: as written, else the shortest
    decimal p for which 1 − p is exactly that keep (the same draws and scaling)."""
    assert mask.keep is not None
    return mask.written if mask.written is not None else shortest_drop(mask.keep)


def _div(fallback: Handler) -> Handler:
    def handle(imp: TorchContext, node: fx.Node) -> Any:
        mask = imp.env.get(node.args[0])
        if isinstance(mask, DropMask) and mask.keep is not None and not mask.scaled:
            if arg(node, 1, "other") == mask.keep:
                return _in_place(imp, node, replace(mask, scaled=True))
        return fallback(imp, node)

    return handle


def _masked(imp: TorchContext, node: fx.Node, mask: DropMask, other: Any) -> Value:
    """x * mask: timm's drop_path, DropPath when the kept are scaled by 1/keep."""
    x = imp.tensor(other)
    if mask.keep is None or not mask.scaled:
        raise Unsupported(
            "drops whole samples without scaling the kept by 1/(1 - p) "
            "(scale_by_keep=False); DropPath scales them"
        )
    return _drop_path(imp, node, x, _drop_probability(mask), mask.mode)


def _unsupported_div(imp: TorchContext, node: fx.Node) -> Any:
    raise Unsupported("a division: no block divides")


# Library functions fx keeps as calls (torch.fx.wrap), found by module and name, so
# NetLoom's tables need not import the library.
LIBRARY: dict[tuple[str, str], Handler] = {
    ("torchvision.ops.stochastic_depth", "stochastic_depth"): _stochastic_depth,
}


def library_handler(target: Any) -> Handler | None:
    """The handler of a library function such as torchvision's stochastic_depth."""
    key = (getattr(target, "__module__", None) or "", getattr(target, "__name__", ""))
    return LIBRARY.get(key)


FUNCTIONS: dict[Any, Handler] = {
    torch.empty: _new_empty,  # exported NetLoom code draws its DropPath mask so
    F.batch_norm: _batch_norm,
    F.layer_norm: _layer_norm,
    F.group_norm: _group_norm,
    F.instance_norm: _instance_norm,
    F.linear: _linear,
}

METHODS: dict[str, Handler] = {
    "new_empty": _new_empty,
    "bernoulli_": _bernoulli,
    "div_": _div(_unsupported_div),
}


def register(functions: dict[Any, Handler], methods: dict[str, Handler]) -> None:
    """Add these handlers to engine.importers.torch_functions' tables: the norms and the
    drop-path steps as they are; a product with a parameter (or a drop-path mask), and a
    reshape of a parameter, before the handlers the tables already have."""
    functions.update(FUNCTIONS)
    methods.update(METHODS)
    for key in (operator.mul, operator.imul, torch.mul, torch.multiply):
        functions[key] = layer_scale_or(functions[key])
    for name in ("mul", "mul_"):
        methods[name] = layer_scale_or(methods[name])
    for key in (torch.reshape, torch.unsqueeze, operator.getitem):
        functions[key] = reshape_held(functions[key])
    for name in ("reshape", "view", "unsqueeze"):
        methods[name] = reshape_held(methods[name])
