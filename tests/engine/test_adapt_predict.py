"""adapt → train → predict with no hand edits: a messy table's unseen rows, a flat folder
of new images and a series' next steps, each predicted from the adapted project's run."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.cli.main import run
from tests.engine.test_adapt import write_images
from tests.engine.test_adapt_series import write_series
from tests.engine.test_own_tables import write_messy_cancer
from tests.helpers import template

UNSEEN = 99  # the messy table's last rows, kept out of training


def adapt_and_train(tmp_path: Path, name: str, data: Path, *options: str) -> tuple[Path, Path]:
    """(the adapted project, its run's model.pt), trained one epoch."""
    new = tmp_path / f"{name}.json"
    argv = ["adapt", str(template(name)), "--data", str(data), *options, "-o", str(new)]
    assert run(argv) == 0
    assert run(["train", str(new), "--epochs", "1", "--out", str(tmp_path / "run")]) == 0
    return new, tmp_path / "run" / "model.pt"


def predicted(
    project: Path, weights: Path, data: Path, out: Path, capsys: pytest.CaptureFixture[str]
) -> list[dict[str, str]]:
    capsys.readouterr()
    assert (
        run(["predict", str(project), "--weights", str(weights), str(data), "--out", str(out)]) == 0
    )
    with out.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_a_messy_tables_unseen_rows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    whole = tmp_path / "whole.csv"
    write_messy_cancer(whole)
    header, *rows = whole.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    (tmp_path / "cancer.csv").write_text(header + "".join(rows[:-UNSEEN]), encoding="utf-8-sig")
    (tmp_path / "unseen.csv").write_text(header + "".join(rows[-UNSEEN:]), encoding="utf-8-sig")
    project, weights = adapt_and_train(tmp_path, "mlp_iris", tmp_path / "cancer.csv")
    table = predicted(project, weights, tmp_path / "unseen.csv", tmp_path / "p.csv", capsys)
    assert len(table) == UNSEEN
    assert list(table[0])[:2] == ["patient_id", "prediction"]
    assert {"p_benign", "p_malignant"} <= set(table[0])
    truth = [row.rstrip("\r\n").rsplit(";", 1)[1] for row in rows[-UNSEEN:]]
    right = sum(row["prediction"] == label for row, label in zip(table, truth))
    assert right / UNSEEN > 0.85


def test_a_flat_folder_of_new_images(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pets = write_images(tmp_path / "pets")
    project, weights = adapt_and_train(tmp_path, "cnn_digits", pets)
    new = tmp_path / "new"
    new.mkdir()
    for level in range(3):
        pixels = np.full((12, 12), 30 + 80 * level, np.uint8)
        Image.fromarray(pixels).save(new / f"photo{level}.png")
    table = predicted(project, weights, new, tmp_path / "p.csv", capsys)
    assert [row["file"] for row in table] == ["photo0.png", "photo1.png", "photo2.png"]
    assert {row["prediction"] for row in table} <= {"cat", "dog", "fish"}


def test_a_series_next_steps(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    series = write_series(tmp_path / "load.csv")
    options = ("--window", "14", "--horizon", "3")
    project, weights = adapt_and_train(tmp_path, "lstm_forecast", series, *options)
    table = predicted(project, weights, series, tmp_path / "p.csv", capsys)
    # One row from the series' last window: the three steps after its end.
    (row,) = table
    values = [float(row[f"prediction_{step}"]) for step in (1, 2, 3)]
    assert all(math.isfinite(v) for v in values)
