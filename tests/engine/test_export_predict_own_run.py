"""An exported script that trains itself then predicts: its model.pt stores what its
training fitted in NetLoom's own format (plain data), so `python script.py` and then
`python script.py predict DATA` work with no NetLoom run at all — and NetLoom's own
readers prepare new data from that record exactly as the script's predict does."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from engine.cli.main import run
from engine.model.build import build_model
from engine.predict.readers import read_inputs
from engine.project.project import from_dict
from tests.engine.helpers import load_file
from tests.engine.test_export_predict import image_project, write_images
from tests.engine.test_export_predict_series import series_project
from tests.engine.test_preprocessing_travels import arrays_project, write_measurements
from tests.engine.test_series import trend_series

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def write_plain_table(path: Path, rows: int, seed: int) -> None:
    """Four measurements on different scales and a text label, comma-separated."""
    rng = np.random.default_rng(seed)
    kinds = rng.integers(0, 3, rows)
    x = (rng.normal(0, 1, (rows, 4)) + kinds[:, None]) * [1000.0, 0.01, 5.0, 300.0]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["width", "depth", "angle", "weight", "kind"])
        for values, kind in zip(x, kinds, strict=True):
            writer.writerow([f"{v:.6g}" for v in values] + [["oak", "ash", "elm"][kind]])


def table_doc(path: Path) -> dict[str, Any]:
    doc = arrays_project(path)
    doc["training"]["dataset"] = {"name": "csv", "params": {"path": path.name, "target": "kind"}}
    return doc


def new_rows(folder: Path) -> Path:
    write_plain_table(folder / "new.csv", 9, 1)
    return folder / "new.csv"


def new_arrays(folder: Path) -> Path:
    np.savez(folder / "new.npz", X=np.random.default_rng(2).normal(0, 300, (7, 4)))
    return folder / "new.npz"


def new_images(folder: Path) -> Path:
    return folder / "photos" / "night"  # a flat folder of images


# kind: (write the training data in a folder, the project, write new data there)
KINDS = {
    "table": (
        lambda folder: write_plain_table(folder / "wood.csv", 120, 0),
        lambda folder: table_doc(folder / "wood.csv"),
        new_rows,
    ),
    "arrays": (
        lambda folder: write_measurements(folder / "measurements.npz"),
        lambda folder: arrays_project(folder / "measurements.npz"),
        new_arrays,
    ),
    "images": (
        lambda folder: write_images(folder / "photos", 5, seed=0, stray=True),
        lambda folder: image_project(folder / "photos"),
        new_images,
    ),
}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_script_trained_by_itself_predicts_with_what_it_stored(
    kind: str, tmp_path: Path, capsys: Any, monkeypatch: Any
) -> None:
    write_data, make_doc, write_new = KINDS[kind]
    write_data(tmp_path)
    doc = make_doc(tmp_path)
    doc["training"]["epochs"] = 1
    (tmp_path / "project.json").write_text(json.dumps(doc), encoding="utf-8")
    script = tmp_path / "own.py"
    assert run(["export", str(tmp_path / "project.json"), "--to", "script", "-o", str(script)]) == 0
    assert "PREPROCESSING = None" in script.read_text(encoding="utf-8")  # no run given
    module = load_file(script)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.chdir(tmp_path)  # the script's model.pt goes to ./checkpoints
    module.main([])
    new = write_new(tmp_path)
    module.main(["predict", str(new), "--out", "predicted.csv"])
    said = capsys.readouterr().out
    assert "wrote predicted.csv (" in said
    # The table holds its labels: accuracy is printed; X alone and a flat folder: no.
    assert ("accuracy=" in said) == (kind == "table")

    saved = torch.load(tmp_path / "checkpoints" / "model.pt", weights_only=True)
    stored = saved["preprocessing"]
    json.dumps(stored)  # plain data
    # NetLoom's own reader, given what the script stored, prepares the same samples.
    inputs = read_inputs(stored, new)
    model = build_model(from_dict(doc).graph)
    model.load_state_dict(saved["state_dict"])
    with torch.no_grad():
        outputs = model.eval()(torch.as_tensor(inputs.x)).double()
    chances = torch.softmax(outputs, dim=1).numpy()
    with (tmp_path / "predicted.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    classes = stored["classes"]
    got = np.array([[float(row[f"p_{c}"]) for c in classes] for row in rows])
    assert np.allclose(got, chances, atol=1e-5, rtol=0)
    assert [row["prediction"] for row in rows] == [classes[i] for i in chances.argmax(axis=1)]
    assert [row[inputs.id_header] for row in rows] == inputs.ids


def test_a_series_script_trained_by_itself_forecasts_with_what_it_stored(
    tmp_path: Path, capsys: Any, monkeypatch: Any
) -> None:
    trend_series(tmp_path / "sales.csv")
    doc = series_project(tmp_path / "sales.csv")
    doc["training"]["dataset"]["params"]["horizon"] = 1  # the script reads horizon 1
    doc["nodes"][2]["params"]["units"] = 1
    (tmp_path / "project.json").write_text(json.dumps(doc), encoding="utf-8")
    script = tmp_path / "own.py"
    assert run(["export", str(tmp_path / "project.json"), "--to", "script", "-o", str(script)]) == 0
    module = load_file(script)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.chdir(tmp_path)
    module.main([])
    trend_series(tmp_path / "longer.csv", steps=70)
    module.main(["predict", str(tmp_path / "longer.csv"), "--out", "forecast.csv"])
    capsys.readouterr()

    saved = torch.load(tmp_path / "checkpoints" / "model.pt", weights_only=True)
    inputs = read_inputs(saved["preprocessing"], tmp_path / "longer.csv")
    model = build_model(from_dict(doc).graph)
    model.load_state_dict(saved["state_dict"])
    with torch.no_grad():
        outputs = model.eval()(torch.as_tensor(inputs.x)).double().numpy()
    assert inputs.to_units is not None
    expected = inputs.to_units(outputs)[0, 0]
    with (tmp_path / "forecast.csv").open(newline="", encoding="utf-8") as handle:
        (row,) = list(csv.DictReader(handle))
    assert row["date"] == "2024-03-10"
    assert float(row["prediction"]) == pytest.approx(expected, rel=1e-6)
    assert 200 < expected < 280  # sales near 238 at the end: a forecast in its units
