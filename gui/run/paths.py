"""Where runs live: the per-user data folder, its runs database and checkpoints.

`NETLOOM_DATA_DIR` overrides the folder (tests, portable installs); otherwise it is
Qt's AppDataLocation, e.g. ~/.local/share/NetLoom/NetLoom on Linux.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QStandardPaths

ENV_DATA_DIR = "NETLOOM_DATA_DIR"
RUNS_DB = "runs.sqlite"


def data_dir() -> Path:
    override = os.environ.get(ENV_DATA_DIR, "").strip()
    if override:
        return Path(override).expanduser()
    location = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(location) if location else Path.home() / ".netloom"


def runs_db(folder: Path) -> Path:
    return folder / RUNS_DB


def checkpoint_file(folder: Path, run_id: int) -> Path:
    return folder / "checkpoints" / f"run-{run_id}.pt"


def live_checkpoint_file(folder: Path, run_id: int) -> Path:
    """The weights of a run still training, when Look inside asked (removed at its end)."""
    return folder / "checkpoints" / f"run-{run_id}-live.pt"
