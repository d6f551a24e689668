"""ONNX activations → NetLoom's activation blocks, one handler per op_type; and a
product with a fixed factor per channel → LayerScale (convnext's `gamma * x`).

Both torch exporters write the same few clamps differently: `Clip` with its bounds as
attributes (opset < 11) or as constant inputs (either may be left out), so ReLU6,
Hardtanh, `torch.clamp` and a one-sided `clamp(min=0)` all arrive as Clip and are told
apart here by their bounds. HardSigmoid carries torch's slope 1/6 and offset 1/2 as
attributes; other values are another function and are refused.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from engine.importers.onnx_context import OnnxContext
from engine.importers.report import Unsupported

Handler = Callable[[OnnxContext, Any], list[Any]]


def readable(value: float) -> float:
    """A float32 attribute as the short decimal it was written from (1e-06, not 9.99e-07)."""
    return float(f"{float(np.float32(value)):.7g}")


def activation(type_name: str) -> Handler:
    def handle(imp: OnnxContext, node: Any) -> list[Any]:
        return [imp.block(node, type_name, {}, [imp.tensor(node.input[0])])]

    return handle


def leaky_relu(imp: OnnxContext, node: Any) -> list[Any]:
    slope = float(np.float32(imp.attrs(node).get("alpha", 0.01)))
    return [imp.block(node, "LeakyReLU", {"negative_slope": slope}, [imp.tensor(node.input[0])])]


def elu(imp: OnnxContext, node: Any) -> list[Any]:
    alpha = float(np.float32(imp.attrs(node).get("alpha", 1.0)))
    return [imp.block(node, "ELU", {"alpha": alpha}, [imp.tensor(node.input[0])])]


def prelu(imp: OnnxContext, node: Any) -> list[Any]:
    slope = imp.static(node.input[1], "slope").reshape(-1)
    params = {"slopes": "one" if slope.size == 1 else "channels"}
    x = imp.tensor(node.input[0])
    return [imp.block(node, "PReLU", params, [x], {"weight": np.ascontiguousarray(slope)})]


def gelu(imp: OnnxContext, node: Any) -> list[Any]:
    approximate = imp.attrs(node).get("approximate", b"none")
    approximate = approximate.decode() if isinstance(approximate, bytes) else str(approximate)
    if approximate not in ("none", "tanh"):
        raise Unsupported(f"approximate={approximate!r}: GELU is exact or the tanh form")
    return [imp.block(node, "GELU", {"approximate": approximate}, [imp.tensor(node.input[0])])]


def _bound(imp: OnnxContext, node: Any, position: int, attribute: str) -> float | None:
    """One of Clip's bounds: an input from opset 11 on, an attribute before; None if absent
    or infinite (no bound on that side)."""
    if imp.opset >= 11:
        if len(node.input) <= position or not node.input[position]:
            return None
        value = float(imp.static(node.input[position], f"{attribute} bound").reshape(-1)[0])
    else:
        attrs = imp.attrs(node)
        if attribute not in attrs:
            return None
        value = float(attrs[attribute])
    if math.isinf(value) or abs(value) >= float(np.finfo(np.float32).max):
        return None
    return readable(value)


def clip(imp: OnnxContext, node: Any) -> list[Any]:
    """Clip(0, 6) → ReLU6, Clip(0) → ReLU, Clip(a, b) → Hardtanh(a, b)."""
    low, high = _bound(imp, node, 1, "min"), _bound(imp, node, 2, "max")
    x = imp.tensor(node.input[0])
    if (low, high) == (0.0, 6.0):
        return [imp.block(node, "ReLU6", {}, [x])]
    if low == 0.0 and high is None:
        return [imp.block(node, "ReLU", {}, [x])]
    if low is None and high is None:
        return imp.passthrough(node, x, "a Clip without bounds changes nothing; left out")
    if low is None or high is None:
        side = f"min={low:g}" if high is None else f"max={high:g}"
        raise Unsupported(
            f"clamps one side only ({side}): Hardtanh clamps both, ReLU is clamp(min=0); "
            "give both bounds (torch.clamp(x, a, b))"
        )
    if low >= high:
        raise Unsupported(f"bounds min={low:g} ≥ max={high:g}: Hardtanh needs min < max")
    return [imp.block(node, "Hardtanh", {"min_val": low, "max_val": high}, [x])]


def hard_sigmoid(imp: OnnxContext, node: Any) -> list[Any]:
    """torch's Hardsigmoid is relu6(x + 3) / 6: ONNX HardSigmoid with alpha 1/6, beta 1/2."""
    attrs = imp.attrs(node)
    alpha, beta = float(attrs.get("alpha", 0.2)), float(attrs.get("beta", 0.5))
    if not (math.isclose(alpha, 1 / 6, rel_tol=1e-6) and math.isclose(beta, 0.5, rel_tol=1e-6)):
        raise Unsupported(
            f"alpha {alpha:g}, beta {beta:g}: NetLoom's Hardsigmoid is torch's, "
            "max(0, min(1, x/6 + 1/2)) (alpha 1/6, beta 0.5)"
        )
    return [imp.block(node, "Hardsigmoid", {}, [imp.tensor(node.input[0])])]


def layer_scale(imp: OnnxContext, node: Any, factor_name: str, x_name: str) -> list[Any]:
    """x times a fixed tensor of one factor per channel (C, 1, 1) or per last-axis feature
    (F,): LayerScale holding the factors (its parameter is keyed by the node id alone)."""
    factor = imp.static(factor_name, "factor")
    x = imp.tensor(x_name)
    if x.node is None:
        return [imp.broken(name) for name in node.output]
    core = list(factor.shape)
    while len(core) > 1 and core[0] == 1:  # (1, C, 1, 1) broadcasts as (C, 1, 1)
        core.pop(0)
    features = list(x.shape.features)
    channels = [features[0], *[1] * (len(features) - 1)] if features else []
    if core == channels and len(core) > 1:
        axis = "channels"
    elif x.shape.dims and core == [x.shape.dims[-1]]:
        axis = "last"
    else:
        raise Unsupported(
            f"multiplies by the constant {factor_name} of shape {tuple(factor.shape)}: "
            f"LayerScale holds one factor per channel {tuple(channels)} or per feature "
            f"({x.shape.dims[-1] if x.shape.dims else '…'},); Multiply takes tensors only"
        )
    values = np.ascontiguousarray(factor.reshape(core), dtype=np.float32)
    first = float(values.flat[0])
    init = first if bool((values == first).all()) and abs(first) <= 1e6 else 1e-6
    value = imp.block(node, "LayerScale", {"axis": axis, "init": readable(init)}, [x])
    if value.node is not None:
        imp.builder.weights[value.node] = torch.from_numpy(values)
    return [value]


HANDLERS: dict[str, Handler] = {
    "Relu": activation("ReLU"),
    "Sigmoid": activation("Sigmoid"),
    "Tanh": activation("Tanh"),
    "HardSwish": activation("Hardswish"),
    "Mish": activation("Mish"),
    "LeakyRelu": leaky_relu,
    "Elu": elu,
    "PRelu": prelu,
    "Gelu": gelu,
    "Clip": clip,
    "HardSigmoid": hard_sigmoid,
}
