"""The value a model's source fills a parameter of its own with, as written.

A parameter that a class makes itself rather than through a torch module (a layer
scale: `self.ls1 = nn.Parameter(torch.full((96, 1, 1), 1e-06))`, as NetLoom exports
LayerScale) holds that value in float32, which keeps only about seven digits: the
source's -999999.941 is held as -999999.9375. The import reads the number back from the
constructor's source, so a LayerScale's `init` comes back as it was written.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from functools import lru_cache

from torch import nn

from engine.importers.source_names import init_function, self_assignments


def written_fill(cls: type, attribute: str) -> float | None:
    """The number `cls.__init__` fills `self.<attribute>` with in
    `self.<attribute> = nn.Parameter(torch.full(<shape>, <number>))`; None where it
    does not write it so (a constructor argument, another expression, no source)."""
    return _fills(cls).get(attribute)


@lru_cache(maxsize=64)
def _fills(cls: type) -> dict[str, float]:
    function = init_function(cls)
    if function is None:
        return {}
    fills: dict[str, float] = {}
    for attribute, written in self_assignments(function):
        value = _full_value(written)
        if value is not None:
            fills[attribute] = value
    return fills


def _full_value(expression: ast.expr) -> float | None:
    """The fill value of `nn.Parameter(torch.full(shape, number))`, if it is one."""
    if not (_called(expression, "Parameter") and len(expression.args) == 1):  # type: ignore[attr-defined]
        return None
    full = expression.args[0]  # type: ignore[attr-defined]
    if not (_called(full, "full") and len(full.args) == 2 and not full.keywords):
        return None
    try:
        value = ast.literal_eval(full.args[1])
    except (ValueError, TypeError, SyntaxError):
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _called(expression: ast.expr, name: str) -> bool:
    """Whether `expression` calls a function named `name` (`nn.Parameter`, `Parameter`)."""
    if not isinstance(expression, ast.Call):
        return False
    function = expression.func
    if isinstance(function, ast.Attribute):
        return function.attr == name
    return isinstance(function, ast.Name) and function.id == name


def own_tensors(model: nn.Module, from_torch: Callable[[type], bool]) -> list[str]:
    """Paths of the parameters and buffers that modules of the model's own classes hold
    themselves (`stages.0.gamma`, a layer scale's), not through a torch module: a block
    made of one (LayerScale) is named after it, as a layer is after its module."""
    return [
        f"{path}.{name}" if path else name
        for path, module in model.named_modules()
        if not from_torch(type(module))
        for name, tensor in [*module._parameters.items(), *module._buffers.items()]
        if tensor is not None
    ]
