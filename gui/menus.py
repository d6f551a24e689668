"""Menus, toolbar and shortcuts of the main window: one table of actions, then layout;
and the Help menu's dialogs (the keyboard and mouse list, About)."""

from __future__ import annotations

import importlib.metadata
import logging
import platform
import re
import sys
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

import PySide6
import shiboken6
from PySide6.QtCore import QObject, Qt, SignalInstance, qVersion
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMenu,
    QMessageBox,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from gui.common.actions import make_action
from gui.data.ui import open_use_data
from gui.export import TARGETS
from gui.import_dialog import RUNS_CODE, open_import_dialog

PLAIN_NAME = "plainName"  # a fixed name for actions whose text follows the undo stack
PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from gui.main_window import MainWindow


@dataclass
class Actions:
    """The window's actions by name, so tests and other panels can trigger them."""

    by_name: dict[str, QAction]

    def __getitem__(self, name: str) -> QAction:
        return self.by_name[name]


class _CommandTip(QObject):
    """The undo stack renames its actions after the next command ("&Undo Set conv2.
    out_channels"): the Edit menu shows that, but a toolbar button that changes width
    pushes every button after it. The button keeps one word; its tooltip names the command.
    A QObject child of the action, so the connection ends with the action."""

    def __init__(self, action: QAction, label: str, text_changed: SignalInstance) -> None:
        super().__init__(action)
        self.action = action
        action.setIconText(label)
        action.setProperty(PLAIN_NAME, label)
        text_changed.connect(self.follow)
        self.follow()

    def follow(self, *_text: str) -> None:
        if not shiboken6.isValid(self.action):  # the stack clears itself while windows close
            return
        keys = self.action.shortcut().toString()
        self.action.setToolTip(f"{self.action.text().replace('&', '')} ({keys})")


