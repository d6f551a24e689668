"""The training loop. No Qt: a GUI runs `Trainer.fit` on a worker thread.

Data stays in memory as tensors; each epoch walks a seeded permutation of the
training samples in index slices (far cheaper per batch than a DataLoader for data
that is already in memory). A stop and a pause `threading.Event` are checked before
every batch. A loss that turns NaN or infinite stops the run with a reason naming
the epoch and batch, and the weights go back to the last good epoch; so does an
epoch whose loss grew by orders of magnitude from the untrained model's (finite, but
diverged all the same).
"""

from __future__ import annotations

import copy
import logging
import math
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from engine.data.splits import SplitError, part_sizes, split_indices
from engine.graph.shapes import Analysis, analyze
from engine.model.build import build_model
from engine.project.project import Project, to_dict
from engine.train.checkpoint import (
    cpu_state,
    load_weights_strictly,
    reshaped_weights,
    save_checkpoint,
)
from engine.train.class_weights import resolve_class_weights, weights_note
from engine.train.config import ConfigError, TrainConfig
from engine.train.events import (
    BatchEnd,
    Callbacks,
    EpochEnd,
    SplitMetrics,
    Status,
    TrainResult,
)
from engine.train.fit import Dataset, plan_objective
from engine.train.freeze import freeze, trainable
from engine.train.metrics import (
    Meter,
    inputs_tensor,
    loss_function,
    predicted_classes,
    targets_tensor,
)
from engine.train.optim import (
    LearningRateSchedule,
    choose_threads,
    make_optimizer,
    resolve_device,
)
from engine.units.frozen import frozen_paths

logger = logging.getLogger(__name__)

PAUSE_POLL_S = 0.02  # how often a paused run looks at its events
# A finite loss can diverge too: Adam at lr 1e6 on iris ends with a loss of ~4e11 and
# an accuracy that looks fine. A run whose epoch loss exceeds its untrained start by
# this factor (three orders of magnitude) has diverged. Losses near 0 at the start
# (a regression on tiny targets) are measured from LOSS_FLOOR instead, so noise around
# 1e-8 does not count as growth.
DIVERGENCE_FACTOR = 1000.0
LOSS_FLOOR = 1e-3


@dataclass
class _Split:
    x: torch.Tensor
    y: torch.Tensor

    def __len__(self) -> int:
        return self.x.shape[0]


@dataclass
class _Halt:
    """Why an epoch ended early: the user stopped it, or the loss diverged."""

    status: Status  # "stopped" or "diverged"
    reason: str


