"""Small array helpers shared by the dataset modules."""

from __future__ import annotations

import numpy as np

from engine.data.registry import DataError

# The most float32 values a generated dataset may hold (about 1.6 GB): generous for
# anything that trains on a CPU, and a clear message instead of a memory error.
MAX_VALUES = 400_000_000


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
