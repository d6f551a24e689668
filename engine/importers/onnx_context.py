"""What an ONNX handler may ask of the importer, and the values passed between nodes.

`engine.importers.from_onnx` walks the file's nodes; the handler tables
(`engine.importers.onnx_ops`, `engine.importers.onnx_recurrent`) map one node each.
The tables see the importer only as an `OnnxContext`, so they import this module and
never the importer: the importer sits above its tables, and this module below both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from engine.importers.builder import GraphBuilder, Value
from engine.importers.report import ImportReport


@dataclass(frozen=True)
class Static:
    """A constant, or a value computed from constants and shapes only."""

    array: np.ndarray


@dataclass(frozen=True)
class Transposed:
    """A tensor whose batch axis was moved (the time-major input of an ONNX RNN)."""

    value: Value
    perm: tuple[int, ...]


@dataclass(frozen=True)
class Broken:
    """The result of a node that could not be mapped (already in the report)."""


class OnnxContext(Protocol):
    """The importer as a handler sees it: the values so far and the ways to add a block.

    `values` holds each named tensor's meaning so far: a `Value` (a block's output),
    `Static`, `Transposed`, `Broken`, or a recurrent node's part (`onnx_recurrent.RnnPart`).
    """

    builder: GraphBuilder
    report: ImportReport
    opset: int
    batch: int
    initializers: dict[str, np.ndarray]
    values: dict[str, Any]
    probe: dict[str, np.ndarray]
    consumers: dict[str, list[Any]]
    absorbed: dict[str, Value]

    def place(self, node: Any, index: int | None = None) -> str:
        """Where a node is, in the report's words: `node /conv1/Conv`."""
        ...

    def hint(self, node: Any) -> str | None:
        """A node id suggested by the weights' names (`features.0.weight` → features_0)."""
        ...

    def producer(self, name: str) -> Any | None:
        """The node whose output is tensor `name`; None for the input and weights."""
        ...

    def attrs(self, node: Any) -> dict[str, Any]:
        """The node's attributes by name."""
        ...

    def static(self, name: str, what: str) -> np.ndarray:
        """The fixed value of an input; `Unsupported` (naming `what`) if it is data."""
        ...

    def tensor(self, name: str) -> Value:
        """The block output that carries tensor `name`; `Unsupported` if none can."""
        ...

    def expect(self, name: str) -> tuple[int, ...]:
        """The per-sample shape the file gave tensor `name` on the probe input."""
        ...

    def block(
        self,
        node: Any,
        type_name: str,
        params: dict[str, Any],
        inputs: list[Value],
        weights: dict[str, Any] | None = None,
        output: str | None = None,
    ) -> Value:
        """Add the block a node maps to, checked against the shape the file gave."""
        ...

    def broken(self, name: str) -> Any:
        """What stands for tensor `name` when the node making it is not mapped: a `Value`
        without a node (its shape from the probe) or `Broken`."""
        ...

    def passthrough(self, node: Any, x: Value, why: str) -> list[Value]:
        """Leave a node out (noted in the report): its output is its input `x`."""
        ...
