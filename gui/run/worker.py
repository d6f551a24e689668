"""The training thread: a QObject worker on a QThread, and its controller in the window.

The run itself happens in a child process (`gui.run.child_trainer`): the worker
thread hands it the job, then relays what comes back through the pipe (the run's
start, bundles of progress at most 5 a second, the outcome) as queued signals, each
received by a @Slot of `TrainingController`, a QObject of the GUI thread (a lambda or
plain function would run on the emitting thread). The worker thread waits in a pipe
read, the GIL released; the GUI thread shares the GIL with nothing that trains.

Stop and pause are process-shared events the trainer checks before every batch (and
`looking`, whether Look inside's training view is open, one it checks at epoch ends);
shutdown sets them and then calls quit() and wait() itself, because after app.exec()
returns no queued finished → quit runs, and kills the child if it does not answer.
"""

from __future__ import annotations

import gc
import logging
import sys
from enum import Enum

from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from engine.history.recorder import RunRecorder
from gui.common import gc_guard
from gui.run import child_trainer
from gui.run.child_trainer import TrainerProcess
from gui.run.jobs import Controls, RestoreJob, TrainJob
from gui.run.paths import runs_db
from gui.run.records import Progress, RunOutcome, RunStarted

log = logging.getLogger(__name__)

SHUTDOWN_WAIT_MS = 30_000  # a batch, a checkpoint and a database row: far less in practice
# The worker thread holds the GIL only to unpickle a bundle and emit it; when the GUI
# thread wants the GIL then, it waits at most the interpreter's switch interval (5 ms by
# default). 1 ms keeps that wait under a frame's slack.
WORKER_SWITCH_INTERVAL_S = 0.001
# After a run, the next run's trainer process is spawned this much later: not while the
# results views fill in.
REPLENISH_DELAY_MS = 1000


