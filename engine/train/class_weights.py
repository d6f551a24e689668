"""`training.class_weights`: how much each class counts in the classification loss.

"none" leaves every class at 1 (the loss as it always was). "balanced" gives class c the
weight n / (k · count_c), counted over the *training* split only (as scikit-learn's
"balanced"): a class nine times rarer counts nine times more, and the validation and
test samples never shape the loss. A list gives one weight per class, in label order.

The weights go into the loss (engine.train.metrics.loss_function) as the mean over the
batch of each sample's loss times its class's weight, divided by the sum of those
weights, as torch's `cross_entropy(weight=...)` does.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from engine.train.config import ConfigError

# A note lists at most this many classes' weights; the rest are summed up as "…".
NOTE_CLASSES = 8


def resolve_class_weights(
    setting: str | Sequence[float],
    train_labels: np.ndarray,
    classes: int,
    data_name: str,
    task: str,
) -> np.ndarray | None:
    """One float64 weight per class, or None for "none"; ConfigError naming the setting
    when the weights do not fit the data (a regression, a list of the wrong length).

    `train_labels` are the training split's class labels (per pixel for segmentation)."""
    if isinstance(setting, str) and setting == "none":
        return None
    if task == "regression":
        raise ConfigError(
            f"training.class_weights: {data_name} is a regression dataset, it has no "
            "classes to weigh; set class_weights to 'none'"
        )
    if isinstance(setting, str):  # "balanced"; the config admits no other text
        return balanced_weights(train_labels, classes)
    if len(setting) != classes:
        raise ConfigError(
            f"training.class_weights: {len(setting)} weights for the {classes} classes of "
            f"{data_name}; give one weight per class, in label order"
        )
    return np.asarray(setting, dtype=np.float64)


def balanced_weights(train_labels: np.ndarray, classes: int) -> np.ndarray:
    """n / (k · count_c) per class c; a class with no training sample gets 0 (there is
    nothing of it to weigh while training, and it must not divide by zero)."""
    labels = np.asarray(train_labels, dtype=np.int64).reshape(-1)
    counts = np.bincount(labels, minlength=classes)[:classes].astype(np.float64)
    weights = np.zeros(classes, dtype=np.float64)
    present = counts > 0
    weights[present] = len(labels) / (classes * counts[present])
    return weights


def weights_note(
    setting: str | Sequence[float],
    weights: np.ndarray,
    names: Sequence[str] | None,
    train_samples: int,
) -> str:
    """One line saying the weights used, e.g. `class weights (balanced over the 120
    training samples): a 0.53, b 9.5`."""
    if not names or len(names) != len(weights):
        names = [str(i) for i in range(len(weights))]
    shown = [f"{name} {weight:.3g}" for name, weight in zip(names, weights, strict=True)]
    if len(shown) > NOTE_CLASSES:
        shown = [*shown[:NOTE_CLASSES], f"… ({len(shown) - NOTE_CLASSES} more)"]
    how = (
        f"balanced over the {train_samples} training samples"
        if isinstance(setting, str)
        else "as set"
    )
    return f"class weights ({how}): {', '.join(shown)}"
