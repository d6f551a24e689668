"""`training.class_weights: balanced` in the exported training script: the loss weighs
each class n / (k · count) over the training split, as NetLoom's trainer does, so the
script's numbers are NetLoom's epoch for epoch."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from engine.cli.main import run
from engine.project.project import from_dict
from engine.train.config import TrainConfig
from engine.train.trainer import Trainer
from tests.engine.helpers import load_file
from tests.engine.test_export_prepares_data import script_lines
from tests.engine.test_preprocessing_travels import arrays_project

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def write_imbalanced(path: Path) -> None:
    """Three classes, 70% / 22% / 8% of 150 samples, told apart by four measurements."""
    rng = np.random.default_rng(3)
    y = rng.choice(3, size=150, p=[0.7, 0.22, 0.08])
    x = rng.normal(0, 1, (150, 4)) + 0.8 * y[:, None]
    np.savez(path, x=(x * [100.0, 0.1, 3.0, 1.0]).astype(np.float32), y=y)


def netloom_lines(doc: dict[str, Any], folder: Path) -> list[tuple[str, ...]]:
    from engine.data import load_dataset

    project = from_dict(doc)
    config = TrainConfig.from_dict(project.training)
    data = load_dataset(config.dataset.name, config.dataset.params, folder)
    result = Trainer(project, data, config, threads=1).fit()
    return [
        (
            str(e.epoch),
            f"{e.train.loss:.4f}",
            f"{e.train.metrics['accuracy']:.4f}",
            f"{e.val.loss:.4f}",
            f"{e.val.metrics['accuracy']:.4f}",
        )
        for e in result.history
    ]


def test_a_balanced_script_weighs_its_loss_as_netloom_does(
    tmp_path: Path, capsys: Any, monkeypatch: Any
) -> None:
    write_imbalanced(tmp_path / "rare.npz")
    doc = arrays_project(tmp_path / "rare.npz")
    doc["training"].update(epochs=2, class_weights="balanced")
    (tmp_path / "project.json").write_text(json.dumps(doc), encoding="utf-8")
    script = tmp_path / "train_it.py"
    args = ["export", str(tmp_path / "project.json"), "--to", "script", "-o", str(script)]
    assert run(args) == 0
    assert '"class_weights": "balanced"' in script.read_text(encoding="utf-8")
    module = load_file(script)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    capsys.readouterr()
    module.main(["--out", str(tmp_path / "run")])
    got = script_lines(capsys.readouterr().out)

    assert len(got) == 2
    assert got == netloom_lines(doc, tmp_path)
    # Weighing matters here: unweighted, NetLoom's own losses are others.
    doc["training"]["class_weights"] = "none"
    assert got != netloom_lines(doc, tmp_path)
