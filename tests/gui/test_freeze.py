"""Freeze in the window: the Inspector's box freezes the selected blocks or units (one or
several at once), the canvas shows them frozen, undo thaws them, the saved file says so."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import Qt


def click(qtbot, box) -> None:
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=box.rect().center())


def test_ticking_freeze_freezes_the_block_until_undone_and_the_file_keeps_it(
    open_template, qtbot, tmp_path: Path
):
    window = open_template("resnet_digits")
    window.focus_node("classify")
    box = window.inspector.freeze
    item = window.scene.nodes["classify"]
    assert box.isVisible() and not box.isChecked()
    plain_header = item.header_colour

    click(qtbot, box)

    assert window.graph.node("classify").frozen
    assert box.isChecked()
    assert item.frozen and item.title_text == "\u2744 classify"
    assert item.header_colour != plain_header
    assert "Frozen: training keeps its weights" in item.tooltip_text()

    window.undo_stack.undo()
    assert not window.graph.node("classify").frozen
    assert not item.frozen and item.title_text == "classify"
    assert not box.isChecked()

    window.undo_stack.redo()
    assert window.write_to(tmp_path / "frozen.json")
    saved = json.loads((tmp_path / "frozen.json").read_text(encoding="utf-8"))
    frozen = {n["id"]: n.get("frozen") for n in saved["nodes"]}
    assert frozen["classify"] is True and frozen["block1"] is None


def test_several_selected_freeze_together_in_one_undo_step(open_template, qtbot):
    window = open_template("resnet_digits")
    window.scene.select_nodes(["image", "stem", "block1", "down"])  # the Input is left out
    box = window.inspector.freeze
    qtbot.waitUntil(lambda: box.isVisible())
    assert box.text().startswith("Freeze all 3")

    click(qtbot, box)

    frozen = [n.id for n in window.graph.nodes if n.frozen]
    assert frozen == ["stem", "block1", "down"]
    assert all(window.scene.nodes[i].frozen for i in frozen)
    window.scene.select_nodes(["stem", "block2"])  # one frozen, one not: partly ticked
    qtbot.waitUntil(lambda: box.checkState() == Qt.CheckState.PartiallyChecked)

    window.undo_stack.undo()
    assert not any(n.frozen for n in window.graph.nodes)
    assert box.checkState() == Qt.CheckState.Unchecked
