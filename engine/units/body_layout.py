"""Laying out a new unit's body: left to right, centred on the instance.

`engine.units.edits.make_unit` copies the chosen blocks into a body at their places
relative to the instance; `tidy_body` then places the Input and Output blocks (and,
where the blocks do not already read left to right, every block) with the editor's
auto-layout, passed in as a `Layout` so this stays free of Qt.

Pure: imports neither torch nor Qt.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping

from engine.graph.graph import Graph

Point = tuple[float, float]
# Positions for every node of a graph (the editor's auto-layout at its real tile sizes).
Layout = Callable[[Graph], Mapping[str, Point]]


def reads_left_to_right(graph: Graph, node_ids: Collection[str]) -> bool:
    """True when every wire among `node_ids` runs to a block further right."""
    inside = set(node_ids)
    return all(
        graph.node(e.target).pos[0] > graph.node(e.source).pos[0]
        for e in graph.edges
        if e.source in inside and e.target in inside
    )


def tidy_body(body: Graph, layout: Layout) -> None:
    """Lay out a new unit's body left to right, centred on (0, 0) (positions inside a
    body are relative to the instance).

    Blocks that already read left to right keep their places, so an ungroup puts them
    back where they were; only the Input and Output blocks move, one layout column
    before and after them, level with what they feed or read. Otherwise (a chain
    that turned back on itself, a column of blocks) the layout places every block.
    """
    planned = layout(body)
    layers = [n.id for n in body.nodes if n.spec.role == "layer"]
    ports = [n.id for n in body.nodes if n.spec.role != "layer"]
    # The layout's column pitch (tile and gap), however it wrapped the rows.
    columns = sorted({x for x, _ in planned.values()})
    pitch = min((b - a for a, b in zip(columns, columns[1:], strict=False)), default=0.0)
    if pitch > 0 and reads_left_to_right(body, layers):
        left = min(body.node(n).pos[0] for n in layers) - pitch
        right = max(body.node(n).pos[0] for n in layers) + pitch
        positions = {n: body.node(n).pos for n in layers}
        taken: set[Point] = set()
        for port in ports:
            node = body.node(port)
            if node.spec.role == "input":
                fed = [e.target for e in body.outgoing(port)]
                x = left
            else:
                fed = list(body.incoming(port).values())
                x = right
            y = sum(body.node(n).pos[1] for n in fed) / len(fed) if fed else 0.0
            while (x, y) in taken:  # two ports level with the same block: one below
                y += 120.0
            taken.add((x, y))
            positions[port] = (x, y)
    else:
        positions = dict(planned)
    cx = sum(positions[n][0] for n in layers) / len(layers)
    cy = sum(positions[n][1] for n in layers) / len(layers)
    for node_id, (x, y) in positions.items():
        body.move(node_id, (x - cx, y - cy))
