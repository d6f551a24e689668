"""`adapt` end to end (issue 25, item 5): shipped templates pointed at real data with no
hand edits, trained at the template's own length, against the usual baselines.

    .venv/bin/python bench/adapt_bench.py               # seeds 0-2
    .venv/bin/python bench/adapt_bench.py --seeds 0-4 --kinds table,series

Each kind is adapted exactly as `python main.py adapt` does it (engine.data.adapt), then
trained by the trainer as `train` does:

- table: breast cancer written as a messy European spreadsheet (tests/engine/
  test_own_tables.py: `;`, decimal commas, an id column, text labels, empty cells, a
  category column) into the MLP template (templates/mlp_iris.json); against
  scikit-learn's LogisticRegression on the same training and validation rows, prepared
  as the net saw them;
- images: scikit-learn's digits written as a folder of grey PNGs, one subfolder per
  digit, into the CNN template (templates/cnn_digits.json); LogisticRegression likewise;
- arrays: the same digits as an .npz (x (1797, 64) float, y int) into the MLP template;
  LogisticRegression likewise;
- series: the yearly sunspot numbers 1700–2008 (shipped with statsmodels) into the
  forecasting template (templates/lstm_forecast.json, its window of 48 years); against
  persistence ("next = last") on the same validation windows, in the series' units.

Printed per kind, min / mean / max over seeds: the validation metric and the baseline.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.data import load_dataset  # noqa: E402
from engine.data.adapt import adapt  # noqa: E402
from engine.project.project import load  # noqa: E402
from engine.train.config import TrainConfig  # noqa: E402
from engine.train.trainer import Trainer  # noqa: E402
from tests.engine.test_own_tables import write_messy_cancer  # noqa: E402

KINDS = ("table", "images", "arrays", "series")
TEMPLATES = {
    "table": "mlp_iris",
    "images": "cnn_digits",
    "arrays": "mlp_iris",
    "series": "lstm_forecast",
}


def write_data(kind: str, folder: Path) -> Path:
    """The kind's data, as a person would have it on disk."""
    if kind == "table":
        write_messy_cancer(folder / "cancer.csv")
        return folder / "cancer.csv"
    if kind == "series":
        from statsmodels.datasets import sunspots

        frame = sunspots.load_pandas().data
        frame["YEAR"] = frame["YEAR"].astype(int)
        frame.to_csv(folder / "sunspots.csv", index=False, quoting=csv.QUOTE_MINIMAL)
        return folder / "sunspots.csv"
    from sklearn.datasets import load_digits

    bunch = load_digits()
    if kind == "arrays":
        np.savez(folder / "digits.npz", x=bunch.data.astype(np.float32), y=bunch.target)
        return folder / "digits.npz"
    from PIL import Image

    for i, (image, label) in enumerate(zip(bunch.images, bunch.target)):
        (folder / "digits" / str(label)).mkdir(parents=True, exist_ok=True)
        pixels = (image * 255 / 16).round().astype(np.uint8)
        Image.fromarray(pixels).save(folder / "digits" / str(label) / f"{i:04d}.png")
    return folder / "digits"


def logistic_regression(trainer: Trainer) -> float:
    from sklearn.linear_model import LogisticRegression

    def flat(split) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
        return split.x.reshape(len(split), -1).cpu().numpy(), split.y.cpu().numpy()

    model = LogisticRegression(max_iter=5000).fit(*flat(trainer.train_split))
    x, y = flat(trainer.val_split)
    return float((model.predict(x) == y).mean())


def one_run(kind: str, data_path: Path, seed: int) -> tuple[float, float, list[str]]:
    """(the validation metric, the baseline, the changes adapt printed)."""
    adaptation = adapt(load(ROOT / "templates" / f"{TEMPLATES[kind]}.json"), data_path)
    project = adaptation.project
    project.training["seed"] = seed
    config = TrainConfig.from_dict(project.training)
    data = load_dataset(config.dataset.name, config.dataset.params)
    trainer = Trainer(project, data, config, threads=1)
    result = trainer.fit()
    assert result.final is not None
    metric = float(result.final.metrics[trainer.objective.metric])
    if kind == "series":
        return metric, persistence(trainer), adaptation.changes
    return metric, logistic_regression(trainer), adaptation.changes


def persistence(trainer: Trainer) -> float:
    """ "Next = last" on the validation windows, in the target's units (the run's note)."""
    for note in trainer.notes:
        if note.startswith("forecast to beat:"):
            return float(note.split("mse=")[1].split()[0])
    raise RuntimeError(f"no persistence note among {trainer.notes}")


def spread(values: list[float]) -> str:
    return f"{min(values):.4g} / {statistics.mean(values):.4g} / {max(values):.4g}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0-2", help="a range like 0-4")
    parser.add_argument("--kinds", default=",".join(KINDS), help="a list like table,series")
    args = parser.parse_args()
    low, _, high = args.seeds.partition("-")
    seeds = list(range(int(low), int(high or low) + 1))
    kinds = [k for k in args.kinds.split(",") if k]
    print(f"seeds {seeds[0]}-{seeds[-1]}; figures min / mean / max")
    print("| kind | template | metric | adapted and trained | baseline (same split) |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for kind in kinds:
            folder = Path(tmp) / kind
            folder.mkdir()
            data_path = write_data(kind, folder)
            runs = [one_run(kind, data_path, seed) for seed in seeds]
            for line in runs[0][2]:
                print(f"  {kind}: {line}", file=sys.stderr)
            metric = "mse" if kind == "series" else "accuracy"
            baseline = "persistence" if kind == "series" else "LogisticRegression"
            print(
                f"| {kind} | {TEMPLATES[kind]} | {metric} | {spread([r[0] for r in runs])} | "
                f"{baseline} {spread([r[1] for r in runs])} |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
