"""Which samples train, which validate, which are held out to test: three kinds of split.

random: a seeded permutation; test first, validation next, the rest trains (with no
test part this is the split NetLoom always made, sample for sample). stratified: the
same permutation, taken class by class, so each part holds every class in its share.
ordered: samples in time order; training first, then validation, then test at the end,
so nothing validated or tested comes before anything trained on. Windows that forecast
several steps overlap their neighbours' targets: such data asks for a `gap` of samples
left out before each held-out part, so no two parts share a target step.

The permutation comes from the caller (the trainer draws it from its seeded torch
generator, which then goes on to shuffle the epochs). Pure numpy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.data.registry import SPLITS


class SplitError(ValueError):
    """Fractions that leave no sample to train on; the message names the setting."""


@dataclass(frozen=True)
class SplitIndices:
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray


def part_sizes(samples: int, val_fraction: float, test_fraction: float) -> tuple[int, int]:
    """(validation, test) sample counts: a fraction above 0 holds out at least one."""
    sizes = []
    for fraction in (val_fraction, test_fraction):
        size = round(samples * fraction)
        sizes.append(max(size, 1) if fraction > 0 else 0)
    return sizes[0], sizes[1]


def split_indices(
    kind: str,
    samples: int,
    val_fraction: float,
    test_fraction: float,
    permutation: np.ndarray,
    labels: np.ndarray | None = None,
    gap: int = 0,
) -> SplitIndices:
    """The three parts' sample indices; SplitError when training would get no sample.

    `gap` (ordered splits only): samples left out before the validation part and before
    the test part, in no part at all."""
    if kind not in SPLITS:
        raise ValueError(f"unknown split {kind!r} (known: {', '.join(SPLITS)})")
    val, test = part_sizes(samples, val_fraction, test_fraction)
    gaps = gap * ((val > 0) + (test > 0)) if kind == "ordered" else 0
    if samples - val - test - gaps < 1:
        left_out = f" (and {gaps} left out between the parts)" if gaps else ""
        raise SplitError(
            f"holding out {val_fraction:g} for validation and {test_fraction:g} for test of "
            f"{samples} samples{left_out} leaves none to train on"
        )
    if kind == "ordered":
        test_start = samples - test
        val_start = test_start - (gap if test else 0) - val
        cut = val_start - (gap if val else 0)
        order = np.arange(samples)
        return SplitIndices(order[:cut], order[val_start : val_start + val], order[test_start:])
    permutation = np.asarray(permutation, dtype=np.int64)
    if kind == "random" or labels is None:
        return SplitIndices(
            permutation[test + val :], permutation[test : test + val], permutation[:test]
        )
    return _stratified(permutation, np.asarray(labels), val_fraction, test_fraction, val, test)


def _stratified(
    permutation: np.ndarray,
    labels: np.ndarray,
    val_fraction: float,
    test_fraction: float,
    val: int,
    test: int,
) -> SplitIndices:
    """Each class's samples, in the permutation's order, dealt out in the parts' shares;
    the parts' totals are those a random split would have."""
    in_order = labels[permutation]
    classes, counts = np.unique(in_order, return_counts=True)
    # Largest remainders: each class's share rounded so the shares add up to the totals.
    test_share = _shares(counts, test, test_fraction)
    val_share = _shares(counts - test_share, val, val_fraction / max(1e-12, 1 - test_fraction))
    parts: dict[str, list[np.ndarray]] = {"train": [], "val": [], "test": []}
    for c, cls in enumerate(classes):
        members = permutation[in_order == cls]
        t, v = test_share[c], val_share[c]
        parts["test"].append(members[:t])
        parts["val"].append(members[t : t + v])
        parts["train"].append(members[t + v :])
    return SplitIndices(
        *(np.sort(np.concatenate(parts[name])) for name in ("train", "val", "test"))
    )


def _shares(counts: np.ndarray, total: int, fraction: float) -> np.ndarray:
    exact = counts * fraction
    share = np.floor(exact).astype(np.int64)
    short = total - int(share.sum())
    if short > 0:
        # The classes whose exact share lost most to rounding take one more each.
        room = np.flatnonzero(share < counts)
        by_remainder = room[np.argsort(-(exact - share)[room], kind="stable")]
        share[by_remainder[:short]] += 1
    while short < 0:  # rounded up elsewhere: the largest shares give one back each
        share[int(np.argmax(share))] -= 1
        short += 1
    return share
