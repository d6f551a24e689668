"""A paused run says so where the user looks: the Pause button, the status bar and the
curves' title read "Paused" and how to go on, until the run resumes or stops.

The way to resume is read from the Pause / Resume action itself (its shortcut), so the
words stay true if the shortcut changes.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QPushButton

from gui.run.worker import State, TrainingController
from gui.training.curves import LiveCurves


def resume_words(action: QAction) -> str:
    """ "Resume (F6)": the button's name and the action's shortcut, if it has one."""
    keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
    return f"Resume ({keys})" if keys else "Resume"


def paused_hint(action: QAction) -> str:
    return f"Paused — press {resume_words(action)} to continue"


class PauseNotice(QObject):
    """Follows the controller's state: says "Paused" while it is paused, nothing after."""

    def __init__(
        self,
        window: QMainWindow,
        controller: TrainingController,
        button: QPushButton,
        curves: LiveCurves,
        action: QAction,
    ) -> None:
        super().__init__(window)
        self.window = window
        self.button = button
        self.curves = curves
        self.action = action
        self.shown = ""  # the hint on screen now, "" when not paused
        # Connected after the panel's own state handling: the button's words here win.
        controller.state_changed.connect(self.show_state)

    @Slot(str)
    def show_state(self, state: str) -> None:
        if State(state) == State.PAUSED:
            self._show(paused_hint(self.action))
        elif self.shown:
            self._clear()

    def _show(self, hint: str) -> None:
        self.shown = hint
        # The shortcut is in the tooltip: with it, the words took more width than the
        # Training dock has at 1280 px, pushing Stop out of view.
        self.button.setText("Paused · Resume")
        self.button.setToolTip(hint)
        self.window.statusBar().showMessage(hint)  # no timeout: it holds while paused
        self.curves.set_note(hint)

    def _clear(self) -> None:
        bar = self.window.statusBar()
        if bar.currentMessage() == self.shown:
            bar.clearMessage()
        self.button.setToolTip("")
        if self.button.text().startswith("Paused"):
            self.button.setText("Pause")
        self.curves.set_note("")
        self.shown = ""
