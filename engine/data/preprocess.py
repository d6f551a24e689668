"""Transforms fitted on the training rows only, held as plain data.

Each `fit_*` takes the rows of the training split (indices) and returns a dict of
numbers and strings — what a run stores and what new data is prepared with; each
`apply_*` prepares every row with such a dict. No statistic ever sees a validation or
test row: fill values (median), categories, feature scaling (mean, std) and a
regression target's scaling are all computed over `train` alone.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.data.table_columns import TableColumns


def _std(values: np.ndarray, axis: int | tuple[int, ...]) -> np.ndarray:
    std = values.std(axis=axis)
    std[std == 0] = 1.0  # a constant column becomes 0, not NaN
    return std


# -------------------------------------------------------------------- tables


def fit_table(columns: TableColumns, train: np.ndarray, standardise: bool) -> dict[str, Any]:
    """Fill values, categories and scaling of a table's features, from rows `train`."""
    numeric = columns.numeric[train]
    fill: list[float] = []
    for j in range(len(columns.numeric_names)):
        seen = numeric[:, j][~np.isnan(numeric[:, j])]
        # A column empty in every training row: 0 (it is standardised to 0 either way).
        fill.append(float(np.median(seen)) if len(seen) else 0.0)
    categorical = []
    for j, name in enumerate(columns.categorical_names):
        seen = set(columns.text[train, j]) - {""}
        known = [value for value in columns.slots[j] if value in seen]
        categorical.append({"column": name, "values": list(columns.slots[j]), "known": known})
    doc: dict[str, Any] = {
        "kind": "table",
        "numeric": {"columns": list(columns.numeric_names), "fill": fill},
        "categorical": categorical,
        "scale": None,
    }
    if standardise:
        encoded = _encode(doc, columns)[train]
        doc["scale"] = {
            "mean": encoded.mean(axis=0).tolist(),
            "std": _std(encoded, 0).tolist(),
        }
    return doc


def _encode(doc: dict[str, Any], columns: TableColumns) -> np.ndarray:
    """Numbers with their fill values, then one 0/1 input per category value (float64)."""
    numeric = columns.numeric.copy()
    fill = np.asarray(doc["numeric"]["fill"], dtype=np.float64)
    missing = np.isnan(numeric)
    numeric[missing] = np.broadcast_to(fill, numeric.shape)[missing]
    parts = [numeric]
    for j, column in enumerate(doc["categorical"]):
        known = set(column["known"])
        cells = columns.text[:, j]
        # A value no training row holds encodes as all zeros, as an unknown one would.
        hot = [(cells == value) & (value in known) for value in column["values"]]
        parts.append(np.stack(hot, axis=1).astype(np.float64))
    return np.concatenate(parts, axis=1)


def apply_table(doc: dict[str, Any], columns: TableColumns) -> np.ndarray:
    """Every row prepared with a fitted table transform: (rows, width) float32."""
    x = _encode(doc, columns)
    if doc["scale"] is not None:
        mean = np.asarray(doc["scale"]["mean"], dtype=np.float64)
        x = (x - mean) / np.asarray(doc["scale"]["std"], dtype=np.float64)
    return x.astype(np.float32)


def filled_cells(doc: dict[str, Any], columns: TableColumns) -> str | None:
    """One note on the empty cells a fitted table transform fills, or None."""
    missing = np.isnan(columns.numeric).sum(axis=0)
    named = [
        f"{name!r} ({int(count)} with {fill:.4g})"
        for name, count, fill in zip(columns.numeric_names, missing, doc["numeric"]["fill"])
        if count
    ]
    if not named:
        return None
    return (
        f"{int(missing.sum())} empty cells filled with the training rows' median: "
        f"{', '.join(named)}; refuse them with missing='error'"
    )


# -------------------------------------------------------------------- arrays


def feature_axes(shape: tuple[int, ...], sequence: bool) -> tuple[int, ...]:
    """The axes one feature's statistics are taken over, besides the samples:
    (samples, F): none; (samples, T, F…) sequences: time; (samples, C, H, W): space."""
    if len(shape) <= 2:
        return ()
    if sequence:
        return (1,)
    return tuple(range(2, len(shape)))


def fit_standardiser(x: np.ndarray, train: np.ndarray, sequence: bool) -> dict[str, Any]:
    """Each feature's mean and std over the training samples (per column, per feature of
    a sequence step, per image channel)."""
    axes = (0, *feature_axes(x.shape, sequence))
    rows = x[train].astype(np.float64)
    mean = rows.mean(axis=axes, keepdims=True)[0]
    std = _std(rows, axes)
    std = std.reshape(mean.shape)
    return {"kind": "standardise", "mean": mean.tolist(), "std": std.tolist()}


def apply_standardiser(doc: dict[str, Any], x: np.ndarray) -> np.ndarray:
    mean = np.asarray(doc["mean"], dtype=np.float64)
    std = np.asarray(doc["std"], dtype=np.float64)
    return ((x.astype(np.float64) - mean) / std).astype(np.float32)


def fit_target_scale(y: np.ndarray, train: np.ndarray) -> dict[str, Any]:
    """A regression target's mean and std per value, over the training samples."""
    rows = y[train].astype(np.float64).reshape(len(train), -1)
    return {"mean": rows.mean(axis=0).tolist(), "std": _std(rows, 0).tolist()}


def apply_target_scale(doc: dict[str, Any], y: np.ndarray) -> np.ndarray:
    flat = y.astype(np.float64).reshape(len(y), -1)
    scaled = (flat - np.asarray(doc["mean"])) / np.asarray(doc["std"])
    return scaled.reshape(y.shape).astype(np.float32)


def target_units(doc: dict[str, Any], y: np.ndarray) -> np.ndarray:
    """Standardised targets (or predictions) back in the target's own units."""
    flat = y.astype(np.float64).reshape(len(y), -1)
    return (flat * np.asarray(doc["std"]) + np.asarray(doc["mean"])).reshape(y.shape)
