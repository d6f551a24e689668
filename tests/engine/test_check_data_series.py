"""`check` on a project that forecasts a person's series (the `series` dataset).

The forecasting template pointed at small series files made here; one file is over
engine.data.peek.WHOLE_BYTES, so only its header and first rows are read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from engine.data.peek import WHOLE_BYTES
from tests.engine.test_check_data import check, error_lines
from tests.helpers import template_doc, write_project


def write_series(path: Path, rows: int, columns: tuple[str, ...] = ("co2",)) -> None:
    steps = np.arange(rows)
    lines = [",".join(("date", *columns))]
    for i in steps:
        day = np.datetime64("2000-01-01") + int(i)
        values = [f"{300 + 0.1 * i + np.sin(i / 5 + k):.3f}" for k in range(len(columns))]
        lines.append(",".join((str(day), *values)))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def forecast_project(folder: Path, window: int = 48, horizon: int = 1, **params: Any) -> Path:
    """The shipped LSTM forecaster (Input (48, 1), Dense 1) on s.csv."""
    doc = template_doc("lstm_forecast")
    doc["training"]["dataset"] = {
        "name": "series",
        "params": {"path": "s.csv", "window": window, "horizon": horizon, **params},
    }
    return write_project(folder, doc)


def test_a_series_that_fits_is_ok(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_series(tmp_path / "s.csv", 120)
    code, output = check(forecast_project(tmp_path), capsys)
    assert code == 0, output
    assert (
        f"Data: series {tmp_path / 's.csv'} feeds (N, T=48, 1); regression, target (N, 1)" in output
    )


def test_two_value_columns_against_one_input_feature(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_series(tmp_path / "s.csv", 120, ("co2", "temperature"))
    code, output = check(forecast_project(tmp_path), capsys)
    assert code == 1
    (line,) = error_lines(output)
    assert "input 'history' expects (N, T, 1) but dataset series gives (N, T, 2)" in line
    assert line.startswith(f"{tmp_path / 's.csv'}: ") and "adapt" in line


def test_a_horizon_the_output_does_not_give(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_series(tmp_path / "s.csv", 120)
    code, output = check(forecast_project(tmp_path, horizon=3), capsys)
    assert code == 1
    (line,) = error_lines(output)
    assert "needs one value per target, (N, 3) for series; got (N, 1)" in line


def test_a_time_column_that_is_not_there(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_series(tmp_path / "s.csv", 120)
    code, output = check(forecast_project(tmp_path, time="when"), capsys)
    assert code == 2
    (line,) = error_lines(output)
    assert "training.dataset.params.time:" in line
    assert "has no column 'when' (columns: date, co2)" in line
    assert "--time COLUMN" in line


def test_a_series_too_short_for_its_window(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_series(tmp_path / "s.csv", 30)
    code, output = check(forecast_project(tmp_path), capsys)
    assert code == 2
    (line,) = error_lines(output)
    assert "training.dataset.params.window:" in line and "has 30 rows" in line


def test_a_long_series_is_read_from_its_first_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    row = "2000-01-01,1.5,2.5,3.5\n"
    with (tmp_path / "s.csv").open("w") as handle:
        handle.write("date,a,b,c\n" + row * (WHOLE_BYTES // len(row) + 10))
    code, output = check(forecast_project(tmp_path), capsys)
    assert code == 1
    (line,) = error_lines(output)
    assert "expects (N, T, 1) but dataset series gives (N, T, 3)" in line
    assert "the header and first 200 rows" in output
    code, output = check(forecast_project(tmp_path, time="when"), capsys)
    assert code == 2
    assert "has no column 'when' (columns: date, a, b, c)" in output
