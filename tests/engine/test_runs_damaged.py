"""A damaged runs database gives one line naming the place, never a traceback: a damaged
file as a whole is one RunStoreError; a damaged run is named by its id and column and
does not hide the others."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

import pytest

from engine.history.runs import RunStore, RunStoreError

PROJECT = {
    "name": "demo",
    "nodes": [{"id": "inp", "type": "Input", "params": {"shape": [4]}, "pos": [0, 0]}],
    "edges": [],
    "training": {"lr": 0.01},
}


def history(folder: Path, runs: int = 3) -> Path:
    """A runs database of `runs` finished runs, each of two epochs with batch losses."""
    path = folder / "runs.sqlite"
    store = RunStore(path)
    for _ in range(runs):
        run_id = store.start_run(PROJECT, {"lr": 0.01, "epochs": 2})
        for epoch in (1, 2):
            store.add_epoch(run_id, epoch, "train", {"loss": 1.0 / epoch})
            store.add_batch_losses(run_id, epoch, 2, [0.9, 0.8])
        store.finish_run(run_id, "finished")
    store.close()
    return path


def damage(path: Path, sql: str, *values: object) -> None:
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute(sql, values)


def one_line(err: BaseException | str) -> str:
    text = str(err)
    assert text and "\n" not in text
    assert "Traceback" not in text and "JSONDecodeError" not in text
    return text


def test_a_file_that_is_not_a_database_is_one_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    path.write_bytes(b"this is a text file, not SQLite\n" * 200)
    with pytest.raises(RunStoreError) as caught:
        RunStore(path)
    text = one_line(caught.value)
    assert text.startswith(f"{path}: the file is not a runs database or is damaged (")
    assert "file is not a database" in text


def test_a_malformed_database_is_one_error_naming_it(tmp_path: Path) -> None:
    path = history(tmp_path, runs=20)
    data = bytearray(path.read_bytes())
    data[4096 : 4096 + 512] = b"\xff" * 512  # the second page: the tables' rows
    path.write_bytes(bytes(data))
    with pytest.raises(RunStoreError) as caught:
        store = RunStore(path)  # either opening or listing finds it
        try:
            for record in store.runs():
                store.epochs(record.id)
        finally:
            store.close()
    assert one_line(caught.value).startswith(f"{path}: the file is not a runs database")


def test_a_table_missing_its_columns_is_one_error(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    damage(path, "CREATE TABLE runs (id INTEGER PRIMARY KEY, something TEXT)")
    with pytest.raises(RunStoreError, match="no such column"):
        RunStore(path).runs()


def test_a_run_whose_config_is_not_json_is_listed_as_damaged_among_the_others(
    tmp_path: Path,
) -> None:
    path = history(tmp_path)
    damage(path, "UPDATE runs SET config_json = '{\"lr\": 0.0' WHERE id = 2")
    store = RunStore(path)
    records = {record.id: record for record in store.runs()}
    assert sorted(records) == [1, 2, 3]  # one bad row does not hide the history
    assert records[1].damage == "" and records[3].damage == ""
    assert records[1].config == {"lr": 0.01, "epochs": 2}
    assert records[2].damage.startswith("run 2's config is damaged (not JSON: ")
    assert records[2].config == {}
    with pytest.raises(RunStoreError) as caught:
        store.run(2)
    assert one_line(caught.value).startswith(f"{path}: run 2's config is damaged (not JSON")
    assert store.run(3).project == PROJECT


@pytest.mark.parametrize(
    ("column", "value", "said"),
    [
        ("project_json", "[1, 2]", "run 1's project is damaged (a JSON list, not a JSON object)"),
        ("project_json", b"\x00\x01", "run 1's project is damaged (not text but bytes)"),
        ("config_json", 12.5, "run 1's config is damaged (a number, not a JSON object)"),
        ("status", "exploded", "run 1's status is damaged ('exploded')"),
        ("started", "yesterday", "run 1's start time is damaged ('yesterday')"),
        ("started", 1e300, "run 1's start time is damaged (1e+300)"),
        ("duration", -5.0, "run 1's duration is damaged (-5.0)"),
        ("project_name", b"\x01", "run 1's project name is damaged (not text but bytes)"),
    ],
)
def test_each_damaged_column_of_a_run_is_named(
    tmp_path: Path, column: str, value: object, said: str
) -> None:
    path = history(tmp_path, runs=1)
    damage(path, f"UPDATE runs SET {column} = ?", value)
    (record,) = RunStore(path).runs()
    assert record.damage == said


def test_damaged_metrics_name_the_run_and_the_epoch(tmp_path: Path) -> None:
    path = history(tmp_path)
    damage(path, "UPDATE epochs SET metrics_json = 'not json' WHERE run_id = 2 AND epoch = 2")
    damage(path, 'UPDATE epochs SET metrics_json = \'{"loss": "low"}\' WHERE run_id = 3')
    store = RunStore(path)
    assert len(store.runs()) == 3
    with pytest.raises(RunStoreError) as caught:
        store.epochs(2)
    assert one_line(caught.value).startswith(
        f"{path}: run 2's metrics of epoch 2 (train) is damaged (not JSON: "
    )
    with pytest.raises(RunStoreError, match=r"run 3's metrics of epoch 1 \(train\) is damaged"):
        store.epochs(3)
    assert [row.metrics for row in store.epochs(1)] == [{"loss": 1.0}, {"loss": 0.5}]


def test_a_batch_loss_blob_of_a_bad_length_names_the_run_and_the_epoch(tmp_path: Path) -> None:
    path = history(tmp_path)
    damage(path, "UPDATE batch_losses SET losses = ? WHERE run_id = 1 AND epoch = 2", b"\x00" * 7)
    damage(path, "UPDATE batch_losses SET losses = 'text' WHERE run_id = 3")
    store = RunStore(path)
    with pytest.raises(RunStoreError) as caught:
        store.epochs(1)
    assert one_line(caught.value) == (
        f"{path}: run 1's batch losses of epoch 2 is damaged "
        "(7 bytes, not a whole number of 4-byte losses)"
    )
    with pytest.raises(RunStoreError, match="run 3's batch losses of epoch 1 is damaged"):
        store.epochs(3)
    assert store.epochs(2)[1].batch_losses == pytest.approx((0.9, 0.8))


def test_a_running_run_with_a_damaged_config_still_opens_as_interrupted(tmp_path: Path) -> None:
    path = history(tmp_path, runs=1)
    damage(path, "UPDATE runs SET status = 'running', owner_pid = 0, config_json = '{'")
    (record,) = RunStore(path).runs()
    assert record.status == "interrupted" and "config is damaged" in record.damage


def break_schema(path: Path, sql: object) -> None:
    """The runs table's own CREATE statement replaced (as a damaged file can hold it)."""
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute("PRAGMA writable_schema = ON")
        db.execute("UPDATE sqlite_master SET sql = ? WHERE name = 'runs'", (sql,))


