"""Project files: round-trip, atomic save, migration, and a clear message per broken file."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from engine.project import project as proj
from engine.project.project import Project, ProjectError
from tests.helpers import template

TEMPLATE = template("cnn_lstm_video")


def small_doc() -> dict[str, Any]:
    return {
        "format": "netloom",
        "version": 1,
        "name": "tiny",
        "nodes": [
            {"id": "inp", "type": "Input", "params": {"shape": [1, 8, 8]}, "pos": [0, 0]},
            {"id": "conv", "type": "Conv2d", "params": {"kernel_size": 3}, "pos": [100, 0]},
            {"id": "out", "type": "Output", "params": {"loss": "mse"}, "pos": [200, 0]},
        ],
        "edges": [
            {"source": "inp", "target": "conv", "target_port": "x"},
            {"source": "conv", "target": "out", "target_port": "x"},
        ],
    }


def test_template_round_trips_through_save_and_load(tmp_path: Path) -> None:
    original = proj.load(TEMPLATE)
    path = tmp_path / "copy.json"
    proj.save(original, path)
    again = proj.load(path)
    assert proj.to_dict(again) == proj.to_dict(original)
    assert again.name == "CNN+LSTM video"
    assert [n.id for n in again.graph.nodes][:3] == ["frames", "conv1", "relu1"]
    assert again.training["dataset"]["name"] == "moving_shapes"


def test_save_is_atomic_and_leaves_no_temp_files(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text("old contents")
    project = proj.from_dict(small_doc())

    class Boom(Exception):
        pass

    def exploding_dumps(_: Project) -> str:
        raise Boom

    original_dumps = proj.dumps
    proj.dumps = exploding_dumps  # type: ignore[assignment]
    try:
        with pytest.raises(Boom):
            proj.save(project, path)
    finally:
        proj.dumps = original_dumps  # type: ignore[assignment]
    assert path.read_text() == "old contents"
    proj.save(project, path)
    assert json.loads(path.read_text())["name"] == "tiny"
    assert [p.name for p in tmp_path.iterdir()] == ["p.json"]
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # as open() would, not private


def test_unknown_fields_survive_a_save() -> None:
    doc = small_doc()
    doc["notes"] = {"author": "ada"}
    assert proj.to_dict(proj.from_dict(doc))["notes"] == {"author": "ada"}


def test_unsafe_ids_are_renamed_and_wires_follow() -> None:
    doc = small_doc()
    evil = 'x"); import os; os.system("echo pwned")#'
    doc["nodes"][1]["id"] = evil
    doc["edges"][0]["target"] = evil
    doc["edges"][1]["source"] = evil
    graph = proj.from_dict(doc).graph
    new_id = [n.id for n in graph.nodes][1]
    assert new_id.isidentifier() and '"' not in new_id and " " not in new_id
    assert graph.incoming("out") == {"x": new_id}


def test_migration_hook_runs_for_old_versions(monkeypatch: pytest.MonkeyPatch) -> None:
    def to_next(doc: dict[str, Any]) -> dict[str, Any]:
        doc["name"] = doc["name"].upper()
        return doc

    current = proj.VERSION
    monkeypatch.setattr(proj, "VERSION", current + 1)
    monkeypatch.setitem(proj.MIGRATIONS, current, to_next)
    doc = small_doc()
    doc["version"] = current
    assert proj.from_dict(doc).name == "TINY"


def test_a_newer_file_says_to_update() -> None:
    doc = small_doc()
    doc["version"] = 99
    with pytest.raises(ProjectError, match=f"version 99; this NetLoom reads up to {proj.VERSION}"):
        proj.from_dict(doc)


def broken(mutate: Any) -> dict[str, Any]:
    doc = small_doc()
    mutate(doc)
    return doc


BROKEN = {
    "negative kernel": (
        lambda d: d["nodes"][1]["params"].update(kernel_size=-2),
        "nodes[1].params.kernel_size: expected an integer ≥ 1 or a list of 2 of them "
        "(one per axis), got -2",
    ),
    "unknown type": (
        lambda d: d["nodes"][1].update(type="Conv4d"),
        "nodes[1].type: unknown block type 'Conv4d'",
    ),
    "unknown param": (
        lambda d: d["nodes"][1]["params"].update(kernal_size=3),
        "nodes[1].params.kernal_size: Conv2d has no such parameter",
    ),
    "bool for int": (
        lambda d: d["nodes"][1]["params"].update(out_channels=True),
        "nodes[1].params.out_channels: expected an integer ≥ 1, got true",
    ),
    "missing source": (
        lambda d: d["edges"][0].update(source="ghost"),
        "edges[0].source: no node with id 'ghost'",
    ),
    "missing port": (
        lambda d: d["edges"][1].update(target_port="y"),
        "edges[1]: out has no input port 'y' (it has: 'x')",
    ),
    "cycle": (
        lambda d: d["edges"].append({"source": "conv", "target": "conv", "target_port": "x"}),
        "edges[2]: conv.x is already wired from inp",
    ),
    "duplicate id": (
        lambda d: d["nodes"][2].update(id="conv"),
        "nodes[2].id: 'conv' is used by another node",
    ),
    "bad position": (
        lambda d: d["nodes"][0].update(pos="left"),
        'nodes[0].pos: expected [x, y] numbers, got the string "left"',
    ),
    "nodes not a list": (
        lambda d: d.update(nodes={}),
        "nodes: expected a list of blocks, got an empty object",
    ),
    "wrong format": (lambda d: d.update(format="keras"), "format: expected 'netloom'"),
}


@pytest.mark.parametrize("case", BROKEN, ids=list(BROKEN))
def test_broken_files_name_the_place(case: str) -> None:
    mutate, message = BROKEN[case]
    with pytest.raises(ProjectError) as caught:
        proj.from_dict(broken(mutate))
    assert message in str(caught.value)


def test_a_real_cycle_names_the_wire() -> None:
    doc = small_doc()
    doc["nodes"].insert(2, {"id": "add", "type": "Add", "params": {}})
    doc["edges"] = [
        {"source": "inp", "target": "add", "target_port": "in1"},
        {"source": "add", "target": "conv", "target_port": "x"},
        {"source": "conv", "target": "add", "target_port": "in2"},
    ]
    with pytest.raises(ProjectError, match=r"edges\[2\]: wiring conv → add would close a cycle"):
        proj.from_dict(doc)


def test_truncated_json_names_what_was_open_and_the_line(tmp_path: Path) -> None:
    path = tmp_path / "cut.json"
    text = TEMPLATE.read_text()
    cut = text[: text.index('{"id": "pool1"')]  # between two blocks of the nodes list
    path.write_text(cut)
    line = cut.rstrip().count("\n") + 1
    with pytest.raises(ProjectError) as caught:
        proj.load(path)
    assert str(caught.value) == (
        f"{path}: invalid JSON: the file ends in the middle of the `nodes` list "
        f"(line {line}); it was cut short"
    )


def test_missing_file_is_a_message(tmp_path: Path) -> None:
    with pytest.raises(ProjectError, match="no such file"):
        proj.load(tmp_path / "nope.json")
