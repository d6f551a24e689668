"""Units: blocks made of blocks. The project's library of them, and their expansion.

What a unit is (a definition: its body graph, ports and promoted params, and `repeat`)
lives in `engine.units.definition`; its names are importable from here too. An
*instance* is an ordinary node whose type is the definition's name: the project's
`Library` makes a `BlockSpec` for every definition, so the graph, the inspector and
the shape pass treat an instance like any block.

The shape pass runs a definition's blocks for each instance's actual input shapes and
params, memoised until any definition changes, so a thousand blocks spread over a few
definitions cost each distinct (definition, input, params) once. Errors inside name
their path, `stage2/res1/conv2: Conv2d needs …`; with repeat, the copy's index is a
path step (`res1/2/conv2`), so a path with "/" read as "." is the state_dict prefix.

Pure: imports neither torch nor Qt.
"""

from __future__ import annotations

import copy
import keyword
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.blocks.spec import (
    BlockSpec,
    Op,
    Operand,
    RegistryError,
    Shape,
    ShapeMismatch,
    get_spec,
)
from engine.graph.graph import Graph, GraphError, GraphEvent
from engine.graph.shapes import Analysis, InnerError, NodeInfo, infer_node, source_shape
from engine.units.definition import REPEAT, Definition, Promoted

MEMO_LIMIT = 4096


@dataclass(frozen=True)
class UnitPass:
    """One instance's facts: its output shape, totals, and each copy's inner analysis."""

    shape: Shape
    params: int
    flops: int
    copies: tuple[Analysis, ...]
    op: Op
    outputs: dict[str, Shape] = field(default_factory=dict)  # several outputs: each one's


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'s' if n != 1 else ''}"


