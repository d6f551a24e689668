"""Auto-layout: columns by topological depth, left to right, wrapped into rows.

A long chain laid out in one row is too wide to read at any zoom that shows all of
it, so columns wrap into rows (like lines of text) to fit the view.
Pure Python: sizes come in, positions come out.
"""

from __future__ import annotations

from engine.graph.graph import Graph

COLUMN_GAP = 150.0  # room for a shape label between two blocks
ROW_GAP = 80.0  # room for wires (and their labels) that return to the next row's start
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


# ------------------------------------------------------------- free spots

Rect = tuple[float, float, float, float]  # left, top, width, height
PLACE_GAP = 30.0  # clear canvas between a new block and its neighbours (ports stick out)
MAX_HOPS = 6  # hops right along a line before trying the next line down


def _overlaps(a: Rect, b: Rect, gap: float) -> bool:
    return (
        a[0] < b[0] + b[2] + gap
        and b[0] < a[0] + a[2] + gap
        and a[1] < b[1] + b[3] + gap
        and b[1] < a[1] + a[3] + gap
    )


def _blockers(shapes: list[Rect], offset: Point, taken: list[Rect], gap: float) -> list[Rect]:
    placed = [(x + offset[0], y + offset[1], w, h) for x, y, w, h in shapes]
    return [t for t in taken if any(_overlaps(p, t, gap) for p in placed)]


def free_offset(
    shapes: list[Rect], taken: list[Rect], gap: float = PLACE_GAP, start: Point = (0.0, 0.0)
) -> Point:
    """The shift to add to `shapes` (new blocks, at the place the user pointed) so that
    none touches a `taken` rect: `start` when free, else the nearest free place in
    reading direction: hop right past whatever is in the way, and after a few hops,
    go back to the start column below the blocks that were in the way there."""
    dx0, dy = start
    for _line in range(len(taken) + 1):
        dx = dx0
        first_blockers: list[Rect] = []
        for _hop in range(MAX_HOPS):
            blockers = _blockers(shapes, (dx, dy), taken, gap)
            if not blockers:
                return dx, dy
            first_blockers = first_blockers or blockers
            right = max(b[0] + b[2] for b in blockers)
            dx += right + gap - min(x + dx for x, _, _, _ in shapes)
        lowest = max(b[1] + b[3] for b in first_blockers)
        dy += lowest + gap - min(y + dy for _, y, _, _ in shapes)
    bottom = max(t[1] + t[3] for t in taken)
    return dx0, bottom + gap - min(y for _, y, _, _ in shapes)  # below everything: free


def free_position(size: Size, wanted: Point, taken: list[Rect], gap: float = PLACE_GAP) -> Point:
    """Top-left corner for one new block of `size` wanted at `wanted` (see free_offset)."""
    dx, dy = free_offset([(wanted[0], wanted[1], size[0], size[1])], taken, gap)
    return wanted[0] + dx, wanted[1] + dy


def taken_rects(graph: Graph, skip: set[str] | frozenset[str] = frozenset()) -> list[Rect]:
    """The tiles of the graph's blocks (but `skip`), as the canvas draws them."""
    from gui.canvas.node_item import node_size

    rects = []
    for node in graph.nodes:
        if node.id not in skip:
            width, height = node_size(node)
            rects.append((node.pos[0], node.pos[1], width, height))
    return rects