def build_menus(window: MainWindow) -> Actions:
    key = QKeySequence.StandardKey
    a: dict[str, QAction] = {
        "new": make_action(window, "&New", window.new_document, key.New, "Start an empty network"),
        "new_template": make_action(
            window,
            "New from &Template…",
            window.new_from_template,
            "Ctrl+Shift+N",
            "Start from a ready-made network",
        ),
        "open": make_action(window, "&Open…", window.open_dialog, key.Open, "Open a project file"),
        "import": make_action(
            window, "&Import Model…", lambda: open_import_dialog(window), None, RUNS_CODE
        ),
        "use_data": make_action(
            window,
            "Use my &data…",
            lambda: open_use_data(window),
            None,
            "Point the network at your table, series, arrays or images",
        ),
        "save": make_action(window, "&Save", window.save, key.Save, "Save the project"),
        "save_as": make_action(
            window, "Save &As…", window.save_as, key.SaveAs, "Save under a new name"
        ),
        "quit": make_action(window, "&Quit", window.close, key.Quit),
        "cut": make_action(window, "Cu&t", window.cut, key.Cut),
        "copy": make_action(window, "&Copy", window.copy, key.Copy),
        "paste": make_action(window, "&Paste", window.paste, key.Paste),
        "duplicate": make_action(window, "D&uplicate", window.duplicate, "Ctrl+D"),
        "delete": make_action(window, "&Delete", window.delete_selection, key.Delete),
        "select_all": make_action(window, "Select &All", window.select_all, key.SelectAll),
        "add_block": make_action(
            window,
            "Add &Block…",
            window.quick_search_at_cursor,
            None,
            "Search for a block and place it (Tab on the canvas)",
        ),
        "layout": make_action(
            window,
            "Auto-&Layout",
            window.auto_layout,
            "Ctrl+L",
            "Arrange blocks left to right by depth",
        ),
        "zoom_in": make_action(window, "Zoom &In", lambda: window.view.zoom_by(1.25), key.ZoomIn),
        "zoom_out": make_action(window, "Zoom &Out", lambda: window.view.zoom_by(0.8), key.ZoomOut),
        "zoom_reset": make_action(
            window, "&Actual Size", lambda: window.view.set_zoom(1.0), "Ctrl+0"
        ),
        "fit": make_action(
            window, "&Fit to View", window.view.fit_all, "F", "Show the whole network"
        ),
        "make_unit": make_action(
            window,
            "&Make Unit…",
            window.ask_unit_name,
            "Ctrl+G",
            "Turn the selected blocks into one unit",
        ),
        "ungroup": make_action(
            window,
            "&Ungroup",
            window.ungroup_selection,
            "Ctrl+Shift+G",
            "Put the selected unit's blocks back",
        ),
        "open_unit": make_action(
            window,
            "&Open Unit",
            window.open_selected_unit,
            None,
            "Show the selected unit's definition (or double-click it)",
        ),
        "unit_back": make_action(
            window, "&Back Out of Unit", window.go_back, None, "Leave the opened unit (Esc)"
        ),
        "rename_unit": make_action(
            window, "Re&name Unit…", window.rename_unit, None, "Rename the selected unit"
        ),
        "rename_port": make_action(
            window,
            "Rename &Port…",
            window.rename_port,
            None,
            "Inside a unit: rename the selected Input or Output block, one of its ports",
        ),
        "independent_copy": make_action(
            window,
            "Make &Independent Copy",
            window.make_independent_copy,
            None,
            "Give the selected instance its own copy of its unit",
        ),
        "repeat_unit": make_action(
            window,
            "&Repeat ×N…",
            window.repeat_selection,
            None,
            "Stack copies of the selected unit in series",
        ),
        "export_picture": make_action(window, "Picture (PNG or SVG)…", window.export_picture),
        "reset_layout": make_action(
            window,
            "&Reset Layout",
            window.reset_layout,
            None,
            "Put every panel back where it was when NetLoom started",
        ),
        "shortcuts": make_action(window, "&Keyboard and Mouse", lambda: show_shortcuts(window)),
        "about": make_action(window, "&About NetLoom", lambda: show_about(window)),
    }
    a["undo"] = window.undo_stack.createUndoAction(window, "&Undo")
    a["undo"].setShortcut(QKeySequence(key.Undo))
    a["redo"] = window.undo_stack.createRedoAction(window, "&Redo")
    redo_keys = dict.fromkeys(
        [QKeySequence(key.Redo), QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")]
    )
    a["redo"].setShortcuts([k for k in redo_keys if not k.isEmpty()])
    a["delete"].setShortcuts([QKeySequence(key.Delete), QKeySequence("Backspace")])
    for name in ("undo", "redo"):
        window.addAction(a[name])
    _CommandTip(a["undo"], "Undo", window.undo_stack.undoTextChanged)
    _CommandTip(a["redo"], "Redo", window.undo_stack.redoTextChanged)
    for target in TARGETS:
        a[f"export_{target.key}"] = make_action(
            window, target.title, lambda t=target: window.export_model(t)
        )

    bar = window.menuBar()
    file_menu = bar.addMenu("&File")
    for name in ("new", "new_template", "open", "import", "use_data"):
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

    units = bar.addMenu("&Units")
    for name in (
        "make_unit",
        "ungroup",
        None,
        "open_unit",
        "unit_back",
        None,
        "rename_unit",
        "rename_port",
        "independent_copy",
        "repeat_unit",
    ):
        units.addSeparator() if name is None else units.addAction(a[name])

    view = bar.addMenu("&View")
    for name in ("zoom_in", "zoom_out", "zoom_reset", "fit"):
        view.addAction(a[name])
    view.addSeparator()
    window.panels_menu = view.addMenu("&Panels")
    view.addAction(a["reset_layout"])

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


# Keys the canvas handles itself (gui.canvas.view), not through an action: the list
# shows them beside the actions' own shortcuts.
CANVAS_KEYS = (
    ("Tab", "Search for a block and place it at the pointer"),
    ("Esc", "Leave the opened unit; close the block finder"),
    ("Space + drag", "Pan the canvas"),
)
MOUSE = (
    ("Drag a block from the palette", "add it to the canvas"),
    ("Double-click on empty canvas", "search for a block and place it there"),
    ("Ctrl + double-click on empty canvas", "fit the whole graph in view"),
    ("Double-click a unit", "open it to see and edit its inside (Esc goes back)"),
    ("Drag from an output port (right) to an input port (left)", "wire them"),
    ("Drag from an output port onto empty canvas", "pick a block that takes its shape"),
    ("Drag a wired input away", "move or remove its wire"),
    ("Wheel", "zoom"),
    ("Middle button drag, or Space + drag", "pan"),
    ("Drag on empty canvas", "select the blocks it covers"),
)


def plain_name(action: QAction) -> str:
    """An action's name as a menu shows it, without the mnemonic '&' or a trailing '…'."""
    stable = action.property(PLAIN_NAME)
    return str(stable) if stable else action.text().replace("&", "").rstrip("…. ")


def shortcut_rows(window: QWidget) -> list[tuple[str, str, str]]:
    """(menu, action, keys) for every action of the window that has a shortcut, read from
    the actions themselves (so a new action's keys are listed without editing a table),
    in menu-bar order; actions in no menu come last."""
    menu_of: dict[int, str] = {}
    order: list[QAction] = []

    def walk(menu: QMenu, title: str) -> None:
        for action in menu.actions():
            if action.menu() is not None:
                walk(action.menu(), title)
            elif id(action) not in menu_of:
                menu_of[id(action)] = title
                order.append(action)

    bar = window.menuBar() if hasattr(window, "menuBar") else None
    for top in bar.actions() if bar is not None else []:
        if top.menu() is not None:
            walk(top.menu(), top.text().replace("&", ""))
    seen = {id(action) for action in order}
    order += [a for a in window.findChildren(QAction) if id(a) not in seen]
    rows = []
    for action in order:
        keys = [k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts()]
        keys = [k for k in dict.fromkeys(keys) if k]  # a platform key may repeat another
        if keys:
            rows.append((menu_of.get(id(action), ""), plain_name(action), " or ".join(keys)))
    return rows


def shortcuts_html(window: QWidget) -> str:
    """Keyboard on the left, mouse on the right: side by side it fits a 900 px screen."""
    rows = [*shortcut_rows(window), *(("Canvas", what, keys) for keys, what in CANVAS_KEYS)]
    cells = "".join(
        f"<tr><td><b>{escape(keys)}</b></td><td>{escape(name)}</td>"
        f"<td style='color:#8b919b'>{escape(menu)}</td></tr>"
        for menu, name, keys in rows
    )
    mouse = "".join(
        f"<tr><td><b>{escape(how)}</b><br>{escape(what)}</td></tr>" for how, what in MOUSE
    )
    return (
        "<table cellspacing=0 cellpadding=0><tr>"
        "<td valign=top><h3>Keyboard</h3><table cellspacing=0 cellpadding=3>"
        f"{cells}</table></td><td width=36></td>"
        "<td valign=top width=300><h3>Mouse</h3><table cellspacing=0 cellpadding=4>"
        f"{mouse}</table></td></tr></table>"
    )


class ShortcutsDialog(QDialog):
    """Help > Keyboard and Mouse; built each time it opens, from the window's actions."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.setWindowTitle("Keyboard and mouse")
        self.text = QLabel(shortcuts_html(window))
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 8, 18, 12)
        layout.addWidget(self.text)
        layout.addWidget(buttons)


def show_shortcuts(window: QWidget) -> ShortcutsDialog:
    dialog = ShortcutsDialog(window)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()  # not modal: the user can try a key with the list open
    return dialog


def netloom_version() -> str:
    """The installed package's version; in a checkout that was never installed, the one
    pyproject.toml declares."""
    try:
        return importlib.metadata.version("netloom")
    except importlib.metadata.PackageNotFoundError:
        pass
    try:  # tomllib is Python 3.11+; the one line needed reads without it
        found = re.search(r'^version\s*=\s*"([^"]+)"', PYPROJECT.read_text(), re.MULTILINE)
    except OSError as err:
        log.debug("no version: %s: %s", PYPROJECT, err)
        found = None
    return f"{found[1]} (not installed)" if found else "unknown (not installed)"


def torch_version() -> str:
    """torch's version, without importing torch when it has not loaded yet."""
    torch = sys.modules.get("torch")
    if torch is not None:
        return str(torch.__version__)
    try:
        return importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def about_html() -> str:
    versions = (
        ("NetLoom", netloom_version()),
        ("PyTorch", torch_version()),
        ("Qt", f"{qVersion()} (PySide6 {PySide6.__version__})"),
        ("Python", platform.python_version()),
    )
    rows = "".join(
        f"<tr><td style='color:#8b919b'>{escape(name)}</td><td>{escape(value)}</td></tr>"
        for name, value in versions
    )
    return (
        f"<h3>NetLoom {escape(versions[0][1])}</h3>"
        "<p>Build, check, train and export neural networks visually.</p>"
        f"<table cellspacing=0 cellpadding=3>{rows}</table>"
    )


def show_about(parent: QWidget) -> None:
    QMessageBox.about(parent, "About NetLoom", about_html())
