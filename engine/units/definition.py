"""What a unit is: a definition, its ports and the inner params it promotes.

A *definition* is a small graph stored once in the project. Its Input blocks are the
unit's input ports (the block id is the port name, in graph order) and its Output
blocks its outputs: with one, the instance has one plain output as any block; with
several, each is an output port named by its block id, and wires leaving the instance
name the one they leave from (`Edge.source_port`). An *instance* is an ordinary node
whose type is the definition's name (`engine.units.units.Library` makes its spec).

A definition can *promote* inner params: `promoted["channels"] = [("conv1",
"out_channels"), ("conv2", "out_channels")]` gives every instance a `channels` param
(kind, bounds and help of the first inner param, default its current value) that
those inner blocks read. Every instance also has `repeat` (`REPEAT`): N copies in series.

Pure: imports neither torch nor Qt.
"""

from __future__ import annotations

import copy
import dataclasses
import keyword
from dataclasses import dataclass, field

from engine.blocks.spec import Param
from engine.graph.graph import Graph

REPEAT = Param(
    "repeat",
    "int",
    1,
    "Copies of the unit in series: each copy's output feeds the next copy.",
    minimum=1,
    maximum=64,
)

Promoted = dict[str, list[tuple[str, str]]]


@dataclass
class Definition:
    """A unit: its body graph, the inner params it promotes, and a description."""

    name: str
    graph: Graph
    promoted: Promoted = field(default_factory=dict)
    description: str = ""

    @property
    def inputs(self) -> tuple[str, ...]:
        """The input ports: the ids of the body's Input blocks, in graph order."""
        return tuple(self.graph.ids_of_role("input"))

    @property
    def output(self) -> str | None:
        """The id of the body's Output block, or None unless there is exactly one."""
        outputs = self.graph.ids_of_role("output")
        return outputs[0] if len(outputs) == 1 else None

    @property
    def outputs(self) -> tuple[str, ...]:
        """The ids of the body's Output blocks, in graph order."""
        return tuple(self.graph.ids_of_role("output"))

    @property
    def output_ports(self) -> tuple[str, ...]:
        """An instance's output ports: ("",), the plain output, for a unit with one
        Output block; else the Output blocks' ids, which wires leaving it name."""
        outputs = self.outputs
        return ("",) if len(outputs) <= 1 else outputs

    def promoted_params(self) -> tuple[Param, ...]:
        params = []
        for name, targets in self.promoted.items():
            node_id, key = targets[0]
            node = self.graph.node(node_id)
            inner = node.spec.param(key)
            places = ", ".join(f"{n}.{k}" for n, k in targets)
            help_text = f"{inner.help} (sets {places})".strip()
            default = copy.deepcopy(node.params[key])
            params.append(dataclasses.replace(inner, name=name, default=default, help=help_text))
        return tuple(params)

    def promotion_problems(self) -> list[str]:
        """Each promoted param that points nowhere or mixes kinds, naming the place."""
        problems = []
        for name, targets in self.promoted.items():
            if keyword.iskeyword(name) or not name.isidentifier() or name == REPEAT.name:
                problems.append(f"{name}: a promoted param needs a name usable in Python")
            if not targets:
                problems.append(f"{name}: promotes no inner param")
            first: Param | None = None
            for i, (node_id, key) in enumerate(targets):
                where = f"{name}[{i}]"
                if node_id not in self.graph:
                    problems.append(f"{where}: {self.name} has no block {node_id!r}")
                    continue
                spec = self.graph.node(node_id).spec
                try:
                    param = spec.param(key)
                except KeyError:
                    problems.append(f"{where}: {node_id} ({spec.name}) has no param {key!r}")
                    continue
                if first is None:
                    first = param
                elif (param.kind, param.choices) != (first.kind, first.choices):
                    problems.append(
                        f"{where}: {node_id}.{key} is {param.expectation()}, unlike "
                        f"{targets[0][0]}.{targets[0][1]}"
                    )
        return problems

    def port_problems(self) -> list[tuple[str | None, str]]:
        """(block id or None, message) for ports that map to nothing."""
        problems: list[tuple[str | None, str]] = []
        graph = self.graph
        for port in self.inputs:
            if not graph.outgoing(port):
                problems.append((port, f"input port {port!r} feeds nothing"))
        outputs = graph.ids_of_role("output")
        if not outputs:
            problems.append((None, "a unit needs at least one Output block (an output port)"))
        for out in outputs:
            if "x" not in graph.incoming(out):
                problems.append((out, f"output port {out!r} is wired to nothing"))
        if not self.inputs:
            problems.append((None, "a unit needs at least one Input block (an input port)"))
        return problems
