"""Shared set-up for the training tests: a private data folder, tiny projects, runs.

Holds no tests itself; the test_training_* modules import from it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from engine.runs import RunStore
from gui.training.paths import ENV_DATA_DIR, runs_db
from gui.training.records import RunOutcome
from tests.gui.conftest import ROOT

IRIS = ROOT / "templates" / "mlp_iris.json"
# A bound on failure, not a wait: the first run of a session imports torch and its
# optimizers, which took over a minute on a 2-core machine with load average 10.
RUN_TIMEOUT_MS = 240_000


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Runs and checkpoints go to a temporary folder, never the user's (autouse in every
    module that imports it, so it is in place before any window is made)."""
    folder = tmp_path / "netloom-data"
    monkeypatch.setenv(ENV_DATA_DIR, str(folder))
    return folder


def set_training(window, **changes: Any) -> None:
    """Change training settings the way the panel does: one undoable command."""
    training = {**window.project.training, **changes}
    window.training.edit_training(training, "test settings")


def open_iris(window, **changes: Any) -> None:
    assert window.open_template(IRIS)
    if changes:
        set_training(window, **changes)


def run_to_end(qtbot, window, timeout: int = RUN_TIMEOUT_MS) -> RunOutcome:
    """Press Train and wait for the run to end; returns its outcome."""
    ui = window.training
    with qtbot.waitSignal(ui.controller.run_ended, timeout=timeout) as ended:
        qtbot.mouseClick(ui.panel.start_button, Qt.MouseButton.LeftButton)
    # The views fill in steps, one per turn of the event loop.
    qtbot.waitUntil(lambda: not ui.steps.pending, timeout=RUN_TIMEOUT_MS)
    return ended.args[0]


def start_long_run(qtbot, window) -> None:
    """A run far longer than any test waits, seen streaming before this returns."""
    open_iris(window, epochs=5000, batch_size=2)
    ui = window.training
    qtbot.mouseClick(ui.panel.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: ui.curves.batch_count > 0, timeout=RUN_TIMEOUT_MS)


def stored_runs(data_dir: Path):
    store = RunStore(runs_db(data_dir))
    try:
        return store.runs()
    finally:
        store.close()
