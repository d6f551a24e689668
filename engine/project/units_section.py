"""The `units` section of a project file (format v2): definitions as data.

    "units": {
      "ResidualBlock": {
        "description": "…",
        "nodes": [...], "edges": [...],          # as the project's own, Inputs = ports
        "promoted": {"channels": ["conv1.out_channels", "conv2.out_channels"]}
      }
    }

Loading checks what would otherwise break later, each as one line naming the place:
a unit that contains itself (directly or through others), a port that maps to nothing,
a promoted param that points nowhere. Blocks and wires are read by the project's
own readers (engine.project.graph_section), so a definition's body obeys the same
rules as the project.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.graph.graph import Graph
from engine.graph.names import valid_node_ids
from engine.project.graph_section import (
    ProjectError,
    TakenIds,
    graph_dict,
    load_edge,
    load_node,
)
from engine.project.schema import describe
from engine.units.units import Definition, Library

NodeLoader = Callable[[Graph, Any, str, dict[str, str], TakenIds], None]
EdgeLoader = Callable[[Graph, Any, str, dict[str, str]], None]
Fail = Callable[[str], Exception]


def load_units(raw: Any, load_node: NodeLoader, load_edge: EdgeLoader, fail: Fail) -> Library:
    """A library from a file's `units` section; `fail(message)` makes the error to raise."""
    library = Library()
    if not isinstance(raw, dict):
        raise fail(f"units: expected an object, got {describe(raw)}")
    bodies: dict[str, dict[str, Any]] = {}
    for name, body in raw.items():
        where = f"units.{name}"
        if problem := library.name_problem(name):
            raise fail(f"{where}: {problem}")
        if not isinstance(body, dict):
            raise fail(f"{where}: expected an object, got {describe(body)}")
        for key, kind, what in (
            ("nodes", list, "a list"),
            ("edges", list, "a list"),
            ("description", str, "a string"),
            ("promoted", dict, "an object"),
        ):
            if not isinstance(body.get(key, kind()), kind):
                raise fail(f"{where}.{key}: expected {what}, got {describe(body[key])}")
        bodies[name] = body
    _check_no_cycle(bodies, fail)

    for name, body in bodies.items():
        library.add(Definition(name, library.new_body(name), {}, body.get("description", "")))
    for name, body in bodies.items():
        where = f"units.{name}"
        graph = library.definition(name).graph
        ids: dict[str, str] = {}
        taken = TakenIds(graph, valid_node_ids(body.get("nodes", [])))
        for i, node in enumerate(body.get("nodes", [])):
            load_node(graph, node, f"{where}.nodes[{i}]", ids, taken)
        for i, edge in enumerate(body.get("edges", [])):
            load_edge(graph, edge, f"{where}.edges[{i}]", ids)
        library.definition(name).promoted = _promoted(body, where, ids, fail)
    for name, definition in library.definitions.items():
        where = f"units.{name}"
        for node_id, message in definition.port_problems():
            place = f"{where}.nodes[{_index(bodies[name], node_id)}]" if node_id else where
            raise fail(f"{place}: {message}")
        for problem in definition.promotion_problems():
            raise fail(f"{where}.promoted.{problem}")
    library.touch()
    return library


def _index(body: dict[str, Any], node_id: str) -> int | str:
    for i, node in enumerate(body.get("nodes", [])):
        if isinstance(node, dict) and node.get("id") == node_id:
            return i
    return node_id


def _promoted(
    body: dict[str, Any], where: str, ids: dict[str, str], fail: Fail
) -> dict[str, list[tuple[str, str]]]:
    promoted: dict[str, list[tuple[str, str]]] = {}
    for name, targets in body.get("promoted", {}).items():
        place = f"{where}.promoted.{name}"
        if not isinstance(targets, list) or not targets:
            raise fail(f'{place}: expected a list of "block.param" strings')
        pairs = []
        for i, target in enumerate(targets):
            if not isinstance(target, str) or target.count(".") != 1:
                raise fail(f'{place}[{i}]: expected "block.param", got {describe(target)}')
            node_id, key = target.split(".")
            pairs.append((ids.get(node_id, node_id), key))
        promoted[name] = pairs
    return promoted


def _check_no_cycle(bodies: dict[str, dict[str, Any]], fail: Fail) -> None:
    """Refuse a unit that contains itself, naming the node that closes the loop."""
    uses: dict[str, list[tuple[int, str]]] = {}
    for name, body in bodies.items():
        uses[name] = [
            (i, node["type"])
            for i, node in enumerate(body.get("nodes", []))
            if isinstance(node, dict)
            and isinstance(node.get("type"), str)
            and node["type"] in bodies
        ]
    state: dict[str, str] = {}  # "open" while on the path, "done" after

    def visit(name: str, path: list[str]) -> None:
        state[name] = "open"
        here = [*path, name]
        for i, used in uses[name]:
            if state.get(used) == "open":
                loop = " → ".join([*here[here.index(used) :], used])
                raise fail(f"units.{name}.nodes[{i}].type: a unit cannot contain itself ({loop})")
            if used not in state:
                visit(used, here)
        state[name] = "done"

    for name in bodies:
        if name not in state:
            visit(name, [])


