"""What a training run reports: progress events for callbacks, and its result.

Plain records with floats and strings only, so a GUI worker can pass them across
threads as they are. Torch-free.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class SplitMetrics:
    """Mean loss and metrics over one split (train or val) for one epoch."""

    loss: float
    metrics: dict[str, float]
    samples: int

    def describe(self) -> str:
        parts = [f"loss {self.loss:.4f}"]
        parts += [f"{name} {value:.4f}" for name, value in self.metrics.items()]
        return " ".join(parts)


@dataclass(frozen=True)
class BatchEnd:
    """After each optimizer step. `metrics` are running train values over the epoch so far."""

    epoch: int  # 1-based
    epochs: int
    batch: int  # 1-based, within the epoch
    batches: int
    loss: float  # this batch's loss
    metrics: dict[str, float]
    lr: float
    samples_per_s: float  # training throughput over the epoch so far


@dataclass(frozen=True)
class EpochEnd:
    """After each epoch's training pass and validation."""

    epoch: int  # 1-based
    epochs: int
    train: SplitMetrics
    val: SplitMetrics | None  # None when val_split is 0
    lr: float  # the rate the epoch ended with
    samples_per_s: float  # training samples per second of training time
    seconds: float  # wall time of the whole epoch, validation included
    improved: bool  # the monitored loss reached a new best


Status = Literal["completed", "early_stopped", "stopped", "diverged"]


@dataclass
class TrainResult:
    """How a run ended. `final` holds the metrics of the weights the model now has."""

    status: Status
    reason: str
    metric: str  # the primary metric's name, e.g. "accuracy"
    history: list[EpochEnd] = field(default_factory=list)
    final: SplitMetrics | None = None  # validation (or train when there is no validation)
    final_split: str = "val"
    test: SplitMetrics | None = None  # the held-out test split, scored once at the end
    best_epoch: int = 0
    seconds: float = 0.0

    @property
    def final_value(self) -> float | None:
        return None if self.final is None else self.final.metrics.get(self.metric)


BatchCallback = Callable[[BatchEnd], None]
EpochCallback = Callable[[EpochEnd], None]


@dataclass
class Callbacks:
    """Hooks the trainer calls on its own thread; keep them cheap (queue, don't draw)."""

    on_batch_end: BatchCallback | None = None
    on_epoch_end: EpochCallback | None = None
