"""`python main.py train` killed with kill -9 mid-run leaves no torn file in --out:
metrics.csv holds whole rows for the epochs done, model.pt is absent or a whole checkpoint."""

from __future__ import annotations

import csv
import signal
import subprocess
import sys
from pathlib import Path

import torch

from engine.train.checkpoint import save_checkpoint
from tests.helpers import ROOT


def train_until_first_epoch_then_kill(out: Path) -> str:
    """Start `train`, SIGKILL it as soon as its first epoch line is printed (its metrics
    row is flushed before that line); returns that line."""
    process = subprocess.Popen(
        [sys.executable, "main.py", "train", "templates/mlp_iris.json", "--epochs", "200"]
        + ["--out", str(out), "--threads", "1"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("epoch "):
                process.send_signal(signal.SIGKILL)
                return line
        raise AssertionError(f"train ended (exit {process.wait()}) before its first epoch")
    finally:
        process.kill()
        process.wait(timeout=30)


def assert_whole_rows(metrics: Path) -> list[dict[str, str]]:
    with open(metrics, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows = list(reader)
    assert header[:3] == ["epoch", "split", "loss"] and header[-1] == "samples_per_s"
    assert metrics.read_text(encoding="utf-8").endswith("\n")  # no half line at the end
    for row in rows:
        assert len(row) == len(header), row
        assert int(row[0]) >= 1 and row[1] in ("train", "val") and float(row[2]) >= 0
    return [dict(zip(header, row)) for row in rows]


def test_kill_9_mid_run_leaves_whole_metrics_rows_and_no_torn_checkpoint(tmp_path: Path) -> None:
    out = tmp_path / "run"
    train_until_first_epoch_then_kill(out)
    rows = assert_whole_rows(out / "metrics.csv")
    assert ("1", "train") in {(r["epoch"], r["split"]) for r in rows}
    epochs = [int(r["epoch"]) for r in rows]
    assert epochs == sorted(epochs) and max(epochs) < 200  # killed mid-run
    if (out / "model.pt").exists():
        checkpoint = torch.load(out / "model.pt", weights_only=True)
        assert checkpoint["format"] == "netloom-checkpoint"


def test_kill_9_keeps_the_last_whole_checkpoint_of_the_folder(tmp_path: Path) -> None:
    out = tmp_path / "run"
    earlier = {"w": torch.arange(6.0)}  # what an earlier run in this folder saved
    save_checkpoint(out / "model.pt", earlier, {"name": "earlier"}, {}, {"epoch": 7})
    before = (out / "model.pt").read_bytes()

    train_until_first_epoch_then_kill(out)
    assert_whole_rows(out / "metrics.csv")
    assert (out / "model.pt").read_bytes() == before  # the earlier run's, whole
    assert torch.load(out / "model.pt", weights_only=True)["metrics"]["epoch"] == 7
    assert not list(out.glob(".model.pt.*"))  # no temporary file left beside it
