"""Splits that do not leak: every transform is fitted on the training rows alone, the
test split is scored once at the end, NPZ features are scaled, ordered data splits on
its tail."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from engine.cli.main import run
from engine.data import load_dataset
from engine.data.splits import part_sizes, split_indices
from engine.project.project import from_dict
from engine.train.config import ConfigError, TrainConfig
from engine.train.trainer import Trainer

ROWS, VALIDATION = 40, 10  # an ordered split: the last 10 rows validate


def table_project(path: Path, features: int, task: str = "classification", **training: Any):
    out = {"units": 2, "loss": "cross_entropy"} if task == "classification" else {"units": 1}
    return {
        "format": "netloom",
        "version": 1,
        "name": "table",
        "nodes": [
            {"id": "row", "type": "Input", "params": {"shape": [features]}},
            {"id": "dense1", "type": "Dense", "params": {"units": out["units"]}},
            {"id": "out", "type": "Output", "params": {"loss": out.get("loss", "mse")}},
        ],
        "edges": [
            {"source": "row", "target": "dense1"},
            {"source": "dense1", "target": "out"},
        ],
        "training": {
            "dataset": {
                "name": "csv",
                "params": {"path": str(path), "target": "label", "task": task, "shuffle": False},
            },
            "val_split": VALIDATION / ROWS,
            "epochs": 1,
            **training,
        },
    }


def trained_on(doc: dict[str, Any]) -> Trainer:
    config = TrainConfig.from_dict(doc["training"])
    data = load_dataset(config.dataset.name, config.dataset.params)
    return Trainer(from_dict(doc), data, config)


def write_rows(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_fill_values_and_scaling_are_fitted_on_training_rows_only(tmp_path: Path) -> None:
    # Training rows hold 0..29 (every third empty); validation rows hold 10^6 and empties.
    rows = []
    for i in range(ROWS):
        value = "" if i % 3 == 0 else (str(i) if i < ROWS - VALIDATION else "1000000")
        rows.append(f"{value},{i % 2}")
    path = write_rows(tmp_path / "t.csv", "size,label", rows)
    trainer = trained_on(table_project(path, 1))
    features = trainer.preprocessing["features"]
    training = [i for i in range(ROWS - VALIDATION) if i % 3]
    assert features["numeric"]["fill"] == [float(np.median(training))]
    filled = [float(np.median(training)) if i % 3 == 0 else i for i in range(30)]
    assert features["scale"]["mean"] == pytest.approx([np.mean(filled)])
    assert features["scale"]["std"] == pytest.approx([np.std(filled)])
    train_x = trainer.train_split.x.numpy()[:, 0]
    assert abs(train_x.mean()) < 1e-6 and abs(train_x.std() - 1) < 1e-5
    # Fitted on all rows (as before), the millions would have moved both.
    assert (
        load_dataset("csv", table_project(path, 1)["training"]["dataset"]["params"]).x[:30].std()
        < 0.1
    )


def test_categories_are_fitted_on_training_rows_only(tmp_path: Path) -> None:
    # 'violet' occurs only in validation rows: it gets no 1 anywhere, as an unknown value.
    rows = [
        f"{i},{'violet' if i >= ROWS - VALIDATION and i % 2 else 'red' if i % 2 else 'blue'},"
        f"{i % 2}"
        for i in range(ROWS)
    ]
    path = write_rows(tmp_path / "t.csv", "size,colour,label", rows)
    doc = table_project(path, 4)
    doc["training"]["dataset"]["params"]["standardise"] = False
    trainer = trained_on(doc)
    (colour,) = trainer.preprocessing["features"]["categorical"]
    assert colour["values"] == ["blue", "red", "violet"]  # the Input's width: from the file
    assert colour["known"] == ["blue", "red"]
    val_x = trainer.val_split.x.numpy()
    assert val_x[:, 3].tolist() == [0.0] * VALIDATION  # the 'violet' input stays 0
    assert val_x[1::2, 1:].sum() == 0  # violet rows: no category lit at all


def test_a_regression_target_is_scaled_on_training_rows_and_reported_in_its_units(
    tmp_path: Path,
) -> None:
    rows = [f"{i},{1000 + 10 * i if i < ROWS - VALIDATION else 2000}" for i in range(ROWS)]
    path = write_rows(tmp_path / "t.csv", "size,label", rows)
    doc = table_project(path, 1, task="regression", epochs=2)
    trainer = trained_on(doc)
    target = trainer.preprocessing["target"]
    train_y = [1000 + 10 * i for i in range(ROWS - VALIDATION)]
    assert target["mean"] == pytest.approx([np.mean(train_y)])
    assert target["std"] == pytest.approx([np.std(train_y)])
    result = trainer.fit()
    # The loss is in standardised units; the metrics in the target's own.
    val = result.history[-1].val
    assert val is not None
    assert val.metrics["mse"] == pytest.approx(val.loss * np.var(train_y), rel=1e-4)
    assert val.metrics["mae"] > 100  # 2000 against a model fitted to 1000…1290


def test_npz_features_are_scaled_with_training_samples_only(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal([5000.0, 0.001], [800.0, 0.0002], size=(ROWS, 2))
    x[ROWS - VALIDATION :] = 10**6  # extremes only in the validation samples
    path = tmp_path / "a.npz"
    np.savez(path, x=x, y=np.arange(ROWS) % 2)
    doc = table_project(path, 2)
    doc["training"]["dataset"] = {"name": "npz", "params": {"path": str(path), "shuffle": False}}
    trainer = trained_on(doc)
    features = trainer.preprocessing["features"]
    assert np.allclose(features["mean"], x[: ROWS - VALIDATION].mean(axis=0))
    train_x = trainer.train_split.x.numpy()
    assert np.allclose(train_x.mean(axis=0), 0, atol=1e-5)
    assert np.allclose(train_x.std(axis=0), 1, atol=1e-4)
    # Unticked, the arrays train as saved.
    doc["training"]["dataset"]["params"]["standardise"] = False
    assert np.allclose(trained_on(doc).train_split.x.numpy(), x[: ROWS - VALIDATION])


def test_ordered_npz_validates_on_its_tail(tmp_path: Path, capsys: Any) -> None:
    series = np.sin(np.arange(ROWS + 4) / 3.0)
    windows = np.stack([series[i : i + 4] for i in range(ROWS)])
    path = tmp_path / "series.npz"
    np.savez(path, x=windows, y=series[4 : ROWS + 4])
    doc = table_project(path, 4)
    doc["nodes"][1] = {"id": "dense1", "type": "Dense", "params": {"units": 1}}
    doc["nodes"][2]["params"] = {"loss": "mse"}
    # Shuffle left at its default: the overlapping windows are found and kept in order.
    doc["training"]["dataset"] = {"name": "npz", "params": {"path": str(path)}}
    data = load_dataset("npz", {"path": str(path)})
    assert data.ordered and "overlapping windows" in data.notes[0]
    trainer = trained_on(doc)
    tail = data.prepare(np.arange(ROWS - VALIDATION)).x[ROWS - VALIDATION :]
    assert np.array_equal(trainer.val_split.x.numpy(), tail)
    project = tmp_path / "series.json"
    project.write_text(json.dumps(doc), encoding="utf-8")
    assert run(["train", str(project), "--out", str(tmp_path / "run")]) == 0
    assert "note: x holds overlapping windows of one series" in capsys.readouterr().err


def test_the_test_split_is_scored_once_at_the_end_and_printed(
    tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(1)
    rows = [f"{v:.4f},{int(v > 0)}" for v in rng.normal(size=200)]
    path = write_rows(tmp_path / "t.csv", "size,label", rows)
    doc = table_project(path, 1, epochs=6, early_stopping=2, lr=0.05, test_split=0.25)
    doc["training"]["val_split"] = 0.15
    doc["training"]["dataset"]["params"]["shuffle"] = True
    project = tmp_path / "p.json"
    project.write_text(json.dumps(doc), encoding="utf-8")
    evaluated: list[int] = []
    original = Trainer._evaluate

    def counting(self: Trainer, split: Any = None, meter: Any = None) -> Any:
        evaluated.append(len(split or self.val_split))
        return original(self, split, meter)

    monkeypatch.setattr(Trainer, "_evaluate", counting)
    assert run(["train", str(project), "--out", str(tmp_path / "run")]) == 0
    out = capsys.readouterr().out
    assert "120 training and 30 validation samples (50 held out to test)" in out
    # Every epoch validated on 30 samples; the 50 test samples once, after the last epoch.
    assert evaluated.count(50) == 1 and evaluated[-1] == 50 and set(evaluated[:-1]) == {30}
    lines = out.strip().splitlines()
    lines = lines[: lines.index("per class, validation split (30 samples):")]  # tables follow
    assert re.fullmatch(r"test: accuracy=[\d.]+", lines[-1])
    assert re.fullmatch(r"final: accuracy=[\d.]+", lines[-2])
    written = json.loads((tmp_path / "run" / "project.json").read_text(encoding="utf-8"))
    assert written["training"]["test_split"] == 0.25


def test_split_kinds_hold_out_what_they_say() -> None:
    labels = np.array([0] * 80 + [1] * 20)
    permutation = np.random.default_rng(0).permutation(100)
    random = split_indices("random", 100, 0.2, 0.1, permutation)
    assert random.test.tolist() == permutation[:10].tolist()
    assert random.val.tolist() == permutation[10:30].tolist()
    strata = split_indices("stratified", 100, 0.2, 0.1, permutation, labels)
    assert len(strata.val) == 20 and len(strata.test) == 10
    assert np.bincount(labels[strata.val]).tolist() == [16, 4]
    assert np.bincount(labels[strata.test]).tolist() == [8, 2]
    assert sorted([*strata.train, *strata.val, *strata.test]) == list(range(100))
    ordered = split_indices("ordered", 100, 0.2, 0.1, permutation)
    assert ordered.train.max() < ordered.val.min() and ordered.val.max() < ordered.test.min()


def test_split_settings_are_checked() -> None:
    with pytest.raises(ConfigError, match=r"^training.test_split: 0.5 with val_split 0.5"):
        TrainConfig.from_dict({"dataset": "iris", "val_split": 0.5, "test_split": 0.5})
    with pytest.raises(ConfigError, match=r"^training.split: expected one of 'auto'"):
        TrainConfig.from_dict({"dataset": "iris", "split": "shuffled"})
    # A project that sets neither is written as before: no split keys appear.
    assert "split" not in TrainConfig.from_dict({"dataset": "iris"}).to_dict()


def test_builtin_datasets_keep_their_random_split() -> None:
    from tests.engine.test_train_cli import iris_project

    doc = iris_project()
    auto = trained_on(doc)
    doc["training"]["split"] = "random"
    assert np.array_equal(auto.val_split.x.numpy(), trained_on(doc).val_split.x.numpy())


def test_a_prepared_dataset_survives_pickling(tmp_path: Path) -> None:
    """The window sends its loaded dataset to the training process by pickling it."""
    import pickle

    table = write_rows(
        tmp_path / "t.csv", "size,colour,label", [f"{i},c{i % 2},{i % 2}" for i in range(20)]
    )
    arrays = tmp_path / "a.npz"
    np.savez(arrays, x=np.arange(40.0).reshape(20, 2), y=np.arange(20) % 2)
    for name, params in (
        ("csv", {"path": str(table), "target": "label"}),
        ("npz", {"path": str(arrays)}),
    ):
        data = load_dataset(name, params)
        copy = pickle.loads(pickle.dumps(data, protocol=5))
        train = np.arange(15)
        assert np.array_equal(copy.prepare(train).x, data.prepare(train).x)


def test_stratified_parts_have_the_sizes_a_random_split_has() -> None:
    rng = np.random.default_rng(0)
    for _ in range(500):
        samples, classes = int(rng.integers(3, 200)), int(rng.integers(2, 6))
        labels = rng.integers(0, classes, samples)
        val, test = float(rng.choice([0, 0.1, 0.2, 0.5])), float(rng.choice([0, 0.1, 0.25]))
        held_val, held_test = part_sizes(samples, val, test)
        if samples - held_val - held_test < 1:
            continue
        random = split_indices("random", samples, val, test, rng.permutation(samples))
        strata = split_indices("stratified", samples, val, test, rng.permutation(samples), labels)
        assert (len(strata.val), len(strata.test)) == (len(random.val), len(random.test))
        assert sorted([*strata.train, *strata.val, *strata.test]) == list(range(samples))
