"""A classification run's per-class report: per_class.csv and confusion.csv in the run folder
(validation, and test when held out), agreeing with scikit-learn on the model's own
predictions, and the table printed after the `final:` lines."""

from __future__ import annotations

import contextlib
import csv
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from sklearn.datasets import load_iris
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from engine.cli.main import run
from engine.data import load_dataset
from engine.project.project import load
from engine.train.config import TrainConfig
from engine.train.report import PRINTED_CLASSES, class_report, report_lines
from engine.train.trainer import Trainer

SPECIES = ["setosa", "versicolor", "virginica"]


def write_iris_table(path: Path) -> None:
    """Iris as a person's table: four measurements and the species by name."""
    bunch = load_iris()
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([*(str(n) for n in bunch.feature_names), "species"])
        for values, label in zip(bunch.data, bunch.target, strict=True):
            writer.writerow([*(f"{v:g}" for v in values), SPECIES[label]])


def iris_table_project(table: Path) -> dict[str, Any]:
    return {
        "format": "netloom",
        "version": 1,
        "name": "iris table",
        "nodes": [
            {"id": "row", "type": "Input", "params": {"shape": [4]}},
            {"id": "dense1", "type": "Dense", "params": {"units": 3}},
            {"id": "species", "type": "Output", "params": {"loss": "cross_entropy"}},
        ],
        "edges": [
            {"source": "row", "target": "dense1"},
            {"source": "dense1", "target": "species"},
        ],
        "training": {
            "dataset": {"name": "csv", "params": {"path": table.name, "target": "species"}},
            "lr": 0.05,
            "batch_size": 16,
            "epochs": 2,
            "test_split": 0.2,
        },
    }


class IrisRun:
    def __init__(self, folder: Path) -> None:
        table = folder / "iris.csv"
        write_iris_table(table)
        self.project = folder / "iris.json"
        self.project.write_text(json.dumps(iris_table_project(table)), encoding="utf-8")
        self.out = folder / "run"
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            self.code = run(["train", str(self.project), "--out", str(self.out), "--threads", "1"])
        self.lines = printed.getvalue().splitlines()

    def rows(self, name: str) -> list[list[str]]:
        with open(self.out / name, newline="", encoding="utf-8") as handle:
            return list(csv.reader(handle))

    def predictions(self, split: str) -> tuple[np.ndarray, np.ndarray]:
        """The saved model's own predictions on a split, made here without the report
        code: the same split (same seed), the weights from model.pt, argmax of the scores."""
        project = load(self.project)
        config = TrainConfig.from_dict(project.training)
        data = load_dataset(config.dataset.name, config.dataset.params, self.project.parent)
        trainer = Trainer(project, data, config)
        weights = torch.load(self.out / "model.pt", weights_only=True)["state_dict"]
        trainer.model.load_state_dict(weights)
        trainer.model.eval()
        part = trainer.val_split if split == "validation" else trainer.test_split
        with torch.no_grad():
            predicted = trainer.model(part.x).argmax(dim=1)
        return part.y.numpy(), predicted.numpy()


@pytest.fixture(scope="module")
def iris_run(tmp_path_factory: pytest.TempPathFactory) -> IrisRun:
    return IrisRun(tmp_path_factory.mktemp("iris_report"))


def test_the_run_folder_holds_per_class_and_confusion_tables(iris_run: IrisRun) -> None:
    assert iris_run.code == 0
    for prefix, samples in (("", 30), ("test_", 30)):
        per_class = iris_run.rows(f"{prefix}per_class.csv")
        assert per_class[0] == ["class", "precision", "recall", "f1", "support"]
        assert [row[0] for row in per_class[1:]] == [*SPECIES, "macro avg", "weighted avg"]
        assert sum(int(row[4]) for row in per_class[1:4]) == samples
        assert per_class[4][4] == per_class[5][4] == str(samples)
        confusion = iris_run.rows(f"{prefix}confusion.csv")
        assert confusion[0] == ["true\\predicted", *SPECIES]
        assert [row[0] for row in confusion[1:]] == SPECIES
        assert sum(int(n) for row in confusion[1:] for n in row[1:]) == samples
    assert not list(iris_run.out.glob(".*.tmp"))  # written atomically: no temporary left


@pytest.mark.parametrize("split, prefix", [("validation", ""), ("test", "test_")])
def test_the_tables_agree_with_scikit_learn_on_the_models_predictions(
    iris_run: IrisRun, split: str, prefix: str
) -> None:
    true, predicted = iris_run.predictions(split)
    labels = [0, 1, 2]
    expected = confusion_matrix(true, predicted, labels=labels)
    written = [[int(n) for n in row[1:]] for row in iris_run.rows(f"{prefix}confusion.csv")[1:]]
    assert written == expected.tolist()

    per_class = iris_run.rows(f"{prefix}per_class.csv")[1:]
    figures = np.array([[float(v) for v in row[1:]] for row in per_class])
    sklearn_rows = np.array(
        precision_recall_fscore_support(true, predicted, labels=labels, zero_division=0)
    ).T
    assert np.allclose(figures[:3], sklearn_rows, atol=1e-5)
    for row, average in ((3, "macro"), (4, "weighted")):
        p, r, f, _ = precision_recall_fscore_support(
            true, predicted, labels=labels, average=average, zero_division=0
        )
        assert np.allclose(figures[row, :3], [p, r, f], atol=1e-5)


