"""Adding blocks, wiring them and editing params through the real widgets."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from tests.gui.helpers import LEFT, NONE, drag, port_pos, send_mouse


def drop_block(window, type_name: str, view_point: QPoint) -> None:
    """What a drag from the palette delivers: the palette's own mime data, then a drop."""
    mime = window.palette.mime_for(type_name)
    viewport = window.view.viewport()
    enter = QDragEnterEvent(
        view_point,
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(viewport, enter)
    assert enter.isAccepted(), "the canvas refused the palette's drag"
    drop = QDropEvent(
        QPointF(view_point),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(viewport, drop)


def test_drop_from_palette_adds_block_under_cursor(window):
    point = QPoint(300, 200)
    drop_block(window, "LSTM", point)
    nodes = window.graph.nodes
    assert [n.type for n in nodes] == ["LSTM"]
    item = window.scene.nodes[nodes[0].id]
    assert item.sceneBoundingRect().contains(window.view.mapToScene(point))
    assert window.inspector.title.text() == nodes[0].id  # the new block is selected
    assert window.isWindowModified()


def test_palette_search_filters_by_alias(window):
    window.palette.search.setText("memory")
    assert set(window.palette.visible_blocks()) == {"RNN", "GRU", "LSTM"}
    window.palette.search.setText("")
    assert "Conv2d" in window.palette.visible_blocks()


def test_wire_two_ports_with_the_mouse(window, qtbot):
    source = window.add_block("Input", QPointF(0, 0))
    target = window.add_block("Dense", QPointF(400, 0))
    drag(window.view, port_pos(window, source, None), port_pos(window, target, "x"))
    assert [(e.source, e.target, e.port) for e in window.graph.edges] == [(source, target, "x")]
    wire = window.scene.wires[(target, "x")]
    assert wire.label == "(N, 1, 28, 28)"


def test_refused_wire_says_why_in_status_bar(window):
    first = window.add_block("Input", QPointF(0, 0))
    second = window.add_block("Input", QPointF(0, 300))
    dense = window.add_block("Dense", QPointF(400, 0))
    drag(window.view, port_pos(window, first, None), port_pos(window, dense, "x"))
    drag(window.view, port_pos(window, second, None), port_pos(window, dense, "x"))
    assert "already wired from input1" in window.statusBar().currentMessage()
    assert [e.source for e in window.graph.edges] == [first]
    drag(window.view, port_pos(window, first, None), port_pos(window, second, None))
    assert "both ends are outputs" in window.statusBar().currentMessage()


def test_drag_wired_input_onto_canvas_removes_wire(window):
    source = window.add_block("Input", QPointF(0, 0))
    target = window.add_block("Dense", QPointF(400, 0))
    window.graph.connect(source, target)
    drag(window.view, port_pos(window, target, "x"), QPointF(200, 400))
    assert window.graph.edges == []
    window.undo_stack.undo()
    assert len(window.graph.edges) == 1


def test_inspector_edit_changes_downstream_wire_label(video_window, qtbot):
    window = video_window
    window.focus_node("conv1")
    spin = window.inspector.editors["out_channels"].box
    spin.selectAll()
    qtbot.keyClicks(spin, "8")
    qtbot.keyClick(spin, Qt.Key.Key_Return)
    assert window.graph.node("conv1").params["out_channels"] == 8
    assert window.scene.wires[("relu1", "x")].label == "(N, T, 8, 32, 32)"
    assert window.summary.cell(1, 3) == "80"  # 1×8×3×3 + 8 weights
    window.undo_stack.undo()
    assert window.scene.wires[("relu1", "x")].label == "(N, T, 16, 32, 32)"
    assert window.inspector.editors["out_channels"].box.value() == 16


def test_inspector_refuses_bad_list_and_names_the_param(video_window, qtbot):
    window = video_window
    window.focus_node("frames")
    edit = window.inspector.editors["shape"].edit
    edit.clear()
    qtbot.keyClicks(edit, "8, x, 32")
    error = window.inspector.editors["shape"].error
    assert error.isVisibleTo(window.inspector) and error.text().startswith("shape: expected a list")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert window.graph.node("frames").params["shape"] == [8, 1, 32, 32]
    edit.clear()
    qtbot.keyClicks(edit, "8, 3, 32, 32")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert window.graph.node("frames").params["shape"] == [8, 3, 32, 32]
    assert window.scene.wires[("conv1", "x")].label == "(N, T, 3, 32, 32)"


def test_bad_wire_puts_badge_on_the_failing_node(window):
    source = window.add_block("Input", QPointF(0, 0))
    window.graph.set_params(source, {"shape": [10]})
    lstm = window.add_block("LSTM", QPointF(400, 0))
    drag(window.view, port_pos(window, source, None), port_pos(window, lstm, "x"))
    window.scene.refresh_if_dirty()
    assert window.scene.nodes[lstm].badge.isVisible()
    assert not window.scene.nodes[source].badge.isVisible()
    assert (
        "needs a sequence (N, T, F); got (N, 10) from input1"
        in window.scene.nodes[lstm].badge.tooltip_text()
    )
    assert window.scene.wires[(lstm, "x")].error
    assert "needs a sequence" in window.summary.cell(window.summary.row_of[lstm], 5)


def test_quick_search_places_block_at_cursor(window, qtbot):
    window.view.setFocus()
    spot = QPointF(120, 80)
    window.open_quick_search(spot)
    assert window.quick_search.isVisible()
    qtbot.keyClicks(window.quick_search.edit, "gru")
    qtbot.keyClick(window.quick_search.edit, Qt.Key.Key_Return)
    [node] = window.graph.nodes
    assert node.type == "GRU"
    assert window.scene.nodes[node.id].sceneBoundingRect().contains(spot)


def test_tab_on_canvas_opens_quick_search(window, qtbot):
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_Tab)
    assert window.quick_search.isVisible()


def test_summary_row_click_selects_node(video_window, qtbot):
    window = video_window
    row = window.summary.row_of["lstm1"]
    table = window.summary.table
    rect = table.visualRect(table.model().index(row, 0))
    qtbot.mouseClick(window.summary.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.scene.selected_node_ids() == ["lstm1"]
    assert window.inspector.title.text() == "lstm1"


def test_unknown_block_type_is_refused_with_a_message(window):
    assert window.add_block("Conv9d", QPointF(0, 0)) is None
    assert "unknown block type 'Conv9d'" in window.statusBar().currentMessage()
    assert len(window.graph) == 0 and window.undo_stack.count() == 0


def test_only_wires_into_a_shape_error_turn_red(window):
    source = window.add_block("Input", QPointF(0, 0))
    add = window.add_block("Add", QPointF(400, 0))
    window.graph.connect(source, add, "in1")  # in2 stays unwired: a problem, not a bad wire
    window.scene.refresh_if_dirty()
    assert window.scene.nodes[add].badge.isVisible()
    assert "input 'in2' is not wired" in window.scene.nodes[add].badge.tooltip_text()
    assert not window.scene.wires[(add, "in1")].error


def test_tooltips_on_badge_wire_and_port_name_what_is_there(window):
    source = window.add_block("Input", QPointF(0, 0))
    window.graph.set_params(source, {"shape": [10]})
    conv = window.add_block("Conv2d", QPointF(400, 0))
    window.graph.connect(source, conv)
    window.scene.refresh_if_dirty()
    item = window.scene.nodes[conv]
    badge_text = window.scene.tooltip_at(item.badge.scenePos())
    assert badge_text.startswith("conv1: Conv2d needs 4-D input (N, C, H, W)")
    wire = window.scene.wires[(conv, "x")]
    assert window.scene.tooltip_at(wire.path().pointAtPercent(0.5)) == "input1 → conv1.x: (N, 10)"
    assert window.scene.tooltip_at(item.inputs["x"].scenePos()) == "input 'x': (N, 10) from input1"
    body = item.sceneBoundingRect().center()
    assert window.scene.tooltip_at(body).startswith("conv1 — Conv2d\nout_channels 16")


def test_wire_being_dragged_is_a_line_not_a_filled_shape(video_window):
    """The view does not reset the painter between items; a brush left over by a tile
    painted before must not fill the curve that follows the mouse."""
    from PySide6.QtGui import QColor, QImage, QPainter
    from PySide6.QtWidgets import QStyleOptionGraphicsItem

    from gui.canvas.wire_item import DraftWire

    window = video_window
    start = port_pos(window, "conv1", None)
    send_mouse(window.view, QEvent.Type.MouseButtonPress, start, LEFT, LEFT)
    send_mouse(window.view, QEvent.Type.MouseMove, start + QPointF(160, 220), NONE, LEFT)
    drafts = [i for i in window.scene.items() if isinstance(i, DraftWire)]
    assert len(drafts) == 1
    rect = drafts[0].boundingRect()
    image = QImage(int(rect.width()) + 1, int(rect.height()) + 1, QImage.Format.Format_ARGB32)
    image.fill(0)
    painter = QPainter(image)
    painter.translate(-rect.topLeft())
    painter.setBrush(QColor(255, 0, 0))  # what a previously painted item left behind
    drafts[0].paint(painter, QStyleOptionGraphicsItem())
    painter.end()
    red = sum(
        image.pixelColor(x, y) == QColor(255, 0, 0)
        for x in range(0, image.width(), 2)
        for y in range(0, image.height(), 2)
    )
    assert red == 0
    painted = sum(
        image.pixelColor(x, y).alpha() > 0
        for x in range(image.width())
        for y in range(image.height())
    )
    assert 0 < painted < 0.1 * image.width() * image.height()  # a thin line
    send_mouse(window.view, QEvent.Type.MouseButtonRelease, start + QPointF(160, 220), LEFT, NONE)


def test_inspector_takes_a_size_per_axis_as_text(video_window, qtbot):
    window = video_window
    window.focus_node("conv1")
    edit = window.inspector.editors["kernel_size"].box.lineEdit()
    edit.selectAll()
    qtbot.keyClicks(edit, "1, 2, 2")  # three sizes for a 2-D kernel
    error = window.inspector.editors["kernel_size"].error
    assert error.isVisibleTo(window.inspector)
    assert error.text().startswith("kernel_size: expected an integer ≥ 1 or a list of 2")
    edit.selectAll()
    qtbot.keyClicks(edit, "1,3")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert window.graph.node("conv1").params["kernel_size"] == [1, 3]
    # 'same' padding per axis keeps 32 × 32
    assert window.scene.wires[("relu1", "x")].label == "(N, T, 16, 32, 32)"
    edit.selectAll()
    qtbot.keyClicks(edit, "5")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert window.graph.node("conv1").params["kernel_size"] == 5
    window.undo_stack.undo()
    assert window.graph.node("conv1").params["kernel_size"] == [1, 3]
    assert edit.text() == "1, 3"
