"""Generated sequences: the adding problem (long memory) and noisy sine forecasting."""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.blocks.spec import Param
from engine.data.arrays import check_size
from engine.data.registry import ArrayDataset, DataError, InputShape, register, seed_param

# ------------------------------------------------------------- adding problem

ADDING_PARAMS = (
    Param("samples", "int", 10_000, "Number of sequences.", 8, 1_000_000),
    Param(
        "length",
        "int",
        100,
        "Sequence length T: how far apart the two numbers to add may be.",
        2,
        5000,
    ),
    seed_param(),
)


def _adding_shape(params: dict[str, Any]) -> InputShape:
    return (params["length"], 2), True


def _adding_load(params: dict[str, Any]) -> ArrayDataset:
    n, length = params["samples"], params["length"]
    check_size("adding_problem", n * length * 2, "samples × length × 2")
    rng = np.random.default_rng(params["seed"])
    values = rng.uniform(0.0, 1.0, (n, length)).astype(np.float32)
    # One marker in each half, so the two marked steps are on average T/2 apart and
    # the first lies up to T steps before the end: the memory an RNN has to bridge.
    half = length // 2
    first = rng.integers(0, half, n)
    second = rng.integers(half, length, n)
    markers = np.zeros((n, length), dtype=np.float32)
    rows = np.arange(n)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    target = (values[rows, first] + values[rows, second]).astype(np.float32)[:, None]
    return ArrayDataset(
        name="adding_problem",
        x=np.stack([values, markers], axis=-1),
        y=target,
        task="regression",
        sample_shape=(length, 2),
        sequence=True,
        feature_names=["value", "marker"],
        # Always answering 1 (the mean sum) scores the variance of a sum of two
        # uniforms, 2/12 ≈ 0.167: a model at this level has learned nothing.
        baselines={"mse_predict_one": float(np.mean((target - 1.0) ** 2))},
    )


register(
    "adding_problem",
    "Adding problem (long memory)",
    "Hochreiter & Schmidhuber's long-memory task: T steps of (value, marker); two steps, "
    "one in each half, are marked and the target is the sum of their values. Always "
    "answering 1 gives MSE ≈ 0.167; an LSTM or GRU gets below 0.01, a plain RNN stays "
    "near 0.167 at T = 100 — its gradient vanishes over that many steps.",
    "regression",
    ADDING_PARAMS,
    _adding_load,
    _adding_shape,
)

# ------------------------------------------------------------------- sine

SINE_PARAMS = (
    Param("length", "int", 4000, "Length of the whole series (time steps).", 64, 2_000_000),
    Param("window", "int", 48, "Steps the model sees before forecasting the next one.", 2, 2000),
    Param("noise", "float", 0.1, "Standard deviation of the noise on every step.", 0.0, 2.0),
    seed_param(),
)


def _sine_shape(params: dict[str, Any]) -> InputShape:
    return (params["window"], 1), True


def sine_series(length: int, noise: float, seed: int) -> np.ndarray:
    """A noisy sum of a fast, a slow and a very slow cycle, periods and phases seeded."""
    rng = np.random.default_rng(seed)
    t = np.arange(length, dtype=np.float64)
    periods = (rng.uniform(16, 32), rng.uniform(60, 120), rng.uniform(300, 600))
    amplitudes = (1.0, 0.6, 0.3)
    series = np.zeros(length)
    for period, amplitude in zip(periods, amplitudes):
        series += amplitude * np.sin(2 * np.pi * t / period + rng.uniform(0, 2 * np.pi))
    series += rng.normal(0.0, noise, length)
    return series.astype(np.float32)


def _sine_load(params: dict[str, Any]) -> ArrayDataset:
    length, window, noise = params["length"], params["window"], params["noise"]
    if length - window < 8:
        raise DataError(
            f"dataset.params.window: sine needs a window at least 8 steps shorter than the "
            f"series (length {length}) to make samples; got {window}"
        )
    series = sine_series(length, noise, params["seed"])
    windows = np.lib.stride_tricks.sliding_window_view(series[:-1], window)
    x = np.ascontiguousarray(windows)[:, :, None]
    y = series[window:, None].copy()
    last_value_mse = float(np.mean((y[:, 0] - x[:, -1, 0]) ** 2))
    return ArrayDataset(
        name="sine",
        x=x,
        y=y,
        task="regression",
        sample_shape=(window, 1),
        sequence=True,
        ordered=True,
        feature_names=["value"],
        baselines={
            # Tomorrow = today: the forecast to beat.
            "mse_last_value": last_value_mse,
            # The noise on the next step cannot be forecast: no model gets below this.
            "mse_noise_floor": noise * noise,
        },
    )


register(
    "sine",
    "Noisy sine forecasting",
    "One noisy series, the sum of a fast, a slow and a very slow cycle. Each sample is a "
    "window of past steps (window, 1); the target is the next step. Samples are in time "
    "order (validate on the tail). The forecast to beat is 'the next value equals the "
    "last one'; an LSTM gets to half its MSE or better.",
    "regression",
    SINE_PARAMS,
    _sine_load,
    _sine_shape,
)
