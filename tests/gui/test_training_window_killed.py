"""The window killed with kill -9 mid-run: its trainer child records the run as
"interrupted" (not a failure with a broken pipe), and the Runs history shows it with its
epochs so far."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from engine.history.owner import Owner
from engine.history.runs import RunStore
from tests.helpers import ROOT

# The window's part of a run, without the window: start a trainer child on a long run,
# relay until its first epoch has ended, then stop reading (as a window does when it
# hangs) and wait to be killed.
WINDOW = textwrap.dedent(
    """
    import json, sys, threading
    from pathlib import Path
    from gui.run.child_trainer import TrainerProcess
    from gui.run.jobs import TrainJob

    project = json.loads(Path("templates/mlp_iris.json").read_text())
    project["training"]["epochs"] = 100000
    process = TrainerProcess()
    process.submit(TrainJob(project, Path("templates"), Path(sys.argv[1]), threads=1))
    print(process.process.pid, flush=True)
    while True:
        kind, payload = process.next_message()
        if kind == "done":
            print("done", payload.status, payload.reason, flush=True)
            break
        if kind == "progress" and payload.epochs:
            print("epoch", flush=True)
            break
    threading.Event().wait()
    """
)


def wait_for(condition: object, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out waiting for the trainer child to end"
        time.sleep(0.05)


def test_a_run_whose_window_is_killed_is_recorded_as_interrupted(tmp_path: Path) -> None:
    window = subprocess.Popen(
        [sys.executable, "-c", WINDOW, str(tmp_path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    child: Owner | None = None
    try:
        assert window.stdout is not None
        child = Owner.of(int(window.stdout.readline()))
        assert window.stdout.readline().strip() == "epoch"  # an epoch is recorded
        window.send_signal(signal.SIGKILL)
        window.wait(timeout=30)
        wait_for(lambda: not child.alive())  # the pipe broke; the child recorded and left
    finally:
        if window.poll() is None:
            window.kill()
        if child is not None and child.alive():
            os.kill(child.pid, signal.SIGKILL)

    store = RunStore(tmp_path / "runs.sqlite")
    (record,) = store.runs()
    assert record.status == "interrupted", record.reason
    assert record.reason.startswith("the window ended during training (epoch ")
    assert record.reason.endswith(" of 100000)")
    rows = store.epochs(record.id)
    assert rows[0].epoch == 1 and rows[0].split == "train" and "accuracy" in rows[0].metrics
    assert rows[0].batches > 0 and len(rows[0].batch_losses) == rows[0].batches