class Trainer:
    """Trains a project's graph on a dataset with the project's training settings.

    Everything that can be wrong with the graph, the data or the settings is raised
    here, before `fit`: FitError (graph vs data), ConfigError (settings).
    """

    def __init__(
        self,
        project: Project,
        data: Dataset,
        config: TrainConfig | None = None,
        *,
        callbacks: Callbacks | None = None,
        stop: threading.Event | None = None,
        pause: threading.Event | None = None,
        checkpoint_path: str | Path | None = None,
        threads: int | None = None,
        analysis: Analysis | None = None,
    ) -> None:
        """`threads`: CPU threads for torch during `fit`; None chooses (see choose_threads).
        `analysis`: the project graph's shape pass if the caller has run it (a command
        analyses its graph once and passes it down), else it is run here."""
        self.config = config or TrainConfig.from_dict(project.training)
        self.callbacks = callbacks or Callbacks()
        self.stop = stop or threading.Event()
        self.pause = pause or threading.Event()
        self.checkpoint_path = Path(checkpoint_path) if checkpoint_path else None
        if analysis is None:
            analysis = analyze(project.graph)
        self.analysis = analysis  # shapes, params and FLOPs of the graph trained
        self.objective = plan_objective(project.graph, data, self.config, analysis)
        self.device = resolve_device(self.config.device)
        if threads is None and self.device.type == "cpu":
            threads = choose_threads(analysis.total_flops * self.config.batch_size)
        self.threads = threads  # None: leave torch's setting alone
        # The project as trained: its graph and the settings actually used.
        snapshot = copy.deepcopy(to_dict(project))
        snapshot["training"] = self.config.to_dict()
        self.project_snapshot = snapshot

        self.generator = torch.Generator().manual_seed(self.config.seed)
        self.train_split, self.val_split, self.test_split = self._split(data)
        torch.manual_seed(self.config.seed)  # weight initialisation
        self.model = build_model(project.graph, analysis).to(self.device)
        # Frozen blocks keep their weights: out of the optimizer, their modules in eval mode.
        self.frozen = freeze(self.model, frozen_paths(project.graph, analysis))
        self.loss_fn = loss_function(self.objective, self.class_weights)
        self.optimizer = make_optimizer(trainable(self.model), self.config)
        self.starts = self._batch_starts(len(self.train_split))
        self.schedule = LearningRateSchedule(
            self.optimizer, self.config.schedule, self.config.epochs, len(self.starts)
        )
        self._started = False
        self.start_loss: float | None = None  # the untrained model's first batch loss
        self.train_meter = Meter(self.objective, self.device)
        self.val_meter = Meter(self.objective, self.device)
        self.test_meter = Meter(self.objective, self.device)
        for meter in (self.train_meter, self.val_meter, self.test_meter):
            meter.error_scale = self._error_scale

    def start_from(self, state_dict: Mapping[str, torch.Tensor]) -> list[str]:
        """Train from these weights rather than freshly initialised ones (before `fit`).

        A block whose weights changed shape since (a classifier's units 1000 → 10: its head
        replaced) keeps its fresh ones; returns one line per such block. Raises
        CheckpointError when the weights do not fit the graph otherwise."""
        if self._started:
            raise RuntimeError("start_from comes before fit")
        weights, notes = reshaped_weights(self.model.state_dict(), state_dict)
        load_weights_strictly(self.model, weights)
        return notes

    # ------------------------------------------------------------------ data

    def _split(self, data: Dataset) -> tuple[_Split, _Split | None, _Split | None]:
        """Training, validation and test samples (engine.data.splits), with the data's
        transforms (scaling, fill values, categories) fitted on the training samples alone."""
        samples = len(data.y)
        config = self.config
        val, test = part_sizes(samples, config.val_split, config.test_split)
        if samples - val - test < 1:
            held = f"{config.val_split:g}"
            if config.test_split:
                held += f" and training.test_split {config.test_split:g}"
            raise ConfigError(
                f"training.val_split: holding out {held} of {samples} "
                f"samples of {data.name} leaves none to train on"
            )
        kind = self._split_kind(data)
        # An ordered split draws nothing: the generator then shuffles the epochs as before.
        permutation = (
            None if kind == "ordered" else torch.randperm(samples, generator=self.generator).numpy()
        )
        labels = data.y if data.task == "classification" else None
        try:  # a series' windows left out between the parts (split_gap) may leave none
            gap = getattr(data, "split_gap", 0)
            parts = split_indices(
                kind, samples, config.val_split, config.test_split, permutation, labels, gap
            )
        except SplitError as err:
            raise ConfigError(f"training.val_split: {data.name}: {err}") from None
        x_ready, y_ready = data.x, data.y
        self.preprocessing: dict[str, Any] | None = None  # plain data, as fitted
        self.notes: list[str] = []  # what preparing the data did, one line each
        self._error_scale: torch.Tensor | None = None
        prepare = getattr(data, "prepare", None)
        if prepare is not None:
            prepared = prepare(parts.train)
            x_ready, y_ready = prepared.x, prepared.y
            self.preprocessing, self.notes = prepared.preprocessing, list(prepared.notes)
            if prepared.target_std is not None:
                # Errors times the target's std are errors in its own units.
                std = torch.tensor(prepared.target_std, dtype=torch.float64)
                self._error_scale = std.reshape(self.objective.output_dims).to(self.device)
        self.class_weights = self._class_weights(data, np.asarray(y_ready)[parts.train])
        x = inputs_tensor(x_ready, self.objective)
        y = targets_tensor(y_ready, self.objective)

        def part(indices: Any) -> _Split | None:
            if len(indices) == 0:
                return None
            index = torch.as_tensor(indices, dtype=torch.int64)
            return _Split(x[index].to(self.device), y[index].to(self.device))

        train = part(parts.train)
        assert train is not None  # checked above: at least one training sample
        return train, part(parts.val), part(parts.test)

    def _class_weights(self, data: Dataset, train_labels: np.ndarray) -> torch.Tensor | None:
        """training.class_weights, counted over the training labels alone; noted when set."""
        setting = self.config.class_weights
        classes = self.objective.num_classes or 0
        weights = resolve_class_weights(setting, train_labels, classes, data.name, data.task)
        if weights is None:
            return None
        names = getattr(data, "class_names", None)
        self.notes.append(weights_note(setting, weights, names, len(train_labels)))
        return torch.as_tensor(weights, dtype=torch.float32, device=self.device)

    def _split_kind(self, data: Dataset) -> str:
        """The split to make: the setting, or for auto the data's own kind."""
        kind = self.config.split
        if kind == "auto":
            return "ordered" if data.ordered else getattr(data, "default_split", "random")
        if kind == "stratified" and data.task != "classification":
            raise ConfigError(
                f"training.split: stratified splits by class, but {data.name} is a "
                f"{data.task} dataset; use random or ordered"
            )
        return kind

    def _batch_starts(self, samples: int) -> list[int]:
        size = self.config.batch_size
        starts = list(range(0, samples, size))
        # A last batch of one sample breaks BatchNorm and adds noise; the shuffle gives
        # that sample its turn in another epoch.
        if len(starts) > 1 and samples - starts[-1] == 1:
            starts.pop()
        return starts

    # ------------------------------------------------------------- training

    @property
    def lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    def fit(self) -> TrainResult:
        """Train once (a second call raises: make a new Trainer for a new run)."""
        if self._started:
            raise RuntimeError("this Trainer has already run; make a new one for a new run")
        self._started = True
        previous_threads = torch.get_num_threads()
        if self.threads:
            torch.set_num_threads(self.threads)
        try:
            return self._fit()
        finally:
            torch.set_num_threads(previous_threads)

    def _fit(self) -> TrainResult:
        config = self.config
        began = time.perf_counter()
        torch.manual_seed(config.seed)  # dropout masks, the same on every run
        result = TrainResult("completed", "", self.objective.metric)
        result.final_split = "val" if self.val_split is not None else "train"
        last_good = cpu_state(self.model)
        best_state = last_good
        best_loss, stale = math.inf, 0
        for epoch in range(1, config.epochs + 1):
            epoch_began = time.perf_counter()
            outcome = self._train_epoch(epoch)
            if isinstance(outcome, _Halt):
                result.status, result.reason = outcome.status, outcome.reason
                if outcome.status == "diverged":
                    self.model.load_state_dict(last_good)
                    result.final = self._final_of(result.history[-1]) if result.history else None
                break
            train, samples_per_s = outcome
            val = self._evaluate() if self.val_split is not None else None
            monitored = val.loss if val is not None else train.loss
            if not math.isfinite(monitored):
                result.status = "diverged"
                kept = f"epoch {epoch - 1}" if epoch > 1 else "the initial weights"
                result.reason = (
                    f"the validation loss became {monitored} after epoch {epoch}; training "
                    f"stopped and kept {kept} (the last good weights) — try a lower learning "
                    f"rate (now {self.lr:g}) or set grad_clip"
                )
                self.model.load_state_dict(last_good)
                result.final = self._final_of(result.history[-1]) if result.history else None
                break
            if grown := self._grown_loss(train, val):
                result.status = "diverged"
                kept = f"epoch {epoch - 1}" if epoch > 1 else "the initial weights"
                result.reason = (
                    f"the loss diverged: the {grown} loss grew from {self.start_loss:.4g} to "
                    f"{monitored if grown == 'validation' else train.loss:.4g} by epoch "
                    f"{epoch}; training stopped and kept {kept} (the last good weights) — "
                    f"try a lower learning rate (now {self.lr:g}) or set grad_clip"
                )
                self.model.load_state_dict(last_good)
                result.final = self._final_of(result.history[-1]) if result.history else None
                break
            improved = monitored < best_loss
            self.schedule.after_epoch(monitored)
            event = EpochEnd(
                epoch,
                config.epochs,
                train,
                val,
                self.lr,
                samples_per_s,
                time.perf_counter() - epoch_began,
                improved,
            )
            result.history.append(event)
            last_good = cpu_state(self.model)
            if self.checkpoint_path is not None:
                self.save(self.checkpoint_path, event)
            if improved:
                best_loss, best_state, stale, result.best_epoch = monitored, last_good, 0, epoch
            else:
                stale += 1
            if self.callbacks.on_epoch_end is not None:
                self.callbacks.on_epoch_end(event)
            if config.early_stopping and stale >= config.early_stopping:
                best = result.history[result.best_epoch - 1]
                self.model.load_state_dict(best_state)
                result.status = "early_stopped"
                result.reason = (
                    f"early stopping: the {result.final_split} loss has not improved for "
                    f"{stale} epochs; kept the weights of epoch {best.epoch}, the best"
                )
                result.final = self._final_of(best)
                break
        if result.status == "completed":
            epochs = "epoch" if config.epochs == 1 else "epochs"
            result.reason = f"trained {config.epochs} {epochs}"
            result.final = self._final_of(result.history[-1])
        if self.test_split is not None and result.status != "stopped" and result.history:
            # Once, with the weights the run keeps; no choice above ever saw these samples.
            result.test = self._evaluate(self.test_split, self.test_meter)
        result.seconds = time.perf_counter() - began
        logger.info("training ended: %s", result.reason)
        return result

    def _grown_loss(self, train: SplitMetrics, val: SplitMetrics | None) -> str | None:
        """'training' or 'validation' if that epoch loss diverged from the start, else None."""
        if self.start_loss is None:
            return None
        limit = DIVERGENCE_FACTOR * max(self.start_loss, LOSS_FLOOR)
        if train.loss > limit:
            return "training"
        if val is not None and val.loss > limit:
            return "validation"
        return None

    def _final_of(self, event: EpochEnd) -> SplitMetrics:
        return event.val if event.val is not None else event.train

    def _train_epoch(self, epoch: int) -> tuple[SplitMetrics, float] | _Halt:
        """One pass over the training samples; returns its metrics and samples/s."""
        # Locals, not attribute lookups, in the loop: on a small model such as the 8×8
        # digits CNN a batch takes ~1.5 ms, and per-batch Python work shows in samples/s.
        model, split, meter = self.model, self.train_split, self.train_meter
        size, epochs, batches = self.config.batch_size, self.config.epochs, len(self.starts)
        clip = self.config.grad_clip
        on_batch_end = self.callbacks.on_batch_end
        loss_fn, optimizer, stop, pause = self.loss_fn, self.optimizer, self.stop, self.pause
        after_batch = self.schedule.after_batch if self.schedule.moves_per_batch else None
        order = torch.randperm(len(split), generator=self.generator).to(self.device)
        self._train_mode()
        meter.reset()
        began = time.perf_counter()
        paused = 0.0
        for batch, start in enumerate(self.starts, 1):
            if pause.is_set():
                paused += self._wait_while_paused()
            if stop.is_set():
                return _Halt(
                    "stopped", f"stopped by the user at epoch {epoch}, batch {batch} of {batches}"
                )
            index = order[start : start + size]
            x, y = split.x[index], split.y[index]
            output = model(x)
            loss = loss_fn(output, y)
            value = loss.item()
            if not math.isfinite(value):
                return _Halt("diverged", self._divergence_reason(value, epoch, batch, x))
            if self.start_loss is None:
                self.start_loss = value
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if clip:
                torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
            optimizer.step()
            if after_batch is not None:
                after_batch()
            meter.update(value, output, y)
            if on_batch_end is not None:
                elapsed = time.perf_counter() - began - paused
                on_batch_end(
                    BatchEnd(
                        epoch,
                        epochs,
                        batch,
                        batches,
                        value,
                        meter.values(),
                        self.lr,
                        meter.samples / max(elapsed, 1e-9),
                    )
                )
        elapsed = time.perf_counter() - began - paused
        train = SplitMetrics(meter.mean_loss, meter.values(), meter.samples)
        return train, meter.samples / max(elapsed, 1e-9)

    def _train_mode(self) -> None:
        """Training mode, but frozen modules stay in eval (their BatchNorm statistics too)."""
        self.model.train()
        self.frozen.hold()

    def _wait_while_paused(self) -> float:
        """Block until resumed or stopped; returns the seconds spent waiting."""
        began = time.perf_counter()
        while self.pause.is_set() and not self.stop.is_set():
            self.stop.wait(PAUSE_POLL_S)
        return time.perf_counter() - began

    def _divergence_reason(self, value: float, epoch: int, batch: int, x: torch.Tensor) -> str:
        kept = f"epoch {epoch - 1}" if epoch > 1 else "the initial weights"
        where = f"the loss became {value} at epoch {epoch}, batch {batch}"
        if x.is_floating_point() and not bool(torch.isfinite(x).all()):
            return f"{where}: the input batch holds NaN or infinite values — check the data"
        return (
            f"{where}; training stopped and kept {kept} (the last good weights) — "
            f"try a lower learning rate (now {self.lr:g}) or set grad_clip"
        )

    @torch.no_grad()
    def _evaluate(self, split: _Split | None = None, meter: Meter | None = None) -> SplitMetrics:
        """Loss and metrics over a held-out split: validation unless told."""
        split, meter = split or self.val_split, meter or self.val_meter
        assert split is not None
        self.model.eval()
        meter.reset()
        step = max(self.config.batch_size * 4, 256)
        for start in range(0, len(split), step):
            x, y = split.x[start : start + step], split.y[start : start + step]
            output = self.model(x)
            meter.update(self.loss_fn(output, y).item(), output, y)
        self._train_mode()
        return SplitMetrics(meter.mean_loss, meter.values(), meter.samples)

    @torch.no_grad()
    def class_predictions(self, split: _Split) -> tuple[np.ndarray, np.ndarray]:
        """(true, predicted) class labels of a split's samples with the current weights."""
        self.model.eval()
        step = max(self.config.batch_size * 4, 256)
        predicted = [
            predicted_classes(self.model(split.x[start : start + step]), self.objective.loss)
            for start in range(0, len(split), step)
        ]
        self._train_mode()
        true = split.y.long().reshape(-1).cpu().numpy()
        return true, torch.cat(predicted).reshape(-1).cpu().numpy()

    # ---------------------------------------------------------- checkpoints

    def save(self, path: str | Path, event: EpochEnd | None = None) -> None:
        """Save the model's current weights with the project, settings and metrics."""
        metrics: dict[str, object] = {}
        if event is not None:
            metrics = {
                "epoch": event.epoch,
                "train": {"loss": event.train.loss, **event.train.metrics},
                "val": None if event.val is None else {"loss": event.val.loss, **event.val.metrics},
            }
        save_checkpoint(
            path,
            cpu_state(self.model),
            self.project_snapshot,
            self.config.to_dict(),
            metrics,
            self.preprocessing,
        )
