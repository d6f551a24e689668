"""Does the forecasting template, pointed at a real series, beat "next = last"?

For each real public series shipped with statsmodels (installed with NetLoom's test
extra) the shipped template templates/lstm_forecast.json is adapted to the file
(`engine.data.adapt`, as `python main.py adapt` does) and trained with its own settings
(20 epochs, validation = the last 20% of time, ordered split) for seeds 0–4. Printed per
seed: the model's MSE on the validation windows in the series' own units, the
persistence forecast's MSE on the same windows, and their ratio (below 1: the model
wins). The summary gives the worst (highest) and best ratio over the seeds.

    .venv/bin/python bench/series_bench.py [--seeds 5] [--series co2 sunspots elnino macro]
        [--forecast change|value] [--horizon H]

A few minutes on two cores. The figures go in docs/data.md ("Your series").
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.data import load_dataset  # noqa: E402
from engine.data.adapt import adapt  # noqa: E402
from engine.data.series_windows import persistence_mse  # noqa: E402
from engine.data.splits import split_indices  # noqa: E402
from engine.project.project import load, save  # noqa: E402
from engine.train.config import TrainConfig  # noqa: E402
from engine.train.trainer import Trainer  # noqa: E402


def co2(folder: Path) -> Path:
    """Mauna Loa CO₂ in ppm, weekly 1958–2001 (2,284 weeks, 59 empty)."""
    from statsmodels.datasets import co2 as source

    frame = source.load_pandas().data
    frame.index.name = "date"
    frame.to_csv(folder / "co2.csv")
    return folder / "co2.csv"


def sunspots(folder: Path) -> Path:
    """Yearly sunspot numbers 1700–2008 (309 years)."""
    from statsmodels.datasets import sunspots as source

    source.load_pandas().data.to_csv(folder / "sunspots.csv", index=False)
    return folder / "sunspots.csv"


def elnino(folder: Path) -> Path:
    """Monthly sea surface temperature off Peru (El Niño), 1950–2010: the file's year
    rows of twelve months laid out as one row per month."""
    from statsmodels.datasets import elnino as source

    frame = source.load_pandas().data
    rows = ["month,temperature"]
    for _, year in frame.iterrows():
        for month, value in enumerate(year.iloc[1:], 1):
            rows.append(f"{int(year['YEAR'])}-{month:02d},{value}")
    path = folder / "elnino.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def macro(folder: Path) -> Path:
    """US quarterly macro data 1959–2009: unemployment (the target) with real GDP,
    consumption and investment as features — a series of several columns."""
    from statsmodels.datasets import macrodata as source

    frame = source.load_pandas().data
    rows = ["quarter,realgdp,realcons,realinv,unemp"]
    for _, q in frame.iterrows():
        month = 3 * (int(q["quarter"]) - 1) + 1
        values = ",".join(str(q[c]) for c in ("realgdp", "realcons", "realinv", "unemp"))
        rows.append(f"{int(q['year'])}-{month:02d},{values}")
    path = folder / "macro.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


# name → (writer, window): a window of about a year, two sunspot cycles, two years.
SERIES: dict[str, tuple[Callable[[Path], Path], int]] = {
    "co2": (co2, 52),
    "sunspots": (sunspots, 22),
    "elnino": (elnino, 24),
    "macro": (macro, 8),
}


def run_once(project_path: Path, seed: int, forecast: str) -> tuple[float, float]:
    """(model MSE, persistence MSE) on the validation windows, in the series' units."""
    project = load(project_path)
    project.training["seed"] = seed
    project.training["dataset"]["params"]["forecast"] = forecast
    config = TrainConfig.from_dict(project.training)
    params = config.dataset.params
    data = load_dataset(config.dataset.name, params, project_path.parent)
    result = Trainer(project, data, config).fit()
    assert result.final is not None
    parts = split_indices(
        "ordered",
        len(data),
        config.val_split,
        config.test_split,
        np.arange(len(data)),
        gap=data.split_gap,
    )
    assert data.prepare is not None
    series = data.prepare.series  # type: ignore[attr-defined]
    column = series.values[:, series.target]
    baseline = persistence_mse(column, params["window"], params.get("horizon", 1), parts.val)
    return float(result.final.metrics["mse"]), baseline


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--series", nargs="*", default=list(SERIES), choices=list(SERIES))
    parser.add_argument("--horizon", type=int, default=1, help="steps forecast (default 1)")
    parser.add_argument(
        "--forecast",
        default="change",
        choices=("change", "value"),
        help="what the model predicts (the dataset's forecast param; default change)",
    )
    args = parser.parse_args()
    template = load(ROOT / "templates" / "lstm_forecast.json")
    with tempfile.TemporaryDirectory() as folder:
        for name in args.series:
            writer, window = SERIES[name]
            data = writer(Path(folder))
            adapted = adapt(template, data, window=window, horizon=args.horizon)
            project_path = Path(folder) / f"{name}.json"

            save(adapted.project, project_path)
            ratios = []
            for seed in range(args.seeds):
                model, baseline = run_once(project_path, seed, args.forecast)
                ratios.append(model / baseline)
                print(
                    f"{name:9} seed {seed}: model mse {model:.4g}, next = last {baseline:.4g}, "
                    f"ratio {model / baseline:.3f}",
                    flush=True,
                )
            print(
                f"{name:9} ratio over {args.seeds} seeds: worst {max(ratios):.3f}, "
                f"best {min(ratios):.3f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
