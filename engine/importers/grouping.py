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

How the promoted params are chosen and named is `engine.importers.promotion`'s job; an
`nn.Sequential` of like instances folds into one repeated instance in
`engine.importers.repeats`.

Pure: imports neither torch nor Qt.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine.blocks.spec import Shape
from engine.graph.graph import Graph
from engine.graph.names import id_problem, safe_id
from engine.importers.builder import GraphBuilder, layout
from engine.importers.promotion import promote
from engine.importers.unit_rounds import inner_first
from engine.units.definition import Definition
from engine.units.units import library_of

if TYPE_CHECKING:
    from engine.importers.source_names import ClassSource

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
    output_port: str = ""  # the output of `output` it leaves from (a Split's "out2")
    source_ports: dict[str, str] = field(default_factory=dict)  # unit port → its source's

    def structure(self, graph: Graph) -> tuple[Any, ...]:
        """What must be equal for two instances to share a definition (not param values)."""
        nodes = tuple(
            (
                self.inner[m],
                graph.node(m).type,
                tuple(sorted(graph.node(m).params)),
                graph.node(m).frozen,
            )
            for m in self.members
        )
        wires = tuple(
            sorted(
                (self.inner[e.source], self.inner[m], port, e.source_port)
                for m in self.members
                for port, e in graph.incoming_edges(m).items()
                if e.source in self.inner
            )
        )
        ports = tuple(sorted(self.ports.items()))
        return nodes, wires, ports, self.output, self.output_port

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
    sources: Mapping[str, ClassSource] | None = None,
    left: dict[str, str] | None = None,
) -> dict[str, str]:
    """Group the blocks of every instance of a repeated class into units, in place.

    `scopes` gives the module path each node was made in (`layer1.0.conv1`, or
    `layer1.0` for a function its forward calls); `classes` maps the module path of
    each instance of a repeated class to the class's name; `arguments` names, per
    instance, the nodes its forward took by the argument's name (the unit's ports
    take those names: `x`, `skip`; a node renamed since is followed, `builder.renamed`);
    `constructed` gives, per instance, the arguments
    its constructor took, and a promoted param takes the name of the argument whose
    values it follows (`c_out`, not `out_channels`); `sources` what each class's
    source says (`source_names.ClassSource`: its comment becomes the definition's
    description, its constructor's defaults the promoted params' values in the
    definition, an argument passed on to a submodule is promoted even where every
    instance has the same value). Inner classes go first, so an
    outer unit holds instances of the inner ones. Returns the node id of each
    instance by module path; `left` gets, by module path, why an instance stayed blocks.
    """
    made: dict[str, str] = {}
    scopes = dict(scopes)
    now = builder.renamed  # (the nodes fed in, under the ids they have now)
    names = {
        path: {now.get(node, node): name for node, name in given.items()}
        for path, given in arguments.items()
    }
    shapes = _shapes(builder.graph)
    for class_name, paths in inner_first(classes):
        found = [
            i
            for i in (_read(builder, scopes, p, names.get(p, {}), left) for p in paths)
            if i is not None
        ]
        _softmax_axes_agree(builder.graph, found, shapes)
        if _means_for_pools(builder.graph, found, shapes):  # read again: ids inside differ
            found = [
                i
                for i in (_read(builder, scopes, p, names.get(p, {}), left) for p in paths)
                if i is not None
            ]
        groups: dict[tuple[Any, ...], list[Instance]] = {}
        for instance in found:
            groups.setdefault(instance.structure(builder.graph), []).append(instance)
        for instances in groups.values():
            built_with = [(constructed or {}).get(i.path, {}) for i in instances]
            source = (sources or {}).get(class_name)
            definition, values = _define(
                builder.graph, class_name, instances, shapes, built_with, source
            )
            for instance, params in zip(instances, values, strict=True):
                node_id = _replace(builder, instance, definition.name, params)
                scopes[node_id] = instance.path
                made[instance.path] = node_id
                output = next(m for m in instance.members if instance.inner[m] == instance.output)
                leaving = _shape_key(output, instance.output_port)
                if leaving in shapes:
                    shapes[node_id] = shapes[leaving]
                for given in names.values():  # the instance's value now leaves from node_id
                    if output in given:  # in its place: the order is the forward's
                        renamed = {(node_id if k == output else k): v for k, v in given.items()}
                        given.clear()
                        given.update(renamed)
                for member in instance.members:
                    scopes.pop(member, None)
    # The file lists blocks in the order data flows, instances where their blocks were.
    in_flow_order(builder.graph)
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


