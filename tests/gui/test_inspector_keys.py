"""The Inspector under the keyboard: Ctrl+Z in a field, and facts kept beside an error."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit


def focus_field(window, qtbot, node_id: str, param: str) -> QLineEdit:
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    window.focus_node(node_id)
    widget = window.inspector.editors[param].widget
    edit = widget if isinstance(widget, QLineEdit) else widget.findChild(QLineEdit)
    widget.setFocus()
    qtbot.waitUntil(lambda: edit.hasFocus() or widget.hasFocus())
    return edit


def ctrl_z(qtbot, window) -> None:
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)


def test_ctrl_z_in_a_field_undoes_its_typing_then_the_projects_last_edit(video_window, qtbot):
    window = video_window
    window.focus_node("conv2")
    window.inspector.editors["out_channels"].box.setValue(24)  # a committed project edit
    assert window.graph.node("conv2").params["out_channels"] == 24
    edit = focus_field(window, qtbot, "conv2", "out_channels")
    edit.selectAll()
    qtbot.keyClicks(QApplication.focusWidget(), "40")  # typed, not committed (no Enter)
    assert edit.text() == "40"
    ctrl_z(qtbot, window)  # undoes the typing only
    assert edit.text() == "24"
    assert window.graph.node("conv2").params["out_channels"] == 24
    ctrl_z(qtbot, window)  # nothing pending: the project's last edit
    assert window.graph.node("conv2").params["out_channels"] == 32
    assert edit.text() == "32"  # the field follows the project


def test_ctrl_z_in_a_text_field_without_typing_undoes_the_project(video_window, qtbot):
    window = video_window
    window.add_block("Dense", window.view.centre_scene_pos())
    added = window.graph.nodes[-1].id
    edit = focus_field(window, qtbot, "frames", "shape")
    ctrl_z(qtbot, window)
    assert added not in window.graph
    assert edit.text() == "8, 1, 32, 32"


def test_inspector_keeps_input_shapes_when_the_blocks_own_rule_fails(video_window):
    window = video_window
    window.focus_node("conv2")
    assert "in    x: (N, T=8, 16, 16, 16)" in window.inspector.facts.text()
    edit = window.inspector.editors["kernel_size"].box.lineEdit()
    edit.setText("2")  # an even kernel with padding "same"
    edit.editingFinished.emit()
    assert window.graph.node("conv2").params["kernel_size"] == 2
    assert window.scene.errors.get("conv2"), "the edit should break conv2's shape rule"
    facts = window.inspector.facts.text()
    assert "in    x: (N, T=8, 16, 16, 16)" in facts
    assert "out   —" in facts
    assert window.inspector.error.isVisible()
    window.focus_node("relu2")  # blocked by conv2: its input has no shape to show
    assert "x: — (no shape from conv2)" in window.inspector.facts.text()
