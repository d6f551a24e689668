"""How a block's type reads in a table (`check`'s and the window's summary)."""

from __future__ import annotations

from engine.graph.graph import Graph
from engine.units.definition import REPEAT


def type_label(graph: Graph, node_id: str) -> str:
    """A block's type; for a repeated unit instance, `ResidualBlock ×2`."""
    node = graph.node(node_id)
    repeat = node.params.get(REPEAT.name, 1) if node.library is not None else 1
    return f"{node.type} ×{repeat}" if repeat > 1 else node.type
