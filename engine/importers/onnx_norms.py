"""ONNX normalisations → BatchNorm, InstanceNorm, LayerNorm and GroupNorm, with eps.

A norm's epsilon is a float32 attribute; it comes over as the short decimal torch was
given (1e-06, 0.001). torch's legacy exporter writes GroupNorm as a pattern, not a node:
Reshape to (N, G, -1) → InstanceNormalization with fixed ones and zeros → Reshape back →
Mul by the weight → Add the bias. Met at its InstanceNormalization, the whole pattern
becomes one GroupNorm block: the Reshape before it is taken back, the nodes after it are
absorbed (noted in the report).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from engine.importers.builder import Value
from engine.importers.onnx_context import OnnxContext, Static
from engine.importers.onnx_pointwise import readable
from engine.importers.report import Unsupported

Handler = Callable[[OnnxContext, Any], list[Any]]
EPS = 1e-5


def epsilon(attrs: dict[str, Any]) -> float:
    """A norm's epsilon attribute (float32 in the file) as the number torch was given."""
    eps = attrs.get("epsilon", EPS)
    return EPS if math.isclose(eps, EPS, rel_tol=1e-4) else readable(eps)


def batchnorm(imp: OnnxContext, node: Any) -> list[Any]:
    attrs = imp.attrs(node)
    if attrs.get("training_mode", 0) or any(o for o in node.output[1:]):
        raise Unsupported("training_mode: the running statistics are updated in the graph")
    scale, bias, mean, var = (imp.static(n, "statistics") for n in node.input[1:5])
    # affine=False: torch writes the fixed scale 1 and shift 0 as constants
    affine = node.input[1] in imp.initializers
    if not affine and not (np.all(scale == 1) and np.all(bias == 0)):
        raise Unsupported("a fixed scale or shift: BatchNorm learns them or has none")
    weights = {
        **({"weight": scale, "bias": bias} if affine else {}),
        "running_mean": mean,
        "running_var": var,
        "num_batches_tracked": np.array(0, dtype=np.int64),
    }
    momentum = round(1.0 - float(attrs.get("momentum", 0.9)), 6)
    params = {"eps": epsilon(attrs), "momentum": momentum, "affine": affine}
    return [imp.block(node, "BatchNorm", params, [imp.tensor(node.input[0])], weights)]


def instance_norm(imp: OnnxContext, node: Any) -> list[Any]:
    if (grouped := group_norm(imp, node)) is not None:
        return grouped
    scale, shift = (imp.static(n, "scale and shift") for n in node.input[1:3])
    # torch writes learned ones as initializers and the fixed ones of affine=False as
    # constants; a fixed scale other than 1 (or shift other than 0) has no block.
    affine = node.input[1] in imp.initializers
    if not affine and not (np.all(scale == 1) and np.all(shift == 0)):
        raise Unsupported("a fixed scale or shift: InstanceNorm learns them or has none")
    weights = {"weight": scale, "bias": shift} if affine else {}
    x = imp.tensor(node.input[0])
    params = {"eps": epsilon(imp.attrs(node)), "affine": affine}
    return [imp.block(node, "InstanceNorm", params, [x], weights)]


def layernorm(imp: OnnxContext, node: Any) -> list[Any]:
    attrs = imp.attrs(node)
    x = imp.tensor(node.input[0])
    rank = len(x.shape.dims) + 1
    axis = attrs.get("axis", -1) % rank
    if axis == 0:
        raise Unsupported("normalises from axis 0: LayerNorm keeps the samples apart")
    scale = imp.static(node.input[1], "scale")
    has_bias = len(node.input) > 2 and bool(node.input[2])
    affine = node.input[1] in imp.initializers
    if not affine:
        shift = imp.static(node.input[2], "bias") if has_bias else np.zeros(1)
        if not (np.all(scale == 1) and np.all(shift == 0)):
            raise Unsupported("a fixed scale or shift: LayerNorm learns them or has none")
    weights = {"weight": scale} if affine else {}
    if affine and has_bias:
        weights["bias"] = imp.static(node.input[2], "bias")
    params = {
        "axes": rank - axis,
        "affine": affine,
        "bias": "bias" in weights,
        "eps": epsilon(attrs),
    }
    return [imp.block(node, "LayerNorm", params, [x], weights)]


def _only_user(imp: OnnxContext, name: str, op_type: str) -> Any | None:
    """The one node that reads tensor `name`, if it is an `op_type` with a name."""
    users = imp.consumers.get(name, [])
    if len(users) == 1 and users[0][0].op_type == op_type and users[0][0].name:
        return users[0][0]
    return None


