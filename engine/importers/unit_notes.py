"""What an import's report says of units: those repeated module classes became, and
the instances of such a class that stayed blocks, with why.

Pure: imports neither torch nor Qt.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from engine.graph.graph import Graph


def units_made(graph: Graph, repeated: Sequence[str]) -> str | None:
    """`BasicBlock ×3, promoting out_channels; layer1 is BasicBlock repeated ×2 (an
    nn.Sequential)`; None when no unit was made. `repeated`: the ids of the instances
    an nn.Sequential folded into one."""
    library = graph.library
    if library is None or not library.definitions:
        return None
    made = []
    for name, definition in library.definitions.items():
        uses = library.count_uses(name, graph)
        promoted = ", ".join(definition.promoted)
        made.append(f"{name} ×{uses}" + (f", promoting {promoted}" if promoted else ""))
    for node_id in repeated:
        node = graph.node(node_id)
        made.append(
            f"{node_id} is {node.type} repeated ×{node.params['repeat']} (an nn.Sequential)"
        )
    return "repeated module classes became units: " + "; ".join(made)


def left_as_blocks(classes: Mapping[str, str], left: Mapping[str, str]) -> list[str]:
    """One line per class and reason for the instances (by module path, `left`: path →
    why) that stayed blocks: `Block at a.0, a.1 stays blocks, not a unit: <why>`."""
    by_reason: dict[tuple[str, str], list[str]] = {}
    for path, why in left.items():
        by_reason.setdefault((classes[path], why), []).append(path)
    lines = []
    for (name, why), paths in by_reason.items():
        shown = ", ".join(paths[:3]) + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")
        lines.append(f"{name} at {shown} stays blocks, not a unit: {why}")
    return lines
