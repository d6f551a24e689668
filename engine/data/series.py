"""`series`: a person's time series — a CSV/TSV with a time column — cut into windows.

Each sample is `window` consecutive rows of every feature column (window, features),
a sequence; its target is the next `horizon` values of the target column (horizon,),
a regression. The file is read and put in time order by engine.data.series_reading;
windows and their scaling are in engine.data.series_windows.

Samples are in time order and split `ordered` by default: validation is the last
`val_split` of the windows, test after it, and `horizon - 1` windows are left out
before each held-out part so that no training window's input or target shares a step
with a held-out window's target. Scaling is fitted on the training windows alone, and
the fitted result (plain data, `preprocessing`) is all predict needs to turn the last
`window` rows of a new file into one input and the model's output back into the
target's own units (`forecast_inputs`, `forecast_values`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from engine.blocks.spec import Param
from engine.data.arrays import check_size
from engine.data.files import existing_file
from engine.data.predict_inputs import PredictInputs
from engine.data.registry import (
    ArrayDataset,
    DataError,
    InputShape,
    Prepared,
    TextParam,
    names_param,
    path_param,
    register,
)
from engine.data.series_reading import WHAT, Series, SeriesOptions, header_columns, read_series
from engine.data.series_windows import (
    FORECASTS,
    apply_windows,
    fit_windows,
    in_units,
    inputs_from_rows,
    persistence_mse,
    targets,
    window_count,
)
from engine.data.splits import part_sizes
from engine.data.table_reading import DECIMAL_CHOICES, SEP_CHOICES

# The persistence baseline is scored on the windows a default split validates on.
DEFAULT_VAL_SPLIT = 0.2


@dataclass(frozen=True)
class OptionalTextParam(TextParam):
    """A column name that may be left empty ("": found from the file)."""

    @property
    def required(self) -> bool:
        return False

    def validate(self, value: Any) -> Any:
        if value is None or isinstance(value, str) and not value.strip():
            return ""
        return super().validate(value)


def _options(params: dict[str, Any]) -> SeriesOptions:
    return SeriesOptions(
        time=params["time"],
        target=params["target"],
        features=params["features"],
        sep=params["sep"],
        decimal=params["decimal"],
    )


def read(params: dict[str, Any]) -> Series:
    """The series the params point at, checked long enough for one window."""
    series = read_series(existing_file(params["path"], WHAT), _options(params))
    window, horizon = params["window"], params["horizon"]
    steps = len(series.values)
    if window_count(steps, window, horizon) < 1:
        raise DataError(
            f"dataset.params.window: {series.path} has {steps} rows (times); a window of "
            f"{window} steps and a horizon of {horizon} need at least {window + horizon} — "
            f"lower the window to at most {max(steps - horizon, 0)}"
        )
    return series


@dataclass
class SeriesPreparer:
    """prepare(train) for a series: the windows scaled with statistics of the training
    windows. A plain object, not a closure: the window pickles datasets to its training
    process."""

    series: Series
    window: int
    horizon: int
    forecast: str
    standardise: bool
    sep: str = "auto"  # as the params gave them: predict reads a new file the same way
    decimal: str = "auto"

    def __call__(self, train: np.ndarray) -> Prepared:
        series = self.series
        doc = fit_windows(
            series.values,
            series.target,
            self.window,
            self.horizon,
            np.asarray(train, dtype=np.int64),
            self.forecast,
            self.standardise,
        )
        prepared = self.stored(self.describe(doc))
        prepared.notes += self._notes(doc, np.asarray(train, dtype=np.int64))
        return prepared

    def describe(self, doc: dict[str, Any]) -> dict[str, Any]:
        """The preprocessing a run stores: plain data."""
        return {
            "kind": "series",
            "time": self.series.time,
            "features": list(self.series.features),
            "target": self.series.target_name,
            "window": self.window,
            "horizon": self.horizon,
            "scale": doc,
            "sep": self.sep,
            "decimal": self.decimal,
        }

    def stored(self, preprocessing: dict[str, Any]) -> Prepared:
        """Every window prepared with stored preprocessing (engine.data.as_trained)."""
        series = self.series
        if preprocessing.get("kind") != "series":
            raise DataError("the stored preprocessing is not a series'; retrain on this series")
        check_matches(preprocessing, series.features, self.window, self.horizon)
        doc = preprocessing["scale"]
        x, y = apply_windows(doc, series.values, series.target, self.window, self.horizon)
        std = [float(s) for s in doc["targets"]["std"]]
        return Prepared(x, y, preprocessing, [], target_std=std)

    def _notes(self, doc: dict[str, Any], train: np.ndarray) -> list[str]:
        name = self.series.target_name
        notes = []
        if doc["forecast"] == "change":
            notes.append(
                f"the model sees {name!r} relative to each window's last value and predicts "
                "the change from it; metrics are in its own units"
            )
        count = window_count(len(self.series.values), self.window, self.horizon)
        if len(train) and not np.array_equal(np.sort(train), np.arange(len(train))):
            notes.append(
                "the training windows are not the first ones (training.split is not "
                "ordered): validation windows share steps with training windows, so "
                "validation flatters the model — leave training.split at auto or ordered"
            )
            return notes
        after = np.arange(int(train.max()) + self.horizon, count) if len(train) else []
        if len(after):
            mse = persistence_mse(
                self.series.values[:, self.series.target], self.window, self.horizon, after
            )
            notes.append(
                f"forecast to beat: 'next = last' scores mse={mse:.6g} on the {len(after)} "
                f"windows after the training part (in {name!r} units)"
            )
        return notes


def _numbers(value: Any, count: int, positive: bool) -> bool:
    return (
        isinstance(value, list)
        and len(value) == count
        and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v)
            for v in value
        )
        and (not positive or all(v > 0 for v in value))
    )


def check_stored(preprocessing: dict[str, Any]) -> None:
    """DataError naming the field when a checkpoint's series preprocessing is not what
    this module writes (damaged, or written by hand)."""
    pre = preprocessing
    features, scale = pre.get("features"), pre.get("scale")
    fields = {
        "time": isinstance(pre.get("time"), str),
        "features": isinstance(features, list)
        and len(features) > 0
        and all(isinstance(f, str) for f in features),
        "target": pre.get("target") in (features or []),
        "window": isinstance(pre.get("window"), int) and pre["window"] >= 1,
        "horizon": isinstance(pre.get("horizon"), int) and pre["horizon"] >= 1,
        "scale": isinstance(scale, dict) and scale.get("forecast") in FORECASTS,
    }
    if all(fields.values()):
        inputs, targets = scale.get("inputs"), scale.get("targets")
        width, horizon = len(features), pre["horizon"]
        fields["scale.inputs"] = isinstance(inputs, dict) and (
            _numbers(inputs.get("mean"), width, False) and _numbers(inputs.get("std"), width, True)
        )
        fields["scale.targets"] = isinstance(targets, dict) and (
            _numbers(targets.get("mean"), horizon, False)
            and _numbers(targets.get("std"), horizon, True)
        )
    bad = next((name for name, ok in fields.items() if not ok), None)
    if bad is not None:
        raise DataError(f"the stored series preprocessing has a damaged {bad!r}; retrain the model")


def check_matches(
    preprocessing: dict[str, Any], features: list[str], window: int, horizon: int
) -> None:
    """DataError when stored preprocessing was fitted on other columns or windows."""
    check_stored(preprocessing)
    stored = list(preprocessing.get("features") or [])
    if stored != list(features):
        raise DataError(
            f"the series' columns are {', '.join(map(repr, features))}; the model was trained "
            f"on {', '.join(map(repr, stored))} — give it a series with those columns"
        )
    if (preprocessing.get("window"), preprocessing.get("horizon")) != (window, horizon):
        raise DataError(
            f"the model was trained on windows of {preprocessing.get('window')} steps "
            f"forecasting {preprocessing.get('horizon')}; the dataset asks for {window} and "
            f"{horizon}"
        )


def _load(params: dict[str, Any]) -> ArrayDataset:
    series = read(params)
    window, horizon = params["window"], params["horizon"]
    count = window_count(len(series.values), window, horizon)
    features = len(series.features)
    check_size("series", count * window * features, "windows × window × features")
    preparer = SeriesPreparer(
        series,
        window,
        horizon,
        params["forecast"],
        params["standardise"],
        params["sep"],
        params["decimal"],
    )
    # What a preview shows: every window scaled as one, the targets in their own units.
    everything = np.arange(count)
    doc = fit_windows(
        series.values,
        series.target,
        window,
        horizon,
        everything,
        params["forecast"],
        params["standardise"],
    )
    x, _ = apply_windows(doc, series.values, series.target, window, horizon)
    column = series.values[:, series.target]
    y = targets(column, window, horizon).astype(np.float32)
    held, _ = part_sizes(count, DEFAULT_VAL_SPLIT, 0.0)
    tail = everything[count - held :] if count > held else everything
    return ArrayDataset(
        name="series",
        x=x,
        y=y,
        task="regression",
        sample_shape=(window, features),
        sequence=True,
        feature_names=list(series.features),
        # "Next = last" on the windows a default split validates on, in the target's units.
        baselines={"mse_last_value": persistence_mse(column, window, horizon, tail)},
        ordered=True,
        notes=list(series.notes),
        prepare=preparer,
        default_split="ordered",
        split_gap=horizon - 1,
    )


def _shape(params: dict[str, Any]) -> InputShape:
    return (params["window"], len(read(params).features)), True


# ------------------------------------------------------------------ predict


def forecast_inputs(preprocessing: dict[str, Any], path: Path) -> tuple[np.ndarray, str, float]:
    """The model's input (1, window, features) from the last `window` rows of the series
    in `path`, the time of its last row and its last target value (what a "change"
    forecast is added to). DataError naming the file when it does not fit."""
    check_stored(preprocessing)
    features = list(preprocessing["features"])
    target = str(preprocessing["target"])
    window = int(preprocessing["window"])
    sep, decimal = preprocessing.get("sep"), preprocessing.get("decimal")
    options = SeriesOptions(
        time=str(preprocessing["time"]),
        target=target,
        features=features,
        sep=sep if sep in SEP_CHOICES else "auto",
        decimal=decimal if decimal in DECIMAL_CHOICES else "auto",
    )
    file = existing_file(str(path), WHAT)
    columns = header_columns(file, options.sep)
    missing = [name for name in [options.time, *features] if name not in columns]
    if missing:
        raise DataError(
            f"{path}: no column {', '.join(map(repr, missing))}; the model reads the time "
            f"{options.time!r} and {', '.join(map(repr, features))} — give it a series with "
            "those columns"
        )
    series = read_series(file, options)
    if len(series.values) < window:
        raise DataError(
            f"{path}: {len(series.values)} rows; the model forecasts from the last {window} "
            "— give it at least that many"
        )
    rows = series.values[-window:]
    x = inputs_from_rows(preprocessing["scale"], rows, series.target)
    return x, series.times[-1], float(rows[-1, series.target])


def forecast_values(
    preprocessing: dict[str, Any], outputs: np.ndarray, *, last: np.ndarray | float
) -> np.ndarray:
    """The model's outputs (samples, horizon) as forecasts in the target's own units."""
    last_values = np.atleast_1d(np.asarray(last, dtype=np.float64))
    return in_units(preprocessing["scale"], outputs, last_values)


def read_series_rows(preprocessing: dict[str, Any], data: Path) -> PredictInputs:
    """predict's reader for a series model: one forecast of the `horizon` steps after
    the file's last row, from its last `window` rows (engine.predict.readers)."""
    x, last_time, last_value = forecast_inputs(preprocessing, data)
    horizon = int(preprocessing["horizon"])
    steps = "the next step" if horizon == 1 else f"the {horizon} steps"
    note = f"forecast of {preprocessing['target']!r}: {steps} after {last_time}, the file's end"
    to_units = partial(forecast_values, preprocessing, last=last_value)
    return PredictInputs(x, [last_time], str(preprocessing["time"]), None, to_units, [note])


