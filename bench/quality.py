"""Train every template with its own settings and check it against its quality bar.

    .venv/bin/python bench/quality.py                    # every template
    .venv/bin/python bench/quality.py mlp_iris rnn_adding  # a subset
    .venv/bin/python bench/quality.py --markdown         # the table for the README
    .venv/bin/python bench/quality.py --seed 1           # another seed: robust, not lucky?

Prints the issue's table with the measured validation value and the wall time of
each run (loading the data included) and exits 1 if any row misses its bar or its
time limit. Timings on a shared 2-core machine carry ±30% noise.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.data import ArrayDataset, load_dataset  # noqa: E402
from engine.project import load  # noqa: E402
from engine.train.config import TrainConfig  # noqa: E402
from engine.train.trainer import Trainer  # noqa: E402

TEMPLATES = ROOT / "templates"
MINUTES = 60.0


@dataclass(frozen=True)
class Bar:
    """A template's quality bar: its metric must reach `limit(data)` from the right side."""

    metric: str
    higher_is_better: bool
    text: str  # how the bar reads in the table; {limit} is replaced by the number
    limit: Callable[[ArrayDataset], float]
    seconds: float = 3 * MINUTES

    def passes(self, value: float, data: ArrayDataset) -> bool:
        limit = self.limit(data)
        return value >= limit if self.higher_is_better else value <= limit


def fixed(value: float) -> Callable[[ArrayDataset], float]:
    return lambda data: value


# The table, in its order. "Near chance" for four directions: ≤ 0.35.
BARS: dict[str, Bar] = {
    "cnn_lstm_video": Bar("accuracy", True, "accuracy ≥ 0.95", fixed(0.95)),
    "cnn_frame_video": Bar("accuracy", False, "near chance (0.25): ≤ 0.35", fixed(0.35)),
    "cnn_digits": Bar("accuracy", True, "accuracy ≥ 0.97", fixed(0.97)),
    "lstm_adding": Bar("mse", False, "MSE ≤ 0.01", fixed(0.01)),
    "gru_adding": Bar("mse", False, "MSE ≤ 0.01", fixed(0.01), seconds=5 * MINUTES),
    "rnn_adding": Bar(
        "mse",
        True,
        "stays near 0.167 (always answering 1): ≥ {limit:.3f}",
        lambda data: 0.9 * data.baselines["mse_predict_one"],
    ),
    "lstm_forecast": Bar(
        "mse",
        False,
        "MSE ≤ ½ last-value forecast's ({limit:.4f})",
        lambda data: 0.5 * data.baselines["mse_last_value"],
    ),
    "fcn_segmentation": Bar("mean_iou", True, "mean IoU ≥ 0.85", fixed(0.85)),
    "mlp_iris": Bar("accuracy", True, "accuracy ≥ 0.93", fixed(0.93)),
    # Units (issue 12): residual units on digits, and a U-Net that must at least match
    # the plain FCN template on the same data (0.952, its measured mean IoU at seed 0).
    "resnet_digits": Bar("accuracy", True, "accuracy ≥ 0.98", fixed(0.98)),
    "unet_segmentation": Bar("mean_iou", True, "mean IoU ≥ the FCN template's 0.952", fixed(0.952)),
}


@dataclass
class Row:
    template: str
    dataset: str
    bar: str
    value: float
    limit: float
    seconds: float
    epochs: int
    passed: bool
    in_time: bool


def run_template(stem: str, seed: int | None = None) -> Row:
    """Train one template with its own settings (and, if given, another training seed)."""
    bar = BARS[stem]
    path = TEMPLATES / f"{stem}.json"
    project = load(path)
    began = time.perf_counter()
    config = TrainConfig.from_dict(project.training).with_overrides(seed=seed)
    data = load_dataset(config.dataset.name, config.dataset.params, path.parent)
    trainer = Trainer(project, data, config)
    result = trainer.fit()
    seconds = time.perf_counter() - began
    assert result.final is not None, f"{stem}: {result.reason}"
    value = result.final.metrics[bar.metric]
    return Row(
        template=stem,
        dataset=data.name,
        bar=bar.text.format(limit=bar.limit(data)),
        value=value,
        limit=bar.limit(data),
        seconds=seconds,
        epochs=len(result.history),
        passed=bar.passes(value, data),
        in_time=seconds <= bar.seconds,
    )


def table(rows: list[Row], markdown: bool) -> str:
    headers = ["template", "data", "quality bar (validation)", "measured", "epochs", "time", "ok"]
    cells = [
        [
            f"{r.template}.json",
            r.dataset,
            r.bar,
            f"{BARS[r.template].metric} {r.value:.4f}",
            str(r.epochs),
            f"{r.seconds:.0f} s",
            "yes" if r.passed and r.in_time else ("too slow" if r.passed else "NO"),
        ]
        for r in rows
    ]
    if markdown:
        lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
        lines += ["| " + " | ".join(c) + " |" for c in cells]
        return "\n".join(lines)
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(cell, widths)) for cell in cells]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("templates", nargs="*", help=f"a subset of: {', '.join(BARS)}")
    parser.add_argument("--markdown", action="store_true", help="print a markdown table")
    parser.add_argument(
        "--seed", type=int, help="train with this seed instead of each template's own"
    )
    args = parser.parse_args(argv)
    unknown = [t for t in args.templates if t not in BARS]
    if unknown:
        parser.error(f"unknown template(s): {', '.join(unknown)} (known: {', '.join(BARS)})")
    rows = []
    for stem in args.templates or list(BARS):
        print(f"training {stem} ...", file=sys.stderr, flush=True)
        row = run_template(stem, args.seed)
        print(
            f"  {BARS[stem].metric} {row.value:.4f} (bar {row.limit:.4g}) in {row.seconds:.0f} s",
            file=sys.stderr,
            flush=True,
        )
        rows.append(row)
    print(table(rows, args.markdown))
    return 0 if all(r.passed and r.in_time for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
