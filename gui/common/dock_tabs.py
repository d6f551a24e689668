"""Hide the dock tab bars Qt leaves behind.

Qt 6.11 keeps a dock group's earlier tab bar on screen after the group changes (a
third dock tabbed in, a split beside it, the window resized): the old bar stays where
the group was, under the current one, and its tabs show through the empty part of
the current bar ("Results | Runs" beside "Summary | Curves"). The layout shows again
every bar it uses whenever it lays the docks out, so hiding a bar that does not sit
against its own dock is safe: a live bar always does.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QMainWindow, QTabBar

# Pixels a live bar may sit away from its dock's edge (the layout's own rounding).
SLACK_PX = 2


def stale_tab_bars(window: QMainWindow) -> list[QTabBar]:
    """The window's visible dock tab bars that belong to no dock group on screen."""
    docks = {
        dock.windowTitle(): dock
        for dock in window.findChildren(QDockWidget)
        if dock.isVisible() and not dock.isFloating()
    }
    stale = []
    direct = Qt.FindChildOption.FindDirectChildrenOnly
    for bar in window.findChildren(QTabBar, options=direct):
        if not bar.isVisible() or bar.count() == 0:
            continue
        dock = docks.get(bar.tabText(bar.currentIndex()))
        if dock is None:
            continue  # not a bar this module can judge
        if not _sits_against(bar, dock):
            stale.append(bar)
    return stale


def _sits_against(bar: QTabBar, dock: QDockWidget) -> bool:
    """The bar spans the dock's width and touches its bottom (or top) edge."""
    b, d = bar.geometry(), dock.geometry()
    same_span = abs(b.x() - d.x()) <= SLACK_PX and abs(b.width() - d.width()) <= SLACK_PX
    below = abs(b.top() - (d.bottom() + 1)) <= SLACK_PX
    above = abs((b.bottom() + 1) - d.top()) <= SLACK_PX
    return same_span and (below or above)


class StaleTabBarSweeper(QObject):
    """Watches the window's layout and hides left-behind tab bars after each change."""

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(0)  # once the layout has been applied
        self.timer.timeout.connect(self.sweep)
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt)
        if event.type() in (QEvent.Type.LayoutRequest, QEvent.Type.Resize, QEvent.Type.Show):
            self.timer.start()
        return False

    def sweep(self) -> None:
        for bar in stale_tab_bars(self.window):
            bar.hide()
