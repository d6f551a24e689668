"""A series cut into windows, and the scaling of windows fitted on the training part.

Window i holds the `window` steps from step i on (every column: the model's input) and
its target is the target column's next `horizon` steps. Consecutive windows overlap;
with a horizon above 1 their targets overlap too, so an ordered split leaves
`horizon - 1` windows out before each held-out part (`split_gap`): no training window's
input or target then shares a step with a validation window's target.

How a window is shown to the model (`forecast`):

- "change" (the default): the target column is shown relative to the window's last
  value and the model predicts the change from it. A series with a trend (CO₂ in ppm)
  then looks the same in every year, and "next = last" is the model's zero: it starts
  where persistence is and learns what to add. Other columns are standardised.
- "value": every column standardised with the training part's mean and std, and the
  model predicts the standardised values.

Every statistic (means, standard deviations of inputs, changes and targets) comes from
the training windows only; the fitted result is plain data (`fit_windows`), applied by
`apply_windows` to all windows and by `inputs_from_rows` to the last rows of a new file.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.data.preprocess import fit_target_scale

FORECASTS = ("change", "value")


def window_count(steps: int, window: int, horizon: int) -> int:
    return steps - window - horizon + 1


def _input_windows(values: np.ndarray, window: int, count: int) -> np.ndarray:
    """(count, window, features) views of `values` (no copy)."""
    view = np.lib.stride_tricks.sliding_window_view(values[: count + window - 1], window, axis=0)
    return view.transpose(0, 2, 1)


def targets(series: np.ndarray, window: int, horizon: int) -> np.ndarray:
    """(windows, horizon): the next `horizon` values of the target after each window."""
    count = window_count(len(series), window, horizon)
    return np.lib.stride_tricks.sliding_window_view(series[window:], horizon)[:count]


def last_values(series: np.ndarray, window: int, count: int) -> np.ndarray:
    """Each window's last value of the target: the persistence forecast."""
    return series[window - 1 : window - 1 + count]


def training_steps(train: np.ndarray, steps: int, window: int, horizon: int) -> np.ndarray:
    """A mask of the steps some training window reads or forecasts."""
    marks = np.zeros(steps + 1, dtype=np.int64)
    train = np.asarray(train, dtype=np.int64)
    np.add.at(marks, train, 1)
    np.add.at(marks, train + window + horizon, -1)
    return np.cumsum(marks)[:steps] > 0


def _spread(values: np.ndarray) -> float:
    std = float(values.std()) if values.size else 0.0
    return std if std > 0 and np.isfinite(std) else 1.0


def fit_windows(
    values: np.ndarray,
    target: int,
    window: int,
    horizon: int,
    train: np.ndarray,
    forecast: str,
    standardise: bool,
) -> dict[str, Any]:
    """The scaling of inputs and targets, from the training windows `train` alone."""
    features = values.shape[1]
    series = values[:, target]
    count = window_count(len(values), window, horizon)
    train = np.asarray(train, dtype=np.int64)
    relative = forecast == "change"
    if not standardise:
        mean, std = [0.0] * features, [1.0] * features
    else:
        seen = values[training_steps(train, len(values), window, horizon)]
        mean = seen.mean(axis=0).tolist()
        std = [_spread(seen[:, j]) for j in range(features)]
        if relative:
            # The target's inputs are offsets from each window's last value: their spread.
            windows = _input_windows(series[:, None], window, count)[train, :, 0]
            offsets = windows - windows[:, -1:]
            mean[target], std[target] = 0.0, _spread(offsets)
    future = targets(series, window, horizon)
    if relative:
        future = future - last_values(series, window, count)[:, None]
    scale = fit_target_scale(future, train)
    if not standardise:
        scale = {"mean": [0.0] * horizon, "std": [1.0] * horizon}
    return {
        "forecast": forecast,
        "inputs": {"mean": mean, "std": std},
        "targets": scale,
    }


def _scaled_inputs(
    doc: dict[str, Any], values: np.ndarray, target: int, window: int, count: int
) -> np.ndarray:
    """The first `count` windows' inputs (count, window, features) float32. Scaling each
    step commutes with cutting windows, so the steps are scaled once, then cut; a
    "change" target channel is each window less its last value, in float64."""
    steps = values[: count + window - 1].astype(np.float64)
    mean = np.asarray(doc["inputs"]["mean"], dtype=np.float64)
    std = np.asarray(doc["inputs"]["std"], dtype=np.float64)
    scaled = ((steps - mean) / std).astype(np.float32)
    x = np.array(_input_windows(scaled, window, count), order="C")  # a copy: views are read-only
    if doc["forecast"] == "change":
        own = np.lib.stride_tricks.sliding_window_view(steps[:, target], window)[:count]
        x[:, :, target] = (own - own[:, -1:] - mean[target]) / std[target]
    return x


def apply_windows(
    doc: dict[str, Any], values: np.ndarray, target: int, window: int, horizon: int
) -> tuple[np.ndarray, np.ndarray]:
    """Every window's input (windows, window, features) and target (windows, horizon),
    float32, prepared with fitted scaling `doc`."""
    series = values[:, target]
    count = window_count(len(values), window, horizon)
    x = _scaled_inputs(doc, values, target, window, count)
    future = targets(series, window, horizon).astype(np.float64)
    if doc["forecast"] == "change":
        future = future - last_values(series, window, count)[:, None]
    mean = np.asarray(doc["targets"]["mean"], dtype=np.float64)
    std = np.asarray(doc["targets"]["std"], dtype=np.float64)
    return x, ((future - mean) / std).astype(np.float32)


def inputs_from_rows(doc: dict[str, Any], rows: np.ndarray, target: int) -> np.ndarray:
    """The model's input (1, window, features) for the last `window` rows of a series."""
    return _scaled_inputs(doc, rows, target, len(rows), 1)


def in_units(doc: dict[str, Any], outputs: np.ndarray, last: np.ndarray) -> np.ndarray:
    """The model's outputs (samples, horizon) as forecasts in the target's own units,
    given each input window's last target value `last` (samples,)."""
    mean = np.asarray(doc["targets"]["mean"], dtype=np.float64)
    std = np.asarray(doc["targets"]["std"], dtype=np.float64)
    values = outputs.astype(np.float64).reshape(len(outputs), -1) * std + mean
    if doc["forecast"] == "change":
        values = values + np.asarray(last, dtype=np.float64).reshape(-1, 1)
    return values


def persistence_mse(series: np.ndarray, window: int, horizon: int, indices: np.ndarray) -> float:
    """The mean squared error of "next = last" over windows `indices`, in the target's units."""
    count = window_count(len(series), window, horizon)
    future = targets(series, window, horizon)[indices]
    last = last_values(series, window, count)[indices]
    return float(np.mean((future - last[:, None]) ** 2))
