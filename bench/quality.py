"""Train every template with its own settings and check it against its quality bar.

    .venv/bin/python bench/quality.py                    # every template
    .venv/bin/python bench/quality.py mlp_iris rnn_adding  # a subset
    .venv/bin/python bench/quality.py --markdown         # the table for the README
    .venv/bin/python bench/quality.py --seed 1           # another seed: robust, not lucky?
    .venv/bin/python bench/quality.py --seeds 0-4 --threads 1,2   # every seed × thread count

Prints the issue's table with the measured validation value and the wall time of
each run (loading the data included) and exits 1 if any row misses its bar or its
time limit. With several seeds or thread counts, each template is trained once per
(seed, threads) pair and its row shows the min / median / max of the value; the row
passes only if the worst run meets the bar. Timings on a shared 2-core machine carry
±30% noise.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.data import ArrayDataset, load_dataset  # noqa: E402
from engine.project.project import load  # noqa: E402
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
class Run:
    """One training run of a template: its measured value and wall time."""

    seed: int | None
    threads: int | None
    value: float
    seconds: float
    epochs: int


@dataclass
class Row:
    """A template's runs (one per seed and thread count) against its bar."""

    template: str
    dataset: str
    bar: str
    limit: float
    runs: list[Run]

    @property
    def values(self) -> list[float]:
        return [r.value for r in self.runs]

    @property
    def worst(self) -> float:
        """The run furthest from passing: the bar must hold for it."""
        good = BARS[self.template].higher_is_better
        return min(self.values) if good else max(self.values)

    @property
    def passed(self) -> bool:
        bar = BARS[self.template]
        return all(
            (v >= self.limit if bar.higher_is_better else v <= self.limit) for v in self.values
        )

    @property
    def seconds(self) -> float:
        """The slowest run: every run must fit the time limit."""
        return max(r.seconds for r in self.runs)

    @property
    def in_time(self) -> bool:
        return self.seconds <= BARS[self.template].seconds


def run_template(
    stem: str, seed: int | None = None, threads: int | None = None
) -> tuple[Run, str, str, float]:
    """Train one template with its own settings (and, if given, another seed or thread count).

    Returns the run, the dataset's name, the bar's text and its limit.
    """
    bar = BARS[stem]
    path = TEMPLATES / f"{stem}.json"
    project = load(path)
    began = time.perf_counter()
    config = TrainConfig.from_dict(project.training).with_overrides(seed=seed)
    data = load_dataset(config.dataset.name, config.dataset.params, path.parent)
    trainer = Trainer(project, data, config, threads=threads)
    result = trainer.fit()
    seconds = time.perf_counter() - began
    assert result.final is not None, f"{stem}: {result.reason}"
    value = result.final.metrics[bar.metric]
    run = Run(seed, trainer.threads, value, seconds, len(result.history))
    limit = bar.limit(data)
    return run, data.name, bar.text.format(limit=limit), limit


def table(rows: list[Row], markdown: bool) -> str:
    several = any(len(r.runs) > 1 for r in rows)
    measured = "min / median / max" if several else "measured"
    headers = ["template", "data", "quality bar (validation)", measured, "epochs", "time", "ok"]
    if several:
        headers.insert(4, "runs")
    cells = []
    for r in rows:
        metric = BARS[r.template].metric
        if several:
            lo, mid, hi = min(r.values), statistics.median(r.values), max(r.values)
            value = f"{metric} {lo:.4f} / {mid:.4f} / {hi:.4f}"
        else:
            value = f"{metric} {r.values[0]:.4f}"
        cell = [
            f"{r.template}.json",
            r.dataset,
            r.bar,
            value,
            str(max(run.epochs for run in r.runs)),
            f"{r.seconds:.0f} s",
            "yes" if r.passed and r.in_time else ("too slow" if r.passed else "NO"),
        ]
        if several:
            cell.insert(4, str(len(r.runs)))
        cells.append(cell)
    if markdown:
        lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
        lines += ["| " + " | ".join(c) + " |" for c in cells]
        return "\n".join(lines)
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(cell, widths)) for cell in cells]
    return "\n".join(lines)


def int_list(text: str) -> list[int]:
    """'0-4' → [0, 1, 2, 3, 4]; '1,2' → [1, 2]; '3' → [3]."""
    numbers: list[int] = []
    try:
        for part in text.split(","):
            low, dash, high = part.strip().partition("-")
            numbers += range(int(low), int(high) + 1) if dash else [int(low)]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected e.g. 0-4 or 1,2; got {text!r}") from None
    if not numbers:
        raise argparse.ArgumentTypeError(f"expected at least one number; got {text!r}")
    return numbers


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("templates", nargs="*", help=f"a subset of: {', '.join(BARS)}")
    parser.add_argument("--markdown", action="store_true", help="print a markdown table")
    seeds = parser.add_mutually_exclusive_group()
    seeds.add_argument(
        "--seed", type=int, help="train with this seed instead of each template's own"
    )
    seeds.add_argument(
        "--seeds", type=int_list, help="train once per seed, e.g. 0-4 or 0,3 (min/median/max)"
    )
    parser.add_argument(
        "--threads",
        type=int_list,
        help="torch CPU threads, e.g. 1,2: train once per count (default: the trainer's choice)",
    )
    args = parser.parse_args(argv)
    unknown = [t for t in args.templates if t not in BARS]
    if unknown:
        parser.error(f"unknown template(s): {', '.join(unknown)} (known: {', '.join(BARS)})")
    seed_list: list[int | None] = args.seeds or [args.seed]
    thread_list: list[int | None] = args.threads or [None]
    rows = []
    for stem in args.templates or list(BARS):
        row: Row | None = None
        for threads in thread_list:
            for seed in seed_list:
                label = f"seed {seed}, threads {threads or 'auto'}"
                print(f"training {stem} ({label}) ...", file=sys.stderr, flush=True)
                run, dataset, text, limit = run_template(stem, seed, threads)
                print(
                    f"  {BARS[stem].metric} {run.value:.4f} (bar {limit:.4g}) "
                    f"in {run.seconds:.0f} s",
                    file=sys.stderr,
                    flush=True,
                )
                if row is None:
                    row = Row(stem, dataset, text, limit, [])
                row.runs.append(run)
        assert row is not None
        rows.append(row)
    print(table(rows, args.markdown))
    return 0 if all(r.passed and r.in_time for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
