"""A person's series (`series`): read in time order, windows that do not leak across the
split, scaling fitted on the training part, the forecast turned back into the target's
units, and a real series (sunspots, shipped with statsmodels) trained from the CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from engine.data import DataError, load_dataset
from engine.data.as_trained import as_trained
from engine.data.series import forecast_inputs, forecast_values
from engine.data.series_windows import training_steps
from engine.data.splits import split_indices


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def trend_series(path: Path, steps: int = 60) -> Path:
    """date, temp (a ramp), sales (a trend plus a weekly cycle); one row per day."""
    days = np.arange(steps)
    dates = np.datetime64("2024-01-01") + days
    temp = 10 + 0.5 * days
    sales = 100 + 2.0 * days + 5 * np.sin(2 * np.pi * days / 7)
    rows = [f"{d},{t:.3f},{s:.3f}" for d, t, s in zip(dates, temp, sales)]
    return write(path, "date,temp,sales\n" + "\n".join(rows) + "\n")


def load(path: Path, **params: Any):
    return load_dataset("series", {"path": str(path), **params})


# ------------------------------------------------------------------- reading


def test_a_date_column_is_found_and_windows_forecast_the_last_column(tmp_path: Path) -> None:
    data = load(trend_series(tmp_path / "sales.csv"), window=5, horizon=2)
    assert data.task == "regression" and data.sequence and data.ordered
    assert data.sample_shape == (5, 2) and data.y.shape == (60 - 5 - 2 + 1, 2)
    assert data.feature_names == ["temp", "sales"]
    sales = 100 + 2.0 * np.arange(60) + 5 * np.sin(2 * np.pi * np.arange(60) / 7)
    # Window 3's targets are days 8 and 9 of the target column, in its own units.
    assert data.y[3] == pytest.approx(sales[8:10], abs=1e-3)
    assert data.split_gap == 1 and data.default_split == "ordered"


TIMES = {
    "year,flow": [str(1871 + i) for i in range(12)],  # numbers, named like a time
    "Month;flow": [f"1871-{m:02d}" for m in range(1, 13)],
    "when,flow": [f"{m:02d}/01/1871" for m in range(1, 13)],  # dates, named otherwise
}


@pytest.mark.parametrize("header", list(TIMES))
def test_the_time_column_is_found_by_its_name_or_its_dates(tmp_path: Path, header: str) -> None:
    sep = ";" if ";" in header else ","
    rows = [f"{t}{sep}{i * 1.5}" for i, t in enumerate(TIMES[header])]
    data = load(write(tmp_path / "s.csv", header + "\n" + "\n".join(rows) + "\n"), window=3)
    assert data.feature_names == ["flow"] and len(data) == 12 - 3
    assert data.y[:, 0].tolist() == [4.5 + 1.5 * i for i in range(9)]


def test_no_time_column_is_one_line_naming_the_param(tmp_path: Path) -> None:
    path = write(tmp_path / "s.csv", "a,b\n1,2\n3,4\n5,6\n")
    with pytest.raises(DataError, match=r"no time column found .* dataset.params.time$"):
        load(path, window=1)
    # Named, the same file is a series in row order of `a`.
    assert len(load(path, time="a", window=1)) == 2


def test_rows_out_of_order_are_sorted_and_announced(tmp_path: Path) -> None:
    text = "date,v\n2024-01-03,3\n2024-01-01,1\n2024-01-02,2\n2024-01-04,4\n2024-01-05,5\n"
    data = load(write(tmp_path / "s.csv", text), window=2)
    assert data.y[:, 0].tolist() == [3, 4, 5]
    assert any("not in time order" in note and "sorted by 'date'" in note for note in data.notes)


def test_uneven_steps_in_time_are_announced(tmp_path: Path) -> None:
    text = "date,v\n2024-01-01,1\n2024-01-02,2\n2024-01-03,3\n2024-01-10,4\n2024-01-11,5\n"
    data = load(write(tmp_path / "s.csv", text), window=2)
    assert any(
        "the usual step is 1 day, but 7 days before line 5 — each row counts as one step" in n
        for n in data.notes
    )
    even = "year,v\n1990,1\n1991,2\n1992,3\n1993,4\n"
    assert not any("evenly" in n for n in load(write(tmp_path / "e.csv", even), window=2).notes)


def test_two_rows_at_one_time_are_refused_naming_both_lines(tmp_path: Path) -> None:
    text = "date,v\n2024-01-01,1\n2024-01-02,2\n2024-01-01,3\n"
    with pytest.raises(DataError, match=r"lines 2 and 4: the time '2024-01-01' .* appears twice"):
        load(write(tmp_path / "s.csv", text), window=1)


def test_a_series_too_short_for_window_and_horizon_is_one_line(tmp_path: Path) -> None:
    path = trend_series(tmp_path / "s.csv", steps=10)
    with pytest.raises(DataError, match=r"has 10 rows .* need at least 13 — lower the window to"):
        load(path, window=8, horizon=5)


def test_empty_cells_inside_are_interpolated_and_a_leading_empty_target_refused(
    tmp_path: Path,
) -> None:
    text = "date,temp,v\n2024-01-01,,1\n2024-01-02,4,\n2024-01-03,6,3\n2024-01-04,8,4\n"
    data = load(write(tmp_path / "s.csv", text), window=2, standardise=False, forecast="value")
    # v's empty cell is 2 (between 1 and 3); temp's leading one takes its neighbour, 4.
    assert data.prepare is not None
    prepared = data.prepare(np.arange(len(data)))
    assert prepared.x[0].tolist() == [[4, 1], [4, 2]]
    assert any("linear interpolation" in n and "'temp' (1), 'v' (1)" in n for n in data.notes)
    leading = "date,v\n2024-01-01,\n2024-01-02,2\n2024-01-03,3\n"
    with pytest.raises(DataError, match=r"column 'v': the series to forecast starts with empty"):
        load(write(tmp_path / "lead.csv", leading), window=1)


def test_a_text_cell_in_a_named_column_is_refused_by_line(tmp_path: Path) -> None:
    text = "date,v\n2024-01-01,1\n2024-01-02,two\n2024-01-03,3\n"
    with pytest.raises(DataError, match=r"line 3, column 'v': expected a number, got 'two'"):
        load(write(tmp_path / "s.csv", text), window=1, target="v")


# ---------------------------------------------------------------- no leaks


def steps_of(indices: np.ndarray, start: int, length: int) -> set[int]:
    return {int(i) + k for i in indices for k in range(start, start + length)}


@pytest.mark.parametrize("horizon", [1, 3])
def test_no_training_window_touches_a_held_out_target(tmp_path: Path, horizon: int) -> None:
    window = 5
    data = load(trend_series(tmp_path / "s.csv"), window=window, horizon=horizon)
    parts = split_indices("ordered", len(data), 0.2, 0.1, np.arange(len(data)), gap=data.split_gap)
    trained = steps_of(parts.train, 0, window + horizon)  # inputs and targets
    val_targets = steps_of(parts.val, window, horizon)
    assert trained.isdisjoint(val_targets)
    assert steps_of(parts.val, 0, window + horizon).isdisjoint(
        steps_of(parts.test, window, horizon)
    )
    # Without the gap, a 3-step horizon's last training windows forecast validation steps.
    if horizon > 1:
        leaky = split_indices("ordered", len(data), 0.2, 0.1, np.arange(len(data)))
        assert not steps_of(leaky.train, 0, window + horizon).isdisjoint(
            steps_of(leaky.val, window, horizon)
        )


def test_scaling_is_fitted_on_the_training_windows_only(tmp_path: Path) -> None:
    window, horizon = 4, 2
    data = load(trend_series(tmp_path / "s.csv"), window=window, horizon=horizon)
    assert data.prepare is not None
    train = np.arange(30)
    scale = data.prepare(train).preprocessing["scale"]
    raw = np.loadtxt(tmp_path / "s.csv", delimiter=",", skiprows=1, usecols=(1, 2))
    seen = training_steps(train, len(raw), window, horizon)
    assert seen.sum() == 30 + window + horizon - 1
    temp = raw[:, 0]
    assert scale["inputs"]["mean"][0] == pytest.approx(temp[seen].mean())
    assert scale["inputs"]["std"][0] == pytest.approx(temp[seen].std())
    assert scale["inputs"]["mean"][0] != pytest.approx(temp.mean())  # a trend: it differs
    # The target's changes from each window's last value, over training windows alone.
    sales = raw[:, 1]
    changes = np.array(
        [sales[i + window : i + window + horizon] - sales[i + window - 1] for i in train]
    )
    assert scale["targets"]["mean"] == pytest.approx(changes.mean(axis=0).tolist())
    assert scale["targets"]["std"] == pytest.approx(changes.std(axis=0).tolist())


def forecast_project(window: int, features: int, horizon: int, **training: Any) -> Any:
    """The shipped forecasting template, its Input and last Dense sized for a series."""
    import json

    from engine.project.project import from_dict

    doc = json.loads(Path("templates/lstm_forecast.json").read_text(encoding="utf-8"))
    doc["nodes"][0]["params"]["shape"] = [window, features]
    doc["nodes"][2]["params"]["units"] = horizon
    doc["training"].update(training)
    return from_dict(doc)


def test_a_shuffled_split_of_a_series_is_announced(tmp_path: Path) -> None:
    data = load(trend_series(tmp_path / "s.csv"), window=4)
    assert data.prepare is not None
    ordered = data.prepare(np.arange(40)).notes
    shuffled = data.prepare(np.random.default_rng(0).permutation(len(data))[:40]).notes
    assert not any("not the first ones" in note for note in ordered)
    assert any("validation flatters the model" in note for note in shuffled)


def test_too_few_windows_for_the_gap_is_one_setting_line(tmp_path: Path) -> None:
    from engine.train.config import ConfigError
    from engine.train.trainer import Trainer

    data = load(trend_series(tmp_path / "s.csv", steps=12), window=4, horizon=6)
    # 3 windows: one validates, 5 would be left out before it.
    with pytest.raises(ConfigError, match=r"^training.val_split: series: .* left out between"):
        Trainer(forecast_project(4, 2, 6), data)


def test_the_trainer_leaves_the_gap_out_of_every_part(tmp_path: Path) -> None:
    from engine.train.trainer import Trainer

    data = load(trend_series(tmp_path / "s.csv"), window=5, horizon=3)  # 53 windows
    trainer = Trainer(forecast_project(5, 2, 3, val_split=0.2, test_split=0.1), data)
    assert trainer.val_split is not None and trainer.test_split is not None
    # 11 validate, 5 test, 2 left out before each: 33 train.
    assert (len(trainer.train_split.x), len(trainer.val_split.x), len(trainer.test_split.x)) == (
        33,
        11,
        5,
    )
    assert data.prepare is not None
    prepared = data.prepare(np.arange(33))
    assert np.array_equal(trainer.val_split.y.numpy(), prepared.y[35:46])
    assert np.array_equal(trainer.test_split.y.numpy(), prepared.y[48:])


# ------------------------------------------------------------ back to units


def test_forecasts_come_back_in_the_targets_units_from_the_last_rows(tmp_path: Path) -> None:
    window, horizon = 6, 3
    path = trend_series(tmp_path / "s.csv")
    data = load(path, window=window, horizon=horizon)
    assert data.prepare is not None
    prepared = data.prepare(np.arange(35))
    pre = prepared.preprocessing
    assert pre["kind"] == "series" and pre["target"] == "sales" and pre["time"] == "date"
    assert (pre["window"], pre["horizon"], pre["features"]) == (window, horizon, ["temp", "sales"])
    # The prepared targets, turned back, are the targets in the file's units.
    raw = np.loadtxt(path, delimiter=",", skiprows=1, usecols=(1, 2))
    last = raw[window - 1 : window - 1 + len(data), 1]
    assert forecast_values(pre, prepared.y, last=last) == pytest.approx(data.y, abs=1e-3)
    # A file ending after window 20's rows gives window 20's input, from its last rows.
    lines = path.read_text().splitlines()
    short = write(tmp_path / "short.csv", "\n".join(lines[: 1 + 20 + window]) + "\n")
    x, time, last_value = forecast_inputs(pre, short)
    assert x.shape == (1, window, 2) and np.allclose(x[0], prepared.x[20], atol=1e-5)
    assert time == str(np.datetime64("2024-01-01") + 20 + window - 1)
    assert last_value == pytest.approx(raw[20 + window - 1, 1])
    # The separator the run was given is how predict reads a new file.
    piped = write(tmp_path / "piped.csv", short.read_text().replace(",", "|"))
    assert pre["sep"] == "auto" and forecast_inputs(pre, piped)[0] == pytest.approx(x)
    told = load(piped, window=window, horizon=horizon, sep="|")
    assert told.prepare is not None and told.prepare(np.arange(5)).preprocessing["sep"] == "|"
    with pytest.raises(DataError, match=r"piped.csv line 1: one column"):
        forecast_inputs({**pre, "sep": ","}, piped)


def test_predict_refuses_a_file_without_the_models_columns(tmp_path: Path) -> None:
    data = load(trend_series(tmp_path / "s.csv"), window=4)
    assert data.prepare is not None
    pre = data.prepare(np.arange(30)).preprocessing
    other = write(tmp_path / "o.csv", "date,sales\n2024-01-01,1\n2024-01-02,2\n")
    with pytest.raises(
        DataError, match=r"o.csv: no column 'temp'; the model reads the time 'date'"
    ):
        forecast_inputs(pre, other)
    few = write(tmp_path / "few.csv", "date,temp,sales\n2024-01-01,1,2\n2024-01-02,2,3\n")
    with pytest.raises(DataError, match=r"few.csv: 2 rows; the model forecasts from the last 4"):
        forecast_inputs(pre, few)


def test_stored_preprocessing_prepares_the_series_as_trained(tmp_path: Path) -> None:
    path = trend_series(tmp_path / "s.csv")
    data = load(path, window=4)
    assert data.prepare is not None
    trained = data.prepare(np.arange(20))
    # The file grows; the stored scaling, not a refit, prepares it.
    with path.open("a") as handle:
        handle.write("2024-03-01,1000,9000\n")
    grown = as_trained(load(path, window=4), trained.preprocessing)
    assert grown.prepare is not None
    again = grown.prepare(np.arange(40))
    assert np.array_equal(again.x[: len(trained.x)], trained.x)
    assert again.preprocessing is trained.preprocessing


# ------------------------------------------------------------- a real series


def test_sunspots_train_from_the_cli_and_store_the_series_preprocessing(
    tmp_path: Path, capsys: Any
) -> None:
    import json

    import torch
    from statsmodels.datasets import sunspots  # test-only: a real public series

    from engine.cli.main import run

    frame = sunspots.load_pandas().data
    frame.to_csv(tmp_path / "sunspots.csv", index=False)
    project = json.loads(Path("templates/lstm_forecast.json").read_text(encoding="utf-8"))
    project["nodes"][0]["params"]["shape"] = [22, 1]
    project["training"].update(
        dataset={"name": "series", "params": {"path": "sunspots.csv", "window": 22}}, epochs=2
    )
    (tmp_path / "p.json").write_text(json.dumps(project), encoding="utf-8")
    assert run(["train", str(tmp_path / "p.json"), "--out", str(tmp_path / "run")]) == 0
    captured = capsys.readouterr()
    assert "series: 230 training and 57 validation samples" in captured.out
    assert "note: forecast to beat: 'next = last' scores mse=" in captured.err
    stored = torch.load(tmp_path / "run" / "model.pt", weights_only=True)["preprocessing"]
    assert stored["kind"] == "series" and stored["time"] == "YEAR"
    assert stored["target"] == "SUNACTIVITY" and stored["window"] == 22
    # predict forecasts the year after the file's end from its last 22 rows.
    out = tmp_path / "forecast.csv"
    args = ["predict", str(tmp_path / "p.json"), "--weights", str(tmp_path / "run" / "model.pt")]
    assert run([*args, str(tmp_path / "sunspots.csv"), "--out", str(out)]) == 0
    header, row = out.read_text(encoding="utf-8").splitlines()
    assert header == "YEAR,prediction" and row.startswith("2008.0,")
    assert 0 <= float(row.split(",")[1]) <= frame["SUNACTIVITY"].max()
    assert "forecast of 'SUNACTIVITY': the next step after 2008.0" in capsys.readouterr().err


# ---------------------------------------------------------- exported script


def test_the_exported_script_cuts_the_windows_netloom_cuts(tmp_path: Path) -> None:
    from tests.engine.test_codegen import script_data

    path = trend_series(tmp_path / "s.csv")
    params = {"window": 5, "standardise": False}
    data = load(path, **params)
    assert data.prepare is not None
    prepared = data.prepare(np.arange(30))  # unscaled: the target relative to the last value
    x, y = script_data("series", params, str(path), "regression")
    assert x.shape == prepared.x.shape and np.allclose(x, prepared.x, atol=1e-4)
    assert np.allclose(y, prepared.y, atol=1e-4)
    with pytest.raises(SystemExit, match=r"a horizon of 2 needs windows left out"):
        script_data("series", {**params, "horizon": 2}, str(path), "regression")
