"""Whole-graph shape inference, parameter counts and multiply-adds.

`analyze(graph)` is a pure pass: it reads the graph and returns facts per node.
It runs on every edit, so it stays a single walk in topological order.
"""

from __future__ import annotations

import heapq
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.blocks.spec import BlockSpec, Op, Operand, Shape, ShapeMismatch
from engine.graph.expansion import ExpansionError, check_graph
from engine.graph.graph import Graph, Problem


@dataclass(frozen=True)
class NodeInfo:
    """What the pass knows of one node. `shape` is None when it or a source failed."""

    shape: Shape | None = None
    error: str | None = None
    params: int = 0
    flops: int = 0
    input_shapes: dict[str, Shape] = field(default_factory=dict)
    op: Op | None = None
    # A unit with several outputs: each output port's shape (`shape` is the first's).
    outputs: dict[str, Shape] = field(default_factory=dict)

    def output_shape(self, port: str = "") -> Shape | None:
        """The shape leaving output `port` ("" for a block's one output)."""
        return self.outputs.get(port) if self.outputs else self.shape


@dataclass
class Analysis:
    nodes: dict[str, NodeInfo]
    problems: list[Problem]
    # The problems that need no shapes (graph.structural_problems()), kept so that a pass
    # after a param edit, which cannot change the structure, need not look at every node
    # again. None when the pass did not compute them (an expansion error).
    structural: list[Problem] | None = field(default=None, compare=False, repr=False)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def total_params(self) -> int:
        return sum(info.params for info in self.nodes.values())

    @property
    def total_flops(self) -> int:
        return sum(info.flops for info in self.nodes.values())

    def errors_of(self, node_id: str) -> list[str]:
        return [p.message for p in self.problems if p.node == node_id]


def analyze(
    graph: Graph, previous: Analysis | None = None, changed: Collection[str] | None = None
) -> Analysis:
    """Shapes, counts and errors of every node.

    Incremental use: pass the `previous` analysis and the ids whose params `changed`
    since, when no node or wire was added or removed and no unit definition edited in
    between (the editor knows). Then only those nodes, and nodes whose inputs changed
    shape, run their rules again, in topological order; the rest, and the structural
    problems, are the previous pass's. The result equals a full pass.

    First the graph's expanded size is counted (engine.graph.expansion, linear in the unit
    definitions): a graph whose units would expand beyond engine.common.limits is not walked
    at all; its one problem names the path that explodes.
    """
    try:
        check_graph(graph)
    except ExpansionError as err:
        return Analysis({n.id: NodeInfo() for n in graph.nodes}, [Problem(err.node, str(err))])
    if previous is not None and changed is not None:
        if (again := _reanalyze(graph, previous, set(changed))) is not None:
            return again
    structural = graph.structural_problems()
    unwired = {p.node for p in structural if p.node is not None}
    problems = list(structural)
    infos: dict[str, NodeInfo] = {}
    for node_id in graph.topological_order():
        info = (
            NodeInfo()
            if node_id in unwired
            else _infer(graph, node_id, graph.incoming(node_id), infos)
        )
        infos[node_id] = info
        if info.error:
            problems.append(Problem(node_id, info.error))
    return Analysis(infos, problems, structural)


def _reanalyze(graph: Graph, previous: Analysis, changed: set[str]) -> Analysis | None:
    """The incremental pass: the `changed` nodes run their rules again, then, in
    topological order, only the nodes downstream of one whose output changed. None when
    `previous` cannot serve (it lacks its structural problems or one of the nodes).

    The structure is as it was, so the previous structural problems hold, except for the
    changed nodes' own (a param may add an input port): when one of theirs differs, they
    are all looked at again."""
    structural, old = previous.structural, previous.nodes
    if structural is None or len(old) != len(graph) or not changed <= old.keys():
        return None
    for node_id in changed:
        if graph.node_problems(node_id) != [p for p in structural if p.node == node_id]:
            structural = graph.structural_problems()
            break
    unwired = {p.node for p in structural if p.node is not None}
    index = graph.topological_index()
    infos = dict(old)  # in topological order, as the pass that made them walked
    waiting = [(index[node_id], node_id) for node_id in changed]
    heapq.heapify(waiting)
    queued = set(changed)
    while waiting:
        _, node_id = heapq.heappop(waiting)
        sources = graph.incoming(node_id)
        info = NodeInfo() if node_id in unwired else _infer(graph, node_id, sources, infos)
        infos[node_id] = info
        # (a unit with several outputs may change one that is not the first)
        if _leaves_differently(info, old[node_id]):
            for target in graph.successors(node_id):
                if target not in queued:
                    queued.add(target)
                    heapq.heappush(waiting, (index[target], target))
    problems = list(structural)
    problems += [Problem(node_id, info.error) for node_id, info in infos.items() if info.error]
    return Analysis(infos, problems, structural)


def _leaves_differently(info: NodeInfo, old: NodeInfo) -> bool:
    """Whether what leaves a node (any output, or its error) changed since the last pass."""
    return info.shape != old.shape or info.error != old.error or info.outputs != old.outputs


class InnerError(ShapeMismatch):
    """A problem inside a unit instance; `path_message` reads "res1/conv2: Conv2d needs …".

    The pass puts the instance's id in front, so an error three units deep names its path:
    `stage2/res1/conv2: Conv2d needs …`.
    """

    def __init__(self, path_message: str) -> None:
        super().__init__(path_message)
        self.path_message = path_message


def _infer(
    graph: Graph, node_id: str, sources: dict[str, str], infos: dict[str, NodeInfo]
) -> NodeInfo:
    node = graph.node(node_id)
    spec = node.spec
    ready = {}
    for port, src in sources.items():
        source = infos[src]
        # Inline for the common case (a block's one output): this runs on every edit.
        shape = source_shape(graph, source, node_id, port) if source.outputs else source.shape
        if shape is None:
            return NodeInfo()  # blocked by an upstream error; not its own
        ready[port] = shape
    # Operands in port order, so rules and messages read in the order of the ports.
    operands = {port: Operand(ready[port], sources[port]) for port in spec.ports(node.params)}
    return infer_node(node_id, spec, node.params, operands)


def source_shape(graph: Graph, source: NodeInfo, node_id: str, port: str) -> Shape | None:
    """The shape arriving at input `port` of `node_id` from `source`'s facts (None if
    the source failed); a multi-output unit's wire names the output it leaves from."""
    if not source.outputs:
        return source.shape
    return source.output_shape(graph.incoming_edges(node_id)[port].source_port)


def infer_node(
    node_id: str, spec: BlockSpec, params: Mapping[str, Any], operands: Mapping[str, Operand]
) -> NodeInfo:
    """One block's facts from its params and the operands at its ports (pure)."""
    try:
        if not spec.takes_ids:
            for operand in operands.values():
                if operand.shape.ids:
                    raise ShapeMismatch(
                        f"needs float input; got token ids {operand} — "
                        "feed them to an Embedding first"
                    )
        shape = spec.shape(params, operands)
    except InnerError as err:
        return NodeInfo(error=f"{node_id}/{err.path_message}")
    except ShapeMismatch as err:
        return NodeInfo(error=f"{node_id}: {spec.name} {err}")
    inputs = {port: operand.shape for port, operand in operands.items()}
    op = spec.op(params, inputs, shape)
    return NodeInfo(
        shape=shape,
        params=spec.count_params(params, inputs, shape),
        flops=spec.flops(params, inputs, shape),
        input_shapes=inputs,
        op=op,
        outputs=op.args.get("output_shapes") or {},
    )
