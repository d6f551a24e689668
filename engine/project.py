"""Project files: versioned JSON, read as data only, written atomically.

Errors name the JSON path of the problem, e.g.
`nodes[3].params.kernel_size: expected an integer ≥ 1, got -2`.
"""

from __future__ import annotations

import copy
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.graph import Graph, GraphError
from engine.names import id_problem, safe_id
from engine.spec import ParamError
from engine.units_file import load_units, units_to_dict

FORMAT = "netloom"
VERSION = 2


class ProjectError(Exception):
    """A project file that cannot be read; the message names the place."""


@dataclass
class Project:
    graph: Graph = field(default_factory=Graph)
    name: str = "Untitled"
    description: str = ""
    training: dict[str, Any] = field(default_factory=dict)
    # Fields of the file this version does not know, kept so a save loses nothing.
    extra: dict[str, Any] = field(default_factory=dict)


# One function per version bump: MIGRATIONS[v] turns a version-v document into v+1.
def _v1_to_v2(doc: dict[str, Any]) -> dict[str, Any]:
    """Version 2 adds unit definitions (engine.units); a v1 file has none."""
    doc.setdefault("units", {})
    return doc


MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _v1_to_v2}


def migrate(doc: dict[str, Any]) -> dict[str, Any]:
    version = doc.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ProjectError(f"version: expected a positive integer, got {json.dumps(version)}")
    if version > VERSION:
        raise ProjectError(
            f"version: this file is version {version}; this NetLoom reads up to {VERSION} — "
            "update NetLoom to open it"
        )
    while version < VERSION:
        doc = MIGRATIONS[version](doc)
        version = doc["version"] = version + 1
    return doc


# ------------------------------------------------------------------- loading


def load(path: str | Path) -> Project:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProjectError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ProjectError(f"{path}: cannot read: {err}") from None
    try:
        return loads(text)
    except ProjectError as err:
        raise ProjectError(f"{path}: {err}") from None


def loads(text: str) -> Project:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as err:
        raise ProjectError(
            f"line {err.lineno} column {err.colno}: invalid JSON: {err.msg}"
        ) from None
    return from_dict(doc)


def from_dict(doc: Any) -> Project:
    doc = copy.deepcopy(doc)
    _expect(doc, dict, "(top level)", "an object")
    if doc.get("format") != FORMAT:
        raise ProjectError(f"format: expected {FORMAT!r}, got {json.dumps(doc.get('format'))}")
    doc = migrate(doc)
    name = doc.get("name", "Untitled")
    _expect(name, str, "name", "a string")
    description = doc.get("description", "")
    _expect(description, str, "description", "a string")
    training = doc.get("training", {})
    _expect(training, dict, "training", "an object")
    nodes = doc.get("nodes", [])
    _expect(nodes, list, "nodes", "a list")
    edges = doc.get("edges", [])
    _expect(edges, list, "edges", "a list")

    library = load_units(doc.get("units", {}), _load_node, _load_edge, ProjectError)
    graph = Graph(library=library)
    ids: dict[str, str] = {}  # id in the file → id in the graph
    for i, raw in enumerate(nodes):
        _load_node(graph, raw, f"nodes[{i}]", ids)
    for i, raw in enumerate(edges):
        _load_edge(graph, raw, f"edges[{i}]", ids)
    known = {"format", "version", "name", "description", "training", "units", "nodes", "edges"}
    extra = {k: v for k, v in doc.items() if k not in known}
    return Project(graph, name, description, training, extra)


def _expect(value: Any, kind: type, where: str, what: str) -> None:
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise ProjectError(f"{where}: expected {what}, got {json.dumps(value)[:60]}")


def _load_node(graph: Graph, raw: Any, where: str, ids: dict[str, str]) -> None:
    _expect(raw, dict, where, "an object")
    file_id = raw.get("id")
    _expect(file_id, str, f"{where}.id", "a string")
    if file_id in ids:
        raise ProjectError(f"{where}.id: {file_id!r} is used by another node")
    # An id that is no safe Python name is renamed, never turned into code.
    node_id = file_id if id_problem(file_id) is None else safe_id(file_id, set(graph_ids(graph)))
    type_name = raw.get("type")
    _expect(type_name, str, f"{where}.type", "a string")
    try:
        spec = graph.spec_of(type_name)  # a block type, or a unit of the project
    except GraphError as err:
        if "unknown block type" in str(err):
            raise ProjectError(
                f"{where}.type: unknown block type {type_name!r} (and no unit of that name)"
            ) from None
        raise ProjectError(f"{where}.type: {err}") from None
    params = raw.get("params", {})
    _expect(params, dict, f"{where}.params", "an object")
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
        raise ProjectError(f"{where}.pos: expected [x, y] numbers, got {json.dumps(pos)}")
    graph.add_node(type_name, params, (pos[0], pos[1]), node_id)
    ids[file_id] = node_id


def graph_ids(graph: Graph) -> list[str]:
    return [n.id for n in graph.nodes]


def _load_edge(graph: Graph, raw: Any, where: str, ids: dict[str, str]) -> None:
    _expect(raw, dict, where, "an object")
    ends = {}
    for key in ("source", "target"):
        value = raw.get(key)
        _expect(value, str, f"{where}.{key}", "a node id")
        if value not in ids:
            raise ProjectError(f"{where}.{key}: no node with id {value!r}")
        ends[key] = ids[value]
    port = raw.get("target_port", "x")
    _expect(port, str, f"{where}.target_port", "a port name")
    try:
        graph.connect(ends["source"], ends["target"], port)
    except GraphError as err:
        raise ProjectError(f"{where}: {err}") from None


# -------------------------------------------------------------------- saving


def _graph_dict(graph: Graph) -> dict[str, Any]:
    return {
        "nodes": [
            {"id": n.id, "type": n.type, "params": n.params, "pos": [n.pos[0], n.pos[1]]}
            for n in graph.nodes
        ],
        "edges": [
            {"source": e.source, "target": e.target, "target_port": e.port} for e in graph.edges
        ],
    }


def to_dict(project: Project) -> dict[str, Any]:
    graph = project.graph
    return {
        "format": FORMAT,
        "version": VERSION,
        "name": project.name,
        "description": project.description,
        "units": units_to_dict(graph.library, _graph_dict),
        **_graph_dict(graph),
        "training": project.training,
        **project.extra,
    }


def dumps(project: Project) -> str:
    return json.dumps(to_dict(project), indent=2, ensure_ascii=False) + "\n"


def save(project: Project, path: str | Path) -> None:
    """Write atomically: a temporary file in the same folder, then a rename."""
    path = Path(path)
    text = dumps(project)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp makes the file private (0600); give it the mode a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
