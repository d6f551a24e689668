"""Repeated submodules of an imported model → unit definitions and instances.

A PyTorch model that builds a class of its own more than once (`BasicBlock` in a
ResNet, `DoubleConv` in a U-Net) gets one unit per configuration of that class: the
blocks each instance made become one node, `layer1.0` → instance `layer1_0`, and the
blocks inside keep the names of the submodules that made them (`conv1`,
`shortcut_0`), so the nesting reads as the source does and the weights sit under the
same path (`layer1_0.conv1.weight`).

Instances whose blocks differ only in parameter values share one definition: each
parameter that differs becomes a promoted parameter of the unit (the BasicBlocks of
every stage share `out_channels`, say), set per instance; parameters that differ
together in every instance are one promoted parameter. Instances whose blocks or
wiring differ (a BasicBlock with a projection shortcut beside one without) get a
definition each: `BasicBlock`, `BasicBlock_2`. An instance that cannot be a unit (its
result leaves from two places, say) stays as flat blocks.

An `nn.Sequential` of instances of one definition with the same params, each feeding
only the next, is one instance repeated: `nn.Sequential(Block(16), Block(16))` as
`block1` becomes `block1` ×2, its weights under `block1.0.conv1.weight` as in torch.

Pure: imports neither torch nor Qt.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.blocks.spec import Shape
from engine.graph.graph import Graph
from engine.graph.names import id_problem, safe_id
from engine.importers.builder import GraphBuilder, layout
from engine.units.units import REPEAT, Definition, Promoted, library_of

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Instance:
    """One call site of a repeated class, read from the graph before it is grouped."""

    path: str  # module path, `layer1.0`
    members: tuple[str, ...]  # node ids in the flat graph, in topological order
    inner: dict[str, str]  # flat id → id inside the definition
    ports: dict[tuple[str, str], str]  # (inner id, its port) fed from outside → unit port
    output: str  # the inner id whose value leaves the instance
    sources: dict[str, str]  # unit port → the outside node feeding it (at reading time)

    def structure(self, graph: Graph) -> tuple[Any, ...]:
        """What must be equal for two instances to share a definition (not param values)."""
        nodes = tuple(
            (self.inner[m], graph.node(m).type, tuple(sorted(graph.node(m).params)))
            for m in self.members
        )
        wires = tuple(
            sorted(
                (self.inner[s], self.inner[m], port)
                for m in self.members
                for port, s in graph.incoming(m).items()
                if s in self.inner
            )
        )
        return nodes, wires, tuple(sorted(self.ports.items())), self.output

    def params(self, graph: Graph) -> dict[tuple[str, str], Any]:
        return {
            (self.inner[m], key): value
            for m in self.members
            for key, value in graph.node(m).params.items()
        }


def group_repeated(
    builder: GraphBuilder,
    scopes: Mapping[str, str],
    classes: Mapping[str, str],
    arguments: Mapping[str, Mapping[str, str]],
    constructed: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, str]:
    """Group the blocks of every instance of a repeated class into units, in place.

    `scopes` gives the module path each node was made in (`layer1.0.conv1`, or
    `layer1.0` for a function its forward calls); `classes` maps the module path of
    each instance of a repeated class to the class's name; `arguments` names, per
    instance, the nodes its forward took by the argument's name (the unit's ports
    take those names: `x`, `skip`); `constructed` gives, per instance, the arguments
    its constructor took, and a promoted param takes the name of the argument whose
    values it follows (`c_out`, not `out_channels`). Inner classes go first, so an
    outer unit holds instances of the inner ones. Returns the node id of each
    instance by module path.
    """
    made: dict[str, str] = {}
    scopes = dict(scopes)
    names = {path: dict(given) for path, given in arguments.items()}
    shapes = _shapes(builder.graph)
    for class_name in _inner_first(classes):
        paths = [p for p, c in classes.items() if c == class_name]
        found = [
            i
            for i in (_read(builder.graph, scopes, p, names.get(p, {})) for p in paths)
            if i is not None
        ]
        _softmax_axes_agree(builder.graph, found, shapes)
        if _means_for_pools(builder.graph, found, shapes):  # read again: ids inside differ
            found = [
                i
                for i in (_read(builder.graph, scopes, p, names.get(p, {})) for p in paths)
                if i is not None
            ]
        groups: dict[tuple[Any, ...], list[Instance]] = {}
        for instance in found:
            groups.setdefault(instance.structure(builder.graph), []).append(instance)
        for instances in groups.values():
            built_with = [(constructed or {}).get(i.path, {}) for i in instances]
            definition, values = _define(builder.graph, class_name, instances, shapes, built_with)
            for instance, params in zip(instances, values, strict=True):
                node_id = _replace(builder, instance, definition.name, params)
                scopes[node_id] = instance.path
                made[instance.path] = node_id
                output = next(m for m in instance.members if instance.inner[m] == instance.output)
                if output in shapes:
                    shapes[node_id] = shapes[output]
                for given in names.values():  # the instance's value now leaves from node_id
                    if output in given:  # in its place: the order is the forward's
                        renamed = {(node_id if k == output else k): v for k, v in given.items()}
                        given.clear()
                        given.update(renamed)
                for member in instance.members:
                    scopes.pop(member, None)
    # The file lists blocks in the order data flows, instances where their blocks were.
    _in_flow_order(builder.graph)
    return made


def _means_for_pools(graph: Graph, instances: list[Instance], shapes: dict[str, Shape]) -> bool:
    """Where one instance of a class has a Mean and another a GlobalPool avg in the same
    place (the same step of its forward), the GlobalPool becomes the Mean it equals: the
    same `x.mean(dim=(2, 3))`, over every axis after the channels of one input and not
    of another's (a repeated unit's copies on inputs of two ranks). Whether any did."""
    means = {
        (len(i.members), k)
        for i in instances
        for k, m in enumerate(i.members)
        if graph.node(m).type == "Mean"
    }
    changed = False
    for instance in instances:
        for k, member in enumerate(instance.members):
            node = graph.node(member)
            source = graph.incoming(member).get("x")
            if not (
                (len(instance.members), k) in means
                and node.type == "GlobalPool"
                and node.params.get("mode") == "avg"
                and source in shapes
            ):
                continue
            shape = shapes[source]
            first = 3 if shape.time else 2
            axes = list(range(first, len(shape.dims) + 1))
            removed, wires = graph.remove_node(member)
            graph.add_node("Mean", {"axes": axes, "keepdim": False}, removed.pos, member)
            for edge in wires:
                graph.connect(edge.source, edge.target, edge.port)
            changed = True
    return changed


def _softmax_axes_agree(graph: Graph, instances: list[Instance], shapes: dict[str, Shape]) -> None:
    """Where one instance's Softmax (or LogSoftmax) is over its channels and another's,
    in the same place, over the last axis that is its channel axis too, both say
    channels: the same block for both, read from `dim=2` on (N, T, C) and `dim=1` on
    (N, C, L)."""
    channels = {
        (len(i.members), k)
        for i in instances
        for k, m in enumerate(i.members)
        if graph.node(m).params.get("axis") == "channels"
        and graph.node(m).type in ("Softmax", "LogSoftmax")
    }
    for instance in instances:
        for k, member in enumerate(instance.members):
            node = graph.node(member)
            source = graph.incoming(member).get("x")
            if (
                (len(instance.members), k) in channels
                and node.type in ("Softmax", "LogSoftmax")
                and node.params.get("axis") == "last"
                and source in shapes
                and len(shapes[source].features) == 1  # the channel axis is the last
            ):
                graph.set_params(member, {"axis": "channels"})


def _in_flow_order(graph: Graph) -> None:
    """Nodes in the order data flows; Inputs first and Outputs last, each in the order
    they had (the model's arguments and returned values keep theirs)."""
    inputs, outputs = graph.ids_of_role("input"), graph.ids_of_role("output")
    ends = set(inputs) | set(outputs)
    middle = [n for n in graph.topological_order() if n not in ends]
    order = {n: i for i, n in enumerate([*inputs, *middle, *outputs])}
    graph.reorder(list(order), sorted(graph.edges, key=lambda e: (order[e.target], e.port)))


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
        if len(ids) < 2 or None in ids or library is None:
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
        _in_flow_order(builder.graph)
    return folded


def _fold(builder: GraphBuilder, path: str, ids: list[str]) -> str | None:
    """One instance repeated len(ids) times in place of the instances `ids` in series,
    or None (nothing changed) when its shapes do not work out."""
    from engine.graph.shapes import analyze

    saved = copy.deepcopy(builder.graph)
    graph = builder.graph
    first, last = graph.node(ids[0]), ids[-1]
    entering = graph.incoming(ids[0])
    leaving = graph.outgoing(last)
    node_id = safe_id(path, {n.id for n in graph.nodes} - set(ids))
    for old in ids:
        graph.remove_node(old)
    graph.add_node(first.type, {**first.params, REPEAT.name: len(ids)}, first.pos, node_id)
    for port, source in entering.items():
        graph.connect(source, node_id, port)
    for edge in leaving:
        graph.connect(node_id, edge.target, edge.port)
    if analyze(graph).errors_of(node_id):  # a copy's output does not fit the next copy
        builder.graph = saved
        return None
    copy_of = {old: str(k) for k, old in enumerate(ids)}
    _move_weights(builder, node_id, copy_of)
    builder.places[node_id] = builder.places.get(ids[0], path)
    for old in ids:
        builder.places.pop(old, None)
    return node_id


def _inner_first(classes: Mapping[str, str]) -> list[str]:
    """Class names, every class after those whose instances lie inside its own."""
    inside: dict[str, set[str]] = {c: set() for c in classes.values()}
    for outer_path, outer in classes.items():
        for inner_path, inner in classes.items():
            if inner_path.startswith(outer_path + ".") and inner != outer:
                inside[outer].add(inner)
    order: list[str] = []
    while len(order) < len(inside):
        ready = [c for c in inside if c not in order and inside[c] <= set(order)]
        if not ready:  # two classes inside each other: cannot be, but never loop
            ready = [c for c in inside if c not in order]
        order.extend(sorted(ready))
    return order


def _shapes(graph: Graph) -> dict[str, Shape]:
    from engine.graph.shapes import analyze

    analysis = analyze(graph)
    return {n: info.shape for n, info in analysis.nodes.items() if info.shape is not None}


def _inner_ids(
    graph: Graph, path: str, members: list[str], scopes: Mapping[str, str]
) -> dict[str, str]:
    """Ids inside the definition: the submodule path below the instance (`conv1`,
    `shortcut_0`; an unnamed child `0` takes its block's prefix, `conv_0`); blocks made
    by the instance's own forward are numbered by kind (`relu1`, `add1`)."""
    inner: dict[str, str] = {}
    taken: set[str] = set()
    for member in members:
        scope = scopes[member]
        if scope == path:
            continue
        rel = scope[len(path) + 1 :]
        if rel[0].isdigit():
            rel = f"{graph.node(member).spec.id_prefix}_{rel}"
        inner[member] = safe_id(rel, taken)
        taken.add(inner[member])
    for member in members:
        if member not in inner:
            prefix = graph.node(member).spec.id_prefix
            i = 1
            while f"{prefix}{i}" in taken or id_problem(f"{prefix}{i}"):
                i += 1
            inner[member] = f"{prefix}{i}"
            taken.add(inner[member])
    return inner


def _read(
    graph: Graph, scopes: Mapping[str, str], path: str, arguments: Mapping[str, str]
) -> Instance | None:
    inside = {n for n, s in scopes.items() if s == path or s.startswith(path + ".")}
    members = [n for n in graph.topological_order() if n in inside]
    if not members or any(graph.node(m).spec.role != "layer" for m in members):
        return None
    leaving = {e.source for m in members for e in graph.outgoing(m) if e.target not in inside}
    if len(leaving) != 1:
        log.debug("%s: its value leaves from %d places; left as blocks", path, len(leaving))
        return None
    inner = _inner_ids(graph, path, members, scopes)
    ports: dict[tuple[str, str], str] = {}
    sources: dict[str, str] = {}
    port_of: dict[str, str] = {}
    for member in members:
        for port, source in graph.incoming(member).items():
            if source in inside:
                continue
            if source not in port_of:
                base = arguments.get(source) or port
                base = base if base.isidentifier() and base != "out" else "x"
                name, i = base, 1
                while name in sources or name in inner.values() or name == "out":
                    i += 1
                    name = f"{base}{i}"
                port_of[source] = name
                sources[name] = source
            ports[(inner[member], port)] = port_of[source]
    if not sources:
        return None
    # The ports in the order of the forward's arguments (forward(self, x, skip)); those
    # it did not take by name after them, in the order the blocks use them.
    position = {source: i for i, source in enumerate(arguments)}
    ordered = sorted(sources, key=lambda port: position.get(sources[port], len(position)))
    sources = {port: sources[port] for port in ordered}
    return Instance(path, tuple(members), inner, ports, inner[leaving.pop()], sources)


def _promote(
    kinds: Mapping[tuple[str, str], Any], values: list[dict], given: list[Mapping[str, Any]]
) -> Promoted:
    """Params whose values differ between instances, one promoted param per set of
    params of one kind that follow one constructor argument in every instance, named
    after it (`c_out`); else per set of same-named params of one kind that vary
    together, named after the param (`out_channels`), else after its first place
    (`conv2_out_channels`)."""
    varying: dict[tuple[Any, ...], list[tuple[str, str]]] = {}
    for place in values[0]:
        column = [v[place] for v in values]
        if len({repr(c) for c in column}) > 1:
            argument = _argument(place[1], column, given)
            group = (argument,) if argument else (place[1], tuple(map(repr, column)))
            varying.setdefault((*group, kinds[place]), []).append(place)
    promoted: Promoted = {}
    for group, places in varying.items():
        key = group[0]
        name = key if key not in promoted and key != REPEAT.name else f"{places[0][0]}_{key}"
        promoted[name] = places
    return promoted


def _argument(key: str, column: list[Any], given: list[Mapping[str, Any]]) -> str | None:
    """The constructor argument whose value a param took in every instance: the one
    that fits, or the param's own name among several."""
    if not given or not all(given):
        return None
    fits = [
        arg
        for arg in given[0]
        if arg != REPEAT.name
        and all(arg in g and _same(p, g[arg]) for p, g in zip(column, given, strict=True))
    ]
    if key in fits:
        return key
    return fits[0] if len(fits) == 1 else None


def _same(param: Any, argument: Any) -> bool:
    """Whether a block's param value is what a constructor argument gave it: equal
    (True is no 1), a tuple as a list, or one number on every axis of a per-axis list."""
    if isinstance(argument, tuple):
        argument = list(argument)
    if isinstance(param, list) and not isinstance(argument, list):
        return len(param) > 0 and all(_same(p, argument) for p in param)
    if isinstance(param, bool) or isinstance(argument, bool):
        return type(param) is type(argument) and param == argument
    return bool(param == argument)


def _define(
    graph: Graph,
    class_name: str,
    instances: list[Instance],
    shapes: Mapping[str, Shape],
    given: list[Mapping[str, Any]],
) -> tuple[Definition, list[dict[str, Any]]]:
    """The definition for instances of one structure, and each instance's params."""
    library = library_of(graph)
    first = instances[0]
    values = [instance.params(graph) for instance in instances]
    kinds = {}  # (inner id, param) → what a promoted param must agree on with the others
    for member in first.members:
        spec = graph.node(member).spec
        for key in graph.node(member).params:
            param = spec.param(key)
            kinds[(first.inner[member], key)] = (param.kind, param.choices)
    promoted = _promote(kinds, values, given)
    name, i = class_name, 1
    while library.name_problem(name) is not None:
        i += 1
        name = f"{class_name}_{i}"
    body = library.new_body(name)
    for port, source in first.sources.items():
        shape = shapes.get(source)
        params: dict[str, Any] = {}
        if shape is not None and shape.dims:
            params = {
                "shape": list(shape.dims),
                "sequence": shape.time,
                "dtype": "int64" if shape.ids else "float32",
            }
        body.add_node("Input", params, node_id=port)
    for member in first.members:
        node = graph.node(member)
        body.add_node(node.type, node.params, node_id=first.inner[member])
    body.add_node("Output", {"loss": "none"}, node_id="out")
    for member in first.members:
        for port, source in graph.incoming(member).items():
            inner_source = first.inner.get(source) or first.ports[(first.inner[member], port)]
            body.connect(inner_source, first.inner[member], port)
    body.connect(first.output, "out", "x")
    layout(body)
    count = f"{len(instances)} instances" if len(instances) > 1 else "1 instance"
    if name != class_name:
        count += f" whose blocks or wiring differ from {class_name}'s"
    description = f"The module {class_name} of the imported model ({count})."
    definition = Definition(name, body, promoted, description)
    library.add(definition)
    instance_params = [{p: v[targets[0]] for p, targets in promoted.items()} for v in values]
    return definition, instance_params


def _replace(builder: GraphBuilder, instance: Instance, type_name: str, params: dict) -> str:
    """Swap an instance's blocks for one node of `type_name`; weights follow."""
    graph = builder.graph
    inside = set(instance.members)
    entering: dict[str, str] = {}  # unit port → outside source, as the graph is now
    for member in instance.members:
        for port, source in graph.incoming(member).items():
            if source not in inside:
                entering[instance.ports[(instance.inner[member], port)]] = source
    leaving = [e for m in instance.members for e in graph.outgoing(m) if e.target not in inside]
    node_id = safe_id(instance.path, set(n.id for n in graph.nodes) - inside)
    place = builder.places.get(instance.members[0], instance.path)
    for member in instance.members:
        graph.remove_node(member)
        builder.places.pop(member, None)
    graph.add_node(type_name, params, node_id=node_id)
    for port, source in entering.items():
        graph.connect(source, node_id, port)
    for edge in leaving:
        graph.connect(node_id, edge.target, edge.port)
    builder.places[node_id] = place
    _move_weights(builder, node_id, {owner: instance.inner[owner] for owner in inside})
    return node_id


def _move_weights(builder: GraphBuilder, node_id: str, inner: dict[str, str]) -> None:
    """Weights of the blocks now inside `node_id` go under its name: `conv1.weight` of
    a block that became `inner["conv1"]` in the unit is `node_id.<inner>.weight`."""
    renamed = {}
    for key, tensor in builder.weights.items():
        owner, _, rest = key.partition(".")
        if owner in inner:
            key = f"{node_id}.{inner[owner]}.{rest}"
        renamed[key] = tensor
    builder.weights = renamed