def _fixed(imp: OnnxContext, name: str, depth: int = 0) -> np.ndarray | None:
    """Tensor `name`'s value when it is made from weights and constants only, read ahead
    of the walk (the exporter writes the weight's Unsqueeze after the norm's node)."""
    value = imp.values.get(name)
    if isinstance(value, Static):
        return value.array
    node = imp.producer(name)
    if node is None or depth > 4 or name not in imp.probe:
        return None
    if node.op_type == "Constant" or all(
        _fixed(imp, n, depth + 1) is not None for n in node.input if n
    ):
        return imp.probe[name]
    return None


def _per_channel(imp: OnnxContext, node: Any, data: str, channels: int) -> np.ndarray | None:
    """The fixed per-channel operand of a Mul or Add beside tensor `data`, as (C,)."""
    other = node.input[1] if node.input[0] == data else node.input[0]
    array = _fixed(imp, other)
    if array is None or array.size != channels:
        return None
    if [d for d in array.shape if d != 1] != [channels] or array.shape[-1] != 1:
        return None  # (C, 1, 1) broadcasts over the channels; (C,) over the last axis
    return np.ascontiguousarray(array.reshape(channels), dtype=np.float32)


def group_norm(imp: OnnxContext, node: Any) -> list[Any] | None:
    """The legacy exporter's GroupNorm pattern around this InstanceNormalization as one
    GroupNorm block, or None when the node is not that pattern."""
    before = imp.producer(node.input[0])
    if before is None or before.op_type != "Reshape" or len(imp.consumers[node.input[0]]) != 1:
        return None
    grouped = imp.values.get(node.input[0])
    x = imp.values.get(before.input[0])
    if not isinstance(grouped, Value) or not isinstance(x, Value):
        return None
    if grouped.node is not None and imp.builder.graph.node(grouped.node).type != "Reshape":
        return None
    groups, channels = imp.expect(node.input[0])[0], (x.shape.features or (0,))[0]
    scale, shift = (imp.values.get(n) for n in node.input[1:3])
    fixed = isinstance(scale, Static) and isinstance(shift, Static)
    if not fixed or scale.array.size != groups or not channels or channels % groups:
        return None
    if not (np.all(scale.array == 1) and np.all(shift.array == 0)) or x.shape.time:
        return None
    back = _only_user(imp, node.output[0], "Reshape")
    if back is None or imp.expect(back.output[0]) != x.shape.dims:
        return None
    absorbed, weights, last = [back], {}, back.output[0]
    mul = _only_user(imp, last, "Mul")
    weight = _per_channel(imp, mul, last, channels) if mul is not None else None
    add = _only_user(imp, mul.output[0], "Add") if weight is not None else None
    bias = _per_channel(imp, add, mul.output[0], channels) if add is not None else None
    if weight is not None and bias is not None:
        absorbed += [mul, add]
        weights = {"weight": weight, "bias": bias}
        last = add.output[0]
    if grouped.node is not None:
        imp.builder.remove(grouped.node)
    params = {"num_groups": groups, "eps": epsilon(imp.attrs(node)), "affine": bool(weights)}
    value = imp.block(node, "GroupNorm", params, [x], weights, output=last)
    if value.node is None:  # after an unmapped node, reported there
        value = Value(None, x.shape)
    for part in absorbed:
        imp.absorbed[part.name] = value
    if value.node is not None:
        for part in (before, *absorbed):
            imp.report.note(imp.place(part), part.op_type, f"part of the GroupNorm {value.node}")
    return [value]


def group_normalization(imp: OnnxContext, node: Any) -> list[Any]:
    """ONNX's own GroupNormalization: a scale and bias per channel (opset 21) or per group
    (opset 18, each repeated over the group's channels as torch keeps them)."""
    attrs = imp.attrs(node)
    x = imp.tensor(node.input[0])
    groups = int(attrs["num_groups"])
    channels = (x.shape.features or (0,))[0]
    if x.shape.time or not channels or channels % groups:
        raise Unsupported(f"{groups} groups of {x.shape}: GroupNorm splits the channels evenly")
    scale, bias = (imp.static(n, "scale and bias").reshape(-1) for n in node.input[1:3])
    if scale.size == groups and groups != channels:
        scale, bias = (np.repeat(a, channels // groups) for a in (scale, bias))
    weights = {"weight": np.ascontiguousarray(scale), "bias": np.ascontiguousarray(bias)}
    params = {"num_groups": groups, "eps": epsilon(attrs), "affine": True}
    return [imp.block(node, "GroupNorm", params, [x], weights)]


HANDLERS: dict[str, Handler] = {
    "GroupNormalization": group_normalization,
    "BatchNormalization": batchnorm,
    "LayerNormalization": layernorm,
    "InstanceNormalization": instance_norm,
}
