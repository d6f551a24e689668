"""Whole-graph shape inference, parameter counts and multiply-adds.

`analyze(graph)` is a pure pass: it reads the graph and returns facts per node.
It runs on every edit, so it stays a single walk in topological order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.graph import Graph, Problem
from engine.spec import Op, Operand, Shape, ShapeMismatch


@dataclass(frozen=True)
class NodeInfo:
    """What the pass knows of one node. `shape` is None when it or a source failed."""

    shape: Shape | None = None
    error: str | None = None
    params: int = 0
    flops: int = 0
    input_shapes: dict[str, Shape] = field(default_factory=dict)
    op: Op | None = None


@dataclass
class Analysis:
    nodes: dict[str, NodeInfo]
    problems: list[Problem]

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


def analyze(graph: Graph) -> Analysis:
    problems = graph.structural_problems()
    unwired = {p.node for p in problems if p.node is not None}
    infos: dict[str, NodeInfo] = {}
    for node_id in graph.topological_order():
        node = graph.node(node_id)
        spec = node.spec
        if node_id in unwired:
            infos[node_id] = NodeInfo()
            continue
        sources = graph.incoming(node_id)
        ready = {port: infos[src].shape for port, src in sources.items()}
        if any(shape is None for shape in ready.values()):
            infos[node_id] = NodeInfo()  # blocked by an upstream error; not its own
            continue
        # Operands in port order, so rules and messages read in the order of the ports.
        operands = {port: Operand(ready[port], sources[port]) for port in spec.ports(node.params)}
        try:
            if not spec.takes_ids:
                for operand in operands.values():
                    if operand.shape.ids:
                        raise ShapeMismatch(
                            f"needs float input; got token ids {operand} — "
                            "feed them to an Embedding first"
                        )
            shape = spec.shape(node.params, operands)
        except ShapeMismatch as err:
            message = f"{node_id}: {spec.name} {err}"
            infos[node_id] = NodeInfo(error=message)
            problems.append(Problem(node_id, message))
            continue
        inputs = {port: operand.shape for port, operand in operands.items()}
        infos[node_id] = NodeInfo(
            shape=shape,
            params=spec.count_params(node.params, inputs, shape),
            flops=spec.flops(node.params, inputs, shape),
            input_shapes=inputs,
            op=spec.op(node.params, inputs, shape),
        )
    return Analysis(infos, problems)