def in_flow_order(graph: Graph) -> None:
    """Nodes in the order data flows; Inputs first and Outputs last, each in the order
    they had (the model's arguments and returned values keep theirs)."""
    inputs, outputs = graph.ids_of_role("input"), graph.ids_of_role("output")
    ends = set(inputs) | set(outputs)
    middle = [n for n in graph.topological_order() if n not in ends]
    order = {n: i for i, n in enumerate([*inputs, *middle, *outputs])}
    graph.reorder(list(order), sorted(graph.edges, key=lambda e: (order[e.target], e.port)))


def _shapes(graph: Graph) -> dict[str, Shape]:
    """Each node's output shape; a block with several outputs also each output's, under
    `_shape_key`."""
    from engine.graph.shapes import analyze

    analysis = analyze(graph)
    shapes = {n: info.shape for n, info in analysis.nodes.items() if info.shape is not None}
    for node_id, info in analysis.nodes.items():
        shapes.update({_shape_key(node_id, port): s for port, s in info.outputs.items()})
    return shapes


def _shape_key(node_id: str, port: str) -> str:
    return f"{node_id}.{port}" if port else node_id  # (an id holds no ".")


def _inner_ids(
    builder: GraphBuilder, path: str, members: list[str], scopes: Mapping[str, str]
) -> dict[str, str]:
    """Ids inside the definition: the submodule path below the instance (`conv1`,
    `shortcut_0`; an unnamed child `0` takes its block's prefix, `conv_0`); blocks made
    by the instance's own forward take the variable it assigns them to (`add`, see
    `source_names`), else are numbered by kind (`relu1`, `add1`)."""
    graph = builder.graph
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
        variable = builder.variables.get(member)
        if member not in inner and variable and variable not in taken:
            inner[member] = variable
            taken.add(variable)
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
    builder: GraphBuilder,
    scopes: Mapping[str, str],
    path: str,
    arguments: Mapping[str, str],
    left: dict[str, str] | None = None,
) -> Instance | None:
    """The instance at `path`, or None (and why, in `left`) when it cannot be a unit."""
    left = {} if left is None else left
    graph = builder.graph
    inside = {n for n, s in scopes.items() if s == path or s.startswith(path + ".")}
    members = [n for n in graph.topological_order() if n in inside]
    if not members or any(graph.node(m).spec.role != "layer" for m in members):
        return None
    leaving = {
        (e.source, e.source_port)
        for m in members
        for e in graph.outgoing(m)
        if e.target not in inside
    }
    if len(leaving) != 1:
        log.debug("%s: its value leaves from %d places; left as blocks", path, len(leaving))
        left[path] = f"its result leaves from {len(leaving)} places; a unit gives one"
        return None
    inner = _inner_ids(builder, path, members, scopes)
    ports: dict[tuple[str, str], str] = {}
    sources: dict[str, str] = {}
    source_ports: dict[str, str] = {}
    port_of: dict[tuple[str, str], str] = {}
    for member in members:
        for port, edge in graph.incoming_edges(member).items():
            source = edge.source
            if source in inside:
                continue
            if (source, edge.source_port) not in port_of:
                base = arguments.get(source) or port
                base = base if base.isidentifier() and base != "out" else "x"
                name, i = base, 1
                while name in sources or name in inner.values() or name == "out":
                    i += 1
                    name = f"{base}{i}"
                port_of[(source, edge.source_port)] = name
                sources[name] = source
                source_ports[name] = edge.source_port
            ports[(inner[member], port)] = port_of[(source, edge.source_port)]
    if not sources:
        left[path] = "it takes no input"
        return None
    # The ports in the order of the forward's arguments (forward(self, x, skip)); those
    # it did not take by name after them, in the order the blocks use them.
    position = {source: i for i, source in enumerate(arguments)}
    ordered = sorted(sources, key=lambda port: position.get(sources[port], len(position)))
    sources = {port: sources[port] for port in ordered}
    output, output_port = leaving.pop()
    return Instance(
        path, tuple(members), inner, ports, inner[output], sources, output_port, source_ports
    )


