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
