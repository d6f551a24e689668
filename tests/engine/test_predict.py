"""`predict` on a person's table: a tiny run on 100 rows of the messy breast-cancer table
(and a regression table of prices), trained once per module, then new rows predicted."""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from engine.cli.main import run
from engine.data import load_dataset
from engine.data.as_trained import prepared_samples
from engine.data.preprocess import target_units
from engine.predict import Predictions, predict
from engine.project.project import load
from engine.train.checkpoint import load_checkpoint
from tests.engine.predict_runs import messy_rows, table_run, write_prices


@dataclass
class Run:
    folder: Path
    project: Path
    weights: Path
    new: Path


@pytest.fixture(scope="module")
def cancer(tmp_path_factory: pytest.TempPathFactory, one_torch_thread_per_module: None) -> Run:
    folder = tmp_path_factory.mktemp("cancer")
    train, new = messy_rows(folder)
    project, weights = table_run(folder, train, "diagnosis", "classification", 2)
    return Run(folder, project, weights, new)


@pytest.fixture(scope="module")
def predicted(cancer: Run) -> Predictions:
    return predict(load(cancer.project), cancer.weights, cancer.new)


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


def write_rows(path: Path, rows: list[dict[str, str]], columns: list[str]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(columns)
        writer.writerows([row[c] for c in columns] for row in rows)


def test_one_row_per_new_row_in_file_order_named_by_the_dropped_id_column(
    cancer: Run, predicted: Predictions
) -> None:
    assert predicted.header == ["patient_id", "prediction", "p_benign", "p_malignant"]
    assert [row[0] for row in predicted.rows] == [r["patient_id"] for r in rows_of(cancer.new)]


def test_predictions_are_class_names_and_their_probabilities_sum_to_one(
    predicted: Predictions,
) -> None:
    names = ["benign", "malignant"]
    for row in predicted.rows:
        probs = np.array(row[2:], dtype=np.float64)
        assert row[1] in names
        assert probs.sum() == pytest.approx(1.0, abs=1e-6)
        assert names[int(probs.argmax())] == row[1]
    assert {row[1] for row in predicted.rows} == set(names)  # the tiny model tells them apart


def test_predictions_are_the_models_own_outputs_on_the_rows_prepared_as_trained(
    cancer: Run, predicted: Predictions
) -> None:
    checkpoint = load_checkpoint(cancer.weights)
    params = {"path": str(cancer.new), "target": "diagnosis", "shuffle": False}
    x, _ = prepared_samples(load_dataset("csv", params), checkpoint.preprocessing)
    model = checkpoint.build().eval()
    with torch.no_grad():
        probs = torch.softmax(model(torch.as_tensor(x)), dim=1).numpy()
    got = np.array([row[2:] for row in predicted.rows], dtype=np.float64)
    assert np.allclose(got, probs, atol=1e-6)


def test_the_metric_is_printed_when_the_target_column_is_there_and_not_otherwise(
    cancer: Run, capsys: Any
) -> None:
    out_file = cancer.folder / "predictions.csv"
    args = ["predict", str(cancer.project), "--weights", str(cancer.weights)]
    assert run([*args, str(cancer.new), "--out", str(out_file)]) == 0
    out, _ = capsys.readouterr()
    accuracy = float(re.search(r"^accuracy=([\d.]+)$", out, re.M).group(1))
    with out_file.open(encoding="utf-8", newline="") as handle:
        written = list(csv.DictReader(handle))
    labels = [r["diagnosis"] for r in rows_of(cancer.new)]
    right = np.mean([w["prediction"] == label for w, label in zip(written, labels, strict=True)])
    assert accuracy == pytest.approx(right, abs=1e-4) and accuracy > 0.8

    unlabelled = cancer.folder / "unlabelled.csv"
    columns = [c for c in rows_of(cancer.new)[0] if c != "diagnosis"]
    write_rows(unlabelled, rows_of(cancer.new), columns)
    assert run([*args, str(unlabelled)]) == 0  # no --out: the table is printed
    out, err = capsys.readouterr()
    assert "accuracy" not in out + err
    table = list(csv.reader(out.splitlines()))
    assert table[0] == ["patient_id", "prediction", "p_benign", "p_malignant"]
    assert [r[1] for r in table[1:]] == [w["prediction"] for w in written]


def test_columns_in_another_order_with_extra_ones_predict_the_same(
    cancer: Run, predicted: Predictions
) -> None:
    rows = rows_of(cancer.new)
    for i, row in enumerate(rows):
        row["ward"] = f"w{i % 4}"
    columns = sorted(rows[0], reverse=True)
    shuffled = cancer.folder / "reordered.csv"
    write_rows(shuffled, rows, columns)
    again = predict(load(cancer.project), cancer.weights.parent, shuffled)  # the run's folder
    assert again.rows == predicted.rows


# ------------------------------------------------------------ regression


@pytest.fixture(scope="module")
def prices(tmp_path_factory: pytest.TempPathFactory, one_torch_thread_per_module: None) -> Run:
    folder = tmp_path_factory.mktemp("prices")
    write_prices(folder / "train.csv", 100, seed=0)
    write_prices(folder / "new.csv", 40, seed=1)
    project, weights = table_run(folder, folder / "train.csv", "price", "regression", 1)
    return Run(folder, project, weights, folder / "new.csv")


def test_a_regression_predicts_in_the_targets_own_units(prices: Run, capsys: Any) -> None:
    known = write_prices(prices.folder / "new.csv", 40, seed=1)
    predictions = predict(load(prices.project), prices.weights, prices.new)
    assert predictions.header == ["house", "prediction"]
    values = np.array([row[1] for row in predictions.rows], dtype=np.float64)
    # Euros, not standardised units: the model's outputs times the training std plus mean.
    checkpoint = load_checkpoint(prices.weights)
    params = {"path": str(prices.new), "target": "price", "task": "regression", "shuffle": False}
    x, _ = prepared_samples(load_dataset("csv", params), checkpoint.preprocessing)
    with torch.no_grad():
        outputs = checkpoint.build().eval()(torch.as_tensor(x)).numpy()
    euros = target_units(checkpoint.preprocessing["target"], outputs)[:, 0]
    assert np.allclose(values, euros, rtol=1e-6)
    assert 0.5 * known.mean() < values.mean() < 1.5 * known.mean()
    name, mse = predictions.metric
    assert name == "mse" and mse == pytest.approx(((values - known) ** 2).mean(), rel=1e-6)


# ------------------------------------------------------------ refusals


def refusal(capsys: Any, argv: list[str]) -> str:
    """The one error line of a predict that exits 2."""
    assert run(argv) == 2
    _, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


def without_preprocessing(weights: Path, dataset: str | None = None) -> Path:
    """A copy of model.pt as a run that stored no preprocessing wrote it."""
    document = torch.load(weights, weights_only=True)
    del document["preprocessing"]
    if dataset:
        document["config"]["dataset"] = {"name": dataset, "params": {}}
    copy = weights.with_name(f"old-{dataset or 'csv'}.pt")
    torch.save(document, copy)
    return copy


def without_kind(weights: Path) -> Path:
    """A copy of model.pt whose preprocessing does not say its kind (as stored before)."""
    document = torch.load(weights, weights_only=True)
    del document["preprocessing"]["kind"]
    copy = weights.with_name("no-kind.pt")
    torch.save(document, copy)
    return copy


def broken_tables(cancer: Run) -> dict[str, tuple[Path, str]]:
    """Bad new data for the table model: (file, what its error line says)."""
    rows, folder = rows_of(cancer.new), cancer.folder
    columns = list(rows[0])
    write_rows(folder / "no_radius.csv", rows, [c for c in columns if c != "mean radius"])
    rows[1]["mean radius"] = "abc"
    write_rows(folder / "text.csv", rows, columns)
    lines = cancer.new.read_text(encoding="utf-8").splitlines()
    (folder / "short.csv").write_text("\n".join([*lines[:3], "1;2;3", *lines[3:]]) + "\n")
    (folder / "binary.csv").write_bytes(b"\x00\x01\x02garbage\xff\xfe" * 20)
    from PIL import Image

    Image.new("L", (8, 8)).save(folder / "scan.png")
    return {
        "missing column": (folder / "no_radius.csv", "no column 'mean radius'"),
        "text in a number column": (
            folder / "text.csv",
            "line 3, column 'mean radius': expected a number, got 'abc'",
        ),
        "a short row": (folder / "short.csv", "line 4: expected 34 values"),
        "not text": (folder / "binary.csv", "not a UTF-8 text file"),
        "an image for a table model": (
            folder / "scan.png",
            "images, but the model was trained on a table; give it a CSV/TSV of rows",
        ),
        "no such file": (folder / "nowhere.csv", "no such file or folder"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "missing column",
        "text in a number column",
        "a short row",
        "not text",
        "an image for a table model",
        "no such file",
    ],
)
def test_bad_new_data_is_one_line_naming_the_file(cancer: Run, capsys: Any, case: str) -> None:
    path, expected = broken_tables(cancer)[case]
    line = refusal(
        capsys, ["predict", str(cancer.project), "--weights", str(cancer.weights), str(path)]
    )
    assert line.startswith(f"error: {path}") and expected in line


def test_weights_predict_cannot_use_are_one_line(cancer: Run, capsys: Any) -> None:
    args = ["predict", str(cancer.project), "--weights"]
    missing = cancer.folder / "nope" / "model.pt"
    assert refusal(capsys, [*args, str(missing), str(cancer.new)]) == (
        f"error: {missing}: no such file"
    )
    old = without_preprocessing(cancer.weights)
    assert refusal(capsys, [*args, str(old), str(cancer.new)]) == (
        f"error: {old}: model.pt has no stored preprocessing: retrain it with this NetLoom"
    )
    builtin = without_preprocessing(cancer.weights, "iris")
    line = refusal(capsys, [*args, str(builtin), str(cancer.new)])
    assert "trained on the built-in dataset 'iris'" in line and "your own data" in line
    no_kind = without_kind(cancer.weights)
    assert refusal(capsys, [*args, str(no_kind), str(cancer.new)]) == (
        f"error: {no_kind}: the stored preprocessing does not say what data it was fitted on "
        "(written by an older NetLoom): retrain it with this NetLoom"
    )


def test_weights_of_another_graph_are_one_line(cancer: Run, capsys: Any) -> None:
    doc = json.loads(cancer.project.read_text(encoding="utf-8"))
    doc["nodes"][1]["id"] = "dense9"
    doc["edges"] = [
        {k: ("dense9" if v == "dense1" else v) for k, v in edge.items()} for edge in doc["edges"]
    ]
    other = cancer.folder / "other.json"
    other.write_text(json.dumps(doc), encoding="utf-8")
    line = refusal(
        capsys, ["predict", str(other), "--weights", str(cancer.weights), str(cancer.new)]
    )
    assert line == (
        f"error: {cancer.weights}: the weights are for another graph (blocks dense1 are not "
        "in this project)"
    )


def test_unseen_categories_and_empty_cells_are_predicted_with_a_note(cancer: Run) -> None:
    rows = rows_of(cancer.new)
    rows[0]["clinic"], rows[1]["clinic"] = "west", "west"
    rows[2]["mean texture"] = ""
    path = cancer.folder / "odd.csv"
    write_rows(path, rows, list(rows[0]))
    predictions = predict(load(cancer.project), cancer.weights, path)
    assert len(predictions.rows) == len(rows)
    assert (
        "column 'clinic': 2 rows hold values the training rows never had ('west') — encoded "
        "as unknown (all zeros)"
    ) in predictions.notes
    filled = [n for n in predictions.notes if "filled with the training rows' median" in n]
    assert len(filled) == 1 and "'mean texture' (1)" in filled[0]  # the others: the maker's


def test_a_one_feature_model_predicts_a_file_of_that_column_alone(
    tmp_path: Path, one_torch_thread: None
) -> None:
    rows = [f"{i};{'high' if i > 20 else 'low'}" for i in range(1, 41)]
    (tmp_path / "train.csv").write_text("dose;level\n" + "\n".join(rows) + "\n", "utf-8")
    project, weights = table_run(tmp_path, tmp_path / "train.csv", "level", "classification", 2)
    new = tmp_path / "doses.csv"
    new.write_text('dose\n3,5\n\n"4"\n30\n', encoding="utf-8")  # a decimal comma, a quote
    predictions = predict(load(project), weights, new)
    assert predictions.header == ["row", "prediction", "p_high", "p_low"]
    assert [row[0] for row in predictions.rows] == ["1", "2", "3"]
    same = new.with_name("same.csv")
    same.write_text("dose;note\n3,5;a\n4;b\n30;c\n", encoding="utf-8")
    assert predict(load(project), weights, same).rows == predictions.rows
