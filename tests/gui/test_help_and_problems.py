"""Help > Keyboard and Mouse, and the status bar's problem count."""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence

NATIVE = QKeySequence.SequenceFormat.NativeText


def test_keyboard_help_lists_every_shortcut_of_the_window(window):
    from gui.menus import ShortcutsDialog

    extra = QAction("Frobnicate", window)  # an action added later is listed without edits
    extra.setShortcut(QKeySequence("Ctrl+Alt+K"))
    window.addAction(extra)
    window.actions_["shortcuts"].trigger()
    (dialog,) = window.findChildren(ShortcutsDialog)
    assert dialog.isVisible()
    text = dialog.text.text()
    with_keys = [a for a in window.findChildren(QAction) if a.shortcuts()]
    assert len(with_keys) >= 20
    for action in with_keys:
        for key in action.shortcuts():
            assert key.toString(NATIVE) in text, (action.text(), key.toString(NATIVE))
    for key, name in (("F5", "Train"), ("F6", "Pause / Resume"), ("Shift+F5", "Stop")):
        assert f"<b>{key}</b></td><td>{name}</td>" in text
    assert "<b>Ctrl+Alt+K</b></td><td>Frobnicate</td>" in text
    assert "<b>Ctrl+Z</b></td><td>Undo</td>" in text


def test_empty_project_explains_its_problem_count(window, qtbot):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QMenu

    from gui.editor.summary import PROBLEM

    button = window.problems_button
    assert button.text() == "⚠ 2 problems"
    assert "the graph has no Input block" in button.toolTip()
    assert "the graph has no Output block" in button.toolTip()
    menu = button.list_menu()  # what a click opens
    assert [a.text() for a in menu.actions()] == [
        "the graph has no Input block",
        "the graph has no Output block",
    ]
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: any(m.isVisible() for m in button.findChildren(QMenu)))
    shown = [m for m in button.findChildren(QMenu) if m.isVisible()]
    assert len(shown) == 1
    with qtbot.waitSignal(button.summary_requested):  # a graph-level problem: the Summary
        shown[0].actions()[1].trigger()
    assert window.summary.isVisible()
    summary = window.summary
    assert [summary.cell(r, PROBLEM) for r in range(summary.model.rowCount())] == [
        "the graph has no Input block",
        "the graph has no Output block",
    ]
    assert "2 problems" in summary.totals.text()


def test_a_blocks_problem_in_the_list_selects_that_block(window):
    from PySide6.QtCore import QPointF

    window.add_block("Input", QPointF(0, 0))
    window.add_block("Output", QPointF(400, 0))  # unwired: the Output has no input
    button = window.problems_button
    entries = {a.text(): a for a in button.list_menu().actions()}
    wanted = next(text for text in entries if text.startswith("output1"))
    entries[wanted].trigger()
    assert window.scene.selected_node_ids() == ["output1"]
    assert window.inspector.title.text() == "output1"
    assert window.summary.row_of["output1"] == window.summary.table.currentIndex().row()
