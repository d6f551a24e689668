"""The run trains in a child process: pause and stop reach the trainer before its next
batch, and a trainer process that dies is reported as a failed run, not a hang."""

from __future__ import annotations

import threading

import pytest

from gui.run import child_trainer
from gui.run.worker import State
from tests.gui.helpers import LEFT
from tests.gui.training import (
    RUN_TIMEOUT_MS,
    hold_for_controls,
    open_iris,
    run_to_end,
    start_long_run,
    stored_runs,
)

pytestmark = pytest.mark.usefixtures("spare_trainer")


def test_pause_and_stop_act_before_the_next_batch(qtbot, window, data_dir, monkeypatch):
    monkeypatch.setattr(child_trainer, "CHILD_SETUP", hold_for_controls)
    open_iris(window, epochs=50, batch_size=2)
    ui = window.training
    qtbot.mouseClick(ui.panel.start_button, LEFT)
    # The trainer holds after batch 1 until the pause arrives, then checks before batch 2.
    qtbot.waitUntil(lambda: ui.curves.batch_count == 1, timeout=RUN_TIMEOUT_MS)
    with qtbot.waitSignal(ui.controller.paused, timeout=RUN_TIMEOUT_MS) as paused:
        qtbot.mouseClick(ui.panel.pause_button, LEFT)
    assert ui.controller.state == State.PAUSED
    assert paused.args == [1, 1]  # halted right after batch 1: batch 2 never started
    assert ui.curves.batch_count == 1

    # Resumed, it trains batch 2 and holds there until Stop, checked before batch 3.
    qtbot.mouseClick(ui.panel.pause_button, LEFT)
    qtbot.waitUntil(lambda: ui.curves.batch_count == 2, timeout=RUN_TIMEOUT_MS)
    with qtbot.waitSignal(ui.controller.run_ended, timeout=RUN_TIMEOUT_MS) as ended:
        qtbot.mouseClick(ui.panel.stop_button, LEFT)
    outcome = ended.args[0]
    assert outcome.status == "stopped"
    assert outcome.reason.startswith("stopped by the user at epoch 1, batch 3 of ")
    assert ui.curves.batch_count == 2
    assert stored_runs(data_dir)[0].status == "stopped"


def test_a_trainer_process_that_dies_fails_the_run_and_the_next_run_works(
    qtbot,
    window,
    data_dir,
):
    start_long_run(qtbot, window)
    ui = window.training
    with qtbot.waitSignal(ui.controller.run_ended, timeout=RUN_TIMEOUT_MS) as ended:
        ui.controller.process.kill()  # as the system's out-of-memory killer would
    outcome = ended.args[0]
    assert outcome.status == "failed"
    assert "the training process ended unexpectedly" in outcome.reason
    assert "ended unexpectedly" in ui.panel.status.text()
    [record] = stored_runs(data_dir)
    assert record.status == "failed" and "ended unexpectedly" in record.reason
    assert not ui.lock.locked

    qtbot.waitUntil(lambda: not ui.steps.pending, timeout=120_000)  # the panel is back
    open_iris(window, epochs=2)
    assert run_to_end(qtbot, window).status == "finished"  # in a fresh process


@pytest.mark.parametrize("payload", [{"loss": [1.0, 2.5]}, None])
def test_messages_cross_the_pipe_whole(payload):
    import numpy as np

    sender, receiver = child_trainer.CONTEXT.Pipe()
    arrays = {"x": np.arange(1_000_000, dtype=np.float32).reshape(1000, 1000), "meta": payload}
    # More than the pipe holds: it is written while the other end reads, as in the app.
    writer = threading.Thread(target=child_trainer.send, args=(sender, ("done", arrays)))
    writer.start()
    kind, got = child_trainer.receive(receiver)
    writer.join()
    assert kind == "done" and got["meta"] == payload
    assert np.array_equal(got["x"], arrays["x"]) and got["x"].flags.writeable


def test_a_trainer_process_that_cannot_be_spawned_fails_its_run_and_leaves_nothing_behind(
    monkeypatch,
):
    def no_process(self):
        raise OSError("Resource temporarily unavailable")

    monkeypatch.setattr(child_trainer.CONTEXT.Process, "start", no_process)
    thread_errors = []
    monkeypatch.setattr(threading, "excepthook", thread_errors.append)
    process = child_trainer.TrainerProcess()
    with pytest.raises(OSError, match="Resource temporarily unavailable"):
        process.submit(None)  # the worker reports this as the run's failure
    assert not process.started and not process.alive()
    earlier = set(threading.enumerate())  # reapers of other tests' processes may be at work
    process.close()  # nothing to reap: no thread joins a process that never started
    started = set(threading.enumerate()) - earlier
    assert [t for t in started if t.name == "NetLoom trainer reaper"] == []
    assert thread_errors == []


def _niceness_after_yielding(busy: float) -> tuple[bool, int]:
    """In a process of its own (niceness cannot be raised back): the machine measured
    with `busy` cores busy elsewhere, does the trainer lower its priority, and by what?"""
    import os

    from engine.train import optim

    optim.busy_cores = lambda interval=0.05: busy
    before = os.nice(0)
    lowered = child_trainer.yield_to_window(child_trainer.NICE)
    return lowered, os.nice(0) - before


@pytest.mark.skipif(not hasattr(__import__("os"), "nice"), reason="no process niceness here")
@pytest.mark.parametrize(
    ("busy", "expected"),
    [(0.0, (True, child_trainer.NICE)), (1.5, (False, 0))],
    ids=["idle machine: yields", "busy machine: keeps its priority"],
)
def test_the_trainer_yields_to_the_window_only_on_an_otherwise_idle_machine(busy, expected):
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(1, mp_context=child_trainer.CONTEXT) as pool:
        assert pool.submit(_niceness_after_yielding, busy).result(timeout=120) == expected
