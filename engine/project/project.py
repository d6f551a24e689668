"""Project files: versioned JSON, read as data only, written atomically.

Errors name the JSON path of the problem, e.g.
`nodes[3].params.kernel_size: expected an integer ≥ 1, got -2`.
"""

from __future__ import annotations

import copy
import json
import math
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.common.atomic import remove_stale_temps, replace_text
from engine.common.json_text import JsonTextError, decode, parse, path_key
from engine.common.limits import LimitError
from engine.graph.expansion import check_document
from engine.graph.graph import Graph
from engine.graph.names import valid_node_ids
from engine.project.graph_section import (
    ProjectError,
    TakenIds,
    graph_dict,
    load_edge,
    load_node,
)
from engine.project.schema import describe, first_problem
from engine.project.units_section import load_units, units_to_dict

FORMAT = "netloom"
VERSION = 2

# Limits on what a project file may hold. Real projects are far below them (the
# largest template is under 10 KB); they keep a hostile or broken file from taking
# the memory, the stack or the time of the editor.
MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 32  # nesting of lists and objects; a project needs 5
MAX_NODES = 10_000


class ProjectTooLarge(ProjectError, LimitError):
    """A project whose units would expand beyond engine.common.limits (the CLI exits 1)."""


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
    """Version 2 adds unit definitions (engine.units.units); a v1 file has none."""
    doc.setdefault("units", {})
    return doc


MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _v1_to_v2}


def migrate(doc: dict[str, Any]) -> dict[str, Any]:
    version = doc.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        shown = json.dumps(version)[:60]
        raise ProjectError(f"version: expected a positive integer, got {shown}")
    if version > VERSION:
        shown = str(version) if version < 10**9 else f"{str(version)[:9]}… (a huge number)"
        raise ProjectError(
            f"version: this file is version {shown}; this NetLoom reads up to {VERSION} — "
            "update NetLoom to open it"
        )
    while version < VERSION:
        doc = MIGRATIONS[version](doc)
        version = doc["version"] = version + 1
    return doc


# ------------------------------------------------------------------- loading


def load(path: str | Path) -> Project:
    """Read a project file; anything wrong ends in a ProjectError naming the place."""
    path = Path(path)
    text = read_text(path)
    remove_stale_temps(path)  # what a save killed midway left beside this file
    try:
        return loads(text)
    except ProjectError as err:
        raise type(err)(f"{path}: {err}") from None


def read_text(path: Path, limit: int = MAX_FILE_BYTES) -> str:
    """The file's text, refusing what is no regular file or is over `limit` bytes.

    A device such as /dev/zero would be read without end and a FIFO would block, so
    the kind and size are checked on the open file before anything is read.
    """
    try:
        # Non-blocking, so that opening a FIFO with no writer returns at once.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise ProjectError(f"{path}: no such file") from None
    except OSError as err:
        raise ProjectError(f"{path}: cannot read: {err.strerror or err}") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
        os.close(fd)
        if stat.S_ISDIR(info.st_mode):
            raise ProjectError(f"{path}: a folder; a project is a .json file")
        if not stat.S_ISREG(info.st_mode):
            raise ProjectError(f"{path}: not a regular file; a project is a .json file")
        raise ProjectError(
            f"{path}: {info.st_size:,} bytes; a project file is at most {limit:,} bytes"
        )
    with os.fdopen(fd, "rb") as handle:
        try:
            data = handle.read(limit + 1)
        except OSError as err:
            raise ProjectError(f"{path}: cannot read: {err.strerror or err}") from None
    if len(data) > limit:  # it grew while being read
        raise ProjectError(f"{path}: over {limit:,} bytes; a project file is at most that")
    try:
        return decode(data)
    except JsonTextError as err:
        raise ProjectError(f"{path}: {err}") from None


def loads(text: str) -> Project:
    if len(text) > MAX_FILE_BYTES:
        raise ProjectError(
            f"{len(text):,} characters; a project file is at most {MAX_FILE_BYTES:,}"
        )
    try:
        doc = parse(text, MAX_DEPTH)
    except JsonTextError as err:
        raise ProjectError(str(err)) from None
    return _from_dict(doc, owned=True)


def check_plain_data(doc: Any) -> None:
    """Refuse what json accepts but a project must not hold, naming its JSON path.

    Nesting deeper than MAX_DEPTH (deep copies and saves would overflow the stack),
    lone surrogates in text (no file or terminal can encode them, so printing or
    saving the project would fail later), and NaN or infinite numbers (not JSON).
    A valid document is walked once without building any paths; only a document
    with a problem is walked again to name its place.
    """
    if not _holds_problem(doc, 0):
        return
    _name_plain_problem(doc)


def _holds_problem(value: Any, depth: int) -> bool:
    """Whether `value` holds anything check_plain_data refuses, paths unbuilt.

    Recursion stops at MAX_DEPTH (a deeper list or object is itself the problem), so
    the walk cannot overflow the stack.
    """
    if isinstance(value, dict):
        if depth >= MAX_DEPTH:
            return True
        for key, item in value.items():
            if not (isinstance(key, str) and key.isascii()) and not _encodes(str(key)):
                return True
            if isinstance(item, str):
                if not item.isascii() and not _encodes(item):
                    return True
            elif isinstance(item, float):
                if not math.isfinite(item):
                    return True
            elif isinstance(item, (dict, list)) and _holds_problem(item, depth + 1):
                return True
        return False
    if isinstance(value, list):
        if depth >= MAX_DEPTH:
            return True
        for item in value:
            if isinstance(item, str):
                if not item.isascii() and not _encodes(item):
                    return True
            elif isinstance(item, float):
                if not math.isfinite(item):
                    return True
            elif isinstance(item, (dict, list)) and _holds_problem(item, depth + 1):
                return True
        return False
    if isinstance(value, str):
        return not _encodes(value)
    if isinstance(value, float):
        return not math.isfinite(value)
    return False