register(
    "series",
    "Your series (CSV)",
    "A CSV or TSV file with a time column (dates, times or numbers such as years) and one "
    "or more columns of numbers, one row per time. Each sample is a window of the last "
    "`window` rows; the target is the next `horizon` values of the target column. Rows "
    "are sorted by time, empty cells interpolated; the split is in time order "
    "(validation at the end). By default the model sees the target relative to the "
    "window's last value and predicts the change, so 'next = last' is its starting point.",
    "regression",
    (
        path_param("The CSV file."),
        OptionalTextParam(
            "time",
            "text",
            "",
            "The time column (empty: the first column of dates or named date, time, year, …).",
        ),  # type: ignore[arg-type]
        OptionalTextParam(
            "target", "text", "", "The column to forecast (empty: the last column of numbers)."
        ),  # type: ignore[arg-type]
        names_param("features", "The columns to learn from (default: every column of numbers)."),
        Param("window", "int", 24, "Steps the model sees before forecasting.", 1, 10_000),
        Param("horizon", "int", 1, "Steps forecast after each window.", 1, 1_000),
        Param("standardise", "bool", True, "Scale inputs and targets by the training part."),
        Param(
            "forecast",
            "choice",
            "change",
            "change: predict the change from the window's last value (a trend does not "
            "matter); value: predict the standardised value.",
            choices=FORECASTS,
        ),
        Param("sep", "choice", "auto", "The cell separator; auto finds it.", choices=SEP_CHOICES),
        Param(
            "decimal",
            "choice",
            "auto",
            "The decimal mark; auto finds it (a comma in 3,14).",
            choices=DECIMAL_CHOICES,
        ),
    ),
    _load,
    _shape,
    category="your data",
)
