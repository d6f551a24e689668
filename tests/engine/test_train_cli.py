"""`python main.py train`: output files, progress, the final line, exit codes and messages."""

from __future__ import annotations

import csv
import json
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch

from engine.cli.main import run
from engine.project.project import load
from tests.helpers import ROOT
from tests.helpers import write_project as write  # (folder, doc, name)


def iris_project(**changes: Any) -> dict[str, Any]:
    """A small MLP on iris (150 samples): trains in well under a second."""
    doc: dict[str, Any] = {
        "format": "netloom",
        "version": 1,
        "name": "tiny iris",
        "nodes": [
            {"id": "measurements", "type": "Input", "params": {"shape": [4]}},
            {"id": "dense1", "type": "Dense", "params": {"units": 16}},
            {"id": "relu1", "type": "ReLU", "params": {}},
            {"id": "dense2", "type": "Dense", "params": {"units": 3}},
            {"id": "species", "type": "Output", "params": {"loss": "cross_entropy"}},
        ],
        "edges": [
            {"source": "measurements", "target": "dense1"},
            {"source": "dense1", "target": "relu1"},
            {"source": "relu1", "target": "dense2"},
            {"source": "dense2", "target": "species"},
        ],
        "training": {"dataset": {"name": "iris"}, "lr": 0.02, "batch_size": 16, "epochs": 4},
    }
    doc.update(changes)
    return doc


def test_train_writes_metrics_checkpoint_and_project(tmp_path: Path, capsys: Any) -> None:
    project = write(tmp_path, iris_project())
    out = tmp_path / "run"
    assert run(["train", str(project), "--out", str(out), "--epochs", "6"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()

    assert lines[0].startswith("tiny iris: 131 weights; iris: 120 training and 30 validation")
    progress = [line for line in lines if line.startswith("epoch ")]
    assert len(progress) == 6 and re.search(r"samples/s", progress[0])
    assert re.search(r"train loss \d\.\d{4} accuracy \d\.\d{4}  \|  val loss", progress[0])
    final_line = next(line for line in lines if line.startswith("final:"))  # per-class table next
    match = re.fullmatch(r"final: accuracy=(\d\.\d{4})", final_line)
    assert match and float(match.group(1)) > 0.6  # three species: chance is 1/3

    with open(out / "metrics.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["epoch"], r["split"]) for r in rows[:2]] == [("1", "train"), ("1", "val")]
    assert len(rows) == 12  # one row per epoch and split
    assert float(rows[-2]["loss"]) < float(rows[0]["loss"])  # training loss fell
    assert rows[-1]["accuracy"] and float(rows[-2]["samples_per_s"]) > 0

    checkpoint = torch.load(out / "model.pt", weights_only=True)
    assert checkpoint["metrics"]["epoch"] == 6
    final = float(match.group(1))
    assert checkpoint["metrics"]["val"]["accuracy"] == pytest.approx(final, abs=1e-4)
    trained = load(out / "project.json")
    assert trained.training["epochs"] == 6  # the settings actually used
    assert [n.id for n in trained.graph.nodes][0] == "measurements"


def test_input_that_does_not_fit_exits_1_naming_the_input(tmp_path: Path, capsys: Any) -> None:
    doc = iris_project()
    doc["nodes"][0]["params"]["shape"] = [5]
    assert run(["train", str(write(tmp_path, doc)), "--out", str(tmp_path / "run")]) == 1
    err = capsys.readouterr().err
    assert "the graph does not fit the data" in err
    assert "input 'measurements' expects (N, 5) but dataset iris gives (N, 4)" in err
    assert not (tmp_path / "run").exists()


def test_output_with_wrong_class_count_exits_1(tmp_path: Path, capsys: Any) -> None:
    doc = iris_project()
    doc["nodes"][3]["params"]["units"] = 4
    assert run(["train", str(write(tmp_path, doc))]) == 1
    assert "species: Output with loss cross_entropy needs one score per class, (N, 3)" in (
        capsys.readouterr().err
    )


@pytest.mark.parametrize(
    ("training", "message"),
    [
        ({"dataset": {"name": "iris"}, "lr": -1}, "training.lr: expected a number > 0, got -1"),
        ({"dataset": {"name": "no_such"}}, "training.dataset.name: unknown dataset 'no_such'"),
        ({"lr": 0.1}, "training.dataset: missing"),
    ],
)
def test_bad_training_settings_exit_2_naming_the_setting(
    tmp_path: Path, capsys: Any, training: dict[str, Any], message: str
) -> None:
    assert run(["train", str(write(tmp_path, iris_project(training=training)))]) == 2
    assert message in capsys.readouterr().err


def test_unreadable_project_exits_2(tmp_path: Path, capsys: Any) -> None:
    assert run(["train", str(tmp_path / "missing.json")]) == 2
    assert "missing.json: no such file" in capsys.readouterr().err
    broken = tmp_path / "broken.json"
    broken.write_text("{ not json", encoding="utf-8")
    assert run(["train", str(broken)]) == 2
    assert "broken.json: line 1 column 3: invalid JSON" in capsys.readouterr().err


def test_missing_data_file_exits_2_naming_it(tmp_path: Path, capsys: Any) -> None:
    training = {"dataset": {"name": "npz", "params": {"path": "nowhere.npz"}}}
    assert run(["train", str(write(tmp_path, iris_project(training=training)))]) == 2
    err = capsys.readouterr().err
    assert "nowhere.npz" in err and "Traceback" not in err


def test_seed_override_reproduces_a_run(tmp_path: Path, capsys: Any) -> None:
    project = write(tmp_path, iris_project())
    finals = []
    for name in ("a", "b"):
        run(["train", str(project), "--out", str(tmp_path / name), "--seed", "5"])
        finals.append((tmp_path / name / "metrics.csv").read_text(encoding="utf-8"))
    strip_speed = [re.sub(r",[\d.]+\r?\n", ",\n", text) for text in finals]  # times differ
    assert strip_speed[0] == strip_speed[1]
    assert json.loads((tmp_path / "a" / "project.json").read_text())["training"]["seed"] == 5


def test_command_line_reports_bad_epochs_without_a_traceback() -> None:
    done = subprocess.run(
        [sys.executable, "main.py", "train", "templates/mlp_iris.json", "--epochs", "0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "argument --epochs: expected an integer ≥ 1, got 0" in done.stderr
    assert "Traceback" not in done.stderr


def test_ctrl_c_stops_after_the_batch_and_still_writes_the_files(tmp_path: Path) -> None:
    doc = iris_project()
    doc["training"]["epochs"] = 100_000  # runs until interrupted
    out = tmp_path / "run"
    process = subprocess.Popen(
        [sys.executable, "main.py", "train", str(write(tmp_path, doc)), "--out", str(out)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    while not process.stdout.readline().startswith("epoch "):  # training is under way
        pass
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "stopping after this batch" in stderr and "Traceback" not in stderr
    assert re.search(r"stopped by the user at epoch \d+, batch \d+ of 8", stdout)
    assert "final:" not in stdout  # mid-epoch weights were never scored
    assert torch.load(out / "model.pt", weights_only=True)["metrics"] == {}
    assert (out / "metrics.csv").read_text().count("\n") >= 3  # header and epoch 1
    assert load(out / "project.json").name == "tiny iris"
