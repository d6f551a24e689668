"""Where training puts itself in the main window: its docks (Training beside the
Inspector; Curves beside the Summary; Results, Runs and Look inside in one group
beside them), the Train menu and toolbar buttons, and the size the Curves will have
when their tab comes to the front.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDockWidget, QMenu, QToolBar, QWidget

from gui.common.actions import make_action

if TYPE_CHECKING:
    from gui.main_window import MainWindow

BOTTOM_AREA_PX = 300
RESULTS_MIN_WIDTH, RESULTS_MIN_HEIGHT = 240, 160  # px


@dataclass(frozen=True)
class TrainingDocks:
    training: QDockWidget
    results: QDockWidget
    curves: QDockWidget
    runs: QDockWidget
    look: QDockWidget


def add_training_docks(
    w: MainWindow,
    panel: QWidget,
    results: QWidget,
    curves: QWidget,
    runs: QWidget,
    look: QWidget,
) -> TrainingDocks:
    area = Qt.DockWidgetArea
    training_dock = w.add_dock("Training", panel, area.RightDockWidgetArea)
    w.tabifyDockWidget(w.inspector_dock, training_dock)
    w.inspector_dock.raise_()
    # Bottom: [Summary | Curves] beside [Results | Runs], so curves and a confusion
    # matrix show together. Split first: a dock already in tabs does not split.
    # A dock area is as tall as its tallest dock's minimum, which a layout takes from
    # its contents: results filling in as a run ends (a sample, its scores) grew the
    # area by 120 px, laying out and repainting the curves beside them in one ~25 ms
    # frame. A minimum of its own keeps the area as the user left it.
    results.setMinimumSize(RESULTS_MIN_WIDTH, RESULTS_MIN_HEIGHT)
    results_dock = w.add_dock("Results", results, area.BottomDockWidgetArea)
    w.splitDockWidget(w.summary_dock, results_dock, Qt.Orientation.Horizontal)
    curves_dock = w.add_dock("Curves", curves, area.BottomDockWidgetArea)
    w.tabifyDockWidget(w.summary_dock, curves_dock)
    runs_dock = w.add_dock("Runs", runs, area.BottomDockWidgetArea)
    w.tabifyDockWidget(results_dock, runs_dock)
    look_dock = w.add_dock("Look inside", look, area.BottomDockWidgetArea)
    w.tabifyDockWidget(results_dock, look_dock)
    w.summary_dock.raise_()
    results_dock.raise_()
    w.resizeDocks([w.summary_dock, results_dock], [3, 2], Qt.Orientation.Horizontal)
    # Room for curves from the start: resizing docks when Train is pressed would
    # lay out and repaint the whole window at that moment.
    w.resizeDocks([w.summary_dock], [BOTTOM_AREA_PX], Qt.Orientation.Vertical)
    docks = TrainingDocks(training_dock, results_dock, curves_dock, runs_dock, look_dock)
    for dock in (training_dock, curves_dock, results_dock, runs_dock, look_dock):
        w.panels_menu.addAction(dock.toggleViewAction())
    return docks


def tab_size(w: MainWindow, dock: QDockWidget) -> QSize:
    """The size `dock`'s contents will have in front: that of a visible dock tabbed
    with it (they share one place), else their own."""
    for other in w.tabifiedDockWidgets(dock):
        if other.isVisible() and not other.visibleRegion().isEmpty():
            return other.widget().size()
    return dock.widget().size()


def add_train_menu(
    w: MainWindow,
    start: Callable[[], None],
    toggle_pause: Callable[[], None],
    stop: Callable[[], None],
    runs_dock: QDockWidget,
) -> dict[str, QAction]:
    """The Train menu (before Help) and the toolbar's Train and Stop buttons."""
    train = make_action(w, "&Train", start, "F5", "Train the network on its data")
    pause = make_action(w, "&Pause / Resume", toggle_pause, "F6", "Pause the run, or resume it")
    stop_ = make_action(w, "&Stop", stop, "Shift+F5", "Stop the run")
    train.setIconText("▶ Train")
    stop_.setIconText("■ Stop")
    menu = QMenu("&Train", w)
    for act in (train, pause, stop_):
        menu.addAction(act)
    menu.addSeparator()
    menu.addAction(runs_dock.toggleViewAction())
    bar = w.menuBar()
    help_action = next((a for a in bar.actions() if a.text() == "&Help"), None)
    if help_action is not None:
        bar.insertMenu(help_action, menu)  # before Help, as menus usually go
    else:
        bar.addMenu(menu)
    tools = w.findChild(QToolBar, "mainToolbar")
    if tools is not None:
        tools.addSeparator()
        tools.addAction(train)
        tools.addAction(stop_)
    return {"train": train, "pause": pause, "stop": stop_}
