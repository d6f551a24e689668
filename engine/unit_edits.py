"""Editing with units, as the editor's undo commands call it: pure operations on a graph.

`make_unit` turns a selection into an instance of a new definition (ports from the
wires that cross the selection's edge), `ungroup` puts an instance's blocks back,
`make_independent_copy` unlinks one instance, `set_repeat` stacks copies. Each
returns what it did, and `undo_make_unit` / `undo_ungroup` reverse it exactly: the
same blocks, ids, positions and wires, in the same order, so the saved file comes
back byte for byte.
"""

from __future__ import annotations

import copy
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from engine.graph import Edge, Graph, GraphError, Node
from engine.names import id_problem
from engine.shapes import Analysis
from engine.units import REPEAT, Definition, Library, library_of

Arrangement = tuple[list[str], list[Edge]]


def arrangement(graph: Graph) -> Arrangement:
    """The order of nodes and wires, which the saved file follows."""
    return [n.id for n in graph.nodes], graph.edges


@dataclass(frozen=True)
class Grouping:
    """What `make_unit` did, enough to reverse it exactly (`undo_make_unit`)."""

    definition: Definition
    instance: Node
    removed: tuple[Node, ...]
    wires: tuple[Edge, ...]  # every wire touching a removed node, as it was
    before: Arrangement


def undo_make_unit(graph: Graph, grouping: Grouping) -> None:
    """Reverse `make_unit`: the blocks, wires and their order come back; the definition goes."""
    graph.remove_node(grouping.instance.id)
    for node in grouping.removed:
        graph.restore_node(node)
    for edge in grouping.wires:
        graph.connect(edge.source, edge.target, edge.port)
    library_of(graph).remove(grouping.definition.name)
    graph.reorder(*grouping.before)


@dataclass(frozen=True)
class Ungrouping:
    """What `ungroup` did, enough to reverse it exactly (`undo_ungroup`)."""

    instance: Node
    wires: tuple[Edge, ...]
    added: tuple[str, ...]
    renamed: dict[str, str]  # inner id → id in the graph, for the first copy
    before: Arrangement


def undo_ungroup(graph: Graph, ungrouping: Ungrouping) -> None:
    for node_id in ungrouping.added:
        graph.remove_node(node_id)
    graph.restore_node(ungrouping.instance)
    for edge in ungrouping.wires:
        graph.connect(edge.source, edge.target, edge.port)
    graph.reorder(*ungrouping.before)


