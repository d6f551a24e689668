"""Window actions: one `QAction` made the way every menu and toolbar of the app wants
it (the shortcut works wherever focus is, the tooltip names the shortcut).

Lives below every panel so that the window's menus (gui.menus) and a panel that adds
its own (the Train menu, gui.training.docks) make them alike without importing each
other. Imports Qt only.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget


def make_action(
    window: QWidget,
    text: str,
    slot: Callable[[], object],
    shortcut: QKeySequence.StandardKey | str | None = None,
    tip: str = "",
) -> QAction:
    """An action of the window: its shortcut works wherever focus is, and its tip names
    the shortcut."""
    action = QAction(text, window)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    if tip:
        action.setStatusTip(tip)
        action.setToolTip(f"{tip} ({action.shortcut().toString()})" if shortcut else tip)
    action.triggered.connect(lambda _checked=False: slot())
    window.addAction(action)  # shortcuts work while the canvas has focus
    return action
