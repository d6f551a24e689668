"""While a run trains, the graph is locked: our choice over "detached" editing.

The run trains a snapshot taken at Start, so edits could not reach it anyway; locking
says so plainly instead of letting the canvas drift from what is training. A banner
on the canvas reads "Training — the graph is locked until you stop or the run ends";
blocks cannot be moved, wired, added (palette, drops, quick search) or deleted; the
inspector is read-only; edit, undo/redo and document-switching actions are disabled.
Panning, zooming, copying and the other docks keep working.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QLabel

if TYPE_CHECKING:
    from gui.main_window import MainWindow

BANNER_TEXT = "Training — the graph is locked until you stop or the run ends"
# Actions that change the graph or replace the document.
LOCKED_ACTIONS = (
    "undo",
    "redo",
    "cut",
    "paste",
    "duplicate",
    "delete",
    "add_block",
    "layout",
    "new",
    "new_template",
    "open",
)
# Events that would edit through the canvas or the window without an action.
_BLOCKED_EVENTS = {
    QEvent.Type.DragEnter,
    QEvent.Type.DragMove,
    QEvent.Type.Drop,
    QEvent.Type.MouseButtonDblClick,  # opens the block finder
}


class EditLock(QObject):
    """Locks and unlocks a MainWindow's editing; `locked` says which it is."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.locked = False
        self.banner = QLabel(BANNER_TEXT, window.view)
        self.banner.setObjectName("trainingBanner")
        self.banner.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.banner.hide()
        window.view.installEventFilter(self)

    def lock(self, banner: bool = True) -> None:
        """Lock editing now; the banner too unless `banner` is False (`show_banner`
        later: it shrinks the canvas, whose repaint is a frame of its own)."""
        if self.locked:
            return
        self.locked = True
        self._apply(False)
        if banner:
            self.show_banner()

    def show_banner(self) -> None:
        if self.locked:  # a strip above the canvas, not over it
            self.window.view.show_top_bar(self.banner)

    def unlock(self) -> None:
        if not self.locked:
            return
        self.locked = False
        self._apply(True)
        self.window.view.hide_top_bar()
        self.window.actions_["undo"].setEnabled(self.window.undo_stack.canUndo())
        self.window.actions_["redo"].setEnabled(self.window.undo_stack.canRedo())

    def _apply(self, editable: bool) -> None:
        window = self.window
        for name in LOCKED_ACTIONS:
            window.actions_[name].setEnabled(editable)
        window.recent_menu.setEnabled(editable)
        window.view.setInteractive(editable)
        window.palette.setEnabled(editable)
        window.inspector.form_host.setEnabled(editable)
        for widget in (window, window.view, window.view.viewport()):
            if editable:
                widget.removeEventFilter(self)
            else:
                widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        kind = event.type()
        if not self.locked:
            return False
        if kind in _BLOCKED_EVENTS:
            event.ignore()
            self.window.statusBar().showMessage(BANNER_TEXT, 4000)
            return True
        # Tab on the canvas opens the block finder.
        return (
            kind == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_Tab
            and watched is self.window.view
        )
