"""Small array helpers shared by the dataset modules."""

from __future__ import annotations

import numpy as np

from engine.data.registry import DataError

# The most float32 values a generated dataset may hold (about 1.6 GB): generous for
# anything that trains on a CPU, and a clear message instead of a memory error.
MAX_VALUES = 400_000_000
# The most classes a dataset may have. A classifier's Output has one score per class,
# and class labels index those scores, so labels must run 0…K−1: a stray label of
# 10^9 would otherwise ask for a billion class names and a billion-wide Output.
MAX_CLASSES = 10_000


def shuffled(seed: int, *arrays: np.ndarray) -> list[np.ndarray]:
    """The arrays in one common random order, so a tail validation split mixes classes."""
    order = np.random.default_rng(seed).permutation(len(arrays[0]))
    return [a[order] for a in arrays]


def standardised(x: np.ndarray) -> np.ndarray:
    """Each column to mean 0, standard deviation 1 (constant columns become 0)."""
    x = x.astype(np.float64)
    std = x.std(axis=0)
    std[std == 0] = 1.0
    return ((x - x.mean(axis=0)) / std).astype(np.float32)


def check_size(dataset: str, values: int, formula: str) -> None:
    """Refuse a generated dataset too large for memory, naming the params that make it so."""
    if values > MAX_VALUES:
        raise DataError(
            f"dataset.params: {dataset} with {formula} would hold {values:,} values, more than "
            f"{MAX_VALUES:,}; lower them"
        )


def check_class_labels(where: str, labels: np.ndarray) -> int:
    """The class count K of integer labels that must run 0…K−1, K ≤ MAX_CLASSES.

    DataError (starting with `where`) for a negative label or one of MAX_CLASSES or more.
    """
    if labels.size == 0:
        return 0
    low, high = int(labels.min()), int(labels.max())
    renumber = "renumber them 0…K−1, e.g. y = np.unique(y, return_inverse=True)[1]"
    if low < 0:
        raise DataError(
            f"{where}: y holds the class {low}; classes are numbered 0, 1, 2, … — {renumber}"
        )
    if high >= MAX_CLASSES:
        raise DataError(
            f"{where}: y holds the class {high}; classes are numbered 0…K−1 with at most "
            f"{MAX_CLASSES:,} classes — {renumber}"
        )
    return high + 1
