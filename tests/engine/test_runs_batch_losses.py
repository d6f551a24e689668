"""Each run keeps its per-batch losses; a history written before that still opens."""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path

import pytest

from engine.history.runs import RunStore
from tests.engine.test_runs import PROJECT

# The runs database as it was before batch losses were kept.
OLD_SCHEMA = """
CREATE TABLE runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT, project_name TEXT NOT NULL,
    project_hash TEXT NOT NULL, project_json TEXT NOT NULL, config_json TEXT NOT NULL,
    started REAL NOT NULL, duration REAL, status TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '', checkpoint TEXT NOT NULL DEFAULT ''
);
CREATE TABLE epochs (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE, epoch INTEGER NOT NULL,
    split TEXT NOT NULL, metrics_json TEXT NOT NULL, PRIMARY KEY (run_id, epoch, split)
);
INSERT INTO runs VALUES (1, 'old', 'abc', '{"name": "old"}', '{"epochs": 2}', 0, 5, 'finished',
                         '', 'old.pt');
INSERT INTO epochs VALUES (1, 1, 'train', '{"loss": 0.9}'), (1, 2, 'train', '{"loss": 0.5}');
"""


def test_batch_losses_are_kept_with_their_epochs(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "runs.sqlite")
    run_id = store.start_run(PROJECT, {"epochs": 3})
    store.add_epoch(run_id, 1, "train", {"loss": 0.9})
    store.add_epoch(run_id, 1, "val", {"loss": 1.0})
    store.add_batch_losses(run_id, 1, 4, [1.2, 1.0, math.nan, 0.7])
    store.add_batch_losses(run_id, 2, 4, [0.6, 0.5])  # stopped in epoch 2, after 2 batches
    store.finish_run(run_id, "stopped")
    store.close()

    again = RunStore(tmp_path / "runs.sqlite")
    rows = again.epochs(run_id)
    assert [(r.epoch, r.split, r.batches) for r in rows] == [
        (1, "train", 4),
        (1, "val", 0),
        (2, "train", 4),
    ]
    assert rows[0].batch_losses[:2] == pytest.approx((1.2, 1.0))
    assert math.isnan(rows[0].batch_losses[2])
    assert rows[2].metrics == {} and rows[2].batch_losses == pytest.approx((0.6, 0.5))
    assert rows[1].batch_losses == ()
    again.delete_run(run_id)
    count = again._db.execute("SELECT COUNT(*) FROM batch_losses").fetchone()[0]
    assert count == 0  # deleted with the run
    again.close()


def test_a_history_recorded_before_batch_losses_opens_with_its_epochs(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    with sqlite3.connect(path) as old:
        old.executescript(OLD_SCHEMA)
    store = RunStore(path)
    (record,) = store.runs()
    rows = store.epochs(record.id)
    assert [(r.epoch, r.metrics["loss"], r.batch_losses) for r in rows] == [
        (1, 0.9, ()),
        (2, 0.5, ()),
    ]
    # ... and records new runs with their batches beside the old one.
    run_id = store.start_run(PROJECT, {"epochs": 1})
    store.add_epoch(run_id, 1, "train", {"loss": 0.4})
    store.add_batch_losses(run_id, 1, 2, [0.5, 0.3])
    assert store.epochs(run_id)[0].batch_losses == pytest.approx((0.5, 0.3))
    store.close()