def make_unit(
    graph: Graph,
    selection: Collection[str],
    name: str = "Unit",
    analysis: Analysis | None = None,
) -> Grouping:
    before = arrangement(graph)
    """Turn the selected blocks into one instance of a new definition.

    The input ports are the wires that crossed into the selection, one per outside
    source, named after the inner port they fed; the output is the one selected block
    whose value leaves the selection. Inner blocks keep their ids and params; their
    positions are kept relative to the instance, which sits at their centre. With an
    `analysis`, each input port's Input block takes the shape that arrives there.
    """
    chosen = [n for n in graph.topological_order() if n in set(selection)]
    if not chosen:
        raise GraphError("select the blocks to make a unit of")
    for node_id in chosen:
        if graph.node(node_id).spec.role != "layer":
            raise GraphError(f"{node_id}: Input and Output blocks stay outside a unit")
    inside = set(chosen)
    all_wires = [e for e in graph.edges if e.source in inside or e.target in inside]
    entering = [e for e in all_wires if e.source not in inside]
    leaving = [e for e in all_wires if e.target not in inside]
    out_sources = list(dict.fromkeys(e.source for e in leaving))
    if not out_sources:
        raise GraphError("the selection feeds nothing outside it; a unit needs an output")
    if len(out_sources) > 1:
        raise GraphError(
            "a unit has one output, but values leave the selection from "
            + " and ".join(out_sources)
        )
    if not entering:
        raise GraphError("nothing outside the selection feeds it; a unit needs an input")
    library = library_of(graph)
    name = library.new_name(name)

    # One port per outside source, named after the first inner port it fed.
    port_of: dict[str, str] = {}
    taken = set(inside)
    for edge in entering:
        if edge.source not in port_of:
            base = edge.port if edge.port.isidentifier() else "x"
            port, i = base, 1
            while port in taken:
                i += 1
                port = f"{base}{i}"
            taken.add(port)
            port_of[edge.source] = port
    out_name, i = "out", 1
    while out_name in taken:
        i += 1
        out_name = f"out{i}"

    nodes = [graph.node(n) for n in chosen]
    cx = sum(n.pos[0] for n in nodes) / len(nodes)
    cy = sum(n.pos[1] for n in nodes) / len(nodes)
    left = min(n.pos[0] for n in nodes) - cx - 200
    right = max(n.pos[0] for n in nodes) - cx + 200

    body = library.new_body(name)
    for k, (source, port) in enumerate(port_of.items()):
        shape_params: dict[str, Any] = {}
        info = analysis.nodes.get(source) if analysis is not None else None
        if info is not None and info.shape is not None and info.shape.dims:
            shape_params = {
                "shape": list(info.shape.dims),
                "sequence": info.shape.time,
                "dtype": "int64" if info.shape.ids else "float32",
            }
        body.add_node("Input", shape_params, (left, k * 120.0), port)
    for node in nodes:
        pos = (node.pos[0] - cx, node.pos[1] - cy)
        body.add_node(node.type, copy.deepcopy(node.params), pos, node.id)
    body.add_node("Output", {"loss": "none"}, (right, 0.0), out_name)
    for edge in all_wires:
        if edge.source in inside and edge.target in inside:
            body.connect(edge.source, edge.target, edge.port)
        elif edge.target in inside:
            body.connect(port_of[edge.source], edge.target, edge.port)
    body.connect(out_sources[0], out_name, "x")
    definition = Definition(name, body)
    library.add(definition)

    removed = tuple(copy.deepcopy(n) for n in nodes)
    for node_id in chosen:
        graph.remove_node(node_id)
    instance = graph.add_node(name, {}, (cx, cy))
    for source, port in port_of.items():
        graph.connect(source, instance.id, port)
    for edge in leaving:
        graph.connect(instance.id, edge.target, edge.port)
    return Grouping(definition, instance, removed, tuple(all_wires), before)


def ungroup(graph: Graph, instance_id: str) -> Ungrouping:
    """Put an instance's blocks back in its place; returns what it did, for undo.

    Inner blocks keep their ids unless the graph already uses one; they go back at
    their positions relative to the instance, with the instance's promoted values set
    on the blocks that read them. Repeated copies come back in series, the later ones
    under fresh ids. The definition stays in the library.
    """
    node = graph.node(instance_id)
    library: Library | None = node.library
    if library is None:
        raise GraphError(f"{instance_id} is no unit instance")
    definition = library.definition(node.type)
    body = definition.graph
    overrides: dict[str, dict[str, Any]] = {}
    for promoted, targets in definition.promoted.items():
        for inner, key in targets:
            overrides.setdefault(inner, {})[key] = copy.deepcopy(node.params[promoted])
    sources = graph.incoming(instance_id)
    targets_out = graph.outgoing(instance_id)
    center = node.pos
    repeat = node.params.get(REPEAT.name, 1)
    output = definition.output
    if output is None:
        raise GraphError(f"{instance_id}: unit {node.type} has no single output")
    before = arrangement(graph)
    known = set(before[0]) - {instance_id}
    removed, wires = graph.remove_node(instance_id)

    renamed: dict[str, str] = {}
    feeding = dict(sources)  # port → outside source, for the current copy
    for k in range(repeat):
        names: dict[str, str] = {}
        for inner in body.nodes:
            if inner.spec.role != "layer":
                continue
            new_id = inner.id if inner.id not in graph else graph.new_id(inner.spec.id_prefix)
            names[inner.id] = new_id
            pos = (center[0] + inner.pos[0] + 60.0 * k, center[1] + inner.pos[1] + 60.0 * k)
            params = {**copy.deepcopy(inner.params), **overrides.get(inner.id, {})}
            graph.add_node(inner.type, params, pos, new_id)
        for edge in body.edges:
            if edge.target == output:
                continue
            src = edge.source
            graph.connect(feeding.get(src) or names[src], names[edge.target], edge.port)
        end = body.incoming(output)["x"]
        last = feeding[end] if end in definition.inputs else names[end]
        if k == 0:
            renamed = names
        feeding = {port: last for port in definition.inputs}
    for edge in targets_out:
        graph.connect(last, edge.target, edge.port)
    added = tuple(n.id for n in graph.nodes if n.id not in known)
    return Ungrouping(copy.deepcopy(removed), tuple(wires), added, renamed, before)


