"""A model's outputs as a table a person reads: one row per input, in input order.

Columns: the inputs' names (an id column, `file` or `row`), then `prediction` — the
class name, or the value in the target's own units (prediction_1…k for several) — and
for classification one `p_<class>` column per class (probabilities summing to 1).
When the inputs carry known targets, the metric (accuracy, or mse in the target's own
units) is computed over the rows that have one. Written atomically as CSV.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engine.common.atomic import replace_file
from engine.data.predict_inputs import PredictInputs
from engine.data.preprocess import target_units


@dataclass
class Predictions:
    header: list[str]  # [id column or "file" or "row"], "prediction", p_<class>…
    rows: list[list[object]]
    metric: tuple[str, float] | None  # ("accuracy", 0.97) when targets were present
    notes: list[str]


@dataclass(frozen=True)
class Head:
    """How to read the model's outputs: its loss and, for classification, the class
    names in label order."""

    loss: str  # cross_entropy | bce | mse
    classes: list[str] | None


def probabilities(outputs: np.ndarray, loss: str) -> np.ndarray:
    """(samples, classes) probabilities from raw scores: softmax, or a sigmoid's two."""
    scores = outputs.astype(np.float64)
    if loss == "bce":
        yes = 1.0 / (1.0 + np.exp(-scores[:, 0]))
        return np.stack([1.0 - yes, yes], axis=1)
    shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def _classified(outputs: np.ndarray, inputs: PredictInputs, head: Head) -> Predictions:
    classes = head.classes or []
    probs = probabilities(outputs, head.loss)
    chosen = probs.argmax(axis=1)
    header = [inputs.id_header, "prediction", *(f"p_{name}" for name in classes)]
    rows: list[list[object]] = [
        [ident, classes[int(c)], *(float(p) for p in row)]
        for ident, c, row in zip(inputs.ids, chosen, probs, strict=True)
    ]
    metric = None
    if inputs.y is not None:
        labels = inputs.y.reshape(len(inputs.y), -1)[:, 0]
        known = ~np.isnan(labels)
        if known.any():
            metric = ("accuracy", float((chosen[known] == labels[known]).mean()))
    return Predictions(header, rows, metric, list(inputs.notes))


def _regressed(
    outputs: np.ndarray, inputs: PredictInputs, target: dict[str, Any] | None
) -> Predictions:
    if inputs.to_units is not None:
        values = np.asarray(inputs.to_units(outputs), dtype=np.float64)
    elif target is not None:
        values = target_units(target, outputs)
    else:
        values = outputs.astype(np.float64)
    values = values.reshape(len(values), -1)
    count = values.shape[1]
    names = ["prediction"] if count == 1 else [f"prediction_{i + 1}" for i in range(count)]
    rows: list[list[object]] = [
        [ident, *(float(v) for v in row)] for ident, row in zip(inputs.ids, values, strict=True)
    ]
    metric = None
    if inputs.y is not None and inputs.y.size == values.size:
        known_y = inputs.y.reshape(values.shape)
        known = ~np.isnan(known_y).any(axis=1)
        if known.any():
            metric = ("mse", float(((values[known] - known_y[known]) ** 2).mean()))
    return Predictions([inputs.id_header, *names], rows, metric, list(inputs.notes))


def describe(
    outputs: np.ndarray, inputs: PredictInputs, head: Head, preprocessing: dict[str, Any]
) -> Predictions:
    """The table of predictions for `outputs` (samples, k), the model's raw outputs."""
    if head.classes is not None:
        return _classified(outputs, inputs, head)
    return _regressed(outputs, inputs, preprocessing.get("target"))


def cell(value: object) -> str:
    """A cell as written: numbers to 7 significant digits (float32 holds no more)."""
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.7g}"
    return str(value)


def write_rows(predictions: Predictions, handle: Any) -> None:
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(predictions.header)
    for row in predictions.rows:
        writer.writerow([cell(v) for v in row])


def write_predictions(predictions: Predictions, path: Path) -> None:
    """The predictions as a CSV file, replaced atomically (never half written)."""

    def write(tmp: Path) -> None:
        # surrogateescape: a file name that is not UTF-8 is written back as its own bytes.
        with open(tmp, "w", newline="", encoding="utf-8", errors="surrogateescape") as handle:
            write_rows(predictions, handle)

    replace_file(path, write)