def test_a_damaged_schema_is_one_line_though_sqlite_quotes_it_over_many(tmp_path: Path) -> None:
    path = history(tmp_path, runs=1)
    break_schema(path, 'CREATE TABLE runs (\n    id INTEGER,\n    "unclosed\n    name TEXT\n)')
    with pytest.raises(RunStoreError, match="malformed database schema") as caught:
        RunStore(path)
    one_line(caught.value)


def test_a_schema_that_is_not_utf8_is_one_error(tmp_path: Path) -> None:
    path = history(tmp_path, runs=1)
    # SQLite's message quotes the unrecognized token: bytes Python cannot decode.
    break_schema(path, b'CREATE TABLE runs (id INTEGER, "\xe4\xff name TEXT)')
    with pytest.raises(RunStoreError) as caught:
        RunStore(path)
    assert one_line(caught.value) == (
        f"{path}: the file is not a runs database or is damaged "
        "(its schema holds text that is not UTF-8)"
    )


def test_a_run_on_a_damaged_history_goes_unrecorded_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from engine.history.recorder import UNRECORDED, RunRecorder

    path = tmp_path / "runs.sqlite"
    damaged = b"SQLite format 3\x00" + b"\xff" * 4000
    path.write_bytes(damaged)
    recorder = RunRecorder(path)
    run_id = recorder.start_run(PROJECT, {"epochs": 1})
    recorder.add_epoch(run_id, 1, "train", {"loss": 0.5})
    recorder.add_batch_losses(run_id, 1, 1, [0.5])
    recorder.finish_run(run_id, "finished")
    recorder.close()
    assert run_id == UNRECORDED
    assert recorder.problem.startswith(f"{path}: the file is not a runs database or is damaged")
    assert [r.getMessage() for r in caplog.records] == [
        f"this run is not recorded in the runs history: {recorder.problem}"
    ]
    assert path.read_bytes() == damaged
