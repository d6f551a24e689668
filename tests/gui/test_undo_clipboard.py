"""Undo and redo for every kind of edit, and copy / paste / duplicate."""

from __future__ import annotations

from PySide6.QtCore import QPointF

from engine.project.project import to_dict
from tests.gui.helpers import drag, port_pos


def snapshot(window) -> dict:
    doc = to_dict(window.project)
    return {"nodes": doc["nodes"], "edges": doc["edges"]}


def check_undo_redo(window, edit) -> None:
    """`edit` changes the graph; undo restores it exactly and redo repeats it exactly."""
    before = snapshot(window)
    edit()
    after = snapshot(window)
    assert after != before, "the edit changed nothing"
    window.undo_stack.undo()
    assert sorted(map(str, snapshot(window)["nodes"])) == sorted(map(str, before["nodes"]))
    assert sorted(map(str, snapshot(window)["edges"])) == sorted(map(str, before["edges"]))
    assert set(window.scene.nodes) == {n["id"] for n in before["nodes"]}
    window.undo_stack.redo()
    assert snapshot(window) == after
    assert set(window.scene.wires) == {(e["target"], e["target_port"]) for e in after["edges"]}


def test_undo_redo_add(window):
    check_undo_redo(window, lambda: window.add_block("Conv2d", QPointF(10, 10)))


def test_undo_redo_delete_restores_node_and_wires(video_window):
    window = video_window

    def delete():
        window.scene.select_nodes(["pool1"])
        window.actions_["delete"].trigger()

    check_undo_redo(window, delete)
    assert "pool1" not in window.graph


def test_undo_redo_delete_wire(video_window):
    window = video_window

    def delete_wire():
        window.scene.clearSelection()
        window.scene.wires[("lstm1", "x")].setSelected(True)
        window.delete_selection()

    check_undo_redo(window, delete_wire)
    assert "x" not in window.graph.incoming("lstm1")


def test_undo_redo_wire_and_unwire_by_mouse(window):
    source = window.add_block("Input", QPointF(0, 0))
    target = window.add_block("Flatten", QPointF(400, 0))
    check_undo_redo(
        window,
        lambda: drag(window.view, port_pos(window, source, None), port_pos(window, target, "x")),
    )
    check_undo_redo(
        window, lambda: drag(window.view, port_pos(window, target, "x"), QPointF(200, 300))
    )


def test_undo_redo_param_change(video_window):
    window = video_window
    window.focus_node("lstm1")
    check_undo_redo(
        window, lambda: window.inspector.editors["output"].box.setCurrentText("sequence")
    )
    assert window.scene.wires[("dense1", "x")].label == "(N, T, 64)"
    assert window.scene.nodes["dense1"].shape_text == "(N, T=8, 4)"


def test_move_by_mouse_is_one_undo_step(video_window):
    window = video_window
    item = window.scene.nodes["relu1"]
    start = item.sceneBoundingRect().center()
    depth = window.undo_stack.count()
    check_undo_redo(window, lambda: drag(window.view, start, start + QPointF(90, 130), steps=12))
    assert window.undo_stack.count() == depth + 1
    assert window.graph.node("relu1").pos == (item.pos().x(), item.pos().y())


def test_undo_redo_paste_and_auto_layout(video_window):
    window = video_window
    window.scene.select_nodes(["conv1", "relu1"])
    assert window.copy()
    check_undo_redo(window, window.paste)
    check_undo_redo(window, window.auto_layout)


def test_paste_keeps_inner_wires_under_new_ids(video_window):
    window = video_window
    window.scene.select_nodes(["conv2", "relu2", "pool2"])
    window.copy()
    new_ids = window.paste()
    assert len(new_ids) == 3 and not set(new_ids) & {"conv2", "relu2", "pool2"}
    inner = {(e.source, e.target) for e in window.graph.edges if e.target in new_ids}
    assert inner == {(new_ids[0], new_ids[1]), (new_ids[1], new_ids[2])}
    assert set(window.scene.selected_node_ids()) == set(new_ids)
    # The copies keep their arrangement and land clear of every block (issue 22 #2).
    old = [window.graph.node(i).pos for i in ("conv2", "relu2", "pool2")]
    new = [window.graph.node(i).pos for i in new_ids]
    assert [(x - new[0][0], y - new[0][1]) for x, y in new] == [
        (x - old[0][0], y - old[0][1]) for x, y in old
    ]
    second = window.paste()  # pasting again lands clear of the first copies too
    tiles = [item.sceneBoundingRect() for item in window.scene.nodes.values()]
    assert len(second) == 3
    assert not any(a.intersects(b) for i, a in enumerate(tiles) for b in tiles[i + 1 :])


def test_duplicate_and_cut(video_window):
    window = video_window
    window.scene.select_nodes(["dense1"])
    [copy_id] = window.duplicate()
    assert window.graph.node(copy_id).params == window.graph.node("dense1").params
    window.scene.select_nodes(["dense1"])
    window.cut()
    assert "dense1" not in window.graph
    [pasted] = window.paste()
    assert window.graph.node(pasted).type == "Dense"


def test_paste_without_netloom_clipboard_says_so(window):
    from PySide6.QtGui import QGuiApplication

    QGuiApplication.clipboard().setText("hello")
    assert window.paste() == []
    assert "no NetLoom blocks" in window.statusBar().currentMessage()


def test_undo_redo_buttons_keep_their_label_and_the_toolbar_does_not_shift(video_window):
    from PySide6.QtWidgets import QMenu, QToolBar

    window = video_window
    bar = window.findChild(QToolBar, "mainToolbar")
    buttons = {name: bar.widgetForAction(window.actions_[name]) for name in ("undo", "redo")}
    after_undo = [bar.widgetForAction(window.actions_[n]) for n in ("delete", "layout", "fit")]
    before = [b.geometry() for b in after_undo]
    window.focus_node("conv2")
    window.inspector.editors["out_channels"].box.setValue(24)
    window.undo_stack.undo()  # now both Undo and Redo name a command
    window.undo_stack.redo()
    window.undo_stack.undo()
    window.undo_stack.redo()
    for name, button in buttons.items():
        assert button.text() == name.capitalize()
    assert "Undo Set conv2.out_channels" in buttons["undo"].toolTip()
    assert "Ctrl+Z" in buttons["undo"].toolTip()
    edit_menu = next(m for m in window.menuBar().findChildren(QMenu) if m.title() == "&Edit")
    assert window.actions_["undo"] in edit_menu.actions()
    assert window.actions_["undo"].text() == "&Undo Set conv2.out_channels"  # what the menu shows
    window.undo_stack.undo()
    assert "Redo Set conv2.out_channels" in buttons["redo"].toolTip()
    assert [b.geometry() for b in after_undo] == before


QUIT_AFTER_COPY = """
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from gui.editor.clipboard import release_clipboard, to_mime
app = QApplication([])
app.aboutToQuit.connect(release_clipboard)  # as gui.app.run_gui does
app.clipboard().setMimeData(to_mime({"format": "netloom", "nodes": [], "edges": []}))
QTimer.singleShot(0, app.quit)
app.exec()
"""


def test_quitting_after_a_copy_exits_cleanly():
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(root)}

    def quit_after_copy() -> int:
        command = [sys.executable, "-c", QUIT_AFTER_COPY]
        return subprocess.run(command, env=env, cwd=root, timeout=120).returncode

    # Without release_clipboard the clipboard's Python-made QMimeData brought the
    # interpreter down as it exited (rc 139, a segmentation fault), with PySide6 6.11.
    assert quit_after_copy() == 0
