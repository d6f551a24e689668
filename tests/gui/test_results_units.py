"""A regression run's results are shown in the target's own units: the window's
predictions-against-truth plot reads the file's values, not the standardised ones the
model trained on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from engine.data import load_dataset
from engine.project.project import from_dict
from engine.train.config import TrainConfig
from engine.train.trainer import Trainer
from gui.run.evaluation import evaluate


def write_prices(path: Path, rows: int = 160) -> np.ndarray:
    """House prices in euros (thousands of them), saved with `;` and decimal commas."""
    rng = np.random.default_rng(3)
    size, age = rng.uniform(40, 160, rows), rng.uniform(0, 80, rows)
    price = 90_000 + 2_400 * size - 600 * age + rng.normal(0, 2_000, rows)
    lines = ["size;age;price"]
    lines += [f"{s:.2f};{a:.1f};{p:.2f}".replace(".", ",") for s, a, p in zip(size, age, price)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return np.round(price, 2)


def price_project(table: Path) -> dict[str, Any]:
    return {
        "format": "netloom",
        "version": 1,
        "name": "prices",
        "nodes": [
            {"id": "house", "type": "Input", "params": {"shape": [2]}},
            {"id": "dense1", "type": "Dense", "params": {"units": 1}},
            {"id": "price", "type": "Output", "params": {"loss": "mse"}},
        ],
        "edges": [
            {"source": "house", "target": "dense1"},
            {"source": "dense1", "target": "price"},
        ],
        "training": {
            "dataset": {
                "name": "csv",
                "params": {"path": str(table), "target": "price", "task": "regression"},
            },
            "lr": 0.05,
            "batch_size": 16,
            "epochs": 30,
            "val_split": 0.25,
        },
    }


def test_a_table_regression_shows_truth_and_predictions_in_the_files_units(
    tmp_path: Path,
) -> None:
    prices = write_prices(tmp_path / "prices.csv")
    project = from_dict(price_project(tmp_path / "prices.csv"))
    config = TrainConfig.from_dict(project.training)
    data = load_dataset(config.dataset.name, config.dataset.params)
    trainer = Trainer(project, data, config)
    result = trainer.fit()
    assert result.status == "completed", result.reason
    evaluation = evaluate(trainer, data, result.final_value)

    assert evaluation.task == "regression" and evaluation.split == "validation"
    truth = evaluation.truth.reshape(-1).astype(np.float64)
    predicted = evaluation.predicted.reshape(-1).astype(np.float64)
    # Every true value shown is a price the file holds, in euros.
    nearest = np.abs(prices[None, :] - truth[:, None]).min(axis=1)
    assert nearest.max() < 0.05, nearest.max()
    # The predictions are euros too: a linear model of a linear price is close to it.
    assert np.abs(predicted - truth).mean() < 0.1 * truth.std()
    # And the error the plot shows agrees with the run's validation MAE, in euros.
    mae = result.final.metrics["mae"]
    assert abs(np.abs(predicted - truth).mean() - mae) < 1e-3 * max(mae, 1.0)
