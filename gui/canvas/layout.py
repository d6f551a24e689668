"""Auto-layout: columns by topological depth, left to right, wrapped into rows.

A long chain laid out in one row is too wide to read at any zoom that shows all of
it, so columns wrap into rows (like lines of text) to fit the view.
Pure Python: sizes come in, positions come out.
"""

from __future__ import annotations

from engine.graph import Graph

COLUMN_GAP = 150.0  # room for a shape label between two blocks
ROW_GAP = 110.0  # room for wires that return to the start of the next row
NODE_GAP = 50.0

Size = tuple[float, float]
Point = tuple[float, float]


def depths(graph: Graph) -> dict[str, int]:
    """Longest distance from a node without inputs; every wire points to a later column."""
    depth: dict[str, int] = {}
    for node_id in graph.topological_order():
        sources = graph.incoming(node_id).values()
        depth[node_id] = max((depth[s] + 1 for s in sources), default=0)
    return depth


def columns(graph: Graph) -> list[list[str]]:
    """Node ids per depth, each column ordered by where its sources sit (fewer crossings)."""
    depth = depths(graph)
    grouped: list[list[str]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for node_id in graph.topological_order():
        grouped[depth[node_id]].append(node_id)
    rank: dict[str, float] = {}
    for column in grouped:

        def barycentre(node_id: str) -> float:
            sources = [rank[s] for s in graph.incoming(node_id).values() if s in rank]
            return sum(sources) / len(sources) if sources else float("inf")

        column.sort(key=barycentre)
        rank.update({node_id: float(i) for i, node_id in enumerate(column)})
    return grouped


def _row_extent(cols: list[list[str]], sizes: dict[str, Size]) -> tuple[float, float]:
    width = sum(max(sizes[n][0] for n in c) for c in cols) + COLUMN_GAP * (len(cols) - 1)
    height = max(sum(sizes[n][1] for n in c) + NODE_GAP * (len(c) - 1) for c in cols)
    return width, height


def _wrap(cols: list[list[str]], per_row: int) -> list[list[list[str]]]:
    return [cols[i : i + per_row] for i in range(0, len(cols), per_row)]


def best_columns_per_row(cols: list[list[str]], sizes: dict[str, Size], view: Size) -> int:
    """The row length that shows the graph largest in a view of `view` pixels; never
    wrap a graph that already fits at life size (zoom 1)."""
    best, best_scale = len(cols), 0.0
    margin = 80.0
    for per_row in range(len(cols), 0, -1):
        rows = _wrap(cols, per_row)
        extents = [_row_extent(r, sizes) for r in rows]
        width = max(w for w, _ in extents) + margin
        height = sum(h for _, h in extents) + ROW_GAP * (len(rows) - 1) + margin
        scale = min(view[0] / width, view[1] / height, 1.0)
        if scale > best_scale * 1.05:  # prefer fewer rows unless wrapping clearly helps
            best, best_scale = per_row, scale
    return best


def layered_positions(
    graph: Graph, sizes: dict[str, Size], view: Size | None = None, origin: Point = (0, 0)
) -> dict[str, Point]:
    """Top-left corner per node. `view` (its width and height in pixels) enables wrapping."""
    cols = columns(graph)
    if not cols:
        return {}
    per_row = best_columns_per_row(cols, sizes, view) if view else len(cols)
    positions: dict[str, Point] = {}
    y = origin[1]
    for row in _wrap(cols, per_row):
        _, row_height = _row_extent(row, sizes)
        x = origin[0]
        for column in row:
            column_width = max(sizes[n][0] for n in column)
            column_height = sum(sizes[n][1] for n in column) + NODE_GAP * (len(column) - 1)
            cy = y + (row_height - column_height) / 2  # centre short columns on the row
            for node_id in column:
                positions[node_id] = (x, cy)
                cy += sizes[node_id][1] + NODE_GAP
            x += column_width + COLUMN_GAP
        y += row_height + ROW_GAP
    return positions


def arrange(graph: Graph, view: Size | None = None) -> dict[str, Point]:
    """Positions for every node at the canvas's real tile sizes."""
    from gui.canvas.node_item import node_size  # Qt-free function, kept beside the tile

    sizes = {node.id: node_size(node) for node in graph.nodes}
    return layered_positions(graph, sizes, view)
