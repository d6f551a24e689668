"""Editing with units, as the editor's undo commands call it: pure operations on a graph.

`make_unit` turns a selection into an instance of a new definition (ports from the
wires that cross the selection's edge), `ungroup` puts an instance's blocks back,
`make_independent_copy` unlinks one instance, `set_repeat` stacks copies. Each
returns what it did, and `undo_make_unit` / `undo_ungroup` reverse it exactly: the
same blocks, ids, positions and wires, in the same order, so the saved file comes
back byte for byte. A new body's layout is `engine.units.body_layout`'s job, and a
suggested name `engine.units.naming`'s (`suggest_unit_name` is importable from here).
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from engine.graph.graph import Edge, Graph, GraphError, Node
from engine.graph.names import id_problem
from engine.graph.shapes import Analysis
from engine.units.body_layout import Layout, tidy_body
from engine.units.definition import REPEAT, Definition
from engine.units.naming import suggest_unit_name as suggest_unit_name  # re-exported
from engine.units.units import Library, library_of

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
        graph.reconnect(edge)
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
        graph.reconnect(edge)
    graph.reorder(*ungrouping.before)


def make_unit(
    graph: Graph,
    selection: Collection[str],
    name: str = "Unit",
    analysis: Analysis | None = None,
    layout: Layout | None = None,
) -> Grouping:
    """Turn the selected blocks into one instance of a new definition.

    The input ports are the wires that crossed into the selection, one per outside
    value, named after the inner port they fed; each value that leaves the selection
    is an output ("out" when it is the only one, else `<block>_out`). Inner blocks
    keep their ids and params; their positions are kept relative to the instance,
    which sits at their centre. With an `analysis`, each input port's Input block
    takes the shape that arrives there. With a `layout`, the body reads left to right
    (see `tidy_body`).
    """
    before = arrangement(graph)
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
    # Each value that leaves the selection (a block's output, or one output of a unit
    # inside) becomes an output port; several make a unit with several outputs.
    out_values = list(dict.fromkeys((e.source, e.source_port) for e in leaving))
    if not out_values:
        raise GraphError("the selection feeds nothing outside it; a unit needs an output")
    if not entering:
        raise GraphError("nothing outside the selection feeds it; a unit needs an input")
    library = library_of(graph)
    name = library.new_name(name)

    # One port per outside value, named after the first inner port it fed.
    port_of: dict[tuple[str, str], str] = {}
    taken = set(inside)

    def fresh(base: str) -> str:
        port, i = base, 1
        while port in taken:
            i += 1
            port = f"{base}{i}"
        taken.add(port)
        return port

    for edge in entering:
        if (edge.source, edge.source_port) not in port_of:
            base = edge.port if edge.port.isidentifier() else "x"
            port_of[(edge.source, edge.source_port)] = fresh(base)
    # One output: "out", as before. Several: named after the blocks they leave from.
    out_of: dict[tuple[str, str], str] = {}
    for source, source_port in out_values:
        base = "out" if len(out_values) == 1 else f"{source}_{source_port or 'out'}"
        out_of[(source, source_port)] = fresh(base)

    nodes = [graph.node(n) for n in chosen]
    cx = sum(n.pos[0] for n in nodes) / len(nodes)
    cy = sum(n.pos[1] for n in nodes) / len(nodes)
    left = min(n.pos[0] for n in nodes) - cx - 200
    right = max(n.pos[0] for n in nodes) - cx + 200

    body = library.new_body(name)
    for k, ((source, source_port), port) in enumerate(port_of.items()):
        shape_params: dict[str, Any] = {}
        info = analysis.nodes.get(source) if analysis is not None else None
        shape = info.output_shape(source_port) if info is not None else None
        if shape is not None and shape.dims:
            shape_params = {
                "shape": list(shape.dims),
                "sequence": shape.time,
                "dtype": "int64" if shape.ids else "float32",
            }
        body.add_node("Input", shape_params, (left, k * 120.0), port)
    for node in nodes:
        pos = (node.pos[0] - cx, node.pos[1] - cy)
        body.add_node(node.type, copy.deepcopy(node.params), pos, node.id).frozen = node.frozen
    middle = (len(out_of) - 1) / 2
    for k, out_name in enumerate(out_of.values()):
        body.add_node("Output", {"loss": "none"}, (right, (k - middle) * 120.0), out_name)
    for edge in all_wires:
        if edge.source in inside and edge.target in inside:
            body.reconnect(edge)
        elif edge.target in inside:
            body.connect(port_of[(edge.source, edge.source_port)], edge.target, edge.port)
    for (source, source_port), out_name in out_of.items():
        body.connect(source, out_name, "x", source_port)
    if layout is not None:
        tidy_body(body, layout)
    definition = Definition(name, body)
    library.add(definition)

    removed = tuple(copy.deepcopy(n) for n in nodes)
    for node_id in chosen:
        graph.remove_node(node_id)
    instance = graph.add_node(name, {}, (cx, cy))
    for (source, source_port), port in port_of.items():
        graph.connect(source, instance.id, port, source_port)
    several = len(out_of) > 1
    for edge in leaving:
        out_port = out_of[(edge.source, edge.source_port)] if several else ""
        graph.connect(instance.id, edge.target, edge.port, out_port)
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
    sources = graph.incoming_edges(instance_id)
    targets_out = graph.outgoing(instance_id)
    center = node.pos
    repeat = node.params.get(REPEAT.name, 1)
    outputs = definition.outputs
    if not outputs:
        raise GraphError(f"{instance_id}: unit {node.type} has no output")
    before = arrangement(graph)
    known = set(before[0]) - {instance_id}
    removed, wires = graph.remove_node(instance_id)

    renamed: dict[str, str] = {}
    # What feeds each input port of the current copy: (block id, its output port).
    feeding = {port: (edge.source, edge.source_port) for port, edge in sources.items()}
    ends: dict[str, tuple[str, str]] = {}  # output port → the value that leaves there
    for k in range(repeat):
        names: dict[str, str] = {}
        for inner in body.nodes:
            if inner.spec.role != "layer":
                continue
            new_id = inner.id if inner.id not in graph else graph.new_id(inner.spec.id_prefix)
            names[inner.id] = new_id
            pos = (center[0] + inner.pos[0] + 60.0 * k, center[1] + inner.pos[1] + 60.0 * k)
            params = {**copy.deepcopy(inner.params), **overrides.get(inner.id, {})}
            graph.add_node(inner.type, params, pos, new_id).frozen = inner.frozen or node.frozen
        values = {**{inner: (new, "") for inner, new in names.items()}, **feeding}
        for edge in body.edges:
            if edge.target in outputs:
                continue
            source, source_port = values[edge.source]
            source_port = source_port or edge.source_port
            graph.connect(source, names[edge.target], edge.port, source_port)
        ends = {}
        for out in outputs:
            inner_edge = body.incoming_edges(out)["x"]
            source, source_port = values[inner_edge.source]
            ends[out] = (source, source_port or inner_edge.source_port)
        if k == 0:
            renamed = names
        # Repeat needs one input and one output: the next copy reads this one's output.
        feeding = {port: ends[outputs[0]] for port in definition.inputs}
    plain = len(outputs) == 1
    for edge in targets_out:
        source, source_port = ends[outputs[0] if plain else edge.source_port]
        graph.connect(source, edge.target, edge.port, source_port)
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
        graph.reconnect(edge)


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
    """Rename a port of a unit: an input (the id of an Input block inside) or an output
    (the id of an Output block). The wires into every instance, at any depth, move to
    the new input name; with several outputs, the wires leaving every instance from
    that output name it. Renaming back restores the file exactly."""
    library = library_of(root)
    definition = library.definition(unit)
    body = definition.graph
    is_input = old in definition.inputs
    if not is_input and old not in definition.outputs:
        raise GraphError(
            f"{unit} has no input or output port {old!r} (inputs: "
            f"{', '.join(definition.inputs) or 'none'}; outputs: "
            f"{', '.join(definition.outputs) or 'none'})"
        )
    if new == old:
        return
    if new in body:
        raise GraphError(f"{unit} already has a block or port named {new!r}")
    if problem := id_problem(new):
        raise GraphError(f"{unit}: {problem}")
    # Wires outside name an output only when the unit has several.
    named_outputs = not is_input and len(definition.outputs) > 1
    _rename_block(definition, old, new)
    for graph in _graphs(root):
        for node_id in library.instances_of(unit, graph):
            if is_input:
                wire = graph.incoming_edges(node_id).get(old)
                moved = {} if wire is None else {wire: dataclasses.replace(wire, port=new)}
            elif named_outputs:
                leaving = [e for e in graph.outgoing(node_id) if e.source_port == old]
                moved = {e: dataclasses.replace(e, source_port=new) for e in leaving}
            else:
                moved = {}
            _move_wires(graph, moved)


def _rename_block(definition: Definition, old: str, new: str) -> None:
    """Give a block inside a definition another id: its wires, its place in the file's
    order and the promoted params that read it follow."""
    body = definition.graph
    before = arrangement(body)
    node, wires = body.remove_node(old)
    body.add_node(node.type, node.params, node.pos, new)
    for edge in wires:
        body.reconnect(_with_block_renamed(edge, old, new))
    body.reorder(
        [new if n == old else n for n in before[0]],
        [_with_block_renamed(e, old, new) for e in before[1]],
    )
    for targets in definition.promoted.values():
        for i, (node_id, key) in enumerate(targets):
            if node_id == old:
                targets[i] = (new, key)


def _with_block_renamed(edge: Edge, old: str, new: str) -> Edge:
    return dataclasses.replace(
        edge,
        source=new if edge.source == old else edge.source,
        target=new if edge.target == old else edge.target,
    )


def _move_wires(graph: Graph, moved: dict[Edge, Edge]) -> None:
    """Replace wires (old → new) in place: each keeps its place in the file's order."""
    if not moved:
        return
    order = arrangement(graph)
    for wire in moved:
        graph.disconnect(wire.target, wire.port)
    for wire in moved.values():
        graph.reconnect(wire)
    graph.reorder(order[0], [moved.get(e, e) for e in order[1]])
