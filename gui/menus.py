"""Menus, toolbar and shortcuts of the main window: one table of actions, then layout."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QMessageBox, QToolBar, QWidget

from gui.export import TARGETS
from gui.import_dialog import RUNS_CODE, open_import_dialog

if TYPE_CHECKING:
    from gui.main_window import MainWindow


@dataclass
class Actions:
    """The window's actions by name, so tests and other panels can trigger them."""

    by_name: dict[str, QAction]

    def __getitem__(self, name: str) -> QAction:
        return self.by_name[name]


def _action(
    window: MainWindow,
    text: str,
    slot: Callable[[], object],
    shortcut: QKeySequence.StandardKey | str | None = None,
    tip: str = "",
) -> QAction:
    action = QAction(text, window)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    if tip:
        action.setStatusTip(tip)
        action.setToolTip(f"{tip} ({action.shortcut().toString()})" if shortcut else tip)
    action.triggered.connect(lambda _checked=False: slot())
    window.addAction(action)  # shortcuts work while the canvas has focus
    return action


def build_menus(window: MainWindow) -> Actions:
    key = QKeySequence.StandardKey
    a: dict[str, QAction] = {
        "new": _action(window, "&New", window.new_document, key.New, "Start an empty network"),
        "new_template": _action(
            window,
            "New from &Template…",
            window.new_from_template,
            "Ctrl+Shift+N",
            "Start from a ready-made network",
        ),
        "open": _action(window, "&Open…", window.open_dialog, key.Open, "Open a project file"),
        "import": _action(
            window, "&Import Model…", lambda: open_import_dialog(window), None, RUNS_CODE
        ),
        "save": _action(window, "&Save", window.save, key.Save, "Save the project"),
        "save_as": _action(
            window, "Save &As…", window.save_as, key.SaveAs, "Save under a new name"
        ),
        "quit": _action(window, "&Quit", window.close, key.Quit),
        "cut": _action(window, "Cu&t", window.cut, key.Cut),
        "copy": _action(window, "&Copy", window.copy, key.Copy),
        "paste": _action(window, "&Paste", window.paste, key.Paste),
        "duplicate": _action(window, "D&uplicate", window.duplicate, "Ctrl+D"),
        "delete": _action(window, "&Delete", window.delete_selection, key.Delete),
        "select_all": _action(window, "Select &All", window.select_all, key.SelectAll),
        "add_block": _action(
            window,
            "Add &Block…",
            window.quick_search_at_cursor,
            None,
            "Search for a block and place it (Tab on the canvas)",
        ),
        "layout": _action(
            window,
            "Auto-&Layout",
            window.auto_layout,
            "Ctrl+L",
            "Arrange blocks left to right by depth",
        ),
        "zoom_in": _action(window, "Zoom &In", lambda: window.view.zoom_by(1.25), key.ZoomIn),
        "zoom_out": _action(window, "Zoom &Out", lambda: window.view.zoom_by(0.8), key.ZoomOut),
        "zoom_reset": _action(window, "&Actual Size", lambda: window.view.set_zoom(1.0), "Ctrl+0"),
        "fit": _action(window, "&Fit to View", window.view.fit_all, "F", "Show the whole network"),
        "export_picture": _action(window, "Picture (PNG or SVG)…", window.export_picture),
        "shortcuts": _action(window, "&Keyboard and Mouse", lambda: show_shortcuts(window)),
        "about": _action(window, "&About NetLoom", lambda: show_about(window)),
    }
    a["undo"] = window.undo_stack.createUndoAction(window, "&Undo")
    a["undo"].setShortcut(QKeySequence(key.Undo))
    a["redo"] = window.undo_stack.createRedoAction(window, "&Redo")
    a["redo"].setShortcuts([QKeySequence(key.Redo), QKeySequence("Ctrl+Y")])
    a["delete"].setShortcuts([QKeySequence(key.Delete), QKeySequence("Backspace")])
    for name in ("undo", "redo"):
        window.addAction(a[name])
    for target in TARGETS:
        a[f"export_{target.key}"] = _action(
            window, target.title, lambda t=target: window.export_model(t)
        )

    bar = window.menuBar()
    file_menu = bar.addMenu("&File")
    for name in ("new", "new_template", "open", "import"):
        file_menu.addAction(a[name])
    window.recent_menu = QMenu("Open &Recent", window)
    window.recent_menu.aboutToShow.connect(window.fill_recent_menu)
    file_menu.addMenu(window.recent_menu)
    file_menu.addSeparator()
    for name in ("save", "save_as"):
        file_menu.addAction(a[name])
    file_menu.addSeparator()
    file_menu.addAction(a["quit"])

    edit = bar.addMenu("&Edit")
    for name in (
        "undo",
        "redo",
        None,
        "cut",
        "copy",
        "paste",
        "duplicate",
        "delete",
        None,
        "select_all",
        "add_block",
        "layout",
    ):
        edit.addSeparator() if name is None else edit.addAction(a[name])

    view = bar.addMenu("&View")
    for name in ("zoom_in", "zoom_out", "zoom_reset", "fit"):
        view.addAction(a[name])
    view.addSeparator()
    window.panels_menu = view.addMenu("&Panels")

    export = bar.addMenu("E&xport")
    for target in TARGETS:
        export.addAction(a[f"export_{target.key}"])
    export.addSeparator()
    export.addAction(a["export_picture"])

    help_menu = bar.addMenu("&Help")
    help_menu.addAction(a["shortcuts"])
    help_menu.addAction(a["about"])

    tools = QToolBar("Main", window)
    tools.setObjectName("mainToolbar")
    tools.setMovable(False)
    for name in (
        "new_template",
        "open",
        "save",
        None,
        "undo",
        "redo",
        None,
        "delete",
        "layout",
        "fit",
    ):
        tools.addSeparator() if name is None else tools.addAction(a[name])
    a["new_template"].setIconText("Templates")
    a["layout"].setIconText("Layout")
    a["fit"].setIconText("Fit")
    window.addToolBar(tools)
    return Actions(a)


SHORTCUTS = (
    "Drag a block from the palette, or press Tab / double-click the canvas to search.\n"
    "Drag from an output port (right) to an input port (left) to wire; drag a wired "
    "input away to move or remove its wire.\n"
    "Wheel: zoom · Middle button or Space+drag: pan · F: fit · Ctrl+L: auto-layout\n"
    "Ctrl+C / Ctrl+V / Ctrl+D: copy, paste, duplicate · Delete: remove selection\n"
    "Ctrl+Z / Ctrl+Shift+Z: undo, redo"
)


def show_shortcuts(parent: QWidget) -> None:
    QMessageBox.information(parent, "Keyboard and mouse", SHORTCUTS)


def show_about(parent: QWidget) -> None:
    QMessageBox.about(
        parent,
        "About NetLoom",
        "NetLoom — build, check, train and export neural networks visually.",
    )
