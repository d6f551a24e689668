"""What the training thread does, with no Qt: train a project and record the run, or
restore a recorded run's weights and evaluate them.

`gui.run.worker` calls these on its QThread and turns the callbacks into
signals. Everything that can go wrong before the first batch (settings, data, the
graph against the data) is a `JobError` whose message names the place; an exception
during training ends the run as "failed" with its message. Torch loads lazily here.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.history.owner import Owner
from engine.history.recorder import RunRecorder
from engine.project.project import Project, ProjectError, from_dict
from engine.train.config import ConfigError, TrainConfig
from engine.train.events import BatchEnd, Callbacks, EpochEnd, TrainResult
from gui.run.paths import checkpoint_file, runs_db
from gui.run.records import RunOutcome, RunStarted, RunStatus

if TYPE_CHECKING:
    from engine.graph.shapes import Analysis

log = logging.getLogger(__name__)

# The trainer's statuses as the runs history records them.
STATUS: dict[str, RunStatus] = {
    "completed": "finished",
    "early_stopped": "finished",
    "stopped": "stopped",
    "diverged": "failed",
}


class JobError(Exception):
    """The run cannot start; the message says why and names the place."""


@dataclass
class Controls:
    """Events the window sets and the training thread reads."""

    stop: threading.Event = field(default_factory=threading.Event)
    pause: threading.Event = field(default_factory=threading.Event)
    # The window is closing: stop, record, and skip the results nobody will see.
    abandon: threading.Event = field(default_factory=threading.Event)
    # Look inside's training view is open: take what only it shows (histograms).
    looking: threading.Event = field(default_factory=threading.Event)
    # Look inside's Blocks tab wants the weights as they are: saved after the next batch.
    want_weights: threading.Event = field(default_factory=threading.Event)


@dataclass(frozen=True)
class TrainJob:
    project: dict[
        str, Any
    ]  # a snapshot (engine.project.project.to_dict) taken when Start was pressed
    base_dir: Path | None  # the project's folder: relative dataset paths resolve there
    data_dir: Path  # runs.sqlite and checkpoints/
    threads: int | None = None  # CPU threads for torch; None: chosen as the trainer would,
    max_threads: int | None = None  # ... but at most this many (leave the GUI a core)
    data: Any = None  # the dataset, if the window has it loaded already (else loaded here)
    weights: Path | None = None  # a checkpoint to start from (an imported model's)


@dataclass(frozen=True)
class RestoreJob:
    run_id: int
    project: dict[str, Any]
    checkpoint: Path
    base_dir: Path | None
    threads: int | None = 1


@dataclass
class TrainingCallbacks:
    started: Callable[[RunStarted], None]
    batch: Callable[[BatchEnd], None]
    epoch: Callable[[EpochEnd], None]
    # The Trainer, once built and before its first batch (what measures the run in
    # the trainer process gets hold of the model here).
    built: Callable[[Any], None] | None = None


def threads_for(project: Project, config: TrainConfig, analysis: Analysis | None = None) -> int:
    """The CPU threads the trainer would choose for this project (engine.train.optim);
    `analysis` is the graph's shape pass if the caller has it (else it is run here)."""
    from engine.graph.shapes import analyze
    from engine.train.optim import choose_threads

    if analysis is None:
        analysis = analyze(project.graph)
    if not analysis.ok:
        return 1  # the trainer refuses the graph anyway, naming its problems
    return choose_threads(analysis.total_flops * config.batch_size)


def _prepare(
    project_doc: dict[str, Any],
    base_dir: Path | None,
    data: Any = None,
    max_threads: int | None = None,
    preprocessing: dict[str, Any] | None = None,
    **trainer_options: Any,
) -> Any:
    """Load the data (unless given) and build a Trainer: (trainer, data), or JobError.

    `preprocessing` (a restored run's fitted transforms) is applied as stored, not refitted
    on today's file. The graph is analysed once here; the thread count and the trainer
    share the pass."""
    from engine.data import DataError, load_dataset
    from engine.data.as_trained import as_trained
    from engine.graph.shapes import analyze
    from engine.train.fit import FitError
    from engine.train.trainer import Trainer

    try:
        project = from_dict(project_doc)
        config = TrainConfig.from_dict(project.training)
    except (ProjectError, ConfigError) as err:
        raise JobError(str(err)) from None
    try:
        if data is None:
            data = load_dataset(config.dataset.name, config.dataset.params, base_dir)
        data = as_trained(data, preprocessing)
    except DataError as err:
        where = "training." if str(err).startswith("dataset.") else ""
        raise JobError(f"{where}{err}") from None
    analysis = analyze(project.graph)
    if trainer_options.get("threads") is None and max_threads:
        trainer_options["threads"] = min(threads_for(project, config, analysis), max_threads)
    try:
        trainer = Trainer(project, data, config, analysis=analysis, **trainer_options)
    except FitError as err:
        raise JobError("; ".join(err.problems)) from None  # each names its block
    except ConfigError as err:
        raise JobError(str(err)) from None
    return trainer, data


def _epoch_rows(event: EpochEnd) -> list[tuple[str, dict[str, float]]]:
    train = {"loss": event.train.loss, **event.train.metrics}
    train.update(lr=event.lr, samples_per_s=event.samples_per_s, seconds=event.seconds)
    rows = [("train", train)]
    if event.val is not None:
        rows.append(("val", {"loss": event.val.loss, **event.val.metrics}))
    return rows


