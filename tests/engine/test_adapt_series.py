"""`adapt` on a series: the forecasting template pointed at a CSV with a time column
takes its window of every value column and forecasts `horizon` steps, with no hand edits."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from engine.cli.main import run
from engine.data.adapt import adapt
from engine.data.registry import DataError
from engine.graph.shapes import analyze
from engine.project.project import load
from tests.engine.test_adapt import adapted_shapes
from tests.helpers import template


def write_series(path: Path, rows: int = 120) -> Path:
    """Daily temperature and load; the load follows the temperature a day later."""
    rng = np.random.default_rng(0)
    days = np.arange(rows)
    temp = 10 + 5 * np.sin(days / 7) + rng.normal(0, 0.3, rows)
    load = 50 + 2 * np.roll(temp, 1) + rng.normal(0, 0.5, rows)
    dates = np.datetime64("2024-01-01") + days
    # Saved with ';' and decimal commas (the dates hold no point to turn into one).
    lines = [f"{d};{t:.2f};{v:.2f}".replace(".", ",") for d, t, v in zip(dates, temp, load)]
    path.write_text("day;temperature;load\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_the_forecast_template_adapts_to_a_series_and_trains(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    series = write_series(tmp_path / "load.csv")
    new = tmp_path / "load.json"
    argv = ["adapt", str(template("lstm_forecast")), "--data", str(series)]
    assert run([*argv, "--window", "14", "--horizon", "3", "-o", str(new)]) == 0
    assert capsys.readouterr().out.splitlines()[:3] == [
        "dataset: series path=load.csv time='day' target='load' window=14 horizon=3 "
        "(regression, forecasts 3 steps)",
        "Input history: shape (48, 1) → (14, 2)",
        "Dense dense1: units 1 → 3",
    ]
    # Two value columns in each of the 14 steps; three values forecast.
    assert adapted_shapes(new) == ((14, 2), (3,))
    assert json.loads(new.read_text())["training"]["dataset"]["params"] == {
        "path": "load.csv",
        "time": "day",
        "target": "load",
        "window": 14,
        "horizon": 3,
    }
    assert run(["check", str(new)]) == 0
    capsys.readouterr()
    assert run(["train", str(new), "--epochs", "1", "--out", str(tmp_path / "run")]) == 0
    assert "final: mse=" in capsys.readouterr().out


def test_a_series_keeps_the_templates_window_and_takes_a_target_given(tmp_path: Path) -> None:
    series = write_series(tmp_path / "load.csv")
    adaptation = adapt(load(template("lstm_forecast")), series, target="temperature")
    assert adaptation.kind == "series"
    params = adaptation.project.training["dataset"]["params"]
    assert (params["window"], params["horizon"], params["target"]) == (48, 1, "temperature")


def test_a_random_split_on_a_series_is_set_back_to_ordered(tmp_path: Path) -> None:
    series = write_series(tmp_path / "load.csv")
    project = load(template("lstm_forecast"))
    project.training["split"] = "random"
    adaptation = adapt(project, series, window=10)
    assert "training.split: random → auto (a series validates on its end)" in adaptation.changes
    assert adaptation.project.training["split"] == "auto"


def test_windows_saved_as_arrays_feed_a_sequence_input(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 20, 3)).astype(np.float32)
    np.savez(tmp_path / "windows.npz", x=x, y=x[:, -1, 0] * 2)
    adaptation = adapt(load(template("lstm_forecast")), tmp_path / "windows.npz")
    assert adaptation.changes[1] == "Input history: shape (48, 1) → (20, 3)"
    assert adaptation.project.training["dataset"]["params"]["sequence"] is True
    analysis = analyze(adaptation.project.graph)
    assert analysis.ok and analysis.nodes["next_value"].shape.dims == (1,)


def test_the_time_column_is_no_target(tmp_path: Path) -> None:
    series = write_series(tmp_path / "load.csv")
    with pytest.raises(DataError, match="--target 'day': that is the time column"):
        adapt(load(template("lstm_forecast")), series, target="day")
