"""Where "Use my data…" and "Predict…" enter the window: `open_use_data(window)` (File
menu, the template gallery) and `install_data(window)`, which puts Predict… in the Train
menu and beside the Results' Save weights…, enabled while a finished run with weights
is shown.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QPushButton

from gui.common.actions import make_action
from gui.data.apply import AdaptError, apply_adapted
from gui.data.predict_dialog import PredictDialog
from gui.data.use_data import UseDataDialog

if TYPE_CHECKING:
    from gui.main_window import MainWindow


def _base_dir(window: MainWindow) -> Path | None:
    return window.path.parent if window.path else None


def use_data_dialog(window: MainWindow) -> UseDataDialog:
    """The dialog for the window's project; OK applies it as one undoable edit."""

    def apply(dialog: UseDataDialog) -> None:
        if window.training.controller.busy:
            raise AdaptError("A run is in progress; stop it first.")
        assert dialog.adaptation is not None and dialog.path is not None
        text = f"Use data {dialog.path.name}"
        apply_adapted(window.undo_stack, window.project, dialog.adaptation.project, text)
        changes = len(dialog.adaptation.changes)
        window.statusBar().showMessage(f"{text}: {changes} change(s); Ctrl+Z undoes", 8000)

    return UseDataDialog(window.project, window.path, window, apply)


def open_use_data(window: MainWindow, path: Path | None = None) -> UseDataDialog:
    """File → Use my data…: the dialog, shown (not modal to the test that opens it)."""
    dialog = use_data_dialog(window)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    if path is not None:
        dialog.load(path)
    dialog.open()
    return dialog


class DataTools(QObject):
    """Predict…: the action and the Results button, following the current run."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.dialog: PredictDialog | None = None
        self.predict_action: QAction = make_action(
            window, "&Predict…", self.open_predict, None, "Use the shown run's model on new files"
        )
        menu = next((a.menu() for a in window.menuBar().actions() if a.text() == "&Train"), None)
        if isinstance(menu, QMenu):  # after Train, Pause, Stop
            actions = menu.actions()
            if len(actions) > 3:
                menu.insertAction(actions[3], self.predict_action)
            else:
                menu.addAction(self.predict_action)
        results = window.training.results
        self.predict_button = QPushButton("Predict…")
        self.predict_button.setToolTip(self.predict_action.toolTip())
        self.predict_button.clicked.connect(self.open_predict)
        results.add_action_button(self.predict_button)
        current = window.training.current
        current.changed.connect(self.follow)
        current.ended.connect(self.follow)
        self.follow()

    def outcome(self):
        current = self.window.training.current
        outcome = current.outcome
        if current.kind not in ("finished", "restored") or outcome is None:
            return None
        return outcome if outcome.checkpoint and outcome.project else None

    def follow(self, *_args: object) -> None:
        usable = self.outcome() is not None
        self.predict_action.setEnabled(usable)
        self.predict_button.setEnabled(usable)

    def open_predict(self) -> PredictDialog | None:
        outcome = self.outcome()
        if outcome is None:
            self.window.statusBar().showMessage("Predict needs a finished run with weights", 5000)
            return None
        name = (outcome.project or {}).get("name", "")
        title = f"<b>Run {outcome.run_id}</b> · {name} · {Path(outcome.checkpoint).name}"
        self.dialog = PredictDialog(
            outcome.project, Path(outcome.checkpoint), title, _base_dir(self.window), self.window
        )
        self.dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.dialog.destroyed.connect(lambda *_: setattr(self, "dialog", None))
        self.dialog.open()
        return self.dialog


def install_data(window: MainWindow) -> DataTools:
    """After the training room is installed: Predict… where a finished run's actions are."""
    return DataTools(window)
