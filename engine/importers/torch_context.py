"""What a torch handler may ask of the importer.

`engine.importers.from_torch` walks the traced graph; the handler tables
(`engine.importers.torch_functions`, `engine.importers.torch_shapes`) map one fx node
each. The tables see the importer only as a `TorchContext`, so they import this module
and never the importer: the importer sits above its tables, and this module below both.
What a node stands for when it is not a block's output lives in
`engine.importers.torch_values`.
"""

from __future__ import annotations

from typing import Any, Protocol

from torch import fx, nn

from engine.importers.builder import GraphBuilder, Value


class TorchContext(Protocol):
    """The importer as a handler sees it: each node's meaning and probe result so far,
    and the ways to add a block.

    `env` maps each fx node mapped so far to what it stands for: a `Value` (a block's
    output) or one of `torch_values`' kinds. `results` holds every node's result on the
    probe input. `merged` remembers the Add and Multiply blocks by the fx node that made
    them, with their inputs, so `x + y + z` on one line becomes one block.
    """

    model: nn.Module  # the model being imported (a functional norm reads its modules)
    builder: GraphBuilder
    env: dict[fx.Node, Any]
    results: dict[fx.Node, Any]
    merged: dict[fx.Node, tuple[str, list[Value]]]

    def place(self, node: fx.Node) -> str:
        """Where a node is, in the report's words: the model's `file.py:line`."""
        ...

    def broken(self, node: fx.Node) -> Any:
        """What an unmapped node stands for: a shape without a block, or `Broken`."""
        ...

    def tensor(self, arg: Any) -> Value:
        """The block output an argument carries; `Unsupported` if none can."""
        ...

    def expect(self, node: fx.Node) -> tuple[int, ...]:
        """The per-sample shape the model gave a node on the probe input."""
        ...

    def block(
        self,
        node: fx.Node,
        type_name: str,
        params: dict[str, Any],
        inputs: list[Value],
        hint: str | None = None,
        weights: dict[str, Any] | None = None,
        expect: tuple[int, ...] | None = None,
    ) -> Value:
        """Add the block a node maps to, checked against the shape the model gave."""
        ...

    def passthrough(self, node: fx.Node, x: Value, why: str) -> Value:
        """Leave a node out (noted in the report): its output is its input `x`."""
        ...
