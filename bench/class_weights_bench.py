"""What `training.class_weights: balanced` buys on an imbalanced table (issue 25, item 8).

    .venv/bin/python bench/class_weights_bench.py              # seeds 0-4
    .venv/bin/python bench/class_weights_bench.py --seeds 0-9 --epochs 40

Two real tables made imbalanced at 95:5, each written as a person's CSV (class names as
text) and trained through the csv dataset and the trainer exactly as `train` does:

- breast cancer (scikit-learn's copy): every benign row and 5 % malignant ones;
- digits, "is it a 3?": every other digit and 5 % threes, on the 64 pixel values.

Each seed draws its own subsample and its own stratified split (half held out to
validate, so the minority has ~10 validation rows, not two). The same small net (Dense 16,
ReLU, Dense 2) trains with class_weights none and balanced. Printed per table and
setting: the minority class's recall and the macro F1 on the validation split, min /
mean / max over seeds (the min is the figure to quote), and the accuracy for contrast.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.data import load_dataset  # noqa: E402
from engine.project.project import from_dict  # noqa: E402
from engine.train.config import TrainConfig  # noqa: E402
from engine.train.report import class_names, class_report  # noqa: E402
from engine.train.trainer import Trainer  # noqa: E402

MINORITY_SHARE = 0.05


def breast_cancer() -> tuple[np.ndarray, np.ndarray, list[str], str]:
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer()
    labels = np.where(bunch.target == 0, "malignant", "benign")
    return bunch.data, labels, [str(n) for n in bunch.feature_names], "malignant"


def digit_three() -> tuple[np.ndarray, np.ndarray, list[str], str]:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    labels = np.where(bunch.target == 3, "three", "other")
    return bunch.data, labels, [f"pixel_{i}" for i in range(64)], "three"


TABLES: dict[str, Callable[[], tuple[np.ndarray, np.ndarray, list[str], str]]] = {
    "breast cancer 95:5": breast_cancer,
    "digits 3-vs-rest 95:5": digit_three,
}


def write_imbalanced(
    path: Path, x: np.ndarray, labels: np.ndarray, names: list[str], minority: str, seed: int
) -> int:
    """Every majority row and enough minority rows for a 95:5 table; returns the minority count."""
    rng = np.random.default_rng(seed)
    majority_rows = np.flatnonzero(labels != minority)
    wanted = round(len(majority_rows) * MINORITY_SHARE / (1 - MINORITY_SHARE))
    minority_rows = rng.choice(np.flatnonzero(labels == minority), size=wanted, replace=False)
    rows = rng.permutation(np.concatenate([majority_rows, minority_rows]))
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([*names, "label"])
        for i in rows:
            writer.writerow([*(f"{v:.6g}" for v in x[i]), labels[i]])
    return wanted


def project(features: int, table: Path, seed: int, epochs: int, weights: str) -> dict:
    return {
        "format": "netloom",
        "version": 1,
        "name": "imbalanced",
        "nodes": [
            {"id": "row", "type": "Input", "params": {"shape": [features]}},
            {"id": "dense1", "type": "Dense", "params": {"units": 16}},
            {"id": "relu1", "type": "ReLU", "params": {}},
            {"id": "dense2", "type": "Dense", "params": {"units": 2}},
            {"id": "label", "type": "Output", "params": {"loss": "cross_entropy"}},
        ],
        "edges": [
            {"source": "row", "target": "dense1"},
            {"source": "dense1", "target": "relu1"},
            {"source": "relu1", "target": "dense2"},
            {"source": "dense2", "target": "label"},
        ],
        "training": {
            "dataset": {"name": "csv", "params": {"path": str(table), "target": "label"}},
            "lr": 0.003,
            "batch_size": 32,
            "epochs": epochs,
            "val_split": 0.5,
            "seed": seed,
            "class_weights": weights,
        },
    }


def one_run(table: Path, features: int, minority: str, seed: int, epochs: int, weights: str):
    doc = from_dict(project(features, table, seed, epochs, weights))
    config = TrainConfig.from_dict(doc.training)
    data = load_dataset(config.dataset.name, config.dataset.params, table.parent)
    trainer = Trainer(doc, data, config, threads=1)
    trainer.fit()
    names = class_names(data.class_names, trainer.objective.num_classes or 0)
    report = class_report(*trainer.class_predictions(trainer.val_split), names, "validation")
    which = names.index(minority)
    accuracy = float(report.confusion.trace() / report.confusion.sum())
    return float(report.recall[which]), report.averages()["macro avg"][2], accuracy


def spread(values: list[float]) -> str:
    return f"{min(values):.3f} / {statistics.mean(values):.3f} / {max(values):.3f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0-4", help="a range like 0-4")
    parser.add_argument("--epochs", type=int, default=30)
    args = parser.parse_args()
    low, _, high = args.seeds.partition("-")
    seeds = list(range(int(low), int(high or low) + 1))
    print(f"seeds {seeds[0]}-{seeds[-1]}, {args.epochs} epochs; figures min / mean / max")
    print("| table | class_weights | minority recall | macro F1 | accuracy |")
    print("|---|---|---|---|---|")
    summary = {}
    with tempfile.TemporaryDirectory() as folder:
        for title, make in TABLES.items():
            x, labels, names, minority = make()
            figures: dict[str, list[tuple[float, float, float]]] = {"none": [], "balanced": []}
            for seed in seeds:
                table = Path(folder) / f"{title.split()[0]}_{seed}.csv"
                write_imbalanced(table, x, labels, names, minority, seed)
                for weights in figures:
                    figures[weights].append(
                        one_run(table, len(names), minority, seed, args.epochs, weights)
                    )
            for weights, runs in figures.items():
                recall, f1, accuracy = ([run[i] for run in runs] for i in range(3))
                print(
                    f"| {title} | {weights} | {spread(recall)} | {spread(f1)} | "
                    f"{spread(accuracy)} |"
                )
                summary[f"{title}, {weights}"] = {
                    "minority_recall_min": min(recall),
                    "macro_f1_min": min(f1),
                }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
