"""Functional activations in a traced model → NetLoom activation blocks.

`F.relu6`, `F.hardtanh`, `torch.clamp` / `x.clamp` (and `clip`, `clamp_min`),
`F.hardsigmoid` and `F.gelu` in either form. A clamp maps to the block that computes
exactly it: both bounds → Hardtanh, (0, 6) → ReLU6, a lower bound of 0 alone → ReLU.
engine.importers.torch_functions registers these handlers in its tables.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import fx

from engine.importers.builder import Value
from engine.importers.report import Unsupported
from engine.importers.torch_context import TorchContext
from engine.importers.torch_shapes import Handler, arg


def _number(bound: Any, name: str) -> float | None:
    """A clamp's bound as a number (None when absent); a tensor bound has no block."""
    if bound is None:
        return None
    if isinstance(bound, (int, float)) and not isinstance(bound, bool):
        return float(bound)
    raise Unsupported(
        f"clamps to the tensor {name}={bound}; Hardtanh and ReLU6 clamp to fixed numbers"
    )


def clamp_block(low: float | None, high: float | None) -> tuple[str, dict[str, Any]]:
    """The block a clamp to [low, high] is: ReLU6, ReLU or Hardtanh (interfaces of issue 26)."""
    if low is None and high is None:
        raise Unsupported("a clamp without bounds")
    if high is None:
        if low == 0.0:
            return "ReLU", {}
        raise Unsupported(
            f"clamps from below at {low:g} alone; ReLU clamps at 0, Hardtanh needs both bounds"
        )
    if low is None:
        raise Unsupported(f"clamps from above at {high:g} alone; Hardtanh needs both bounds")
    if (low, high) == (0.0, 6.0):
        return "ReLU6", {}
    return "Hardtanh", {"min_val": low, "max_val": high}


def _clamp(imp: TorchContext, node: fx.Node) -> Value:
    """torch.clamp(x, min, max), x.clamp(min, max), torch.clip, x.clip."""
    x = imp.tensor(node.args[0])
    low = _number(arg(node, 1, "min"), "min")
    high = _number(arg(node, 2, "max"), "max")
    type_name, params = clamp_block(low, high)
    return imp.block(node, type_name, params, [x])


def _clamp_min(imp: TorchContext, node: fx.Node) -> Value:
    """torch.clamp_min(x, 0) / x.clamp_min(0): a ReLU."""
    x = imp.tensor(node.args[0])
    type_name, params = clamp_block(_number(arg(node, 1, "min"), "min"), None)
    return imp.block(node, type_name, params, [x])


def _hardtanh(imp: TorchContext, node: fx.Node) -> Value:
    """F.hardtanh(x, min_val, max_val): Hardtanh with its bounds, as nn.Hardtanh is."""
    x = imp.tensor(node.args[0])
    low = _number(arg(node, 1, "min_val", -1.0), "min_val")
    high = _number(arg(node, 2, "max_val", 1.0), "max_val")
    return imp.block(node, "Hardtanh", {"min_val": low, "max_val": high}, [x])


def _plain(type_name: str) -> Handler:
    def handle(imp: TorchContext, node: fx.Node) -> Value:
        return imp.block(node, type_name, {}, [imp.tensor(node.args[0])])

    return handle


def _gelu(imp: TorchContext, node: fx.Node) -> Value:
    """F.gelu(x) or F.gelu(x, approximate='tanh')."""
    approximate = arg(node, 1, "approximate", "none")
    if approximate not in ("none", "tanh"):
        raise Unsupported(f"approximate={approximate!r}: GELU is 'none' (exact) or 'tanh'")
    return imp.block(node, "GELU", {"approximate": approximate}, [imp.tensor(node.args[0])])


FUNCTIONS: dict[Any, Handler] = {
    F.relu6: _plain("ReLU6"),
    F.hardtanh: _hardtanh,
    F.hardtanh_: _hardtanh,
    F.hardsigmoid: _plain("Hardsigmoid"),
    F.gelu: _gelu,
    torch.clamp: _clamp,
    torch.clip: _clamp,
    torch.clamp_min: _clamp_min,
}

METHODS: dict[str, Handler] = {
    "clamp": _clamp,
    "clip": _clamp,
    "clamp_min": _clamp_min,
}


def register(functions: dict[Any, Handler], methods: dict[str, Handler]) -> None:
    """Add these handlers to engine.importers.torch_functions' tables."""
    functions.update(FUNCTIONS)
    methods.update(METHODS)
