"""Shared by the importers: grow a NetLoom graph, its weights and its report.

An importer walks the source model in order and, for each operation, asks the
`GraphBuilder` for a block. `add` validates the parameters against the block's spec,
runs the block's own shape rule and compares the result with the shape the original
model produced at that point; a mismatch is reported at the operation's place, so a
mapping mistake can never slip into a project unnoticed. Weights are kept under the
keys NetLoom's built model uses (`<node id>.<parameter>`).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine.blocks.spec import Op, Operand, ParamError, Shape, ShapeMismatch, get_spec
from engine.graph.graph import Graph
from engine.graph.names import safe_id
from engine.importers.report import ImportReport, Unsupported
from engine.project.project import Project

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

X_STEP, Y_STEP = 220, 110  # canvas spacing of imported blocks (as in the templates)
WRAP = 6  # columns before a chain wraps to the next band


@dataclass(frozen=True)
class Value:
    """A tensor flowing through the imported graph.

    `node` is the NetLoom node that produces it, or None when the operation that made
    it could not be mapped (it is in the report; later operations are still checked).
    `port` names the output it leaves from, for a block with several (a Split's "out2").
    """

    node: str | None
    shape: Shape
    port: str = ""


@dataclass
class Recurrent:
    """A recurrent layer whose output mode is known only once its result is used.

    torch and ONNX return the whole sequence and the final states together; a NetLoom
    block gives the sequence or the last step, so the block is made at the first use.
    """

    cell: str
    params: dict[str, Any]
    source: Value
    hint: str | None
    place: str
    op: str
    weights: dict[str, Any]
    steps: int
    state: Value | None = None  # the initial state, another recurrent layer's final one
    mode: str | None = None
    value: Value | None = None

    @property
    def directions(self) -> int:
        return 2 if self.params["bidirectional"] else 1

    @property
    def width(self) -> int:
        return self.params["hidden_size"] * self.directions


@dataclass
class GraphBuilder:
    report: ImportReport
    graph: Graph = field(default_factory=Graph)
    weights: dict[str, Any] = field(default_factory=dict)
    places: dict[str, str] = field(default_factory=dict)  # node id → place in the source
    reserved: set[str] = field(default_factory=set)  # ids kept for module paths
    ops: dict[str, Op] = field(default_factory=dict)  # node id → what its block runs
    # node id → the variable the source assigns its value to, for blocks named so
    variables: dict[str, str] = field(default_factory=dict)
    renamed: dict[str, str] = field(default_factory=dict)  # id first given → id now

    # ------------------------------------------------------------------ ids

    def reserve(self, hint: str) -> str:
        node_id = safe_id(hint, self.reserved | self._ids())
        self.reserved.add(node_id)
        return node_id

    def _ids(self) -> set[str]:
        return {n.id for n in self.graph.nodes}

    def new_id(self, hint: str | None, prefix: str) -> str:
        taken = self._ids()
        if hint is not None:
            candidate = safe_id(hint, taken)
            if candidate in self.reserved and candidate not in taken:
                return candidate
            return safe_id(hint, taken | self.reserved)
        i = 1
        while f"{prefix}{i}" in taken or f"{prefix}{i}" in self.reserved:
            i += 1
        return f"{prefix}{i}"

    # --------------------------------------------------------------- blocks

    def add_input(self, name: str, dims: Sequence[int], sequence: bool, dtype: str) -> Value:
        node_id = self.new_id(name, "input")
        params = {"shape": list(dims), "sequence": sequence, "dtype": dtype}
        self.graph.add_node("Input", params, node_id=node_id)
        self.places[node_id] = name
        return Value(node_id, Shape(tuple(dims), time=sequence, ids=dtype == "int64"))

    def add_output(self, value: Value, place: str, name: str | None = None) -> None:
        """An Output for `value`, named `name` (what the source calls the returned value)
        when that is free, else numbered."""
        if value.node is None:
            return
        features = value.shape.dims
        classes = not value.shape.time and (len(features) == 1 or len(features) == 3)
        loss = "cross_entropy" if classes and features[0] > 1 else "mse"
        free = name is not None and name not in self._ids() | self.reserved
        node_id = name if free and name is not None else self.new_id(None, "output")
        self.graph.add_node("Output", {"loss": loss}, node_id=node_id)
        self.graph.connect(value.node, node_id, "x", value.port)
        self.places[node_id] = place
        self.report.note(
            place,
            "output",
            f"{node_id} trains with loss {loss} (a guess: change it in the inspector)",
        )

    def add(
        self,
        type_name: str,
        params: Mapping[str, Any],
        inputs: Sequence[Value],
        *,
        place: str,
        op: str,
        expect: Sequence[int] | None,
        hint: str | None = None,
        weights: Mapping[str, Any] | None = None,
    ) -> Value:
        """A block of `type_name` fed by `inputs`; raises Unsupported when it does not fit.

        `expect` is the output shape after the batch axis that the original model
        produced here; the block's own shape rule must give the same.
        """
        spec = get_spec(type_name)
        try:
            values = spec.resolve_params(dict(params))
        except ParamError as err:
            raise Unsupported(f"NetLoom's {type_name} cannot take {err}") from None
        ports = spec.ports(values)
        if len(ports) != len(inputs):
            raise Unsupported(f"{type_name} takes {len(ports)} input(s), got {len(inputs)}")
        if any(x.node is None for x in inputs):  # after an unmapped operation: already reported
            return Value(None, Shape(tuple(expect or ())))
        operands = {
            port: Operand(x.shape, x.node or "an unmapped operation")
            for port, x in zip(ports, inputs, strict=True)
        }
        if not spec.takes_ids and any(x.shape.ids for x in inputs):
            raise Unsupported(f"{type_name} needs float input; got token ids")
        try:
            shape = spec.shape(values, operands)
        except ShapeMismatch as err:
            raise Unsupported(f"NetLoom's {type_name} {err}") from None
        if expect is not None and tuple(expect) != shape.dims:
            raise Unsupported(
                f"NetLoom's {type_name} would give {shape} where the model gives "
                f"(N, {', '.join(str(d) for d in expect)})"
            )
        node_id = self.new_id(hint, spec.id_prefix)
        self.graph.add_node(type_name, values, node_id=node_id)
        for port, x in zip(ports, inputs, strict=True):
            assert x.node is not None
            self.graph.connect(x.node, node_id, port, x.port)
        for key, tensor in (weights or {}).items():
            self.weights[f"{node_id}.{key}"] = tensor
        self.places[node_id] = place
        self.ops[node_id] = spec.op(values, {p: x.shape for p, x in zip(ports, inputs)}, shape)
        self.report.mapped += 1
        log.debug("%s: %s → %s %s", place, op, node_id, type_name)
        return Value(node_id, shape)

    def remove(self, node_id: str) -> None:
        """Take back a block that nothing uses yet (it is being merged into a bigger one)."""
        self.graph.remove_node(node_id)
        self.places.pop(node_id, None)
        self.ops.pop(node_id, None)
        self.weights = {k: v for k, v in self.weights.items() if k.split(".", 1)[0] != node_id}
        self.report.mapped -= 1

    def rename(self, renamed: Mapping[str, str]) -> None:
        """Give nodes new ids (old → new), in place: the graph keeps its order and wiring;
        weights, places and ops follow."""
        if not renamed:
            return
        old = self.graph
        graph = Graph()
        graph.library = old.library
        for node in old.nodes:
            graph.add_node(node.type, node.params, node.pos, renamed.get(node.id, node.id))
        for edge in old.edges:
            source, target = renamed.get(edge.source, edge.source), renamed.get(edge.target)
            graph.connect(source, target or edge.target, edge.port, edge.source_port)
        self.graph = graph

        def moved(key: str) -> str:
            owner, dot, rest = key.partition(".")
            return renamed.get(owner, owner) + dot + rest

        self.weights = {moved(k): v for k, v in self.weights.items()}
        self.places = {renamed.get(k, k): v for k, v in self.places.items()}
        self.ops = {renamed.get(k, k): v for k, v in self.ops.items()}
        self.variables = {renamed.get(k, k): v for k, v in self.variables.items()}
        self.renamed = {k: renamed.get(v, v) for k, v in self.renamed.items()}
        self.renamed.update({k: v for k, v in renamed.items() if k not in self.renamed})

    def recurrent(self, rec: Recurrent, mode: str) -> Value:
        """The block for `rec` with output `mode` ("sequence", "last" or "state"), made once."""
        if rec.mode is not None and rec.mode != mode:
            raise Unsupported(
                f"the model uses both the sequence and the last step of {rec.op}; a NetLoom "
                "recurrent block outputs one of them"
            )
        if rec.value is None:
            width = rec.width
            rows = (2 if rec.cell == "LSTM" else 1) * rec.params["num_layers"] * rec.directions
            expect = {
                "sequence": (rec.steps, width),
                "last": (width,),
                "state": (rows, rec.params["hidden_size"]),
            }[mode]
            rec.value = self.add(
                rec.cell,
                {**rec.params, "output": mode, "initial_state": rec.state is not None},
                [rec.source] if rec.state is None else [rec.source, rec.state],
                place=rec.place,
                op=rec.op,
                expect=expect,
                hint=rec.hint,
                weights=rec.weights,
            )
            rec.mode = mode
        return rec.value

    # ---------------------------------------------------------------- finish

    def project(self, name: str, description: str) -> Project:
        layout(self.graph)
        return Project(self.graph, name=name, description=description, training={})


def layout(graph: Graph) -> None:
    """Place blocks left to right by depth, branches one under another; a long chain
    wraps into bands of WRAP columns, read like text, as the templates are."""
    depth: dict[str, int] = {}
    for node_id in graph.topological_order():
        sources = graph.incoming(node_id).values()
        depth[node_id] = max((depth[s] + 1 for s in sources), default=0)
    widest = Counter(depth.values())
    band_rows = max(widest.values(), default=1) + 1  # a band's height, a spare row between
    rows: dict[int, int] = {}
    for node_id in graph.topological_order():
        column, band = depth[node_id] % WRAP, depth[node_id] // WRAP
        row = rows.get(depth[node_id], 0)
        rows[depth[node_id]] = row + 1
        graph.move(node_id, (column * X_STEP, (band * band_rows + row) * Y_STEP))


def state_dict_problems(builder: GraphBuilder, model: torch.nn.Module) -> list[tuple[str, str]]:
    """(place, why) for every weight that does not fit the NetLoom model's own."""
    own = model.state_dict()
    problems = []
    for key, tensor in builder.weights.items():
        node = key.split(".", 1)[0]
        if key not in own:
            problems.append((builder.places.get(node, node), f"{key} has no place in {node}"))
        elif tuple(own[key].shape) != tuple(tensor.shape):
            problems.append(
                (
                    builder.places.get(node, node),
                    f"{key} is {tuple(tensor.shape)} in the model, "
                    f"{tuple(own[key].shape)} in NetLoom's {node}",
                )
            )
    for key in own:
        if key not in builder.weights:
            node = key.split(".", 1)[0]
            problems.append((builder.places.get(node, node), f"no weight for {key}"))
    return problems
