"""Datasets shipped with scikit-learn: real handwritten digits, iris and wine.

They load from files inside the scikit-learn package: no network. scikit-learn is
imported lazily so that importing engine.data stays quick.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.data.arrays import shuffled, standardised
from engine.data.registry import (
    ArrayDataset,
    InputShape,
    LoadFn,
    ShapeFn,
    register,
    seed_param,
)


def _load_digits(params: dict[str, Any]) -> ArrayDataset:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    # Pixel values are counts 0..16 of an 8×8 grid of 4×4 blocks; scale to [0, 1].
    images = (bunch.images / 16.0).astype(np.float32)[:, None, :, :]
    labels = bunch.target.astype(np.int64)
    images, labels = shuffled(params["seed"], images, labels)
    return ArrayDataset(
        name="digits",
        x=images,
        y=labels,
        task="classification",
        sample_shape=(1, 8, 8),
        sequence=False,
        num_classes=10,
        class_names=[str(d) for d in range(10)],
    )


register(
    "digits",
    "Handwritten digits (8×8)",
    "1,797 real handwritten digits 0–9 as 8×8 grey images (1, 8, 8) in [0, 1], from the "
    "UCI collection shipped with scikit-learn. A small CNN reaches about 98% accuracy.",
    "classification",
    (seed_param(),),
    _load_digits,
    lambda params: ((1, 8, 8), False),
    category="built-in",
)


def _tabular(name: str, loader_name: str, features: int) -> tuple[LoadFn, ShapeFn]:
    """A loader and shape rule for a scikit-learn table of `features` numeric columns."""

    def load(params: dict[str, Any]) -> ArrayDataset:
        import sklearn.datasets

        bunch = getattr(sklearn.datasets, loader_name)()
        x, y = shuffled(params["seed"], standardised(bunch.data), bunch.target.astype(np.int64))
        return ArrayDataset(
            name=name,
            x=x,
            y=y,
            task="classification",
            sample_shape=(features,),
            sequence=False,
            num_classes=len(bunch.target_names),
            class_names=[str(c) for c in bunch.target_names],
            feature_names=[str(f) for f in bunch.feature_names],
        )

    def shape(params: dict[str, Any]) -> InputShape:
        return (features,), False

    return load, shape


_load_iris, _iris_shape = _tabular("iris", "load_iris", 4)
register(
    "iris",
    "Iris flowers",
    "150 iris flowers of 3 species, 4 measurements each (standardised to mean 0, std 1). "
    "The classic first classifier: a small MLP reaches about 95% accuracy.",
    "classification",
    (seed_param(),),
    _load_iris,
    _iris_shape,
    category="built-in",
)

_load_wine, _wine_shape = _tabular("wine", "load_wine", 13)
register(
    "wine",
    "Wine cultivars",
    "178 wines from 3 cultivars, 13 chemical measurements each (standardised to mean 0, std 1).",
    "classification",
    (seed_param(),),
    _load_wine,
    _wine_shape,
    category="built-in",
)