class TrainingWorker(QObject):
    """Lives on the training thread; `run` has one job done by a child process and
    reports what it hears through signals."""

    run_started = Signal(object)  # RunStarted
    progress = Signal(object)  # Progress
    paused = Signal(int, int)  # the trainer has halted after (epoch, batch)
    done = Signal(object)  # RunOutcome

    def __init__(self, job: TrainJob | RestoreJob, process: TrainerProcess) -> None:
        super().__init__()
        self.job = job
        self.process = process
        self.run_id: int | None = None

    @Slot()
    def run(self) -> None:
        try:
            outcome = self._run()
        except Exception as err:  # whatever it was, the window must hear and keep working
            log.exception("training job failed")
            outcome = RunOutcome(self.run_id, "failed", f"{type(err).__name__}: {err}")
        finally:
            self.process.close()
        self.done.emit(outcome)

    def _run(self) -> RunOutcome:
        self.process.submit(self.job)
        while True:
            try:
                kind, payload = self.process.next_message()
            except (EOFError, OSError):  # the pipe closed or reset: the child has gone
                return self._lost()
            if kind == "started":
                self.run_id = payload.run_id
                self.run_started.emit(payload)
            elif kind == "progress":
                self.progress.emit(payload)
            elif kind == "paused":
                self.paused.emit(*payload)
            elif kind == "done":
                if isinstance(self.job, TrainJob) and payload.result is not None:
                    payload.data = self.job.data  # the window's own copy, never sent back
                return payload

    def _lost(self) -> RunOutcome:
        """The child ended without an outcome (killed, out of memory, a crash in torch)."""
        code = self.process.exit_code()
        reason = f"the training process ended unexpectedly (exit code {code})"
        log.error("run %s: %s", self.run_id, reason)
        if self.run_id is not None and isinstance(self.job, TrainJob):
            store = RunRecorder(runs_db(self.job.data_dir))  # damaged: it goes unrecorded
            try:
                store.finish_run(self.run_id, "failed", reason)
            finally:
                store.close()
        return RunOutcome(self.run_id, "failed", reason)


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
    # The trainer has halted after (epoch, batch): every batch before it has arrived
    # through `progress`, and none follows until resumed. (State PAUSED comes at once.)
    paused = Signal(int, int)
    run_ended = Signal(object)  # RunOutcome of a training run
    restored = Signal(object)  # RunOutcome of a restore

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state = State.IDLE
        self.controls: Controls | None = None  # the running job's
        self.process: TrainerProcess | None = None  # the child doing the running job
        self._thread: QThread | None = None
        self._worker: TrainingWorker | None = None
        self._job: TrainJob | RestoreJob | None = None
        self._shut_down = False  # after shutdown, late queued signals are ignored
        self.looking = False  # Look inside's training view is open: the run captures more
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
        self.process = child_trainer.take()  # warm if a spare was waiting
        self.controls = self.process.controls
        self.set_looking(self.looking)
        self._job = job
        self._thread = QThread(self)
        self._thread.setObjectName("NetLoom training")
        self._worker = TrainingWorker(job, self.process)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        self._worker.run_started.connect(self._on_run_started)
        self._worker.progress.connect(self._on_progress)
        self._worker.paused.connect(self._on_paused)
        self._worker.done.connect(self._on_done)
        if isinstance(job, TrainJob):
            self._set_state(State.RUNNING)
        gc_guard.hold()
        self._saved_switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(WORKER_SWITCH_INTERVAL_S)
        self._thread.start()
        return True

    @Slot(bool)
    def set_looking(self, on: bool) -> None:
        """Tell this and every later run whether Look inside's training view is open."""
        self.looking = on
        if self.controls is not None:
            if on:
                self.controls.looking.set()
            else:
                self.controls.looking.clear()

    def ask_weights(self) -> None:
        """Ask the running trainer to save its weights after its next batch (they come
        back in a progress bundle's `weights`)."""
        if self.training and self.controls is not None:
            self.controls.want_weights.set()

    def pause(self) -> None:
        if self.state == State.RUNNING and self.controls is not None:
            self.controls.pause.set()
            self._set_state(State.PAUSED)

    def resume(self) -> None:
        if self.state == State.PAUSED and self.controls is not None:
            self.controls.pause.clear()
            self._set_state(State.RUNNING)

    def stop(self) -> None:
        if self.state in (State.RUNNING, State.PAUSED) and self.controls is not None:
            self.controls.stop.set()
            self.controls.pause.clear()
            self._set_state(State.STOPPING)

    def shutdown(self) -> None:
        """The window is closing: stop the run, let it record itself, join the thread."""
        self._shut_down = True
        if self._thread is None or self.controls is None or self.process is None:
            return
        self.controls.abandon.set()
        self.controls.stop.set()
        self.controls.pause.clear()
        thread = self._thread
        thread.quit()  # ends the thread's event loop as soon as the job returns
        if not thread.wait(SHUTDOWN_WAIT_MS):
            log.error("the trainer did not end within %d ms; killing it", SHUTDOWN_WAIT_MS)
            self.process.kill()  # the worker hears the pipe close and returns
            if not thread.wait(SHUTDOWN_WAIT_MS):
                log.error("the training thread did not end")
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
        # Dropping the worker deletes its QObject. A garbage collection that starts inside
        # that destructor (PySide allocates there) and deletes other Qt objects deadlocks
        # on the signal-slot lock the destructor holds (seen on a loaded machine): no
        # collection while the references go.
        collecting = gc.isenabled()
        gc.disable()
        try:
            self._thread, self._worker, self._job = None, None, None
            self.process = None
        finally:
            if collecting:
                gc.enable()
        if not self._shut_down:  # the next run's process warms up in the background
            QTimer.singleShot(REPLENISH_DELAY_MS, self, self._replenish)

    @Slot()
    def _replenish(self) -> None:
        if not self._shut_down and not self.busy:  # never beside a run: it takes a core
            child_trainer.replenish()

    # ------------------------------------------------------ worker signals

    @Slot(object)
    def _on_run_started(self, started: RunStarted) -> None:
        if not self._shut_down:
            self.run_started.emit(started)

    @Slot(object)
    def _on_progress(self, progress: Progress) -> None:
        if not self._shut_down:
            self.progress.emit(progress)

    @Slot(int, int)
    def _on_paused(self, epoch: int, batch: int) -> None:
        if not self._shut_down:
            self.paused.emit(epoch, batch)

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
