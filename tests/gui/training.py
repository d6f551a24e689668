"""Shared set-up for the training tests: tiny projects, runs, the trainer's test hooks.

Holds no tests itself; the modules that train import from it, and ask for the
`spare_trainer` fixture (tests/gui/conftest.py) so a trainer process warms up while the
test makes its window.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt

from engine.history.runs import RunStore
from engine.project.project import load
from gui.run import child_trainer
from gui.run.paths import runs_db
from gui.run.records import RunOutcome
from tests.helpers import template

IRIS = template("mlp_iris")
# A bound on failure, not a wait: a run waits for its trainer process to import torch,
# which took over a minute on a 2-core machine with load average 10.
RUN_TIMEOUT_MS = 240_000


# ---------------------------------------------------------------------------------
# Run in the trainer process through child_trainer.CHILD_SETUP (module-level, so the
# child can import them by name): they change the trainer over there.


def _broken_epoch(self, epoch: int):
    raise RuntimeError(f"injected failure in epoch {epoch}")


def break_training() -> None:
    """Every epoch raises, as a bug or a torch error mid-run would."""
    from engine.train.trainer import Trainer

    Trainer._train_epoch = _broken_epoch


def hold_for_controls() -> None:
    """Every batch is reported at once, and the trainer holds after batch 1 until the
    window pauses and after batch 2 until it stops: the run is exactly there when each
    control arrives, so the test can tell whether another batch slipped through."""
    from engine.train.trainer import Trainer

    child_trainer.PROGRESS_INTERVAL_S = 0.0
    made = Trainer.__init__

    def init(self, *args, **kwargs) -> None:
        made(self, *args, **kwargs)
        report = self.callbacks.on_batch_end

        def on_batch_end(event) -> None:
            report(event)
            if (event.epoch, event.batch) == (1, 1):
                self.pause.wait(RUN_TIMEOUT_MS / 1000)
            elif (event.epoch, event.batch) == (1, 2):
                self.stop.wait(RUN_TIMEOUT_MS / 1000)

        self.callbacks.on_batch_end = on_batch_end

    Trainer.__init__ = init


def set_training(window, **changes: Any) -> None:
    """Change training settings the way the panel does: one undoable command."""
    training = {**window.project.training, **changes}
    window.training.edit_training(training, "test settings")


def load_template(window, name: str, **training: Any) -> None:
    """The template `name` as the window's project, set straight from its file (not
    through the gallery's opening), with these training settings changed."""
    window.set_project(load(template(name)), None)
    if training:
        set_training(window, **training)


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
