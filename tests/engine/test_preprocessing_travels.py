"""The fitted preprocessing travels with the weights: model.pt stores it as plain data
(read with weights_only), a later look at the model prepares data with it rather than
refitting, and checkpoints written before it was stored still load."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from engine.data import load_dataset
from engine.data.as_trained import as_trained
from engine.data.preprocess import apply_standardiser
from engine.inspect.command import prepare
from engine.project.project import from_dict, load
from engine.train.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from engine.train.config import TrainConfig
from engine.train.trainer import Trainer
from tests.engine.test_own_tables import linear_project, write_messy_cancer

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def write_measurements(path: Path, rows: int = 150, seed: int = 0) -> None:
    """Three classes told apart by four measurements on very different scales."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, rows)
    x = rng.normal(0, 1, (rows, 4)) + y[:, None]
    x *= np.array([1000.0, 0.01, 5.0, 300.0])
    x += np.array([20_000.0, 0.5, -40.0, 0.0])
    np.savez(path, x=x.astype(np.float32), y=y)


def arrays_project(path: Path) -> dict[str, Any]:
    return {
        "format": "netloom",
        "version": 1,
        "name": "measurements",
        "nodes": [
            {"id": "sample", "type": "Input", "params": {"shape": [4]}},
            {"id": "dense1", "type": "Dense", "params": {"units": 3}},
            {"id": "kind", "type": "Output", "params": {"loss": "cross_entropy"}},
        ],
        "edges": [
            {"source": "sample", "target": "dense1"},
            {"source": "dense1", "target": "kind"},
        ],
        "training": {
            "dataset": {"name": "npz", "params": {"path": path.name}},
            "lr": 0.05,
            "batch_size": 16,
            "epochs": 3,
        },
    }


def trained(doc: dict[str, Any], base: Path) -> tuple[Trainer, Any]:
    project = from_dict(doc)
    config = TrainConfig.from_dict(project.training)
    data = load_dataset(config.dataset.name, config.dataset.params, base)
    trainer = Trainer(project, data, config)
    assert trainer.fit().status == "completed"
    return trainer, data


@pytest.mark.parametrize("kind", ["npz", "messy csv"])
def test_model_pt_holds_the_fitted_preprocessing_and_prepares_data_as_trained(
    kind: str, tmp_path: Path
) -> None:
    if kind == "npz":
        write_measurements(tmp_path / "measurements.npz")
        doc = arrays_project(tmp_path / "measurements.npz")
    else:
        write_messy_cancer(tmp_path / "cancer.csv")
        doc = linear_project(33, tmp_path / "cancer.csv", epochs=2)
    trainer, _ = trained(doc, tmp_path)
    trainer.save(tmp_path / "model.pt")

    # Plain data: torch reads the file without unpickling any code.
    raw = torch.load(tmp_path / "model.pt", weights_only=True)
    assert raw["preprocessing"] == trainer.preprocessing
    checkpoint = load_checkpoint(tmp_path / "model.pt")
    assert checkpoint.preprocessing == trainer.preprocessing
    assert checkpoint.preprocessing["features"] is not None
    text = json.dumps(checkpoint.preprocessing)  # numbers, strings and lists only
    assert "mean" in text

    # New data read the way training read it: the stored transforms, not refitted.
    config = TrainConfig.from_dict(doc["training"])
    again = as_trained(
        load_dataset(config.dataset.name, config.dataset.params, tmp_path),
        checkpoint.preprocessing,
    )
    later = Trainer(from_dict(doc), again, config)
    assert later.preprocessing == trainer.preprocessing
    assert torch.equal(later.train_split.x, trainer.train_split.x)
    assert torch.equal(later.val_split.x, trainer.val_split.x)


def test_a_checkpoint_from_before_the_preprocessing_was_stored_still_loads(
    tmp_path: Path,
) -> None:
    write_measurements(tmp_path / "measurements.npz")
    doc = arrays_project(tmp_path / "measurements.npz")
    trainer, data = trained(doc, tmp_path)
    # What save_checkpoint wrote before: no "preprocessing" key at all.
    from engine.train.checkpoint import cpu_state

    save_checkpoint(tmp_path / "old.pt", cpu_state(trainer.model), doc, {}, {})
    assert "preprocessing" not in torch.load(tmp_path / "old.pt", weights_only=True)
    old = load_checkpoint(tmp_path / "old.pt")
    assert old.preprocessing is None
    assert as_trained(data, old.preprocessing) is data  # the trainer fits as the run did


def test_preprocessing_that_is_not_plain_data_is_refused_naming_the_place(
    tmp_path: Path,
) -> None:
    state = {"dense1.weight": torch.zeros(2, 2)}
    with pytest.raises(ValueError, match=r"preprocessing\.features\.mean: expected plain data"):
        save_checkpoint(
            tmp_path / "x.pt", state, {}, {}, {}, {"features": {"mean": torch.zeros(2)}}
        )
    document = {
        "format": "netloom-checkpoint",
        "version": 1,
        "state_dict": state,
        "project": {},
        "config": {},
        "metrics": {},
        "preprocessing": {"features": {"std": [1.0, torch.ones(1)]}},
    }
    torch.save(document, tmp_path / "hostile.pt")
    with pytest.raises(CheckpointError) as caught:
        load_checkpoint(tmp_path / "hostile.pt")
    assert str(caught.value) == (
        f"{tmp_path / 'hostile.pt'}: preprocessing.features.std[1]: "
        "expected plain data, got a Tensor"
    )


def test_inspect_feeds_the_model_its_runs_scaling_not_one_refitted_on_todays_file(
    tmp_path: Path,
) -> None:
    path = tmp_path / "measurements.npz"
    write_measurements(path)
    doc = arrays_project(path)
    doc["training"]["dataset"]["params"]["shuffle"] = False
    project_path = tmp_path / "measurements.json"
    project_path.write_text(json.dumps(doc), encoding="utf-8")
    trainer, _ = trained(doc, tmp_path)
    trainer.save(tmp_path / "model.pt")
    stored = trainer.preprocessing["features"]

    # The file is saved again with the same rows in other units (ms, not s):
    # refitted, the scaling would hide it; the model's own scaling shows it.
    with np.load(path) as archive:
        x, y = archive["x"], archive["y"]
    np.savez(path, x=x * 1000, y=y)
    subject = prepare(load(project_path), project_path, str(tmp_path / "model.pt"))
    assert subject.preprocessing["features"] == stored
    expected = apply_standardiser(stored, x * 1000)
    shown = subject.x.numpy()
    nearest = np.abs(expected[None, :, :] - shown[:, None, :]).sum(axis=2).min(axis=1)
    assert nearest.max() < 1e-3
    # Without weights, nothing is stored to follow: the trainer fits on today's file.
    fresh = prepare(load(project_path), project_path, None)
    assert fresh.preprocessing["features"] != stored


def test_preprocessing_nested_without_end_is_refused_not_recursed_into(tmp_path: Path) -> None:
    nested: Any = [1.0]
    for _ in range(200):  # deeper than any fitted transform, shallow enough to save
        nested = [nested]
    document = {
        "format": "netloom-checkpoint",
        "version": 1,
        "state_dict": {},
        "project": {},
        "config": {},
        "metrics": {},
        "preprocessing": {"features": nested},
    }
    torch.save(document, tmp_path / "deep.pt")
    with pytest.raises(CheckpointError, match=r"preprocessing\.features(\[0\])+: nested more"):
        load_checkpoint(tmp_path / "deep.pt")
