"""The run the window shows now: one object that every run view observes.

A run is shown by the Training panel (its status and result line), Results (confusion
matrix, predictions, try a sample) and Curves (data, read-out, axis ranges). Each of
them follows this object's signals instead of clearing itself on its own occasions, so
opening a template or a file, File > New and restoring a run cannot leave one view
showing the numbers of a run that is no longer on screen. The run is one of:

- none: nothing shown (a project was opened, or File > New);
- live: training now (`started` once its model is built, `progress` as it goes);
- finished: a live run ended (`outcome` says how);
- restoring / restored: a recorded run from the Runs history, its weights loading, then
  evaluated (`record` and `epochs` hold what the history recorded).
"""

from __future__ import annotations

from typing import Literal

from PySide6.QtCore import QObject, Signal

from engine.history.runs import EpochRecord, RunRecord
from gui.run.records import Progress, RunOutcome, RunStarted

Kind = Literal["none", "live", "finished", "restoring", "restored"]


class CurrentRun(QObject):
    changed = Signal()  # another run (or none) is current: every view starts over from it
    started = Signal(object)  # RunStarted: the live run built its model
    progress = Signal(object)  # Progress of the live run
    ended = Signal(object)  # RunOutcome: the live run ended, or a restored run was evaluated

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.kind: Kind = "none"
        self.run_started: RunStarted | None = None
        self.outcome: RunOutcome | None = None
        self.record: RunRecord | None = None  # a restored run's entry in the history
        self.epochs: list[EpochRecord] = []  # ... and its per-epoch rows

    @property
    def run_id(self) -> int | None:
        if self.record is not None:
            return self.record.id
        if self.run_started is not None:
            return self.run_started.run_id
        return self.outcome.run_id if self.outcome is not None else None

    def _become(
        self, kind: Kind, record: RunRecord | None = None, epochs: list[EpochRecord] = ()
    ) -> None:
        self.kind = kind
        self.run_started, self.outcome = None, None
        self.record = record
        self.epochs = list(epochs)
        self.changed.emit()

    # ------------------------------------------------------------ changes

    def clear(self) -> None:
        """No run is shown: a new project is in the window."""
        self._become("none")

    def begin_live(self) -> None:
        """Train was pressed: a new run, nothing of any earlier one."""
        self._become("live")

    def set_started(self, started: RunStarted) -> None:
        if self.kind == "live":
            self.run_started = started
            self.started.emit(started)

    def add_progress(self, progress: Progress) -> None:
        if self.kind == "live":
            self.progress.emit(progress)

    def finish(self, outcome: RunOutcome) -> bool:
        """The live run ended; False (and nothing shown) if it is not current any more."""
        if self.kind != "live":
            return False
        self.kind, self.outcome = "finished", outcome
        self.ended.emit(outcome)
        return True

    def begin_restore(self, record: RunRecord, epochs: list[EpochRecord]) -> None:
        self._become("restoring", record, epochs)

    def restored(self, outcome: RunOutcome) -> bool:
        """A restored run's weights were evaluated; False if another run is current now."""
        if self.kind != "restoring" or self.record is None or outcome.run_id != self.record.id:
            return False
        self.kind, self.outcome = "restored", outcome
        self.ended.emit(outcome)
        return True