def units_to_dict(
    library: Library | None, graph_dict: Callable[[Graph], dict[str, Any]]
) -> dict[str, Any]:
    if library is None:
        return {}
    units = {}
    for name, definition in library.definitions.items():
        entry: dict[str, Any] = {"description": definition.description}
        entry.update(graph_dict(definition.graph))
        entry["promoted"] = {
            promoted: [f"{node}.{key}" for node, key in targets]
            for promoted, targets in definition.promoted.items()
        }
        units[name] = entry
    return units


# ------------------------------------------------------------ shipped units

SHIPPED = Path(__file__).resolve().parent / "shipped_units.json"


def shipped_units() -> Library:
    """The units NetLoom ships (ConvBnReLU, ResidualBlock, …), read from their data file."""
    raw = json.loads(SHIPPED.read_text(encoding="utf-8"))
    return load_units(raw["units"], load_node, load_edge, ProjectError)


def import_unit(library: Library, source: Library, name: str) -> list[str]:
    """Copy `name` from `source` into `library`, with the units it uses; returns those added.

    A unit the library already has under the same name is kept as it is (the project's
    own edits win); what is added is an independent copy.
    """
    added: list[str] = []

    def bring(unit: str) -> None:
        if unit in library or unit in added:
            return
        for used in sorted(source.uses(unit)):
            bring(used)
        original = source.definition(unit)
        body = library.new_body(unit)
        for node in original.graph.nodes:
            body.add_node(node.type, copy.deepcopy(node.params), node.pos, node.id)
        for edge in original.graph.edges:
            body.reconnect(edge)
        promoted = {k: list(v) for k, v in original.promoted.items()}
        library.add(Definition(unit, body, promoted, original.description))
        added.append(unit)

    bring(name)
    return added


# ------------------------------------------------------ copy between projects


def units_used(library: Library, types: Iterable[str]) -> list[str]:
    """The definitions that blocks of these types need: the units among them and every
    unit those use, each after the units it uses."""
    order: list[str] = []

    def visit(name: str) -> None:
        if name in order:
            return
        for used in sorted(library.uses(name)):
            visit(used)
        order.append(name)

    for type_name in types:
        if type_name in library:
            visit(type_name)
    return order


def units_document(library: Library | None, types: Iterable[str]) -> dict[str, Any]:
    """The `units` section a clipboard document needs for blocks of these types."""
    if library is None:
        return {}
    needed = Library()
    for name in units_used(library, types):
        import_unit(needed, library, name)
    return units_to_dict(needed, graph_dict)


def _content(definition: Definition, renamed: dict[str, str]) -> Any:
    """What a definition computes, for telling two of the same name apart: its blocks
    (types after `renamed`), wires and promoted params; not positions or description."""
    graph = definition.graph
    return (
        [(n.id, renamed.get(n.type, n.type), n.params) for n in graph.nodes],
        sorted((e.source, e.target, e.port) for e in graph.edges),
        {k: [list(t) for t in v] for k, v in definition.promoted.items()},
    )


@dataclass(frozen=True)
class Brought:
    """What `bring_units` did: the definitions added (in order, for undo) and the name
    each source unit has here (`ResidualBlock` → `ResidualBlock2` after a clash)."""

    added: tuple[Definition, ...]
    renamed: dict[str, str]


def bring_units(library: Library, source: Library, types: Iterable[str]) -> Brought:
    """Bring the units blocks of these types need from another project's library.

    A unit the library already has with the same content is reused; one whose name
    the library uses for a different unit comes in under a new name (ResidualBlock2),
    and units that use it follow (their inner instances take the new name).
    """
    added: list[Definition] = []
    renamed: dict[str, str] = {}
    for name in units_used(source, types):
        original = source.definition(name)
        if name in library and _content(library.definition(name), {}) == _content(
            original, renamed
        ):
            renamed[name] = name
            continue
        new_name = name if library.name_problem(name) is None else library.new_name(name)
        body = library.new_body(new_name)
        for node in original.graph.nodes:
            node_type = renamed.get(node.type, node.type)
            body.add_node(node_type, copy.deepcopy(node.params), node.pos, node.id)
        for edge in original.graph.edges:
            body.reconnect(edge)
        promoted = {k: list(v) for k, v in original.promoted.items()}
        definition = Definition(new_name, body, promoted, original.description)
        library.add(definition)
        added.append(definition)
        renamed[name] = new_name
    return Brought(tuple(added), renamed)


def take_back(library: Library, brought: Brought) -> None:
    """Undo `bring_units`: the definitions it added leave, the last first."""
    for definition in reversed(brought.added):
        library.remove(definition.name)


def bring_back(library: Library, brought: Brought) -> None:
    """Redo `bring_units`: the same definitions, under the same names."""
    for definition in brought.added:
        library.add(definition)
