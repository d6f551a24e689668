"""Plain records that cross from the training thread to the window.

Floats, strings, lists and numpy arrays only (no torch, no Qt), so a queued signal
can carry them as they are and the GUI never touches a tensor the worker still owns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from engine.train.events import BatchEnd, EpochEnd, TrainResult

# How a run ended, as engine.runs records it.
RunStatus = Literal["finished", "stopped", "failed"]


@dataclass(frozen=True)
class RunStarted:
    """Sent once the data is loaded and the model built, just before the first batch."""

    run_id: int
    project_name: str
    dataset: str
    task: str
    metric: str  # the primary metric, e.g. "accuracy"
    metric_names: tuple[str, ...]  # every metric the run reports
    epochs: int
    batches: int  # per epoch
    batch_size: int
    train_samples: int
    val_samples: int
    weights: int
    device: str
    threads: int | None

    def describe(self) -> str:
        where = self.device if self.threads is None else f"{self.device}, {self.threads} thread(s)"
        return (
            f"run {self.run_id}: {self.weights:,} weights · {self.dataset}: "
            f"{self.train_samples:,} training / {self.val_samples:,} validation samples · {where}"
        )


@dataclass
class Progress:
    """What happened since the last signal: many batches, sometimes an epoch or two."""

    batches: list[BatchEnd] = field(default_factory=list)
    epochs: list[EpochEnd] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.batches or self.epochs)


@dataclass
class Evaluation:
    """The trained model's answers on the validation samples (or the training ones when
    the run held none out), for the results views.

    `inputs`, `truth`, `predicted` and `scores` hold the first `shown` samples (enough to
    browse, small enough to keep); `confusion` counts every sample of the split.
    """

    task: str  # classification | regression | segmentation
    split: str  # "validation" or "training"
    samples: int  # in the whole split
    inputs: np.ndarray  # (shown, *sample_shape)
    truth: np.ndarray  # classes (shown,), values (shown, *target) or masks (shown, H, W)
    predicted: np.ndarray  # same shape as truth
    scores: np.ndarray | None = None  # class probabilities (shown, classes)
    confusion: np.ndarray | None = None  # (classes, classes): rows truth, columns predicted
    class_names: list[str] | None = None
    feature_names: list[str] | None = None
    sequence: bool = False  # the input's axis 0 is time
    ordered: bool = False  # samples follow each other in time (a forecast)
    metric: str = ""
    metric_value: float | None = None

    @property
    def shown(self) -> int:
        return len(self.truth)

    def class_name(self, index: int) -> str:
        if self.class_names and 0 <= index < len(self.class_names):
            return self.class_names[index]
        return str(index)


@dataclass
class RunOutcome:
    """How a run (or a restore) ended; `evaluation` is None when it never got that far."""

    run_id: int | None
    status: RunStatus
    reason: str
    result: TrainResult | None = None
    checkpoint: str = ""
    evaluation: Evaluation | None = None
    project: dict | None = None  # the project as trained
    # The dataset the run trained on (numpy arrays), handed to the panel's preview so it
    # need not load it again, competing with the window, the moment the run ends.
    data: Any = None
    # It never started: the settings, the data or the graph were refused before training.
    refused: bool = False
