"""A training run in a child process, so the window's process never runs torch.

In the window's own process the trainer shares the GIL with the GUI thread: every
batch's Python work (the optimizer, the callbacks, autograd's bookkeeping) holds the
event loop up, and torch could only be given one of two cores without the window
stuttering. A child process has its own interpreter: it trains with the threads the
`train` command would choose, and the GUI thread only wakes ~5 times a second to take
a bundle of progress from a pipe.

One `TrainerProcess` runs one job (a training run or a restore) and exits. Its
start-up (a fresh interpreter importing torch, ~2-4 s on a quiet 2-core machine) is
paid ahead of time: `keep_spare()` starts a spare that warms up while nobody waits,
and a run takes it (`take()`). Without a spare, the run starts one and waits for it.

The pipe carries ("ready" | "started" | "progress" | "paused" | "done", payload) from
the child and one ("job", job, setup) to it; pause, stop and abandon are process-shared events
the trainer checks before every batch, exactly as in-process events were. The progress
bundles also carry what Look inside shows of the run (gui.run.capture): gradient
flow every few batches, and histograms per epoch while the window's `looking` event is set. Numpy
arrays (the dataset going in, the evaluation coming back) travel as raw buffers
beside a small pickle, so neither side copies them while holding its GIL.

Qt-free: the worker thread (gui.run.worker) drives a TrainerProcess.
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing
import os
import pickle
import struct
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from engine.train.events import BatchEnd, EpochEnd
from gui.run.jobs import Controls, RestoreJob, TrainJob
from gui.run.paths import live_checkpoint_file
from gui.run.records import LiveWeights, RunStarted
from gui.run.throttle import MAX_RATE_HZ, ProgressThrottle

log = logging.getLogger(__name__)

# spawn, never fork: a forked copy of the window's process would inherit Qt's threads'
# locks and torch's OpenMP pool in whatever state they were (macOS and Windows only
# spawn anyway).
CONTEXT = multiprocessing.get_context("spawn")
JOIN_S = 30.0  # for a child that has sent its outcome to exit before it is ended

# Progress bundles leave the child at most this often (the throttle's 5 a second).
PROGRESS_INTERVAL_S = 1.0 / MAX_RATE_HZ
# Scheduling niceness of the trainer process (Linux and macOS; 0: the window's own
# priority). Both share the cores: torch's threads at the window's priority made a
# woken GUI thread wait for a core (1.07 s of waiting over a 17 s run), timers 3-5 ms
# late at the 99th percentile. Lowered, the GUI thread takes a core at once: p99 2.3-3.9
# ms at 10 (bimodal from run to run), 1.3-2.2 ms at 19 (3 bench runs of 3 windows each
# on 2 cores). The trainer still has every core the window leaves idle, so it trains
# as fast. The price: a program that starts working hard during the run takes a shared
# core almost whole. So it is applied only when the machine is otherwise idle as the
# run starts (fewer than BUSY_CORES_LIMIT cores busy elsewhere); beside programs that
# are busy already, the trainer keeps normal priority.
NICE = 19
BUSY_CORES_LIMIT = 0.5
# Called in the child before its job, if set (a picklable module-level function): how a
# test injects a failure into the trainer that runs over there.
CHILD_SETUP: Callable[[], None] | None = None


# ------------------------------------------------------------- transport


def send(conn: Connection, message: Any) -> None:
    """Pickle `message`, its numpy arrays' data sent separately as raw buffers."""
    buffers: list[pickle.PickleBuffer] = []
    header = pickle.dumps(message, protocol=5, buffer_callback=buffers.append)
    raws = [b.raw() for b in buffers]
    sizes = [r.nbytes for r in raws]
    conn.send_bytes(struct.pack(f"!I{len(sizes)}Q", len(sizes), *sizes) + header)
    for raw in raws:
        conn.send_bytes(raw)  # large buffers are written as they are, the GIL released


def receive(conn: Connection) -> Any:
    """The next message; EOFError when the other end has gone."""
    data = conn.recv_bytes()
    (count,) = struct.unpack_from("!I", data)
    sizes = struct.unpack_from(f"!{count}Q", data, 4)
    buffers = []
    for size in sizes:
        buffer = bytearray(size)  # writable: torch takes the arrays as they are
        if size:
            conn.recv_bytes_into(buffer)
        else:
            conn.recv_bytes()
        buffers.append(buffer)
    return pickle.loads(memoryview(data)[4 + 8 * count :], buffers=buffers)


# ----------------------------------------------------------------- child


def _child_main(conn: Connection, controls: Controls, nice: int) -> None:
    """The child process: warm torch up, say so, run one job, report its outcome."""
    from engine.train.allocator import keep_freed_memory
    from gui.run.warmup import warm_up_torch

    keep_freed_memory()  # this process only trains
    send(conn, ("ready", warm_up_torch()))
    try:
        message = receive(conn)
    except (EOFError, OSError):
        return  # a spare nobody took
    if message[0] != "job":
        return
    yield_to_window(nice)
    _, job, setup = message
    if setup is not None:
        setup()
    send(conn, ("done", _run_job(conn, job, controls)))
    conn.close()


