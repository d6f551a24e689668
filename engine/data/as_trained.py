"""Data the way a trained model saw it: prepared with the transforms its run fitted.

Training fits a dataset's transforms (fill values, categories, feature and target
scaling) on its training rows and stores them as plain data (`Trainer.preprocessing`,
a checkpoint's `preprocessing`). Everything that later feeds data to that model —
`inspect`, the window's look inside and restored runs, samples made at another size,
predictions on new rows — prepares it with those stored transforms, never refitted:

    data = as_trained(load_dataset(name, params, base_dir), checkpoint.preprocessing)
    Trainer(project, data, config)   # its splits now hold what the model trained on

A checkpoint without stored transforms (one written before they were stored, or data
that has none) leaves the data as it is: a Trainer then fits them on its training split,
the same rows and seed as the run, which is what the run did.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from engine.data.csv_table import TablePreparer
from engine.data.npz_arrays import ArrayPreparer
from engine.data.preprocess import apply_standardiser, apply_table, apply_target_scale
from engine.data.registry import ArrayDataset, DataError, Prepared


@dataclass
class FittedPreparer:
    """prepare(train) that fits nothing: every sample prepared with stored transforms.
    A plain object (the window pickles datasets to its training process)."""

    x: np.ndarray
    y: np.ndarray
    preprocessing: dict[str, Any]
    target_std: list[float] | None

    def __call__(self, train: np.ndarray) -> Prepared:
        notes = ["data prepared with the transforms the run fitted (stored in its checkpoint)"]
        return Prepared(self.x, self.y, self.preprocessing, notes, self.target_std)


def as_trained(data: ArrayDataset, preprocessing: dict[str, Any] | None) -> ArrayDataset:
    """`data` whose training preparation applies `preprocessing` instead of fitting it;
    `data` itself when there is nothing stored or nothing to prepare. DataError when the
    stored transforms do not fit this data (a column the run had is gone)."""
    if not preprocessing or data.prepare is None:
        return data
    stored = getattr(data.prepare, "stored", None)  # a preparer that applies its own kind
    if stored is not None:
        prepared = stored(preprocessing)
        fitted = FittedPreparer(prepared.x, prepared.y, preprocessing, prepared.target_std)
        return replace(data, prepare=fitted)
    x, y = prepared_samples(data, preprocessing)
    target = preprocessing.get("target")
    target_std = list(target["std"]) if target else None
    return replace(data, prepare=FittedPreparer(x, y, preprocessing, target_std))


def prepared_samples(
    data: ArrayDataset, preprocessing: dict[str, Any] | None
) -> tuple[np.ndarray, np.ndarray]:
    """Every sample's (x, y) as the model trained on them, with stored transforms."""
    if not preprocessing or data.prepare is None:
        return data.x, data.y
    prepare = data.prepare
    if isinstance(prepare, FittedPreparer):
        return prepare.x, prepare.y
    if getattr(prepare, "stored", None) is not None:
        prepared = prepare.stored(preprocessing)  # type: ignore[attr-defined]
        return prepared.x, prepared.y
    features, target = preprocessing.get("features"), preprocessing.get("target")
    if isinstance(prepare, TablePreparer):
        columns, order = prepare.table.columns, prepare.order
        raw_y = prepare.table.y[order]
        x = data.x if features is None else apply_table(_fits(features, columns), columns)[order]
    elif isinstance(prepare, ArrayPreparer):
        raw_y = prepare.y
        x = prepare.x if features is None else apply_standardiser(features, prepare.x)
    else:
        raise DataError(f"{data.name}: no way known to apply stored preprocessing to it")
    y = raw_y if target is None else apply_target_scale(target, raw_y)
    return x, y


def _fits(features: dict[str, Any], columns: Any) -> dict[str, Any]:
    """The stored table transform, checked to name the columns this table has."""
    expected = (features["numeric"]["columns"], [c["column"] for c in features["categorical"]])
    found = (list(columns.numeric_names), list(columns.categorical_names))
    if expected != found:
        raise DataError(
            f"the table's feature columns are {_names(found)}; the model was trained on "
            f"{_names(expected)} — give it a table with those columns"
        )
    return features


def _names(parts: tuple[list[str], list[str]]) -> str:
    numeric, categorical = parts
    return ", ".join([repr(n) for n in numeric] + [f"{n!r} (categories)" for n in categorical])
