"""A run whose process is killed (kill -9) opens as "interrupted" with its curves so far."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from engine.history.owner import Owner
from engine.history.runs import RunStore
from tests.engine.test_runs import PROJECT
from tests.helpers import ROOT

# A process that records a run as the window's trainer does (an epoch's metrics and its
# batches, then half of the next epoch's batches), says so, and trains on until killed.
RECORDER = textwrap.dedent(
    """
    import sys, threading
    from engine.history.runs import RunStore
    store = RunStore(sys.argv[1])
    run_id = store.start_run({"name": "killed", "nodes": [], "edges": []}, {"epochs": 10})
    store.add_epoch(run_id, 1, "train", {"loss": 0.9, "accuracy": 0.5, "seconds": 2.5})
    store.add_epoch(run_id, 1, "val", {"loss": 1.0, "accuracy": 0.4})
    store.add_batch_losses(run_id, 1, 4, [1.25, 1.0, 0.75, 0.5])
    store.add_batch_losses(run_id, 2, 4, [0.5, 0.25])
    print(run_id, flush=True)
    threading.Event().wait()
    """
)


def start_recorder(db: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", RECORDER, str(db)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def test_a_run_killed_mid_training_opens_as_interrupted_with_its_curves(tmp_path: Path) -> None:
    db = tmp_path / "runs.sqlite"
    recorder = start_recorder(db)
    try:
        assert recorder.stdout is not None
        run_id = int(recorder.stdout.readline())  # its epoch and batches are committed
        watcher = RunStore(db)
        assert watcher.run(run_id).status == "running"  # its owner lives: left alone
        watcher.close()
    finally:
        recorder.send_signal(signal.SIGKILL)
        recorder.wait(timeout=30)

    store = RunStore(db)
    (record,) = store.runs()
    assert record.id == run_id and record.status == "interrupted"
    assert record.reason == "the window ended during training (epoch 2 of 10)"
    assert record.duration == pytest.approx(2.5)  # the time its finished epoch took
    rows = store.epochs(run_id)
    assert [(r.epoch, r.split, r.batches) for r in rows] == [
        (1, "train", 4),
        (1, "val", 0),
        (2, "train", 4),
    ]
    assert rows[0].metrics["accuracy"] == 0.5 and rows[1].metrics["loss"] == 1.0
    assert rows[0].batch_losses == (1.25, 1.0, 0.75, 0.5)
    assert rows[2].batch_losses == (0.5, 0.25)


def test_a_running_run_of_a_live_owner_stays_running(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "runs.sqlite")
    run_id = store.start_run(PROJECT, {"epochs": 3})
    store.add_epoch(run_id, 1, "train", {"loss": 0.9})
    assert RunStore(tmp_path / "runs.sqlite").run(run_id).status == "running"
    assert store.runs()[0].status == "running"
    store.finish_run(run_id, "finished")
    assert store.run(run_id).status == "finished"


def test_an_owner_whose_pid_was_reused_counts_as_ended(tmp_path: Path) -> None:
    """The same process id with another start time is another process."""
    me = Owner.current()
    store = RunStore(tmp_path / "runs.sqlite")
    run_id = store.start_run(PROJECT, {"epochs": 3}, owner=Owner(me.pid, me.started + "0"))
    (record,) = store.runs()
    assert record.id == run_id and record.status == "interrupted"
    assert record.reason == "the window ended during training (epoch 1 of 3)"


def test_a_run_killed_after_its_last_epoch_says_so(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "runs.sqlite")
    run_id = store.start_run(PROJECT, {"epochs": 2}, owner=Owner(0))
    for epoch in (1, 2):
        store.add_epoch(run_id, epoch, "train", {"loss": 1 / epoch})
    store.interrupt(run_id)
    record = store.run(run_id)
    assert record.status == "interrupted" and record.duration is None
    assert record.reason == "the window ended after its last epoch (2 of 2), before it was saved"


def test_a_history_without_owners_opens_and_its_running_run_is_interrupted(
    tmp_path: Path,
) -> None:
    db = tmp_path / "runs.sqlite"
    old = sqlite3.connect(db)
    old.executescript(
        """
        CREATE TABLE runs (
            id INTEGER PRIMARY KEY AUTOINCREMENT, project_name TEXT NOT NULL,
            project_hash TEXT NOT NULL, project_json TEXT NOT NULL,
            config_json TEXT NOT NULL, started REAL NOT NULL, duration REAL,
            status TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '',
            checkpoint TEXT NOT NULL DEFAULT ''
        );
        INSERT INTO runs VALUES (1, 'old', 'abc', '{"name": "old"}', '{"epochs": 5}', 0, NULL,
                                 'running', '', ''),
                                (2, 'done', 'abd', '{"name": "done"}', '{"epochs": 5}', 0, 9,
                                 'finished', '', 'done.pt');
        """
    )
    old.commit()
    old.close()

    store = RunStore(db)
    statuses = {r.id: (r.status, r.reason) for r in store.runs()}
    assert statuses == {
        1: ("interrupted", "the window ended during training (epoch 1 of 5)"),
        2: ("finished", ""),
    }
    new_id = store.start_run(PROJECT, {"epochs": 1})
    assert store.run(new_id).status == "running"


def test_without_proc_the_process_id_decides(tmp_path: Path, monkeypatch) -> None:
    """macOS and other systems without /proc: this process and its parent live, and on
    POSIX any existing process does; a process that has ended does not."""
    monkeypatch.setattr("engine.history.owner.PROC", tmp_path / "no-proc")
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait(timeout=30)
    store = RunStore(tmp_path / "runs.sqlite")
    mine = store.start_run(PROJECT, {"epochs": 3})
    parents = store.start_run(PROJECT, {"epochs": 3}, owner=Owner.of(os.getppid()))
    gone = store.start_run(PROJECT, {"epochs": 3}, owner=Owner.of(ended.pid))
    assert Owner.current().started == ""  # nothing to read it from
    statuses = {r.id: r.status for r in store.runs()}
    assert statuses == {mine: "running", parents: "running", gone: "interrupted"}


def test_a_damaged_running_record_still_opens_as_interrupted(tmp_path: Path) -> None:
    db = tmp_path / "runs.sqlite"
    store = RunStore(db)
    run_id = store.start_run(PROJECT, {"epochs": 3})
    store.add_epoch(run_id, 1, "train", {"loss": 0.9})
    store.close()
    with sqlite3.connect(db) as raw:
        raw.execute("UPDATE runs SET owner_pid = 'me', config_json = '[1, 2'")
    raw.close()
    RunStore(db).close()  # opens; the run's owner is unknown: it ended
    with sqlite3.connect(db) as raw:
        statuses = raw.execute("SELECT status, reason FROM runs").fetchall()
    raw.close()
    assert statuses == [("interrupted", "the window ended during training")]
