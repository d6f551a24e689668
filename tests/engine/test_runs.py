"""The runs history survives reopening and keeps what each run trained."""

from __future__ import annotations

from pathlib import Path

from engine.history.runs import RunStore, project_hash

PROJECT = {
    "name": "demo",
    "nodes": [{"id": "inp", "type": "Input", "params": {"shape": [4]}, "pos": [0, 0]}],
    "edges": [],
    "training": {"lr": 0.01},
}


def test_a_run_is_recorded_with_its_epochs_and_survives_reopening(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "runs.sqlite")
    run_id = store.start_run(PROJECT, {"lr": 0.01, "epochs": 2})
    store.add_epoch(run_id, 1, "train", {"loss": 0.9, "accuracy": 0.5})
    store.add_epoch(run_id, 1, "val", {"loss": 1.0, "accuracy": 0.4})
    store.add_epoch(run_id, 2, "val", {"loss": 0.5, "accuracy": 0.8})
    store.finish_run(run_id, "stopped", "stopped by the user", "ckpt/model.pt")
    store.close()

    again = RunStore(tmp_path / "runs.sqlite")
    (record,) = again.runs()
    assert record.status == "stopped" and record.reason == "stopped by the user"
    assert record.project == PROJECT and record.config["epochs"] == 2
    assert record.checkpoint == "ckpt/model.pt" and record.duration is not None
    assert [(e.epoch, e.split, e.metrics["accuracy"]) for e in again.epochs(run_id)] == [
        (1, "train", 0.5),
        (1, "val", 0.4),
        (2, "val", 0.8),
    ]
    again.delete_run(run_id)
    assert again.runs() == [] and again.epochs(run_id) == []


def test_hash_follows_the_network_not_the_layout() -> None:
    moved = {**PROJECT, "nodes": [{**PROJECT["nodes"][0], "pos": [50, 50]}], "name": "x"}
    changed = {**PROJECT, "training": {"lr": 0.1}}
    assert project_hash(moved) == project_hash(PROJECT)
    assert project_hash(changed) != project_hash(PROJECT)
