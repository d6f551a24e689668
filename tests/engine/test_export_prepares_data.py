"""The exported training script prepares a person's data as NetLoom does: the same
split (stratified for a classifier's own data, a test part held out), scaling fitted on
the training samples only, NPZ features scaled, a regression target's metrics in its
own units — and a table it cannot read is refused in one line naming the file."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from engine.cli.main import run
from engine.data import load_dataset
from engine.project.project import load
from engine.train.trainer import Trainer
from tests.engine.helpers import load_file
from tests.engine.test_codegen import script_ruff_failures
from tests.engine.test_own_tables import write_messy_cancer
from tests.engine.test_preprocessing_travels import arrays_project, write_measurements
from tests.gui.test_results_units import price_project, write_prices

pytestmark = pytest.mark.usefixtures("one_torch_thread")

NUMBER = r"(\d+\.\d{4})"
EPOCH_LINE = re.compile(
    rf"^epoch (\d+)/\d+  train loss {NUMBER}  (\w+) {NUMBER}.*?"
    rf"\|  val loss {NUMBER}  \w+ {NUMBER}",
    re.M,
)


def exported(tmp_path: Path, doc: dict[str, Any]) -> Any:
    project = tmp_path / "project.json"
    project.write_text(json.dumps(doc), encoding="utf-8")
    script = tmp_path / "train_it.py"
    assert run(["export", str(project), "--to", "script", "-o", str(script)]) == 0
    return load_file(script)


def netloom_lines(tmp_path: Path) -> tuple[list[tuple[str, ...]], Any]:
    project = load(tmp_path / "project.json")
    dataset = project.training["dataset"]
    data = load_dataset(dataset["name"], dataset["params"], tmp_path)
    result = Trainer(project, data, threads=1).fit()
    lines = [
        (
            str(e.epoch),
            f"{e.train.loss:.4f}",
            f"{e.train.metrics[result.metric]:.4f}",
            f"{e.val.loss:.4f}",
            f"{e.val.metrics[result.metric]:.4f}",
        )
        for e in result.history
    ]
    return lines, result


def script_lines(out: str) -> list[tuple[str, ...]]:
    return [(e, tl, tm, vl, vm) for e, tl, _, tm, vl, vm in EPOCH_LINE.findall(out)]


def test_an_npz_script_splits_stratified_scales_on_training_rows_and_trains_as_netloom(
    tmp_path: Path, capsys: Any, monkeypatch: Any
) -> None:
    write_measurements(tmp_path / "measurements.npz")
    doc = arrays_project(tmp_path / "measurements.npz")
    doc["training"]["test_split"] = 0.2
    module = exported(tmp_path, doc)
    source = (tmp_path / "train_it.py").read_text(encoding="utf-8")
    assert 'DEFAULT_SPLIT = "stratified"' in source
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    capsys.readouterr()
    module.main(["--out", str(tmp_path / "run")])
    out = capsys.readouterr().out
    assert "90 training and 30 validation samples" in out

    expected, result = netloom_lines(tmp_path)
    assert script_lines(out) == expected
    # The held-out test part, scored once at the end, as `train` prints it.
    assert f"test: accuracy={result.test.metrics['accuracy']:.4f}" in out


def test_a_csv_regression_script_reports_errors_in_the_targets_units(
    tmp_path: Path, capsys: Any, monkeypatch: Any
) -> None:
    table = tmp_path / "prices.csv"
    write_prices(table)
    # The script reads comma-separated tables: the same prices saved plainly.
    text = table.read_text(encoding="utf-8").replace(",", ".").replace(";", ",")
    table.write_text(text, encoding="utf-8")
    doc = price_project(table)
    doc["training"]["epochs"] = 4
    module = exported(tmp_path, doc)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    capsys.readouterr()
    module.main(["--out", str(tmp_path / "run")])
    out = capsys.readouterr().out

    expected, _ = netloom_lines(tmp_path)
    got = script_lines(out)
    assert [line[0] for line in got] == [line[0] for line in expected] == ["1", "2", "3", "4"]
    for ours, theirs in zip(got, expected, strict=True):
        # Re-standardising the script's all-rows-scaled columns on the training rows
        # equals NetLoom's scaling up to float rounding: the numbers agree closely.
        assert np.allclose([float(v) for v in ours[1:]], [float(v) for v in theirs[1:]], rtol=1e-3)
    mse = float(got[-1][4])
    assert mse > 1e4  # euros squared, not standardised units (which would be near 1)


def test_a_table_the_script_cannot_read_is_refused_in_one_line(
    tmp_path: Path, monkeypatch: Any
) -> None:
    table = tmp_path / "cancer.csv"
    write_messy_cancer(table)
    doc = {
        "format": "netloom",
        "version": 1,
        "name": "messy",
        "nodes": [
            {"id": "row", "type": "Input", "params": {"shape": [33]}},
            {"id": "dense1", "type": "Dense", "params": {"units": 2}},
            {"id": "diagnosis", "type": "Output", "params": {"loss": "cross_entropy"}},
        ],
        "edges": [
            {"source": "row", "target": "dense1"},
            {"source": "dense1", "target": "diagnosis"},
        ],
        "training": {
            "dataset": {"name": "csv", "params": {"path": str(table), "target": "diagnosis"}},
            "epochs": 1,
        },
    }
    module = exported(tmp_path, doc)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    with pytest.raises(SystemExit) as caught:
        module.main(["--out", str(tmp_path / "run")])
    assert str(caught.value) == (
        f"error: {table}: cells separated by ';'; this script reads comma-separated "
        "tables only — train it in NetLoom, or save it as a plain comma-separated table "
        "of numbers"
    )
    # The same table with commas still holds empty cells and a text column: named.
    comma = tmp_path / "comma.csv"
    with table.open(encoding="utf-8-sig") as handle:
        rows = [line.rstrip("\n").split(";") for line in handle]
    comma.write_text(
        "\n".join(",".join(c.replace(",", ".").replace('"', "") for c in row) for row in rows),
        encoding="utf-8",
    )
    with pytest.raises(SystemExit) as caught:
        module.main(["--out", str(tmp_path / "run"), "--data", str(comma)])
    message = str(caught.value)
    assert message.startswith(f"error: {comma} data row ")
    assert "this script reads numbers only" in message or "cells, the header has" in message


@pytest.mark.parametrize("kind", ["npz", "csv"])
def test_scripts_for_a_persons_own_data_pass_ruff(kind: str, tmp_path: Path) -> None:
    if kind == "npz":
        write_measurements(tmp_path / "measurements.npz")
        doc = arrays_project(tmp_path / "measurements.npz")
    else:
        write_prices(tmp_path / "prices.csv")
        doc = price_project(tmp_path / "prices.csv")
    exported(tmp_path, doc)
    source = (tmp_path / "train_it.py").read_text(encoding="utf-8")
    # pytest's folder makes the lines naming the data longer than a user's path would.
    source = source.replace(str(tmp_path), "data")
    assert script_ruff_failures(source, tmp_path) == {}
