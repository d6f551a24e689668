"""Counting the shape passes a command runs (issue 24: analyse once).

`count_shape_passes(monkeypatch)` wraps the real `engine.graph.shapes.analyze` wherever a
loaded module holds it (modules import it by name, at the top or inside a function), and
`engine.units.units.inner_pass`, which runs one unit body for actual input shapes: the
unit expansion a shape pass does for every instance. Plain code, no Qt.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

import engine.graph.shapes as shapes
import engine.units.units as units


@dataclass
class ShapePasses:
    """What ran while counting: whole-graph passes and unit bodies expanded."""

    graphs: int = 0
    unit_bodies: int = 0
    callers: list[str] = field(default_factory=list)  # where each pass came from, to debug

    def reset(self) -> None:
        self.graphs, self.unit_bodies, self.callers = 0, 0, []


def count_shape_passes(monkeypatch: pytest.MonkeyPatch) -> ShapePasses:
    """Start counting; monkeypatch puts the real functions back after the test."""
    passes = ShapePasses()
    real_analyze = shapes.analyze
    real_inner = units.inner_pass

    def analyze(*args: Any, **kwargs: Any) -> shapes.Analysis:
        passes.graphs += 1
        caller = sys._getframe(1)
        passes.callers.append(f"{caller.f_code.co_filename}:{caller.f_lineno}")
        return real_analyze(*args, **kwargs)

    def inner_pass(*args: Any, **kwargs: Any) -> shapes.Analysis:
        passes.unit_bodies += 1
        return real_inner(*args, **kwargs)

    _replace_everywhere(monkeypatch, real_analyze, analyze)
    monkeypatch.setattr(units, "inner_pass", inner_pass)
    return passes


def _replace_everywhere(
    monkeypatch: pytest.MonkeyPatch, real: Callable[..., Any], counted: Callable[..., Any]
) -> None:
    """The module that defines `real` and every loaded module that imported it by name."""
    monkeypatch.setattr(shapes, real.__name__, counted)
    for module in list(sys.modules.values()):
        if module is not shapes and getattr(module, real.__name__, None) is real:
            monkeypatch.setattr(module, real.__name__, counted)