def make_independent_copy(graph: Graph, instance_id: str, name: str | None = None) -> str:
    """Give one instance its own copy of its definition; returns the copy's name."""
    node = graph.node(instance_id)
    library: Library | None = node.library
    if library is None:
        raise GraphError(f"{instance_id} is no unit instance")
    original = library.definition(node.type)
    new_name = library.new_name(name or original.name)
    body = original.graph.copy()
    library.add(
        Definition(
            new_name,
            body,
            {k: list(v) for k, v in original.promoted.items()},
            original.description,
        )
    )
    retype(graph, instance_id, new_name)
    return new_name


def retype(graph: Graph, node_id: str, type_name: str) -> None:
    """Point a node at another definition, keeping its id, position, params and wires."""
    node, wires = graph.remove_node(node_id)
    graph.add_node(type_name, node.params, node.pos, node_id)
    for edge in wires:
        graph.connect(edge.source, edge.target, edge.port)


def set_repeat(graph: Graph, instance_id: str, repeat: int) -> int:
    """Stack `repeat` copies in series; returns the previous count (for undo)."""
    node = graph.node(instance_id)
    if node.library is None:
        raise GraphError(f"{instance_id} is no unit instance")
    before: int = node.params.get(REPEAT.name, 1)
    graph.set_params(instance_id, {REPEAT.name: repeat})
    return before


# ------------------------------------------------------------------ renaming
# (added for the editor: "ports named after the inner ports, renamable")


def _graphs(root: Graph) -> list[Graph]:
    """The project's graph and every definition's body: where instances can be."""
    library = library_of(root)
    return [root, *(d.graph for d in library.definitions.values())]


def rename_unit(root: Graph, old: str, new: str) -> None:
    """Rename a definition; every instance (at any depth) follows, keeping its id,
    params, wires and place in the file. Renaming back restores the file exactly."""
    library = library_of(root)
    definition = library.definition(old)
    if new == old:
        return
    if problem := library.name_problem(new):
        raise GraphError(problem)
    users = {id(g): arrangement(g) for g in _graphs(root) if library.instances_of(old, g)}
    entries = [(new if k == old else k, v) for k, v in library.definitions.items()]
    library.definitions.clear()
    library.definitions.update(entries)  # same place in the file's units section
    # The old name stays valid while the instances move over: an instance not yet
    # retyped still needs its spec (a wire check reads the ports of units holding it).
    library.definitions[old] = definition
    definition.name = new
    definition.graph.owner = new
    library.touch()
    for graph in _graphs(root):
        if id(graph) in users:
            for node_id in library.instances_of(old, graph):
                retype(graph, node_id, new)
    del library.definitions[old]
    library.touch()
    for graph in _graphs(root):
        if id(graph) in users:
            graph.reorder(*users[id(graph)])


def rename_port(root: Graph, unit: str, old: str, new: str) -> None:
    """Rename an input port of a unit (the id of its Input block inside); the wires
    into every instance move to the new port name."""
    library = library_of(root)
    definition = library.definition(unit)
    body = definition.graph
    if old not in definition.inputs:
        raise GraphError(f"{unit} has no input port {old!r}")
    if new == old:
        return
    if new in body:
        raise GraphError(f"{unit} already has a block or port named {new!r}")
    if problem := id_problem(new):
        raise GraphError(problem)
    before = arrangement(body)
    node, wires = body.remove_node(old)
    body.add_node(node.type, node.params, node.pos, new)
    for edge in wires:
        body.connect(new, edge.target, edge.port)
    body.reorder(
        [new if n == old else n for n in before[0]],
        [Edge(new if e.source == old else e.source, e.target, e.port) for e in before[1]],
    )
    for graph in _graphs(root):
        for node_id in library.instances_of(unit, graph):
            order = arrangement(graph)
            source = graph.incoming(node_id).get(old)
            if source is None:
                continue
            graph.disconnect(node_id, old)
            graph.connect(source, node_id, new)
            graph.reorder(
                order[0],
                [
                    Edge(e.source, e.target, new) if e == Edge(source, node_id, old) else e
                    for e in order[1]
                ],
            )
