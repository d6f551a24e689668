"""The expanded size of a project, counted from its unit definitions without expanding them.

A definition's size is its own plain blocks plus, for every unit instance in its body,
`repeat` × that unit's size: one multiply-add per instance, each definition counted
once (memoised), so the count is linear in the file however far the units would
expand. Definitions are visited with an explicit stack, so a chain of 10,000 nested
units costs 10,000 steps and no recursion. The counts are checked against
`engine.common.limits`; a refusal is one line naming the path that explodes.

Two readers feed the same count: `check_document` reads a project file's JSON before
any graph is built (loading itself never expands, but a deep chain would cost the
loader's checks), and `check_graph` reads a graph and its library (the shape pass calls
it first, so an edit in the window or a graph an importer builds is bounded too).

Pure: imports neither torch nor Qt.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from engine.blocks.spec import RegistryError, get_spec
from engine.common.limits import (
    MAX_EXPANDED_BLOCKS,
    MAX_EXPANDED_WIRES,
    MAX_UNIT_DEPTH,
    LimitError,
    count_text,
)
from engine.graph.graph import Graph

# Counts saturate here: far past every limit, and big-int arithmetic stays cheap.
CEILING = 10**18
PATH_STEPS = 5  # steps of an exploding path shown before "…"
PORT_ROLES = ("input", "output")


@dataclass(frozen=True)
class Instance:
    """A unit placed in a body: its node id, the unit's name, and its repeat."""

    node: str
    unit: str
    repeat: int


@dataclass(frozen=True)
class Body:
    """What counting needs of one graph: its plain blocks, its wires, its unit instances."""

    blocks: int
    wires: int
    instances: tuple[Instance, ...]


@dataclass(frozen=True)
class Size:
    """Expanded counts: blocks and wires after every unit is opened; nesting depth."""

    blocks: int
    wires: int
    depth: int


class ExpansionError(LimitError):
    """A limit exceeded; `node` is the top-level node the exploding path starts at."""

    def __init__(self, message: str, node: str | None = None) -> None:
        super().__init__(message)
        self.node = node


# ------------------------------------------------------------------ counting


def _times(a: int, b: int) -> int:
    return min(a * b, CEILING)


def definition_sizes(bodies: Mapping[str, Body]) -> dict[str, Size]:
    """The size of every definition; ExpansionError for one nested deeper than the limit.

    An instance of a name that is no definition, or that closes a cycle, counts nothing
    here: the loader refuses those with their own message.
    """
    sizes: dict[str, Size] = {}
    for root in bodies:
        if root in sizes:
            continue
        stack: list[tuple[str, Iterator[Instance]]] = [(root, iter(bodies[root].instances))]
        on_path = {root}
        while stack:
            name, todo = stack[-1]
            for instance in todo:
                unit = instance.unit
                if unit in bodies and unit not in sizes and unit not in on_path:
                    stack.append((unit, iter(bodies[unit].instances)))
                    on_path.add(unit)
                    break
            else:
                stack.pop()
                on_path.discard(name)
                sizes[name] = size = _combine(bodies[name], sizes, unit_body=True)
                if size.depth > MAX_UNIT_DEPTH:
                    path = " → ".join(_deepest_path(name, bodies, sizes))
                    raise ExpansionError(
                        f"units nest {size.depth} deep, limit {MAX_UNIT_DEPTH}: unit {path}"
                    )
    return sizes


def _combine(body: Body, sizes: Mapping[str, Size], unit_body: bool) -> Size:
    blocks, wires, depth = body.blocks, body.wires, 0
    for instance in body.instances:
        inner = sizes.get(instance.unit)
        if inner is None:
            continue
        blocks = min(blocks + _times(instance.repeat, inner.blocks), CEILING)
        # each copy's wires, and the wires from one copy to the next
        copies = _times(instance.repeat, inner.wires) + instance.repeat - 1
        wires = min(wires + copies, CEILING)
        depth = max(depth, inner.depth)
    return Size(blocks, wires, depth + 1 if unit_body else depth)


def _deepest_path(name: str, bodies: Mapping[str, Body], sizes: Mapping[str, Size]) -> list[str]:
    steps = [name]
    while len(steps) <= PATH_STEPS:
        inner = [i.unit for i in bodies[name].instances if i.unit in sizes]
        if not inner:
            return steps
        name = max(inner, key=lambda unit: sizes[unit].depth)
        steps.append(name)
    return [*steps[:PATH_STEPS], "…"]


def check_sizes(top: Body, bodies: Mapping[str, Body]) -> Size:
    """The expanded size of a project; ExpansionError naming the path if over a limit."""
    sizes = definition_sizes(bodies)
    return check_top(top, bodies, sizes)