def _encodes(text: str) -> bool:
    """Whether `text` can be written as UTF-8 (it holds no lone surrogate)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _name_plain_problem(doc: Any) -> None:
    """Raise the ProjectError of the first problem check_plain_data refuses, by path.

    Walks without recursion, so the walk itself cannot overflow.
    """
    stack: list[tuple[Any, str, int]] = [(doc, "", 0)]
    while stack:
        value, where, depth = stack.pop()
        place = where or "(top level)"
        if isinstance(value, str):
            _check_text(value, place)
        elif isinstance(value, float):
            if not math.isfinite(value):
                shown = "NaN" if math.isnan(value) else ("-" if value < 0 else "") + "Infinity"
                raise ProjectError(f"{place}: expected a finite number, got {shown}")
        elif isinstance(value, (dict, list)):
            if depth >= MAX_DEPTH:
                raise ProjectError(f"{place}: nested deeper than {MAX_DEPTH} levels")
            if isinstance(value, dict):
                for key, item in value.items():
                    key_text = str(key)
                    _check_text(key_text, f"{place} (a key)")
                    step = path_key(key_text)
                    stack.append((item, f"{where}.{step}" if where else step, depth + 1))
            else:
                for i, item in enumerate(value):
                    stack.append((item, f"{where}[{i}]", depth + 1))


def _check_text(text: str, where: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as err:
        bad = text[err.start]
        raise ProjectError(
            f"{where}: holds a lone surrogate (\\u{ord(bad):04x} at character {err.start}), "
            "which no file or terminal can encode"
        ) from None


def from_dict(doc: Any) -> Project:
    """A project from a decoded file; `doc` is left as it was (the project holds a copy)."""
    return _from_dict(doc, owned=False)


def _from_dict(doc: Any, owned: bool) -> Project:
    """`owned`: nobody else holds `doc` (it was just parsed), so it is read and migrated
    in place; a copy of a 100,000-block document costs seconds."""
    check_plain_data(doc)
    if not isinstance(doc, dict):
        raise ProjectError(
            f"not a NetLoom project: the file holds {describe(doc)}, not a project object"
        )
    if "format" not in doc:
        raise ProjectError(
            f'not a NetLoom project: it has no "format": "{FORMAT}" field '
            "(is it another program's JSON?)"
        )
    if doc["format"] != FORMAT:
        raise ProjectError(f"format: expected {FORMAT!r}, got {describe(doc['format'])}")
    # Every field's JSON type, before any reader below relies on it.
    if problem := first_problem(doc):
        raise ProjectError(problem)
    try:  # the units' expanded size, counted before anything is built or expanded
        check_document(doc)
    except LimitError as err:
        raise ProjectTooLarge(str(err)) from None
    doc = migrate(doc if owned else copy.deepcopy(doc))
    name = doc.get("name", "Untitled")
    description = doc.get("description", "")
    training = doc.get("training", {})
    nodes = doc.get("nodes", [])
    edges = doc.get("edges", [])

    if len(nodes) > MAX_NODES:
        raise ProjectError(f"nodes: {len(nodes):,} blocks; a project holds at most {MAX_NODES:,}")

    library = load_units(doc.get("units", {}), load_node, load_edge, ProjectError)
    graph = Graph(library=library)
    ids: dict[str, str] = {}  # id in the file → id in the graph
    # Ids that are valid as they stand keep them, so a renamed id ("Dense1" made safe)
    # must avoid them all, also those of nodes further down the file ("dense1").
    taken = TakenIds(graph, valid_node_ids(nodes))
    for i, raw in enumerate(nodes):
        load_node(graph, raw, f"nodes[{i}]", ids, taken)
    for i, raw in enumerate(edges):
        load_edge(graph, raw, f"edges[{i}]", ids)
    known = {"format", "version", "name", "description", "training", "units", "nodes", "edges"}
    extra = {k: v for k, v in doc.items() if k not in known}
    return Project(graph, name, description, training, extra)


def graph_ids(graph: Graph) -> list[str]:
    return [n.id for n in graph.nodes]


# -------------------------------------------------------------------- saving


def to_dict(project: Project) -> dict[str, Any]:
    graph = project.graph
    return {
        "format": FORMAT,
        "version": VERSION,
        "name": project.name,
        "description": project.description,
        "units": units_to_dict(graph.library, graph_dict),
        **graph_dict(graph),
        "training": project.training,
        **project.extra,
    }


def dumps(project: Project) -> str:
    # allow_nan=False: a NaN would be written as `NaN`, which is not JSON.
    return json.dumps(to_dict(project), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def save(project: Project, path: str | Path) -> None:
    """Write atomically: a temporary file in the same folder, then a rename.

    An existing file keeps its mode, a symlink keeps pointing at the file it names
    (which receives the new text), and temporary files a killed save left behind are
    removed (see engine.common.atomic).
    """
    replace_text(path, dumps(project))
