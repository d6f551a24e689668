"""An `nn.Sequential` of like unit instances → one instance repeated.

After `engine.importers.grouping` has made the units, `nn.Sequential(Block(16),
Block(16))` as `block1` is two instances of one definition in series; here they become
`block1` ×2 when every child has the same params, one input port, feeds only the next,
and the repeated unit's shapes work out. The weights keep torch's path
(`block1.0.conv1.weight`).

Pure: imports neither torch nor Qt.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping

from engine.graph.names import safe_id
from engine.importers.builder import GraphBuilder
from engine.importers.grouping import in_flow_order, move_weights
from engine.units.definition import REPEAT


def fold_repeats(
    builder: GraphBuilder, sequences: Mapping[str, list[str]], made: Mapping[str, str]
) -> list[str]:
    """Instances in series that are one repeated instance, in place; returns the ids made.

    `sequences` maps the module path of each `nn.Sequential` to its children's paths;
    `made` gives the node id of each unit instance by module path. A sequence folds when
    every child is an instance of one definition with one input port, all with the same
    params, each feeding only the next, and the repeated unit's shapes work out.
    """
    folded = []
    for path, children in sequences.items():
        graph = builder.graph  # a fold that does not work out puts back a copy
        library = graph.library
        ids = [made.get(child) for child in children]
        present = {node.id for node in graph.nodes}  # not a sequence inside a unit
        if len(ids) < 2 or None in ids or library is None or not set(ids) <= present:
            continue
        nodes = [graph.node(i) for i in ids if i is not None]
        first = nodes[0]
        if (
            first.type not in library
            or len(library.definition(first.type).inputs) != 1
            or any((n.type, n.params) != (first.type, first.params) for n in nodes)
            or first.params.get(REPEAT.name, 1) != 1
        ):
            continue
        chained = all(
            list(graph.incoming(b.id).values()) == [a.id]
            and [e.target for e in graph.outgoing(a.id)] == [b.id]
            for a, b in zip(nodes, nodes[1:], strict=False)
        )
        if chained and (node_id := _fold(builder, path, [n.id for n in nodes])) is not None:
            folded.append(node_id)
    if folded:
        in_flow_order(builder.graph)
    return folded


def _fold(builder: GraphBuilder, path: str, ids: list[str]) -> str | None:
    """One instance repeated len(ids) times in place of the instances `ids` in series,
    or None (nothing changed) when its shapes do not work out."""
    from engine.graph.shapes import analyze

    saved = copy.deepcopy(builder.graph)
    graph = builder.graph
    first, last = graph.node(ids[0]), ids[-1]
    entering = graph.incoming_edges(ids[0])
    leaving = graph.outgoing(last)
    node_id = safe_id(path, {n.id for n in graph.nodes} - set(ids))
    for old in ids:
        graph.remove_node(old)
    graph.add_node(first.type, {**first.params, REPEAT.name: len(ids)}, first.pos, node_id)
    for port, edge in entering.items():
        graph.connect(edge.source, node_id, port, edge.source_port)
    for edge in leaving:
        graph.connect(node_id, edge.target, edge.port)
    if analyze(graph).errors_of(node_id):  # a copy's output does not fit the next copy
        builder.graph = saved
        return None
    copy_of = {old: str(k) for k, old in enumerate(ids)}
    move_weights(builder, node_id, copy_of)
    builder.places[node_id] = builder.places.get(ids[0], path)
    for old in ids:
        builder.places.pop(old, None)
    return node_id