def _scored_epoch(result: TrainResult) -> EpochEnd | None:
    """The epoch whose metrics describe the weights the model ends with (as `train` does):
    the best after early stopping, none after a stop mid-epoch."""
    if result.status == "early_stopped":
        return result.history[result.best_epoch - 1]
    if result.status != "stopped" and result.history:
        return result.history[-1]
    return None


class BatchLosses:
    """The losses of the epoch under way, batch by batch, for the runs history."""

    def __init__(self) -> None:
        self.epoch = 0
        self.batches = 0
        self.losses: list[float] = []

    def add(self, event: BatchEnd) -> None:
        if event.epoch != self.epoch:
            self.epoch, self.batches, self.losses = event.epoch, event.batches, []
        self.losses.append(event.loss)

    def save(self, store: RunRecorder, run_id: int) -> None:
        """Record the epoch's losses so far (all of them at its end; fewer if stopped)."""
        if self.losses:
            store.add_batch_losses(run_id, self.epoch, self.batches, self.losses)
            self.losses = []


def run_training(job: TrainJob, controls: Controls, callbacks: TrainingCallbacks) -> RunOutcome:
    """Train, recording the run in the data folder's runs database as it goes (a
    database that cannot be used leaves the run unrecorded, with a logged warning)."""
    from engine.train.checkpoint import CheckpointError
    from engine.train.start import start_notes
    from gui.run.evaluation import evaluate

    store = RunRecorder(runs_db(job.data_dir))  # this thread's own connection
    try:
        run_id: int | None = None
        batch_losses = BatchLosses()

        def on_batch(event: BatchEnd) -> None:
            batch_losses.add(event)
            callbacks.batch(event)

        def on_epoch(event: EpochEnd) -> None:
            assert run_id is not None
            for split, metrics in _epoch_rows(event):
                store.add_epoch(run_id, event.epoch, split, metrics)
            batch_losses.save(store, run_id)
            callbacks.epoch(event)

        trainer, data = _prepare(
            job.project,
            job.base_dir,
            job.data,
            job.max_threads,
            callbacks=Callbacks(on_batch_end=on_batch, on_epoch_end=on_epoch),
            stop=controls.stop,
            pause=controls.pause,
            threads=job.threads,
        )
        try:  # a replaced head starts fresh; the notes say so, and what is frozen
            notes = start_notes(trainer, job.weights)
        except CheckpointError as err:
            raise JobError(str(err)) from None
        if callbacks.built is not None:
            callbacks.built(trainer)
        config = trainer.config
        # The run ends with the window: this trainer child's parent (or this process).
        owner = Owner.of(os.getppid()) if multiprocessing.parent_process() else None
        run_id = store.start_run(trainer.project_snapshot, config.to_dict(), owner)
        callbacks.started(
            RunStarted(
                run_id=run_id,
                project_name=str(trainer.project_snapshot.get("name", "Untitled")),
                dataset=data.name,
                task=trainer.objective.task,
                metric=trainer.objective.metric,
                metric_names=tuple(trainer.val_meter.names),
                epochs=config.epochs,
                batches=len(trainer.starts),
                batch_size=config.batch_size,
                train_samples=len(trainer.train_split),
                val_samples=len(trainer.val_split) if trainer.val_split is not None else 0,
                weights=sum(p.numel() for p in trainer.model.parameters()),
                device=str(trainer.device),
                threads=trainer.threads,
                notes=tuple(notes),
            )
        )
        try:
            result = trainer.fit()
        except Exception as err:  # a bug or a torch error mid-run: record it, keep the app
            log.exception("training run %s failed", run_id)
            reason = f"{type(err).__name__}: {err}"
            batch_losses.save(store, run_id)
            if owner is not None and not owner.alive():  # the window was killed: no pipe
                store.interrupt(run_id)
            else:
                store.finish_run(run_id, "failed", reason)
            return RunOutcome(run_id, "failed", reason, project=trainer.project_snapshot)
        batch_losses.save(store, run_id)  # an epoch stopped before its end
        checkpoint = checkpoint_file(job.data_dir, run_id)
        trainer.save(checkpoint, _scored_epoch(result))
        status = STATUS[result.status]
        store.finish_run(run_id, status, result.reason, str(checkpoint))
        outcome = RunOutcome(
            run_id, status, result.reason, result, str(checkpoint), None, trainer.project_snapshot
        )
        outcome.data = data
        if not controls.abandon.is_set():
            with torch_threads(trainer.threads):
                outcome.evaluation = evaluate(trainer, data, result.final_value)
        return outcome
    finally:
        store.close()


def run_restore(job: RestoreJob) -> RunOutcome:
    """Rebuild a recorded run's model with its saved weights and evaluate it on the same
    validation samples the run held out (the split is seeded by the run's settings)."""
    from engine.train.checkpoint import CheckpointError, load_checkpoint
    from gui.run.evaluation import evaluate

    try:
        checkpoint = load_checkpoint(job.checkpoint)
    except CheckpointError as err:
        raise JobError(f"run {job.run_id}: {err}") from None
    trainer, data = _prepare(
        job.project, job.base_dir, threads=job.threads, preprocessing=checkpoint.preprocessing
    )
    try:
        trainer.model.load_state_dict(checkpoint.state_dict, strict=True)
    except RuntimeError as err:
        raise JobError(f"run {job.run_id}: the saved weights do not fit its graph: {err}") from None
    with torch_threads(job.threads):
        evaluation = evaluate(trainer, data)
    return RunOutcome(
        job.run_id, "finished", "restored", None, str(job.checkpoint), evaluation, job.project
    )


@contextmanager
def torch_threads(threads: int | None) -> Iterator[None]:
    """Run a block with `threads` CPU threads for torch, then put the old number back."""
    import torch

    previous = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
