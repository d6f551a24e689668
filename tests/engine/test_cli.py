"""The command line as a user runs it: output, exit codes, and no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import ROOT, template

TEMPLATE = template("cnn_lstm_video")


def netloom(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )


def test_check_shows_the_time_axis_through_the_cnn_into_the_lstm() -> None:
    result = netloom("check", str(TEMPLATE))
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line for line in result.stdout.splitlines() if line.strip()}
    assert "(N, T, 16, 32, 32)" in rows["conv1"]
    assert "(N, T, 2048)" in rows["flatten1"]
    assert "(N, 64)" in rows["lstm1"]
    assert "(N, 4)" in rows["direction"]
    assert "546,244" in rows["total"]  # conv1 160 + conv2 4,640 + LSTM 541,184 + dense 260


def test_templates_lists_name_title_and_description() -> None:
    result = netloom("templates")
    assert result.returncode == 0
    line = next(ln for ln in result.stdout.splitlines() if ln.startswith("cnn_lstm_video"))
    assert "CNN+LSTM video" in line and "LSTM" in line.split("CNN+LSTM video", 1)[1]


def write(tmp_path: Path, doc: dict[str, Any] | str) -> str:
    path = tmp_path / "p.json"
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return str(path)


def conv_after_dense() -> dict[str, Any]:
    return {
        "format": "netloom",
        "version": 1,
        "name": "bad wiring",
        "nodes": [
            {"id": "inp", "type": "Input", "params": {"shape": [16]}},
            {"id": "dense1", "type": "Dense", "params": {"units": 64}},
            {"id": "conv2", "type": "Conv2d", "params": {}},
            {"id": "out", "type": "Output", "params": {}},
        ],
        "edges": [
            {"source": "inp", "target": "dense1"},
            {"source": "dense1", "target": "conv2"},
            {"source": "conv2", "target": "out"},
        ],
    }


def test_conv_after_dense_exits_1_naming_node_rank_and_shape(tmp_path: Path) -> None:
    result = netloom("check", write(tmp_path, conv_after_dense()))
    assert result.returncode == 1
    assert (
        "conv2: Conv2d needs 4-D input (N, C, H, W) or frames (N, T, C, H, W); "
        "got (N, 64) from dense1"
    ) in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def mutated(change: Any) -> dict[str, Any]:
    doc = json.loads(TEMPLATE.read_text())
    change(doc)
    return doc


def add_cycle(doc: dict[str, Any]) -> None:
    """relu1 → mix → pool1, then pool1 back into mix."""
    doc["nodes"].append({"id": "mix", "type": "Add", "params": {}})
    doc["edges"].remove({"source": "relu1", "target": "pool1", "target_port": "x"})
    doc["edges"] += [
        {"source": "relu1", "target": "mix", "target_port": "in1"},
        {"source": "mix", "target": "pool1", "target_port": "x"},
        {"source": "pool1", "target": "mix", "target_port": "in2"},
    ]


BROKEN: dict[str, tuple[Any, str]] = {
    "truncated json": (TEMPLATE.read_text()[:500], "invalid JSON"),
    "unknown block type": (
        mutated(lambda d: d["nodes"][1].update(type="Conv4d")),
        "nodes[1].type: unknown block type 'Conv4d'",
    ),
    "negative kernel size": (
        mutated(lambda d: d["nodes"][1]["params"].update(kernel_size=-2)),
        "nodes[1].params.kernel_size: expected an integer ≥ 1 or a list of 2 of them "
        "(one per axis), got -2",
    ),
    "cycle": (mutated(lambda d: add_cycle(d)), "edges[11]: wiring pool1 → mix would close a cycle"),
    "port that does not exist": (
        mutated(lambda d: d["edges"][0].update(target_port="image")),
        "edges[0]: conv1 has no input port 'image'",
    ),
    "node id that does not exist": (
        mutated(lambda d: d["edges"][3].update(source="conv9")),
        "edges[3].source: no node with id 'conv9'",
    ),
}


@pytest.mark.parametrize("case", BROKEN, ids=list(BROKEN))
def test_broken_projects_exit_with_one_line_naming_the_place(tmp_path: Path, case: str) -> None:
    doc, place = BROKEN[case]
    result = netloom("check", write(tmp_path, doc))
    assert result.returncode in (1, 2)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert place in lines[0]
    assert "Traceback" not in result.stdout + result.stderr


def test_missing_file_exits_2(tmp_path: Path) -> None:
    result = netloom("check", str(tmp_path / "absent.json"))
    assert result.returncode == 2
    assert "absent.json: no such file" in result.stderr
