"""The training thread: a QObject worker on a QThread, and its controller in the window.

The worker runs `gui.training.jobs` on its thread; the trainer's callbacks go through a
`ProgressThrottle` and leave as at most ~30 queued signals a second. Every signal is
received by a @Slot of `TrainingController`, a QObject of the GUI thread (a lambda or
plain function would run on the emitting thread). Stop and pause are threading.Events
the trainer checks before every batch; shutdown sets them and then calls quit() and
wait() itself, because after app.exec() returns no queued finished → quit runs.
"""

from __future__ import annotations

import logging
import sys
from enum import Enum

from PySide6.QtCore import QObject, QThread, Signal, Slot

from gui.training import gc_guard
from gui.training.jobs import (
    Controls,
    JobError,
    RestoreJob,
    TrainingCallbacks,
    TrainJob,
    run_restore,
    run_training,
)
from gui.training.records import Progress, RunOutcome, RunStarted
from gui.training.throttle import ProgressThrottle

log = logging.getLogger(__name__)

SHUTDOWN_WAIT_MS = 30_000  # a batch, a checkpoint and a database row: far less in practice
# While the training thread runs Python, the GUI thread waits for the GIL up to the
# interpreter's switch interval (5 ms by default) each time it wakes. At 1 ms the
# window's p99 lateness fell from 5-8 ms to 3-4 ms at the same samples/s
# (bench/gui_responsiveness.py).
WORKER_SWITCH_INTERVAL_S = 0.001


class TrainingWorker(QObject):
    """Lives on the training thread; `run` does one job and reports through signals."""

    run_started = Signal(object)  # RunStarted
    progress = Signal(object)  # Progress
    done = Signal(object)  # RunOutcome

    def __init__(self, job: TrainJob | RestoreJob, controls: Controls) -> None:
        super().__init__()
        self.job = job
        self.controls = controls
        self.throttle = ProgressThrottle(self.progress.emit)

    @Slot()
    def run(self) -> None:
        try:
            outcome = self._run()
        except JobError as err:
            outcome = RunOutcome(None, "failed", str(err), refused=True)
        except Exception as err:  # whatever it was, the window must hear and keep working
            log.exception("training job failed")
            outcome = RunOutcome(None, "failed", f"{type(err).__name__}: {err}")
        self.throttle.flush()  # the last batches before the outcome, in order
        self.done.emit(outcome)

    def _run(self) -> RunOutcome:
        if isinstance(self.job, RestoreJob):
            return run_restore(self.job)
        callbacks = TrainingCallbacks(
            started=self.run_started.emit,
            batch=self.throttle.add_batch,
            epoch=self.throttle.add_epoch,
        )
        return run_training(self.job, self.controls, callbacks)


class State(Enum):
    IDLE = "idle"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPING = "stopping"


class TrainingController(QObject):
    """Starts, pauses, resumes, stops and shuts down the training thread (GUI thread).

    One job at a time: a training run or a restore. Re-emits what the worker reports
    for the panel, curves, results and runs views.
    """

    state_changed = Signal(str)  # a State value
    run_started = Signal(object)  # RunStarted
    progress = Signal(object)  # Progress
    run_ended = Signal(object)  # RunOutcome of a training run
    restored = Signal(object)  # RunOutcome of a restore

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state = State.IDLE
        self.controls = Controls()
        self._thread: QThread | None = None
        self._worker: TrainingWorker | None = None
        self._job: TrainJob | RestoreJob | None = None
        self._shut_down = False  # after shutdown, late queued signals are ignored
        self._saved_switch_interval = sys.getswitchinterval()

    @property
    def busy(self) -> bool:
        return self._thread is not None

    @property
    def training(self) -> bool:
        return self.busy and isinstance(self._job, TrainJob)

    def _set_state(self, state: State) -> None:
        if state != self.state:
            self.state = state
            self.state_changed.emit(state.value)

    def start(self, job: TrainJob | RestoreJob) -> bool:
        """Start a job on a new thread; False if one is already running."""
        if self.busy:
            return False
        self.controls = Controls()
        self._job = job
        self._thread = QThread(self)
        self._thread.setObjectName("NetLoom training")
        self._worker = TrainingWorker(job, self.controls)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        self._worker.run_started.connect(self._on_run_started)
        self._worker.progress.connect(self._on_progress)
        self._worker.done.connect(self._on_done)
        if isinstance(job, TrainJob):
            self._set_state(State.RUNNING)
        gc_guard.hold()
        self._saved_switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(WORKER_SWITCH_INTERVAL_S)
        self._thread.start()
        return True

    def pause(self) -> None:
        if self.state == State.RUNNING:
            self.controls.pause.set()
            self._set_state(State.PAUSED)

    def resume(self) -> None:
        if self.state == State.PAUSED:
            self.controls.pause.clear()
            self._set_state(State.RUNNING)

    def stop(self) -> None:
        if self.state in (State.RUNNING, State.PAUSED):
            self.controls.stop.set()
            self.controls.pause.clear()
            self._set_state(State.STOPPING)

    def shutdown(self) -> None:
        """The window is closing: stop the run, let it record itself, join the thread."""
        self._shut_down = True
        if self._thread is None:
            return
        self.controls.abandon.set()
        self.controls.stop.set()
        self.controls.pause.clear()
        thread = self._thread
        thread.quit()  # ends the thread's event loop as soon as the job returns
        if not thread.wait(SHUTDOWN_WAIT_MS):
            log.error("the training thread did not end within %d ms", SHUTDOWN_WAIT_MS)
            return
        self._release()
        self._set_state(State.IDLE)

    def _release(self) -> None:
        # The worker's thread has ended, so no event of it is pending: dropping the last
        # reference deletes it here. The QThread is ours (GUI thread): delete it later.
        if self._thread is not None:
            self._thread.deleteLater()
            gc_guard.release()
            sys.setswitchinterval(self._saved_switch_interval)
        self._thread, self._worker, self._job = None, None, None

    # ------------------------------------------------------ worker signals

    @Slot(object)
    def _on_run_started(self, started: RunStarted) -> None:
        if not self._shut_down:
            self.run_started.emit(started)

    @Slot(object)
    def _on_progress(self, progress: Progress) -> None:
        if not self._shut_down:
            self.progress.emit(progress)

    @Slot(object)
    def _on_done(self, outcome: RunOutcome) -> None:
        if self._shut_down:
            return
        job = self._job
        if self._thread is not None:
            self._thread.quit()
            self._thread.wait()  # run() has returned or is returning: a moment at most
        self._release()
        # The outcome first, then the state: views take the run's results (and its data)
        # before the panel comes back to life and would reload them.
        if isinstance(job, RestoreJob):
            self.restored.emit(outcome)
        else:
            self.run_ended.emit(outcome)
        self._set_state(State.IDLE)