def test_the_per_class_tables_are_printed_after_the_final_and_test_lines(
    iris_run: IrisRun,
) -> None:
    lines = iris_run.lines
    final = next(i for i, line in enumerate(lines) if line.startswith("final: accuracy="))
    assert lines[final + 1].startswith("test: accuracy=")
    assert lines[final + 2] == "per class, validation split (30 samples):"
    assert lines[final + 3].split() == ["class", "precision", "recall", "f1", "support"]
    rows = iris_run.rows("per_class.csv")[1:]
    for line, row in zip(lines[final + 4 : final + 9], rows, strict=True):
        assert line.split()[-1] == row[4] and line.strip().startswith(row[0])
        assert float(line.split()[-2]) == pytest.approx(float(row[3]), abs=5e-5)
    assert lines[final + 9] == "per class, test split (30 samples):"
    assert any("per_class.csv" in line for line in lines if line.startswith("wrote "))


def test_undefined_figures_read_zero_as_scikit_learn_with_zero_division_0() -> None:
    rng = np.random.default_rng(3)
    true = rng.integers(0, 4, size=200)
    true[true == 3] = 2  # class 3 never occurs
    predicted = rng.integers(0, 3, size=200)  # class 3 never predicted either
    predicted[predicted == 1] = 0  # class 1 occurs but is never predicted
    report = class_report(true, predicted, ["a", "b", "c", "d"], "validation")
    expected = precision_recall_fscore_support(
        true, predicted, labels=[0, 1, 2, 3], zero_division=0
    )
    for mine, theirs in zip((report.precision, report.recall, report.f1), expected, strict=False):
        assert np.allclose(mine, theirs)
    assert report.support.tolist() == expected[3].tolist()
    macro = report.averages()["macro avg"]
    assert np.allclose(
        macro[:3],
        precision_recall_fscore_support(
            true, predicted, labels=[0, 1, 2, 3], average="macro", zero_division=0
        )[:3],
    )


def test_a_table_of_many_classes_prints_the_weakest_and_says_so() -> None:
    classes = PRINTED_CLASSES + 10
    true = np.repeat(np.arange(classes), 4)
    predicted = true.copy()
    predicted[::4] = 0  # every class but 0 misses one sample in four, all taken for 0
    predicted[4:8] = 1
    report = class_report(true, predicted, [f"class {i}" for i in range(classes)], "test")
    lines = report_lines(report)
    assert f"({PRINTED_CLASSES} of {classes} classes, lowest F1 first" in lines[2]
    assert len(lines) == 3 + PRINTED_CLASSES + 2
    shown = [line.split()[1] for line in lines[3:-2]]
    assert shown[0] == "0"  # precision 4/32: the lowest F1
    assert "1" not in shown  # all right, nothing taken for it: the best F1
    assert lines[-2].strip().startswith("macro avg")


def test_without_a_validation_split_the_report_is_of_the_training_split(
    tmp_path: Path, capsys: Any
) -> None:
    doc = iris_table_project(tmp_path / "iris.csv")
    write_iris_table(tmp_path / "iris.csv")
    doc["training"].update(val_split=0, test_split=0, epochs=1)
    project = tmp_path / "iris.json"
    project.write_text(json.dumps(doc), encoding="utf-8")
    assert run(["train", str(project), "--out", str(tmp_path / "run")]) == 0
    assert "per class, training split (150 samples):" in capsys.readouterr().out.splitlines()
    per_class = list(csv.reader((tmp_path / "run" / "per_class.csv").read_text().splitlines()))
    assert per_class[-1] == [*per_class[-1][:4], "150"]
    assert not (tmp_path / "run" / "test_per_class.csv").exists()


def test_a_regression_run_writes_no_class_report(tmp_path: Path, capsys: Any) -> None:
    rng = np.random.default_rng(0)
    rows = rng.normal(size=(40, 2))
    table = tmp_path / "values.csv"
    table.write_text(
        "a,b,y\n" + "".join(f"{a:.4f},{b:.4f},{a + 2 * b:.4f}\n" for a, b in rows),
        encoding="utf-8",
    )
    doc = iris_table_project(table)
    doc["nodes"][0]["params"]["shape"] = [2]
    doc["nodes"][1]["params"]["units"] = 1
    doc["nodes"][2]["params"]["loss"] = "mse"
    doc["training"]["dataset"]["params"] = {"path": table.name, "target": "y", "task": "regression"}
    project = tmp_path / "values.json"
    project.write_text(json.dumps(doc), encoding="utf-8")
    assert run(["train", str(project), "--out", str(tmp_path / "run")]) == 0
    assert "per class" not in capsys.readouterr().out
    assert not list((tmp_path / "run").glob("*per_class.csv"))
    assert not list((tmp_path / "run").glob("*confusion.csv"))
