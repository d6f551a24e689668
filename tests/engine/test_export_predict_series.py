"""The exported script forecasts a series as NetLoom's `predict` does: from the last
`window` rows of a series file (sorted by time, a gap filled between its neighbours),
the `horizon` steps after its end in the target's own units."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from engine.cli.main import run
from tests.engine.helpers import load_file
from tests.engine.test_codegen import script_ruff_failures
from tests.engine.test_preprocessing_travels import trained
from tests.engine.test_series import trend_series
from tests.helpers import TEMPLATE_DIR

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def series_project(table: Path) -> dict[str, Any]:
    """The shipped forecasting template pointed at a daily series: 5 days of temp and
    sales forecast the next 2 days of sales."""
    doc = json.loads((TEMPLATE_DIR / "lstm_forecast.json").read_text(encoding="utf-8"))
    doc["nodes"][0]["params"]["shape"] = [5, 2]
    doc["nodes"][1]["params"]["hidden_size"] = 4
    doc["nodes"][2]["params"]["units"] = 2
    params = {"path": str(table), "window": 5, "horizon": 2}
    doc["training"].update(dataset={"name": "series", "params": params}, epochs=1)
    return doc


def test_the_script_forecasts_past_a_series_end_as_netloom_predict(tmp_path: Path) -> None:
    trend_series(tmp_path / "sales.csv")
    doc = series_project(tmp_path / "sales.csv")
    trainer, _ = trained(doc, tmp_path)
    trainer.save(tmp_path / "run" / "model.pt")
    (tmp_path / "project.json").write_text(json.dumps(doc), encoding="utf-8")
    script = tmp_path / "forecast.py"
    export = ["export", str(tmp_path / "project.json"), "--to", "script", "-o", str(script)]
    assert run([*export, "--weights", str(tmp_path / "run" / "model.pt")]) == 0

    # Later days, saved out of order with a day's temperature missing.
    trend_series(tmp_path / "longer.csv", steps=70)
    header, *rows = (tmp_path / "longer.csv").read_text(encoding="utf-8").splitlines()
    rows[-3] = rows[-3].split(",")[0] + ",," + rows[-3].split(",")[2]
    newer = "\n".join([header, *rows[-2:], *rows[50:-2]]) + "\n"
    (tmp_path / "newer.csv").write_text(newer, encoding="utf-8")

    load_file(script).main(
        ["predict", str(tmp_path / "newer.csv"), "--out", str(tmp_path / "script.csv")]
    )
    predict = [
        "predict",
        str(tmp_path / "project.json"),
        "--weights",
        str(tmp_path / "run/model.pt"),
    ]
    assert run([*predict, str(tmp_path / "newer.csv"), "--out", str(tmp_path / "netloom.csv")]) == 0
    script_csv = (tmp_path / "script.csv").read_text(encoding="utf-8")
    assert script_csv.splitlines()[0] == "date,prediction_1,prediction_2"
    assert script_csv.splitlines()[1].startswith("2024-03-10,")  # the file's last day
    assert script_csv == (tmp_path / "netloom.csv").read_text(encoding="utf-8")
    source = script.read_text(encoding="utf-8").replace(str(tmp_path), "data")
    assert script_ruff_failures(source, tmp_path) == {}
