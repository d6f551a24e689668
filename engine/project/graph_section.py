"""A graph's blocks and wires as a project file holds them, for the project and its units.

Reading one node or one wire (each problem a `ProjectError` naming its JSON path) and
writing a graph back. `engine.project.project` reads the file's own graph with these, and
`engine.project.units_section` each unit's body, so a definition's body obeys the same
rules as the project; neither imports the other's private names.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from engine.blocks.spec import ParamError
from engine.common.formatting import one_line
from engine.graph.graph import Edge, Graph, GraphError, Node
from engine.graph.names import id_problem, safe_id
from engine.project.schema import describe

MAX_POSITION = 1e9  # canvas coordinates; a hostile file's 1e308 stays off the canvas


class ProjectError(Exception):
    """A project file that cannot be read; the message names the place, in one line.

    Places are built from the file's own keys and names, so a line break or another
    character that prints as nothing is shown as its escape (`units.a\\nb`).
    """

    def __init__(self, message: str) -> None:
        super().__init__(one_line(message))


@dataclass
class TakenIds:
    """The ids a node renamed while a graph loads must avoid: the graph's and the valid
    ones of the file (those keep them, also further down). Asked in place, not copied
    per node; `suffixes` lets ids renamed alike continue where the last one stopped."""

    graph: Graph
    valid: set[str]
    suffixes: dict[str, int] = field(default_factory=dict)

    def __contains__(self, node_id: object) -> bool:
        return node_id in self.valid or node_id in self.graph


def expect(value: Any, kind: type, where: str, what: str) -> None:
    """The type check of the readers below, for units read without `from_dict` (the
    shipped units); a project file's types are checked before (engine.project.schema)."""
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise ProjectError(f"{where}: expected {what}, got {describe(value)}")


def load_node(graph: Graph, raw: Any, where: str, ids: dict[str, str], taken: TakenIds) -> None:
    """Add the node `raw` (at JSON path `where`) to `graph`; `ids` maps its id in the file to
    its id in the graph (an unsafe id is renamed, avoiding `taken`)."""
    expect(raw, dict, where, "an object")
    file_id = raw.get("id")
    expect(file_id, str, f"{where}.id", "a string")
    if file_id in ids:
        raise ProjectError(f"{where}.id: {short(file_id)} is used by another node")
    # An id that is no safe Python name is renamed, never turned into code.
    if id_problem(file_id) is None:
        node_id = file_id
    else:
        node_id = safe_id(file_id, taken, taken.suffixes)
    type_name = raw.get("type")
    expect(type_name, str, f"{where}.type", "a string")
    try:
        spec = graph.spec_of(type_name)  # a block type, or a unit of the project
    except GraphError as err:
        if "unknown block type" in str(err):
            raise ProjectError(
                f"{where}.type: unknown block type {short(type_name)} (and no unit of that name)"
            ) from None
        raise ProjectError(f"{where}.type: {err}") from None
    params = raw.get("params", {})
    expect(params, dict, f"{where}.params", "an object")
    try:
        spec.resolve_params(params)
    except ParamError as err:
        raise ProjectError(f"{where}.params.{err}") from None
    pos = raw.get("pos", [0, 0])
    if not (
        isinstance(pos, list)
        and len(pos) == 2
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in pos)
    ):
        raise ProjectError(f"{where}.pos: expected [x, y] numbers, got {describe(pos)}")
    if not all(abs(v) <= MAX_POSITION for v in pos):
        raise ProjectError(
            f"{where}.pos: expected coordinates within ±{MAX_POSITION:g}, "
            f"got {json.dumps(pos)[:60]}"
        )
    frozen = raw.get("frozen", False)
    expect(frozen, bool, f"{where}.frozen", "true or false")
    try:
        graph.add_node(type_name, params, (pos[0], pos[1]), node_id).frozen = frozen
    except GraphError as err:  # checked above; kept so no graph rule escapes as a traceback
        raise ProjectError(f"{where}: {err}") from None
    ids[file_id] = node_id


def short(text: str, limit: int = 60) -> str:
    """`repr(text)`, cut to `limit` characters for a message."""
    shown = repr(text)
    return shown if len(shown) <= limit else shown[: limit - 4] + "…'"


def load_edge(graph: Graph, raw: Any, where: str, ids: dict[str, str]) -> None:
    """Connect the wire `raw` (at JSON path `where`), its ends named by their ids in the file."""
    expect(raw, dict, where, "an object")
    ends = {}
    for key in ("source", "target"):
        value = raw.get(key)
        expect(value, str, f"{where}.{key}", "a node id")
        if value not in ids:
            raise ProjectError(f"{where}.{key}: no node with id {short(value)}")
        ends[key] = ids[value]
    port = raw.get("target_port", "x")
    expect(port, str, f"{where}.target_port", "a port name")
    source_port = raw.get("source_port", "")
    expect(source_port, str, f"{where}.source_port", "an output port name")
    try:
        graph.connect(ends["source"], ends["target"], port, source_port)
    except GraphError as err:
        raise ProjectError(f"{where}: {err}") from None


def graph_dict(graph: Graph) -> dict[str, Any]:
    """A graph's `nodes` and `edges` as the file holds them."""
    return {
        "nodes": [node_dict(n) for n in graph.nodes],
        "edges": [edge_dict(e) for e in graph.edges],
    }


def node_dict(node: Node) -> dict[str, Any]:
    """A block as the file holds it; `frozen` only when true, so files without a frozen
    block read as they always did."""
    entry = {"id": node.id, "type": node.type, "params": node.params, "pos": finite_pos(node.pos)}
    if node.frozen:
        entry["frozen"] = True
    return entry


def edge_dict(edge: Edge) -> dict[str, str]:
    """A wire as the file holds it; `source_port` only for a unit's named output."""
    entry = {"source": edge.source, "target": edge.target, "target_port": edge.port}
    if edge.source_port:
        entry["source_port"] = edge.source_port
    return entry


def finite_pos(pos: tuple[float, float]) -> list[float]:
    """A position that is valid JSON: a NaN or infinite coordinate becomes 0."""
    return [v if math.isfinite(v) else 0.0 for v in (pos[0], pos[1])]