def _freeze(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    return value


def id_prefix(name: str) -> str:
    prefix = "".join(c for c in name.lower() if c.isalnum() or c == "_").lstrip("0123456789_")
    return prefix if prefix.isidentifier() and not keyword.iskeyword(prefix) else "unit"


class Library:
    """The project's unit definitions, and the block spec each one makes."""

    def __init__(self) -> None:
        self.definitions: dict[str, Definition] = {}
        # Bumped by every change to any definition; the memo and specs are dropped then.
        self.revision = 0
        self._specs: dict[str, BlockSpec] = {}
        self._memo: dict[tuple[Any, ...], UnitPass | ShapeMismatch] = {}
        # engine.graph.expansion's counts, with the revision they were made at.
        self.size_memo: Any = None

    def __deepcopy__(self, memo: dict[int, Any]) -> Library:
        """An independent library: every definition's body copied, bound to the copy."""
        other = Library()
        memo[id(self)] = other
        for name, definition in self.definitions.items():
            body = copy.deepcopy(definition.graph, memo)
            promoted = copy.deepcopy(definition.promoted)
            other.add(Definition(name, body, promoted, definition.description))
        return other

    # ------------------------------------------------------------ queries

    def has(self, name: str) -> bool:
        return name in self.definitions

    def __contains__(self, name: object) -> bool:
        return name in self.definitions

    def definition(self, name: str) -> Definition:
        try:
            return self.definitions[name]
        except KeyError:
            raise GraphError(f"no unit {name!r}") from None

    def uses(self, name: str) -> set[str]:
        """The definitions `name`'s body places directly."""
        return {n.type for n in self.definitions[name].graph.nodes if n.type in self.definitions}

    def contains(self, outer: str, inner: str) -> bool:
        """Whether `outer`'s body holds `inner`, directly or through other units."""
        seen: set[str] = set()
        todo = [outer]
        while todo:
            for used in self.uses(todo.pop()):
                if used == inner:
                    return True
                if used not in seen:
                    seen.add(used)
                    todo.append(used)
        return False

    def placement_problem(self, type_name: str, owner: str | None) -> str | None:
        """Why an instance of `type_name` cannot go into the body of `owner`, if it cannot."""
        if owner is None:
            return None
        if type_name == owner:
            return f"a unit cannot contain itself: {owner} inside {owner}"
        if self.contains(type_name, owner):
            return f"a unit cannot contain itself: {type_name} contains {owner}"
        return None

    def name_problem(self, name: str) -> str | None:
        if not name.isidentifier() or keyword.iskeyword(name):
            return f"unit name {name!r} must be a Python name (letters, digits, _)"
        if name in self.definitions:
            return f"unit name {name!r} is already used"
        try:
            get_spec(name)
        except RegistryError:
            return None
        return f"unit name {name!r} is the name of a block type"

    def new_name(self, base: str) -> str:
        i = 1
        name = base
        while self.name_problem(name) is not None:
            i += 1
            name = f"{base}{i}"
        return name

    def instances_of(self, name: str, graph: Graph) -> list[str]:
        """Ids of the nodes in `graph` that are instances of `name`."""
        return [n.id for n in graph.nodes if n.type == name]

    def affected(self, name: str, graph: Graph) -> list[str]:
        """Ids in `graph` of the instances an edit inside `name` changes (any depth).

        The editor passes them as `changed` to an incremental shape pass.
        """
        return [
            n.id
            for n in graph.nodes
            if n.type in self.definitions and (n.type == name or self.contains(n.type, name))
        ]

    def count_uses(self, name: str, graph: Graph) -> int:
        """How many places an edit inside `name` changes: instances at any depth, repeats
        counted once per instance ("this edit changes 6 instances")."""

        def uses_in(body: Graph) -> int:
            total = 0
            for n in body.nodes:
                if n.type == name:
                    total += 1
                elif n.type in self.definitions:
                    total += uses_in(self.definitions[n.type].graph)
            return total

        return uses_in(graph)

    # -------------------------------------------------------------- edits

    def new_body(self, name: str) -> Graph:
        return Graph(library=self, owner=name)

    def add(self, definition: Definition) -> None:
        if problem := self.name_problem(definition.name):
            raise GraphError(problem)
        definition.graph.library = self
        definition.graph.owner = definition.name
        definition.graph.subscribe(self._changed)
        self.definitions[definition.name] = definition
        self.touch()

    def remove(self, name: str) -> Definition:
        definition = self.definition(name)
        users = [d for d in self.definitions if d != name and name in self.uses(d)]
        if users:
            raise GraphError(f"unit {name!r} is used inside {', '.join(users)}")
        definition.graph.unsubscribe(self._changed)
        del self.definitions[name]
        self.touch()
        return definition

    def set_promoted(self, name: str, promoted: Promoted) -> Promoted:
        """Replace a definition's promoted params; returns the old ones (for undo)."""
        definition = self.definition(name)
        trial = Definition(name, definition.graph, promoted)
        if problems := trial.promotion_problems():
            raise GraphError(f"{name}.promoted.{problems[0]}")
        before = definition.promoted
        definition.promoted = {k: list(v) for k, v in promoted.items()}
        self.touch()
        return before

    def touch(self) -> None:
        """Forget derived facts: a definition changed."""
        self.revision += 1
        if self._memo:  # (loading a file touches once per block and wire)
            self._memo.clear()
        if self._specs:
            self._specs.clear()

    def _changed(self, event: GraphEvent) -> None:
        if event.kind != "node_moved":
            self.touch()

    # -------------------------------------------------------------- specs

    def spec(self, name: str) -> BlockSpec:
        spec = self._specs.get(name)
        if spec is None:
            spec = self._specs[name] = self._make_spec(name)
        return spec

    def _make_spec(self, name: str) -> BlockSpec:
        definition = self.definition(name)
        blocks = len(definition.graph)
        return BlockSpec(
            name=name,
            category="Units",
            summary=definition.description or f"The unit {name} ({blocks} blocks inside).",
            shape_formula="what its blocks make of this input",
            weight_formula="the sum over its blocks (times repeat)",
            params=(*definition.promoted_params(), REPEAT),
            shape=lambda params, operands: (
                self.run(name, params, tuple(o.shape for o in operands.values())).shape
            ),
            op=lambda params, inputs, out: self.run(name, params, tuple(inputs.values())).op,
            count_params=lambda params, inputs, out: (
                self.run(name, params, tuple(inputs.values())).params
            ),
            flops=lambda params, inputs, out: self.run(name, params, tuple(inputs.values())).flops,
            id_prefix=id_prefix(name),
            ports=lambda params: self.definitions[name].inputs,
            outputs=lambda params: self.definitions[name].output_ports,
        )

    # --------------------------------------------------------- the passes

    def run(self, name: str, params: Mapping[str, Any], shapes: tuple[Shape, ...]) -> UnitPass:
        """An instance's pass for these params and input shapes; raises its first error."""
        key = (name, _freeze(dict(params)), shapes)
        result = self._memo.get(key)
        if result is None:
            try:
                result = self._run(self.definition(name), params, shapes)
            except ShapeMismatch as err:
                result = err
            if len(self._memo) >= MEMO_LIMIT:
                self._memo.clear()
            self._memo[key] = result
        if isinstance(result, ShapeMismatch):
            raise result
        return result

    def _run(
        self, definition: Definition, params: Mapping[str, Any], shapes: tuple[Shape, ...]
    ) -> UnitPass:
        ports = definition.inputs
        for _, message in definition.port_problems():
            raise ShapeMismatch(f"is not usable: {message} (inside {definition.name})")
        repeat = params.get(REPEAT.name, 1)
        outputs = definition.outputs
        if repeat > 1 and (len(ports) != 1 or len(outputs) != 1):
            raise ShapeMismatch(
                f"repeats ×{repeat} only with one input and one output port; it has "
                f"{_count(len(ports), 'input')} and {_count(len(outputs), 'output')}"
            )
        overrides: dict[str, dict[str, Any]] = {}
        for promoted, targets in definition.promoted.items():
            if promoted in params:
                for node_id, key in targets:
                    overrides.setdefault(node_id, {})[key] = params[promoted]
        copies = []
        total_params = total_flops = 0
        current = shapes
        for k in range(repeat):
            prefix = f"{k}/" if repeat > 1 else ""
            analysis = inner_pass(definition.graph, overrides, dict(zip(ports, current)), prefix)
            copies.append(analysis)
            total_params += analysis.total_params
            total_flops += analysis.total_flops
            current = tuple(analysis.nodes[o].shape for o in outputs)  # type: ignore[misc]
        output_shapes = dict(zip(outputs, current)) if len(outputs) > 1 else {}
        op = Op(
            "unit",
            target=definition.name,
            args={
                "repeat": repeat,
                "copies": tuple(copies),
                "graph": definition.graph,
                "params": dict(params),
                "outputs": outputs,
                "output_shapes": output_shapes,
            },
        )
        return UnitPass(current[0], total_params, total_flops, tuple(copies), op, output_shapes)


def inner_pass(
    graph: Graph,
    overrides: Mapping[str, Mapping[str, Any]],
    inputs: Mapping[str, Shape],
    prefix: str = "",
) -> Analysis:
    """A definition body's facts for actual input shapes; raises InnerError at the first.

    The Input blocks take the given shapes; the Output block passes its input on (the
    loss belongs to the whole model, not to a unit); `overrides` are the values of
    promoted params, per inner block.
    """
    infos: dict[str, NodeInfo] = {}
    for node_id in graph.topological_order():
        node = graph.node(node_id)
        spec = node.spec
        if spec.role == "input":
            infos[node_id] = NodeInfo(shape=inputs[node_id], op=Op("input"))
            continue
        params = node.params
        if node_id in overrides:
            params = {**params, **overrides[node_id]}
        sources = graph.incoming(node_id)
        operands = {}
        for port in spec.ports(params):
            if port not in sources:
                raise InnerError(f"{prefix}{node_id}: {spec.name} input {port!r} is not wired")
            shape = source_shape(graph, infos[sources[port]], node_id, port)
            if shape is None:
                raise InnerError(f"{prefix}{node_id}: {spec.name} input {port!r} has no value")
            operands[port] = Operand(shape, sources[port])
        if spec.role == "output":
            shape = operands["x"].shape
            info = NodeInfo(shape=shape, input_shapes={"x": shape}, op=Op("output"))
        else:
            info = infer_node(node_id, spec, params, operands)
            if info.error:
                raise InnerError(prefix + info.error)
        infos[node_id] = info
    return Analysis(infos, [])


# --------------------------------------------------------------- queries for views


def library_of(graph: Graph) -> Library:
    """The graph's unit library, attached first if it has none."""
    if graph.library is None:
        graph.library = Library()
    library: Library = graph.library
    return library


def instance_pass(graph: Graph, analysis: Analysis, node_id: str) -> UnitPass | None:
    """An instance's inner facts as the last shape pass saw them (None if blocked)."""
    info = analysis.nodes.get(node_id)
    if info is None or info.op is None or info.op.kind != "unit":
        return None
    node = graph.node(node_id)
    library: Library = node.library
    return library.run(node.type, node.params, tuple(info.input_shapes.values()))


def walk(graph: Graph, analysis: Analysis, prefix: str = "") -> Iterable[tuple[str, NodeInfo]]:
    """(path, facts) of every block, units opened to any depth: `stage2/res1/conv2`."""
    for node_id in graph.topological_order():
        info = analysis.nodes[node_id]
        path = prefix + node_id
        yield path, info
        if info.op is not None and info.op.kind == "unit":
            body: Graph = info.op.args["graph"]
            copies: tuple[Analysis, ...] = info.op.args["copies"]
            for k, inner in enumerate(copies):
                step = f"{path}/{k}/" if len(copies) > 1 else f"{path}/"
                yield from walk(body, inner, step)


def usages(graph: Graph, analysis: Analysis, name: str) -> list[tuple[str, Analysis]]:
    """Every place the unit `name` is used, at any depth, with the facts of its blocks
    there: (path, inner analysis). A repeated instance's copies are places of their own
    (`block1/0`, `block1/1`). The editor lets a person choose which one an opened unit shows."""
    found = []
    for path, info in walk(graph, analysis):
        if info.op is not None and info.op.kind == "unit" and info.op.target == name:
            copies: tuple[Analysis, ...] = info.op.args["copies"]
            for k, inner in enumerate(copies):
                found.append((f"{path}/{k}" if len(copies) > 1 else path, inner))
    return found


def same_facts(a: Analysis, b: Analysis) -> bool:
    """Whether two places of a unit show the same values on every block inside."""
    if a.nodes.keys() != b.nodes.keys():
        return False
    return all(
        (x.shape, x.params, x.flops) == (y.shape, y.params, y.flops)
        for x, y in zip(a.nodes.values(), (b.nodes[k] for k in a.nodes), strict=True)
    )
