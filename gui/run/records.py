"""Plain records that cross from the training thread to the window.

Floats, strings, lists and numpy arrays only (no torch, no Qt), so a queued signal
can carry them as they are and the GUI never touches a tensor the worker still owns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from engine.inspect.histograms import Histogram
from engine.train.events import BatchEnd, EpochEnd, TrainResult

# How a run ended, as engine.history.runs records it.
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
    notes: tuple[str, ...] = ()  # where its weights start: a head given fresh ones, frozen

    def describe(self) -> str:
        where = self.device if self.threads is None else f"{self.device}, {self.threads} thread(s)"
        return (
            f"run {self.run_id}: {self.weights:,} weights · {self.dataset}: "
            f"{self.train_samples:,} training / {self.val_samples:,} validation samples · {where}"
        ) + "".join(f" · {note}" for note in self.notes)


@dataclass(frozen=True)
class FlowSample:
    """Gradient flow after one batch of the live run, measured every few batches
    (gui.run.capture): one figure per block with weights for each measure."""

    epoch: int  # 1-based
    batch: int  # 1-based, within the epoch
    batches: int  # per epoch
    grad_norm: dict[str, float]  # ‖∂loss/∂W‖ over the block's weights
    update_ratio: dict[str, float]  # ‖ΔW‖ / ‖W‖ of that batch's step (NaN: not known)
    # Recurrent blocks: the gradient reaching the first steps of their input ÷ the last
    # steps' (engine.inspect.gradients.through_time_ratio), on a fixed validation batch.
    through_time: dict[str, float] = field(default_factory=dict)
    every: int = 0  # batches between measurements when this one was taken

    @property
    def x(self) -> float:
        """The position on an axis in epochs, as the curves place batches."""
        return self.epoch - 1 + self.batch / max(self.batches, 1)


@dataclass(frozen=True)
class EpochHistograms:
    """Distributions at an epoch's end (0: before the first batch), taken while Look
    inside is open: every block's weights, and every block's outputs on one fixed small
    batch of validation samples."""

    epoch: int
    weights: dict[str, Histogram]
    activations: dict[str, Histogram]
    samples: int  # in the fixed batch


@dataclass(frozen=True)
class LiveWeights:
    """The live run's weights after one batch, saved by the trainer because the window
    asked (Look inside's Blocks tab looks at a run while it trains)."""

    checkpoint: str
    epoch: int
    batch: int

    def describe(self) -> str:
        return f"weights at epoch {self.epoch}, batch {self.batch} of the run training now"


@dataclass
class Progress:
    """What happened since the last signal: many batches, sometimes an epoch or two,
    and what Look inside shows of them."""

    batches: list[BatchEnd] = field(default_factory=list)
    epochs: list[EpochEnd] = field(default_factory=list)
    flow: list[FlowSample] = field(default_factory=list)
    histograms: list[EpochHistograms] = field(default_factory=list)
    weights: LiveWeights | None = None

    def __bool__(self) -> bool:
        return bool(self.batches or self.epochs or self.flow or self.histograms or self.weights)


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