def yield_to_window(nice: int) -> bool:
    """Lower this process's priority by `nice` if no other program keeps a core busy
    (a spare process waits long before its job: the machine is measured as it starts).
    The window itself, painting as its run starts, does not count. True if it did."""
    if not nice or not hasattr(os, "nice"):
        return False
    if busy_elsewhere() >= BUSY_CORES_LIMIT:
        return False
    os.nice(nice)
    return True


def busy_elsewhere(interval: float = 0.1) -> float:
    """Cores busy with programs other than this one and the window that started it."""
    from engine.train.optim import busy_cores

    window = os.getppid()
    before = _cpu_seconds(window)
    busy = busy_cores(interval)
    after = _cpu_seconds(window)
    if before is None or after is None:
        return busy
    return max(0.0, busy - (after - before) / interval)


def _cpu_seconds(pid: int) -> float | None:
    """A process's CPU time so far (Linux: /proc), None where it cannot be read."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _run_job(conn: Connection, job: TrainJob | RestoreJob, controls: Controls) -> Any:
    from gui.run.inside_record import inside_file
    from gui.run.jobs import JobError, TrainingCallbacks, run_restore, run_training
    from gui.run.records import RunOutcome

    throttle = ProgressThrottle(
        lambda bundle: send(conn, ("progress", bundle)), PROGRESS_INTERVAL_S
    )
    last: list[BatchEnd] = []
    capture: list[Any] = []  # the run's RunCapture, once its trainer is built
    trainer_: list[Any] = []
    live: list[Path] = []  # where the weights go when the window asks for them

    def on_built(trainer: Any) -> None:
        from gui.run.capture import RunCapture

        trainer_[:], capture[:] = [trainer], [RunCapture(trainer, controls.looking)]
        if (before := capture[0].histograms(0)) is not None:
            throttle.add_histograms(before)

    def on_started(started: RunStarted) -> None:
        live[:] = [live_checkpoint_file(job.data_dir, started.run_id)]
        send(conn, ("started", started))

    def on_batch(event: BatchEnd) -> None:
        last[:] = [event]
        if capture and (flow := capture[0].after_batch(event)) is not None:
            throttle.add_flow(flow)
        if live and controls.want_weights.is_set():
            controls.want_weights.clear()
            try:
                trainer_[0].save(live[0])  # atomically: the window may read the last one
            except OSError as err:  # a view's wish must never end the run
                log.warning("the live weights could not be saved: %s", err)
            else:
                throttle.add_weights(LiveWeights(str(live[0]), event.epoch, event.batch))
        throttle.add_batch(event)

    def on_epoch(event: EpochEnd) -> None:
        if capture and (histograms := capture[0].histograms(event.epoch)) is not None:
            throttle.add_histograms(histograms)
        throttle.add_epoch(event)

    def on_pause() -> None:
        throttle.flush()  # every batch trained before the word that none follows
        where = (last[0].epoch, last[0].batch) if last else (1, 0)
        send(conn, ("paused", where))

    try:
        if isinstance(job, RestoreJob):
            return run_restore(job)
        callbacks = TrainingCallbacks(
            started=on_started,
            batch=on_batch,
            epoch=on_epoch,
            built=on_built,
        )
        pause = _PauseReport(controls.pause, on_pause)
        controls = Controls(
            controls.stop, pause, controls.abandon, controls.looking, controls.want_weights
        )
        outcome = run_training(job, controls, callbacks)
        if outcome.checkpoint and capture:  # what Look inside measured, kept with it
            try:
                capture[0].kept.save(inside_file(outcome.checkpoint))
            except OSError as err:  # the run itself is recorded; only this view is lost
                log.warning("Look inside's record of the run could not be saved: %s", err)
        outcome.data = None  # the window has it already (or loads it again if it wants)
        return outcome
    except JobError as err:  # refused before training: nothing failed, it never started
        return RunOutcome(None, "failed", str(err), refused=True)
    except Exception as err:  # whatever it was, the window must hear and keep working
        log.exception("training job failed")
        return RunOutcome(None, "failed", f"{type(err).__name__}: {err}")
    finally:
        throttle.flush()  # the last batches before the outcome, in order
        for path in live:
            path.unlink(missing_ok=True)  # the run's own checkpoint is what stays


class _PauseReport:
    """The pause event as the trainer sees it: the first time the trainer finds it set
    (before a batch), the window hears that the run has halted and where."""

    def __init__(self, event: Any, report: Callable[[], None]) -> None:
        self.event = event
        self.report = report
        self.reported = False

    def is_set(self) -> bool:
        on = self.event.is_set()
        if on and not self.reported:
            self.report()
        self.reported = on
        return on

    def set(self) -> None:
        self.event.set()

    def clear(self) -> None:
        self.event.clear()

    def wait(self, timeout: float | None = None) -> bool:
        return self.event.wait(timeout)


# ---------------------------------------------------------------- parent


class TrainerProcess:
    """A child process for one job, and the pipe and events that drive it."""

    def __init__(self) -> None:
        events = (CONTEXT.Event() for _ in range(5))
        self.controls = Controls(*events)  # stop, pause, abandon, looking, want_weights
        self.conn, self._child_conn = CONTEXT.Pipe()
        self.process = CONTEXT.Process(
            target=_child_main,
            args=(self._child_conn, self.controls, NICE),
            name="NetLoom trainer",
            daemon=True,  # never outlives the window, whatever happens
        )
        self.spawned_at: float | None = None
        self.ready_s: float | None = None  # spawn → torch imported and warm
        self._closed = False
        self._lock = threading.Lock()

    @property
    def started(self) -> bool:
        return self.spawned_at is not None

    def start(self) -> None:
        """Spawn the child (~10 ms of this thread; call it off the GUI thread)."""
        with self._lock:
            if self.started or self._closed:
                return
            spawning = time.perf_counter()
            self.process.start()  # may raise (no resources): then it never started
            self.spawned_at = spawning
            self._child_conn.close()  # the child's end lives in the child now

    def alive(self) -> bool:
        return self.started and self.process.is_alive()

    def submit(self, job: TrainJob | RestoreJob) -> None:
        self.start()
        send(self.conn, ("job", job, CHILD_SETUP))

    def next_message(self) -> tuple[str, Any]:
        """The child's next report; "ready" is noted here and not passed on.
        EOFError when the child has gone without a word."""
        while True:
            kind, payload = receive(self.conn)
            if kind != "ready":
                return kind, payload
            self._note_ready(payload)

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Wait until the child has warmed up (before any job is submitted)."""
        self.start()
        if self.ready_s is None and self.conn.poll(timeout):
            kind, payload = receive(self.conn)
            assert kind == "ready", kind
            self._note_ready(payload)
        return self.ready_s is not None

    def _note_ready(self, imports_s: float) -> None:
        assert self.spawned_at is not None
        self.ready_s = time.perf_counter() - self.spawned_at
        log.info(
            "trainer process ready %.2f s after spawn (imports %.2f s)", self.ready_s, imports_s
        )

    def exit_code(self) -> int | None:
        self.process.join(5.0)  # it has closed the pipe: ending, or ended
        return self.process.exitcode

    def close(self) -> None:
        """Release the pipe; the child, done or never given a job, exits on its own.
        Its exit (the interpreter and torch tearing down) is not waited for here: on a
        busy machine it took seconds, and the window may be closing. A thread reaps it,
        and ends it if it lingers."""
        with self._lock:
            self._closed = True
        self.conn.close()  # a spare's receive raises EOFError: it returns
        if not self.started:
            self._child_conn.close()
            return
        threading.Thread(target=self._reap, name="NetLoom trainer reaper", daemon=True).start()

    def _reap(self) -> None:
        self.process.join(JOIN_S)
        if self.process.is_alive():
            log.warning("the trainer process did not exit; terminating it")
            self.process.terminate()
            self.process.join(JOIN_S)

    def kill(self) -> None:
        """End the child now (it does not answer, or has nothing worth waiting for)."""
        with self._lock:
            if self.started and self.process.is_alive():
                self.process.kill()


