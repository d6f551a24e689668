"""The runs history: every training run, recorded in an embedded SQLite database.

A run keeps the project snapshot it trained (and that snapshot's hash), its
hyperparameters, one row of metrics per epoch and split, each training batch's loss
(float32, one blob per epoch), the checkpoint path, its duration and how it ended.
Plain sqlite3: no Qt, no torch.

A database written before batch losses were kept opens as it is (the table is added
empty): its runs restore with their per-epoch values only.

A run also records its owner, the process that records it (engine.history.owner). When the
history is opened or listed, a "running" run whose owner no longer lives (killed with
SIGKILL, out of memory) is marked "interrupted", with the epoch it was in; its epochs
and batch losses so far stay. A database written before owners were recorded gets the
columns added; a "running" run in it has no known owner and counts as interrupted.

A damaged database (bytes changed on disk, another program's file under its name) never
gives a traceback: opening it or reading from it raises `RunStoreError`, one line naming
the file. A damaged run inside a sound file (its config no longer JSON, a batch-loss blob
of the wrong length) is named by run and column: `runs()` lists it with its `damage`
said, so one bad row does not hide the history; `run()` and `epochs()` refuse it.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from engine.history.owner import Owner
from engine.history.values import (
    Damaged,
    decode_text,
    is_seconds,
    json_object,
    kind,
    metric_values,
    one_line,
    pack,
    shown,
    unpack,
)

Status = Literal["running", "finished", "stopped", "failed", "interrupted"]
STATUSES: tuple[Status, ...] = ("running", "finished", "stopped", "failed", "interrupted")
# Seconds since 1970 a start time can hold: up to the year 9999 (time.localtime's range).
LATEST_START = 253_402_300_799.0

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    project_name TEXT NOT NULL,
    project_hash TEXT NOT NULL,
    project_json TEXT NOT NULL,
    config_json TEXT NOT NULL,
    started REAL NOT NULL,
    duration REAL,
    status TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    checkpoint TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS epochs (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    epoch INTEGER NOT NULL,
    split TEXT NOT NULL,
    metrics_json TEXT NOT NULL,
    PRIMARY KEY (run_id, epoch, split)
);
CREATE TABLE IF NOT EXISTS batch_losses (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    epoch INTEGER NOT NULL,
    batches INTEGER NOT NULL,
    losses BLOB NOT NULL,
    PRIMARY KEY (run_id, epoch)
);
"""
# Columns added after the first release, each with its declaration: ALTER TABLE adds
# those a database lacks, so older histories open.
ADDED_COLUMNS = {
    "owner_pid": "INTEGER NOT NULL DEFAULT 0",
    "owner_started": "TEXT NOT NULL DEFAULT ''",
}


