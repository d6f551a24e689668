"""What loading a project costs (issue 23, item 2: `check` of 100,000 blocks ≤ 10 s).

A file's text is parsed into a document nobody else holds, so it is read in place,
not deep-copied (a copy of a 100,000-block document cost over a second). The
plain-data and type checks walk a valid document without building a JSON path for
each value; only a document with a problem is walked again to name its place.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

import engine.project.project
import engine.project.schema
from engine.graph.graph import Graph
from engine.project.graph_section import TakenIds
from engine.project.project import ProjectError, from_dict, loads
from tests.engine import bombs


def _document() -> dict[str, Any]:
    """A valid project with units nested three deep, a training section and floats."""
    doc = bombs.nested_fan_out(3, 2)
    doc["nodes"][0]["pos"] = [0.5, -2.25]
    doc["training"] = {"dataset": {"name": "moons", "params": {"noise": 0.1}}, "lr": 0.01}
    return doc


def test_loading_a_file_copies_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(value: Any, memo: Any = None) -> Any:
        raise AssertionError("the parsed document was deep-copied")

    monkeypatch.setattr(engine.project.project.copy, "deepcopy", refuse)
    project = loads(json.dumps(_document()))
    assert len(project.graph) == 3
    assert project.training["lr"] == 0.01


def test_from_dict_leaves_the_callers_document_as_it_was() -> None:
    doc = _document()
    doc["version"] = 1  # migrated to 2 in the project's copy only
    del doc["units"]
    doc["nodes"] = [n for n in doc["nodes"] if n["type"] in ("Input", "Output")]
    doc["edges"] = [{"source": "inp", "target": "target", "target_port": "x"}]
    before = copy.deepcopy(doc)
    project = from_dict(doc)
    project.training["lr"] = 1.0
    assert doc == before


def test_a_valid_document_is_checked_without_building_paths(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(key: str, limit: int = 40) -> str:
        raise AssertionError(f"a path was built for the valid key {key!r}")

    monkeypatch.setattr(engine.project.project, "path_key", refuse)
    monkeypatch.setattr(engine.project.schema, "path_key", refuse)
    project = loads(json.dumps(_document()))
    assert {n.type for n in project.graph.nodes} == {"Input", "U3", "Output"}


@pytest.mark.parametrize(
    ("where", "value", "message"),
    [
        (("units", "U2", "nodes", 1, "params", "repeat"), float("nan"), "expected a finite"),
        (("units", "U1", "nodes", 1, "id"), "d\ud800", "holds a lone surrogate"),
        (("units", "U1", "nodes", 1, "type"), ["Dense"], "expected a block name, got a list"),
        (("training", "dataset", "params"), [1], "expected an object of dataset params"),
    ],
)
def test_a_faulty_document_is_still_named_by_its_path(
    where: tuple[str | int, ...], value: Any, message: str
) -> None:
    doc = _document()
    target: Any = doc
    for step in where[:-1]:
        target = target[step]
    target[where[-1]] = value
    place = "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in where)[1:]
    with pytest.raises(ProjectError) as caught:
        from_dict(doc)
    assert str(caught.value).startswith(f"{place}: ")
    assert message in str(caught.value)


def test_renamed_ids_are_loaded_without_listing_the_graph_per_node(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Ids that are no safe name ("D0-x") are renamed; each must avoid every id taken
    so far, which once meant a list of the whole graph per node (10,000: 8 s)."""
    doc = bombs.flat(300)
    for node in doc["nodes"]:
        node["id"] = node["id"].upper() + "-x"
    for edge in doc["edges"]:
        edge["source"] = edge["source"].upper() + "-x"
        edge["target"] = edge["target"].upper() + "-x"
    doc["nodes"].append({"id": "d0_x", "type": "Dense", "params": {"units": 8}})
    listed = []
    real = Graph.nodes.fget
    monkeypatch.setattr(Graph, "nodes", property(lambda g: listed.append(1) or real(g)))
    project = from_dict(doc)
    assert len(listed) < 10
    ids = {n.id for n in real(project.graph)}
    assert {"inp_x", "d0_x_2", "d299_x", "d0_x", "target_x"} <= ids


def test_ids_renamed_alike_continue_where_the_last_one_stopped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Ids of symbols only ("!", "#!") all become "node", "node_2", …; each search
    starts after the last one's suffix (5,000 such ids took 6 s, counting from 2)."""
    doc = bombs.flat(300)
    symbols = "!#$%&*+-"
    renamed = {n["id"]: symbols[i % 8] * (1 + i // 8) for i, n in enumerate(doc["nodes"])}
    for node in doc["nodes"]:
        node["id"] = renamed[node["id"]]
    for edge in doc["edges"]:
        edge["source"], edge["target"] = renamed[edge["source"]], renamed[edge["target"]]
    asked = []
    real = TakenIds.__contains__
    monkeypatch.setattr(TakenIds, "__contains__", lambda t, i: asked.append(i) or real(t, i))
    project = from_dict(doc)
    assert len(asked) < 3 * len(doc["nodes"])
    order = project.graph.topological_order()
    assert order[:3] == ["node", "node_2", "node_3"]
    assert order[-1] == f"node_{len(doc['nodes'])}"
