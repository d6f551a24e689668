"""Predictions on rows no run has seen, against logistic regression (issue 25, item 6).

    .venv/bin/python bench/predict_bench.py              # seeds 0-4
    .venv/bin/python bench/predict_bench.py --seeds 0-9

Per seed: the messy breast-cancer table of tests/engine/test_own_tables.py (`;`, decimal
commas, a BOM, an id column, text labels, empty cells, a category column), made with
that seed; 20% of its rows (drawn by the seed) are set aside as unseen, in a file of
their own. The rest trains through `python main.py train` (the one-layer net of that
test: Dense 2, Adam lr 0.01, 15 epochs, its own validation split), then
`python main.py predict` scores the unseen file. scikit-learn's LogisticRegression is
fitted on the very training split the net trained on, with the same prepared features,
and scores the same unseen rows prepared with the run's stored preprocessing.

Printed per seed: the net's validation accuracy (`final:`), the net's and logistic
regression's accuracy on the unseen rows; then min / mean / max over seeds and the
smallest margin (net − logistic regression) on unseen rows, the figure to quote.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import re
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.cli.main import run  # noqa: E402
from engine.data import dataset_input_shape, load_dataset  # noqa: E402
from engine.predict.table_rows import read_table_rows  # noqa: E402
from engine.project.project import load  # noqa: E402
from engine.train.checkpoint import load_checkpoint  # noqa: E402
from engine.train.config import TrainConfig  # noqa: E402
from engine.train.trainer import Trainer  # noqa: E402
from tests.engine.test_own_tables import linear_project, write_messy_cancer  # noqa: E402

UNSEEN_SHARE = 0.2


def split_file(whole: Path, seed: int) -> tuple[Path, Path]:
    """(the rows to train on, the unseen rows), each a file with the header."""
    lines = whole.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    header, rows = lines[0], lines[1:]
    unseen = set(
        np.random.default_rng(seed).permutation(len(rows))[: int(UNSEEN_SHARE * len(rows))]
    )
    train, new = whole.with_name("train.csv"), whole.with_name("unseen.csv")
    train.write_text(
        header + "".join(r for i, r in enumerate(rows) if i not in unseen), "utf-8-sig"
    )
    new.write_text(header + "".join(r for i, r in enumerate(rows) if i in unseen), "utf-8-sig")
    return train, new


def quiet(argv: list[str]) -> tuple[int, str]:
    """run(argv) with its output captured: (exit code, stdout)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = run(argv)
    return code, out.getvalue()


def one_seed(folder: Path, seed: int) -> tuple[float, float, float, float]:
    """Accuracies: (net on validation, logistic regression on validation, net on the unseen
    rows, logistic regression on the unseen rows)."""
    from sklearn.linear_model import LogisticRegression

    write_messy_cancer(folder / "whole.csv", seed)
    train, unseen = split_file(folder / "whole.csv", seed)
    (width,), _ = dataset_input_shape("csv", {"path": str(train), "target": "diagnosis"})
    doc = linear_project(width, train, seed=seed)
    project = folder / "project.json"
    project.write_text(json.dumps(doc), encoding="utf-8")
    weights = folder / "run" / "model.pt"
    code, out = quiet(["train", str(project), "--out", str(weights.parent), "--threads", "1"])
    assert code == 0, out
    final = float(re.search(r"^final: accuracy=([\d.]+)$", out, re.M).group(1))
    code, out = quiet(["predict", str(project), "--weights", str(weights), str(unseen), "--out",
                       str(folder / "predictions.csv")])  # fmt: skip
    assert code == 0, out
    net = float(re.search(r"^accuracy=([\d.]+)$", out, re.M).group(1))

    # Logistic regression: the net's own training split and features, then the unseen rows
    # prepared with the run's stored preprocessing (as predict prepares them).
    data = load_dataset("csv", doc["training"]["dataset"]["params"], folder)
    trainer = Trainer(load(project), data, TrainConfig.from_dict(doc["training"]))
    fitted = LogisticRegression(max_iter=5000).fit(
        trainer.train_split.x.numpy(), trainer.train_split.y.numpy()
    )
    inputs = read_table_rows(load_checkpoint(weights).preprocessing, unseen)
    assert inputs.y is not None
    baseline = float((fitted.predict(inputs.x) == inputs.y).mean())
    assert trainer.val_split is not None
    val = fitted.score(trainer.val_split.x.numpy(), trainer.val_split.y.numpy())
    return final, float(val), net, baseline


def seeds_arg(text: str) -> list[int]:
    low, _, high = text.partition("-")
    return list(range(int(low), int(high or low) + 1))


def spread(values: list[float]) -> str:
    return f"min {min(values):.3f}  mean {statistics.mean(values):.3f}  max {max(values):.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=seeds_arg, default=seeds_arg("0-4"))
    args = parser.parse_args()
    results = []
    for seed in args.seeds:
        with tempfile.TemporaryDirectory() as tmp:
            final, val, net, baseline = one_seed(Path(tmp), seed)
        results.append((final, val, net, baseline))
        print(f"seed {seed}: validation: net {final:.3f}, logistic regression {val:.3f}  "
              f"unseen: net {net:.3f}, logistic regression {baseline:.3f}", flush=True)  # fmt: skip
    finals, vals, nets, baselines = (list(column) for column in zip(*results))
    print(f"validation, net                {spread(finals)}")
    print(f"validation, logistic regr.     {spread(vals)}")
    print(f"unseen rows, net (predict)     {spread(nets)}")
    print(f"unseen rows, logistic regr.    {spread(baselines)}")
    margins = [n - b for n, b in zip(nets, baselines)]
    print(f"net − logistic regression on unseen rows: worst {min(margins):+.3f}, "
          f"best {max(margins):+.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