# ----------------------------------------------------------------- spare


class _Spares:
    """At most one warm TrainerProcess waiting for the next job."""

    def __init__(self) -> None:
        self.keep = False
        self.spare: TrainerProcess | None = None
        self.lock = threading.Lock()

    def take(self) -> TrainerProcess:
        """The spare if there is a live one, else a new, not yet started process."""
        with self.lock:
            spare, self.spare = self.spare, None
        if spare is not None and spare.alive():
            return spare
        if spare is not None:
            spare.close()
        return TrainerProcess()

    def replenish(self) -> None:
        """Start a new spare, on a thread of its own, if spares are kept and none waits."""
        with self.lock:
            if not self.keep or self.spare is not None:
                return
            self.spare = TrainerProcess()
            spare = self.spare
        threading.Thread(target=spare.start, name="NetLoom trainer spawn", daemon=True).start()

    def discard(self) -> None:
        with self.lock:
            spare, self.spare, self.keep = self.spare, None, False
        if spare is not None:
            spare.kill()  # it holds nothing yet (if its spawn is under way, after it)
            spare.close()


spares = _Spares()


def keep_spare() -> None:
    """From now on keep a warm trainer process ready for the next run (start-up)."""
    if not spares.keep:
        atexit.register(discard_spare)
    spares.keep = True
    spares.replenish()


def take() -> TrainerProcess:
    return spares.take()


def replenish() -> None:
    spares.replenish()


def wait_for_spare(timeout: float | None = None) -> float | None:
    """Wait until the spare is warm (a benchmark's start); seconds from its spawn."""
    spare = spares.spare
    if spare is None or not spare.wait_ready(timeout):
        return None
    return spare.ready_s


def discard_spare() -> None:
    """Stop keeping a spare and end the one waiting (the window is closing)."""
    spares.discard()
