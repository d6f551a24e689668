"""`training.class_weights`: none | balanced (over the training split only) | one weight per
class, applied to the classification loss, and refused in one line naming the setting."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from sklearn.utils.class_weight import compute_class_weight
from torch.nn import functional as F

from engine.cli.main import run
from engine.data.registry import ArrayDataset
from engine.project.project import from_dict, load
from engine.train.config import ConfigError, TrainConfig, default_config
from engine.train.trainer import Trainer
from tests.helpers import write_project


def net(loss: str = "cross_entropy", scores: int = 2) -> dict[str, Any]:
    return {
        "format": "netloom",
        "version": 1,
        "name": "weighted",
        "nodes": [
            {"id": "row", "type": "Input", "params": {"shape": [3]}},
            {"id": "dense1", "type": "Dense", "params": {"units": scores}},
            {"id": "label", "type": "Output", "params": {"loss": loss}},
        ],
        "edges": [
            {"source": "row", "target": "dense1"},
            {"source": "dense1", "target": "label"},
        ],
        "training": {"dataset": {"name": "iris"}},
    }


def imbalanced(task: str = "classification") -> ArrayDataset:
    """100 rows in time order: the first 80 hold 60 'no' and 20 'yes', the last 20 are all
    'yes'. An ordered split validates on those 20, so counting over every row (60 / 40)
    gives other weights than counting over the training rows (60 / 20)."""
    rng = np.random.default_rng(0)
    y = np.array([0] * 60 + [1] * 20 + [1] * 20)
    x = rng.normal(size=(100, 3)).astype(np.float32) + y[:, None]
    if task == "regression":
        return ArrayDataset("tiny", x, y.astype(np.float32)[:, None], "regression", (3,), False)
    return ArrayDataset(
        "tiny", x, y, "classification", (3,), False, num_classes=2, class_names=["no", "yes"]
    )


def trainer(setting: Any, loss: str = "cross_entropy", scores: int = 2) -> Trainer:
    config = default_config("tiny", class_weights=setting, split="ordered", epochs=1)
    return Trainer(from_dict(net(loss, scores)), imbalanced(), config)


def test_balanced_weights_count_the_training_split_only() -> None:
    made = trainer("balanced")
    assert len(made.train_split) == 80
    # n / (k · count) over the 80 training rows: 80 / (2 · 60) and 80 / (2 · 20).
    assert made.class_weights is not None
    assert made.class_weights.tolist() == pytest.approx([2 / 3, 2.0])
    train_labels = made.train_split.y.numpy()
    sklearn = compute_class_weight("balanced", classes=np.array([0, 1]), y=train_labels)
    assert made.class_weights.tolist() == pytest.approx(sklearn.tolist())
    assert made.notes[-1] == (
        "class weights (balanced over the 80 training samples): no 0.667, yes 2"
    )


@pytest.mark.parametrize("setting", ["balanced", (0.5, 3.0)])
def test_the_loss_is_torchs_weighted_cross_entropy(setting: Any) -> None:
    made = trainer(setting)
    weights = [2 / 3, 2.0] if setting == "balanced" else [0.5, 3.0]
    scores = torch.randn(12, 2, generator=torch.Generator().manual_seed(1))
    labels = torch.tensor([0, 1, 1, 0, 0, 0, 1, 0, 0, 1, 0, 0])
    expected = F.cross_entropy(scores, labels, weight=torch.tensor(weights))
    assert made.loss_fn(scores, labels).item() == pytest.approx(expected.item(), rel=1e-6)
    assert expected.item() != pytest.approx(F.cross_entropy(scores, labels).item(), rel=1e-3)


def test_none_leaves_the_loss_as_it_was() -> None:
    made = trainer("none")
    assert made.class_weights is None and made.loss_fn is F.cross_entropy
    assert not any("class weights" in note for note in made.notes)


def test_bce_weighs_each_sample_by_its_class() -> None:
    made = trainer([1.0, 4.0], loss="bce", scores=1)
    scores = torch.tensor([[0.3], [-1.2], [2.0]])
    labels = torch.tensor([[1.0], [0.0], [1.0]])
    each = F.binary_cross_entropy_with_logits(scores, labels, reduction="none")
    expected = (each * torch.tensor([[4.0], [1.0], [4.0]])).sum() / 9.0
    assert made.loss_fn(scores, labels).item() == pytest.approx(expected.item(), rel=1e-6)


@pytest.mark.parametrize(
    "value, message",
    [
        ("balance", "training.class_weights: expected 'none', 'balanced' or a list"),
        ([1, -2], "training.class_weights[1]: expected a weight ≥ 0 (a number), got -2"),
        ([0, 0], "training.class_weights: every weight is 0; at least one class must count"),
        ([], "training.class_weights: expected 'none', 'balanced' or a list"),
        ([1, True], "training.class_weights[1]: expected a weight ≥ 0 (a number), got true"),
        ({"a": 1}, "training.class_weights: expected 'none', 'balanced' or a list"),
    ],
)
def test_bad_settings_are_refused_naming_the_setting(value: Any, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        TrainConfig.from_dict({"dataset": "iris", "class_weights": value})
    assert str(caught.value).startswith(message)


def test_a_list_of_the_wrong_length_is_refused_when_the_classes_are_known() -> None:
    with pytest.raises(ConfigError, match=r"^training\.class_weights: 3 weights for the 2 "):
        trainer([1, 2, 3])


def test_class_weights_on_a_regression_are_refused() -> None:
    config = default_config("tiny", class_weights="balanced", epochs=1)
    doc = net("mse", 1)
    with pytest.raises(ConfigError, match=r"^training\.class_weights: tiny is a regression"):
        Trainer(from_dict(doc), imbalanced("regression"), config)


def test_the_setting_round_trips_and_stays_out_of_projects_without_it() -> None:
    config = TrainConfig.from_dict({"dataset": "iris", "class_weights": [1, 2.5, 0]})
    assert config.to_dict()["class_weights"] == [1.0, 2.5, 0.0]
    assert TrainConfig.from_dict(config.to_dict()) == config
    assert "class_weights" not in TrainConfig.from_dict({"dataset": "iris"}).to_dict()


def test_train_refuses_a_wrong_list_in_one_line_and_records_a_good_one(
    tmp_path: Path, capsys: Any
) -> None:
    doc = net(scores=3)
    doc["nodes"][0]["params"]["shape"] = [4]
    doc["training"].update(epochs=1, class_weights=[1, 2])
    project = write_project(tmp_path, doc)
    assert run(["train", str(project), "--out", str(tmp_path / "bad")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"error: {project}: training.class_weights: 2 weights for the 3 classes of iris; "
        "give one weight per class, in label order"
    )

    doc["training"]["class_weights"] = [1, 2, 1]
    write_project(tmp_path, doc)
    assert run(["train", str(project), "--out", str(tmp_path / "run")]) == 0
    assert "note: class weights (as set): setosa 1, versicolor 2, virginica 1" in (
        capsys.readouterr().err
    )
    kept = load(tmp_path / "run" / "project.json")
    assert kept.training["class_weights"] == [1.0, 2.0, 1.0]


def test_a_project_file_with_weights_of_the_wrong_type_is_refused_by_place(
    tmp_path: Path, capsys: Any
) -> None:
    doc = net()
    doc["training"]["class_weights"] = ["heavy", 1]
    project = write_project(tmp_path, json.dumps(doc))
    assert run(["train", str(project)]) == 2
    assert "training.class_weights[0]: expected a number" in capsys.readouterr().err