def _define(
    graph: Graph,
    class_name: str,
    instances: list[Instance],
    shapes: Mapping[str, Shape],
    given: list[Mapping[str, Any]],
    written: ClassSource | None = None,
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
    promoted = promote(kinds, values, given, written.passes if written else {})
    base = (written.unit if written else None) or class_name
    name, i = base, 1
    while library.name_problem(name) is not None:
        i += 1
        name = f"{base}_{i}"
    body = library.new_body(name)
    for port, source in first.sources.items():
        shape = shapes.get(_shape_key(source, first.source_ports.get(port, "")))
        params: dict[str, Any] = {}
        if shape is not None and shape.dims:
            params = {
                "shape": list(shape.dims),
                "sequence": shape.time,
                "dtype": "int64" if shape.ids else "float32",
            }
        body.add_node("Input", params, node_id=port)
    defaults = _promoted_defaults(promoted, written.defaults if written else {}, values[0])
    for member in first.members:
        node = graph.node(member)
        params = {**node.params, **defaults.get(first.inner[member], {})}
        body.add_node(node.type, params, node_id=first.inner[member]).frozen = node.frozen
    # "out", unless a block inside already has it (`out = torch.cat(...)` in a forward)
    output = safe_id("out", {*first.inner.values(), *first.sources})
    body.add_node("Output", {"loss": "none"}, node_id=output)
    for member in first.members:
        for port, edge in graph.incoming_edges(member).items():
            if edge.source in first.inner:
                body.connect(first.inner[edge.source], first.inner[member], port, edge.source_port)
            else:
                body.connect(first.ports[(first.inner[member], port)], first.inner[member], port)
    body.connect(first.output, output, "x", first.output_port)
    layout(body)
    # "built", not "instances": an nn.Sequential of them may become one repeated instance
    count = f"built {len(instances)} times" if len(instances) > 1 else "built once"
    if name != base:
        count += f"; its blocks or wiring differ from {class_name}'s"
    description = f"The module {class_name} of the imported model ({count})."
    if written is not None and written.description and name == base:
        description = written.description
    definition = Definition(name, body, promoted, description)
    library.add(definition)
    instance_params = [{p: v[targets[0]] for p, targets in promoted.items()} for v in values]
    return definition, instance_params


def _promoted_defaults(
    promoted: Mapping[str, list[tuple[str, str]]],
    defaults: Mapping[str, Any],
    first: Mapping[tuple[str, str], Any],
) -> dict[str, dict[str, Any]]:
    """The definition's own values at promoted places: the constructor's default for
    the argument a promoted param follows (`channels: int = 16`), where it is a value of
    the same kind as the first instance's; by inner id."""
    found: dict[str, dict[str, Any]] = {}
    for name, places in promoted.items():
        default = defaults.get(name)
        for inner, key in places:
            value = first.get((inner, key))
            if default is None or type(default) is not type(value):
                continue
            found.setdefault(inner, {})[key] = default
    return found


def _replace(builder: GraphBuilder, instance: Instance, type_name: str, params: dict) -> str:
    """Swap an instance's blocks for one node of `type_name`; weights follow."""
    graph = builder.graph
    inside = set(instance.members)
    entering: dict[str, tuple[str, str]] = {}  # unit port → outside (source, its port) now
    for member in instance.members:
        for port, edge in graph.incoming_edges(member).items():
            if edge.source not in inside:
                unit_port = instance.ports[(instance.inner[member], port)]
                entering[unit_port] = (edge.source, edge.source_port)
    leaving = [e for m in instance.members for e in graph.outgoing(m) if e.target not in inside]
    node_id = safe_id(instance.path, set(n.id for n in graph.nodes) - inside)
    place = builder.places.get(instance.members[0], instance.path)
    # The instance takes its first block's place in the file's order, so that in an
    # outer unit read next, blocks keep the order the forward made them in.
    order = [n.id for n in graph.nodes]
    first = min(order.index(m) for m in instance.members)
    order = [n for n in order[:first] if n not in inside] + [node_id]
    order += [n.id for n in graph.nodes if n.id not in inside and n.id not in order]
    for member in instance.members:
        graph.remove_node(member)
        builder.places.pop(member, None)
    graph.add_node(type_name, params, node_id=node_id)
    for port, (source, source_port) in entering.items():
        graph.connect(source, node_id, port, source_port)
    for edge in leaving:
        graph.connect(node_id, edge.target, edge.port)
    graph.reorder(order, graph.edges)
    builder.places[node_id] = place
    move_weights(builder, node_id, {owner: instance.inner[owner] for owner in inside})
    return node_id


def move_weights(builder: GraphBuilder, node_id: str, inner: dict[str, str]) -> None:
    """Weights of the blocks now inside `node_id` go under its name: `conv1.weight` of
    a block that became `inner["conv1"]` in the unit is `node_id.<inner>.weight`."""
    renamed = {}
    for key, tensor in builder.weights.items():
        owner, dot, rest = key.partition(".")
        if owner in inner:  # a LayerScale's own parameter is keyed by its id alone: no dot
            key = f"{node_id}.{inner[owner]}{dot}{rest}"
        renamed[key] = tensor
    builder.weights = renamed