def check_top(top: Body, bodies: Mapping[str, Body], sizes: Mapping[str, Size]) -> Size:
    size = _combine(top, sizes, unit_body=False)
    for what, count, limit in (
        ("blocks", size.blocks, MAX_EXPANDED_BLOCKS),
        ("wires", size.wires, MAX_EXPANDED_WIRES),
    ):
        if count > limit:
            node, path = _largest_path(top, bodies, sizes, what)
            shown = f"over {count_text(CEILING)}" if count >= CEILING else count_text(count)
            raise ExpansionError(f"units expand to {shown} {what}, limit {limit:,}: {path}", node)
    return size


def _largest_path(
    top: Body, bodies: Mapping[str, Body], sizes: Mapping[str, Size], what: str
) -> tuple[str | None, str]:
    """The top node whose expansion is largest, and the path of largest parts inside it."""

    def weight(instance: Instance) -> int:
        inner = sizes.get(instance.unit)
        return _times(instance.repeat, getattr(inner, what)) if inner is not None else -1

    def step(instance: Instance) -> str:
        times = f" ×{instance.repeat}" if instance.repeat > 1 else ""
        return f"{instance.node} ({instance.unit}{times})"

    if not top.instances:
        return None, "the graph itself"
    first = max(top.instances, key=weight)
    steps = [f"node {step(first)}"]
    alike = sum(1 for i in top.instances if i.unit == first.unit) - 1
    if alike:
        steps[0] += f" and {alike:,} more {first.unit} instance{'s' * (alike > 1)}"
    body = bodies.get(first.unit)
    while body is not None and body.instances:
        if len(steps) == PATH_STEPS:
            steps.append("…")
            break
        largest = max(body.instances, key=weight)
        steps.append(step(largest))
        body = bodies.get(largest.unit)
    return first.node, " → ".join(steps)


# ------------------------------------------------------ reading a project file


def _repeat_of(params: Any) -> int:
    """A raw `repeat` as counting reads it; anything that is no positive int counts 1
    (the loader then refuses it with its own message)."""
    repeat = params.get("repeat", 1) if isinstance(params, dict) else 1
    if isinstance(repeat, bool) or not isinstance(repeat, int) or repeat < 1:
        return 1
    return min(repeat, CEILING)


def _is_port(type_name: Any) -> bool:
    try:
        return get_spec(type_name).role in PORT_ROLES
    except (RegistryError, TypeError, KeyError):
        return False


def _raw_body(raw: Any, unit_names: Mapping[str, Any], unit_body: bool) -> Body:
    nodes = raw.get("nodes") if isinstance(raw, dict) else None
    edges = raw.get("edges") if isinstance(raw, dict) else None
    nodes = nodes if isinstance(nodes, list) else []
    blocks = 0
    instances = []
    for i, node in enumerate(nodes):
        if not isinstance(node, dict):
            continue
        type_name = node.get("type")
        if isinstance(type_name, str) and type_name in unit_names:
            node_id = node.get("id")
            shown = node_id if isinstance(node_id, str) else f"nodes[{i}]"
            instances.append(Instance(shown, type_name, _repeat_of(node.get("params"))))
        elif not (unit_body and _is_port(type_name)):
            blocks += 1
    return Body(blocks, len(edges) if isinstance(edges, list) else 0, tuple(instances))


def check_document(doc: Any) -> Size | None:
    """Count a project file's JSON (before it is loaded) against the limits.

    Raises ExpansionError; returns None for a document too malformed to count (the
    loader names its problem).
    """
    if not isinstance(doc, dict):
        return None
    units = doc.get("units", {})
    units = units if isinstance(units, dict) else {}
    bodies = {name: _raw_body(raw, units, unit_body=True) for name, raw in units.items()}
    return check_sizes(_raw_body(doc, units, unit_body=False), bodies)


# ------------------------------------------------------------- reading a graph


def graph_body(graph: Graph, unit_body: bool) -> Body:
    blocks = 0
    instances = []
    for node in graph.nodes:
        if node.library is not None:
            instances.append(Instance(node.id, node.type, int(node.params.get("repeat", 1))))
        elif not (unit_body and _is_port(node.type)):
            blocks += 1
    return Body(blocks, graph.wire_count(), tuple(instances))


def library_sizes(library: Any) -> tuple[dict[str, Body], dict[str, Size]]:
    """Every definition's body and size, memoised on the library until it changes."""
    key = library.revision
    memo = getattr(library, "size_memo", None)
    if memo is not None and memo[0] == key:
        return memo[1], memo[2]
    bodies = {
        name: graph_body(definition.graph, unit_body=True)
        for name, definition in library.definitions.items()
    }
    sizes = definition_sizes(bodies)
    library.size_memo = (key, bodies, sizes)
    return bodies, sizes


def check_graph(graph: Graph) -> Size:
    """The expanded size of a graph and its units; ExpansionError if over a limit."""
    if graph.library is None or not graph.library.definitions:
        return Size(len(graph), graph.wire_count(), 0)
    bodies, sizes = library_sizes(graph.library)
    return check_top(graph_body(graph, unit_body=graph.owner is not None), bodies, sizes)