def project_hash(project: Mapping[str, Any]) -> str:
    """A short hash of what a run trained: the graph and the training config.

    Name, description and node positions do not change the network, so they are left out.
    """
    essence = {
        "nodes": [
            {"id": n["id"], "type": n["type"], "params": n["params"]}
            for n in project.get("nodes", [])
        ],
        "edges": project.get("edges", []),
        "training": project.get("training", {}),
    }
    canonical = json.dumps(essence, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


class RunStoreError(Exception):
    """The runs database cannot be read: one line naming the file and, where known, the
    run and the column."""


@dataclass(frozen=True)
class RunRecord:
    """One run. `damage`: what of its row cannot be read ('' when whole); a damaged
    field holds an empty value (and its status "failed" when that was damaged)."""

    id: int
    project_name: str
    project_hash: str
    project: dict[str, Any]
    config: dict[str, Any]
    started: float
    duration: float | None
    status: Status
    reason: str
    checkpoint: str
    damage: str = ""


@dataclass(frozen=True)
class EpochRecord:
    """One epoch of one split. A training row of a run recorded with its batches also
    holds each batch's loss, in order, and how many batches the epoch had (a run stopped
    mid-epoch trained fewer): batch b of B sits at epoch - 1 + b / B."""

    epoch: int
    split: str
    metrics: dict[str, float]
    batch_losses: tuple[float, ...] = ()
    batches: int = 0


def _owner(pid: object, started: object) -> Owner:
    """A run's recorded owner; a damaged one (not an id and a start time) is unknown."""
    if not isinstance(pid, int) or not isinstance(started, str):
        return Owner(0)
    return Owner(pid, started)


class RunStore:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise RunStoreError(f"{self.path}: its folder cannot be made ({err})") from None
        with self._guard():
            self._db = sqlite3.connect(self.path)
        try:
            with self._guard():
                self._db.text_factory = decode_text
                self._db.execute("PRAGMA foreign_keys = ON")
                self._db.executescript(SCHEMA)
                self._add_missing_columns()
            self.mark_interrupted()
        except RunStoreError:
            self._db.close()
            raise

    @contextmanager
    def _guard(self) -> Iterator[None]:
        """SQLite's errors (a damaged file, a file that is not a database, a table
        missing a column) as one RunStoreError naming the file."""
        try:
            yield
        except sqlite3.Error as err:
            raise self._unreadable(one_line(str(err))) from None
        except UnicodeDecodeError:  # SQLite's message quotes bytes of the damaged schema
            raise self._unreadable("its schema holds text that is not UTF-8") from None

    def _unreadable(self, why: str) -> RunStoreError:
        return RunStoreError(f"{self.path}: the file is not a runs database or is damaged ({why})")

    def _damaged(self, run_id: object, what: str, err: Exception) -> RunStoreError:
        return RunStoreError(f"{self.path}: run {run_id}'s {what} is damaged ({err})")

    def _add_missing_columns(self) -> None:
        present = {row[1] for row in self._db.execute("PRAGMA table_info(runs)")}
        with self._db:
            for name, declaration in ADDED_COLUMNS.items():
                if name not in present:
                    self._db.execute(f"ALTER TABLE runs ADD COLUMN {name} {declaration}")

    def close(self) -> None:
        self._db.close()

    def start_run(
        self, project: Mapping[str, Any], config: Mapping[str, Any], owner: Owner | None = None
    ) -> int:
        """Record a run as "running"; `owner`: the process whose death ends it (by default
        this one)."""
        owner = owner or Owner.current()
        with self._guard(), self._db:
            cursor = self._db.execute(
                "INSERT INTO runs (project_name, project_hash, project_json, config_json, "
                "started, status, owner_pid, owner_started) "
                "VALUES (?, ?, ?, ?, ?, 'running', ?, ?)",
                (
                    str(project.get("name", "Untitled")),
                    project_hash(project),
                    json.dumps(project),
                    json.dumps(config),
                    time.time(),
                    owner.pid,
                    owner.started,
                ),
            )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def add_epoch(self, run_id: int, epoch: int, split: str, metrics: Mapping[str, float]) -> None:
        with self._guard(), self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO epochs VALUES (?, ?, ?, ?)",
                (run_id, epoch, split, json.dumps(dict(metrics))),
            )

    def add_batch_losses(
        self, run_id: int, epoch: int, batches: int, losses: Sequence[float]
    ) -> None:
        """Each batch's loss of one epoch, in order; `batches`: the epoch's planned count."""
        with self._guard(), self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO batch_losses VALUES (?, ?, ?, ?)",
                (run_id, epoch, batches, pack(losses)),
            )

    def finish_run(
        self, run_id: int, status: Status, reason: str = "", checkpoint: str = ""
    ) -> None:
        with self._guard(), self._db:
            self._db.execute(
                "UPDATE runs SET status = ?, reason = ?, checkpoint = ?, "
                "duration = ? - started WHERE id = ?",
                (status, reason, checkpoint, time.time(), run_id),
            )

    def mark_interrupted(self) -> list[int]:
        """Mark "interrupted" every "running" run whose owner no longer lives; returns
        their ids."""
        with self._guard():
            rows = self._db.execute(
                "SELECT id, owner_pid, owner_started FROM runs WHERE status = 'running'"
            ).fetchall()
        ended = [rid for rid, pid, started in rows if not _owner(pid, started).alive()]
        for run_id in ended:
            self.interrupt(run_id)
        return ended

    def interrupt(self, run_id: int) -> None:
        """Record a run whose process was killed: the epoch it was in and the time its
        epochs took, if it is still "running" (its owner may have finished it since)."""
        try:
            where, seconds = self._where_it_ended(run_id)
        except RunStoreError:  # a damaged record ends all the same
            where, seconds = "during training", 0.0
        with self._guard(), self._db:
            self._db.execute(
                "UPDATE runs SET status = 'interrupted', reason = ?, duration = ? "
                "WHERE id = ? AND status = 'running'",
                (f"the window ended {where}", seconds or None, run_id),
            )

    def _where_it_ended(self, run_id: int) -> tuple[str, float]:
        """Where in its training a run was when it ended, in words, and the seconds its
        recorded epochs took."""
        epochs = self.run(run_id).config.get("epochs")
        done, seconds, under_way = 0, 0.0, 0
        for row in self.epochs(run_id):
            if row.split == "train" and row.metrics:
                done = max(done, row.epoch)
                seconds += float(row.metrics.get("seconds", 0.0))
            under_way = max(under_way, row.epoch)
        total = f" of {epochs}" if isinstance(epochs, int) else ""
        if isinstance(epochs, int) and done >= epochs:
            return f"after its last epoch ({done}{total}), before it was saved", seconds
        return f"during training (epoch {max(done + 1, under_way)}{total})", seconds

    def delete_run(self, run_id: int) -> None:
        with self._guard(), self._db:
            self._db.execute("DELETE FROM runs WHERE id = ?", (run_id,))

    def runs(self) -> list[RunRecord]:
        """Every run, newest first; a run whose row is damaged is listed with its
        `damage` said (RunStoreError only when the file itself cannot be read)."""
        self.mark_interrupted()
        with self._guard():
            rows = self._db.execute(
                "SELECT id, project_name, project_hash, project_json, config_json, started, "
                "duration, status, reason, checkpoint FROM runs ORDER BY id DESC"
            ).fetchall()
        return [self._record(row) for row in rows]

    def run(self, run_id: int) -> RunRecord:
        """One whole run: KeyError if there is none, RunStoreError if it is damaged."""
        with self._guard():
            row = self._db.execute(
                "SELECT id, project_name, project_hash, project_json, config_json, started, "
                "duration, status, reason, checkpoint FROM runs WHERE id = ?",
                (run_id,),
            ).fetchone()
        if row is None:
            raise KeyError(f"no run {run_id}")
        record = self._record(row)
        if record.damage:
            raise RunStoreError(f"{self.path}: {record.damage}")
        return record

    def epochs(self, run_id: int) -> list[EpochRecord]:
        """A run's rows by epoch and split; RunStoreError naming the run, the epoch and
        the column when one of them is damaged."""
        with self._guard():
            rows = self._db.execute(
                "SELECT epoch, split, metrics_json FROM epochs WHERE run_id = ? "
                "ORDER BY epoch, split",
                (run_id,),
            ).fetchall()
            blobs = self._db.execute(
                "SELECT epoch, batches, losses FROM batch_losses WHERE run_id = ?", (run_id,)
            ).fetchall()
        batches = {}
        for epoch, count, blob in blobs:
            if not isinstance(epoch, int) or not isinstance(count, int) or count < 0:
                why = f"epoch {epoch!r}, {count!r} batches: not whole numbers"
                raise self._damaged(run_id, "batch losses", Damaged(why))
            try:
                batches[epoch] = (count, unpack(blob))
            except Damaged as err:
                raise self._damaged(run_id, f"batch losses of epoch {epoch}", err) from None
        records = []
        for epoch, split, text in rows:
            if not isinstance(epoch, int) or not isinstance(split, str):
                why = f"epoch {epoch!r} of split {split!r}"
                raise self._damaged(run_id, "epoch rows", Damaged(why))
            try:
                metrics = metric_values(text)
            except Damaged as err:
                raise self._damaged(run_id, f"metrics of epoch {epoch} ({split})", err) from None
            count, losses = batches.pop(epoch, (0, ())) if split == "train" else (0, ())
            records.append(EpochRecord(epoch, split, metrics, losses, count))
        # An epoch stopped before its end has batches but no metrics: a training row
        # without any (nothing reads a metric from it).
        for epoch, (count, losses) in sorted(batches.items()):
            records.append(EpochRecord(epoch, "train", {}, losses, count))
        return sorted(records, key=lambda r: (r.epoch, r.split))

    @staticmethod
    def _record(row: tuple[Any, ...]) -> RunRecord:
        """A run's row as a record; what of it is damaged is said in `damage` (the first
        such column) and left empty."""
        rid, name, digest, project_text, config_text, started, duration, status, reason, ckpt = row
        damage: list[str] = []

        def text(value: object, what: str) -> str:
            if isinstance(value, str):
                return value
            damage.append(f"{what} is damaged (not text but {kind(value)})")
            return ""

        def document(value: object, what: str) -> dict[str, Any]:
            try:
                return json_object(value)
            except Damaged as err:
                damage.append(f"{what} is damaged ({err})")
                return {}

        project = document(project_text, "project")
        config = document(config_text, "config")
        name, digest = text(name, "project name"), text(digest, "project hash")
        reason, ckpt = text(reason, "end reason"), text(ckpt, "checkpoint path")
        if not is_seconds(started, LATEST_START):
            damage.append(f"start time is damaged ({shown(started)})")
            started = 0.0
        if duration is not None and not is_seconds(duration):
            damage.append(f"duration is damaged ({shown(duration)})")
            duration = None
        if status not in STATUSES:
            damage.append(f"status is damaged ({shown(status)})")
            status = "failed"
        said = f"run {rid}'s {damage[0]}" if damage else ""
        return RunRecord(
            rid, name, digest, project, config, float(started), duration, status, reason, ckpt, said
        )
