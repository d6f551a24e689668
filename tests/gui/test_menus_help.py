"""Help > Keyboard and Mouse lists every shortcut, View > Reset Layout puts every panel
back, and About names the versions."""

from __future__ import annotations

import importlib.metadata
import sys

from PySide6.QtCore import Qt, qVersion
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDockWidget

from gui import menus


def menu_action(window, menu_title: str, text: str) -> QAction:
    """An action as the user reaches it: through the menu bar."""
    for top in window.menuBar().actions():
        if top.text().replace("&", "") == menu_title:
            for action in top.menu().actions():
                if action.text().replace("&", "").rstrip("…") == text:
                    return action
    raise AssertionError(f"no {menu_title} > {text}")


def test_the_shortcut_list_names_the_canvas_keys_and_gestures_too(window, qtbot):
    """Every action's keys are listed (tests/gui/test_help_and_problems.py); so are the
    keys and gestures the canvas handles itself, which no action carries."""
    menu_action(window, "Help", "Keyboard and Mouse").trigger()
    dialog = window.findChild(menus.ShortcutsDialog)
    assert dialog is not None and dialog.isVisible()
    text = dialog.text.text()
    for keys, what in (
        ("Esc", "Leave the opened unit"),
        ("Tab", "Search for a block"),
        ("Space + drag", "Pan"),
        ("Ctrl+G", "Make Unit"),
        ("F5", "Train"),
    ):
        assert f"<b>{keys}</b></td><td>{what}" in text, keys
    for gesture in ("Double-click a unit", "Double-click on empty canvas"):
        assert f"<b>{gesture}</b>" in text
    dialog.close()


def dock_layout(window) -> dict[str, tuple]:
    """Each dock: its area, floating, visible, and the docks tabbed with it."""
    return {
        dock.windowTitle(): (
            window.dockWidgetArea(dock),
            dock.isFloating(),
            dock.isVisible(),
            sorted(d.windowTitle() for d in window.tabifiedDockWidgets(dock)),
        )
        for dock in window.findChildren(QDockWidget)
    }


def test_reset_layout_puts_every_panel_back(window, qtbot):
    start = dock_layout(window)
    assert len(start) >= 8 and any(tabs for *_rest, tabs in start.values())
    window.palette_dock.setFloating(True)
    window.summary_dock.close()
    window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, window.inspector_dock)
    window.addDockWidget(Qt.DockWidgetArea.TopDockWidgetArea, window.training.runs_dock)
    assert dock_layout(window) != start
    menu_action(window, "View", "Reset Layout").trigger()
    qtbot.waitUntil(lambda: dock_layout(window) == start)


def test_about_names_the_versions_of_netloom_torch_and_qt(window, dialogs):
    menu_action(window, "Help", "About NetLoom").trigger()
    (text,) = dialogs.texts("about")
    assert f"NetLoom {importlib.metadata.version('netloom')}" in text
    assert importlib.metadata.version("torch") in text
    assert qVersion() in text


def test_the_versions_read_without_an_install_and_without_importing_torch(monkeypatch):
    real = importlib.metadata.version

    def not_installed(name: str) -> str:
        if name == "netloom":
            raise importlib.metadata.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(importlib.metadata, "version", not_installed)
    assert menus.netloom_version().endswith("(not installed)")
    assert menus.netloom_version()[0].isdigit(), "the checkout's pyproject.toml version"
    monkeypatch.delitem(sys.modules, "torch", raising=False)
    assert menus.torch_version() == real("torch")
    assert "torch" not in sys.modules
