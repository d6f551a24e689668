"""A long session: thousands of edits, undos and redos, each making many void Qt calls
(setPos, prepareGeometryChange, update). PySide6 6.12.0 on Python 3.11 aborts after a
few thousand such calls (each drops a reference to None, True or False, until
Python aborts with none_dealloc); this guards the pin."""

from __future__ import annotations

from PySide6.QtCore import QPointF

from gui.canvas.commands import MoveCommand

EDITS = 2000


def test_thousands_of_edits_undo_and_redo_without_crash(video_window):
    window = video_window
    ids = [n.id for n in window.graph.nodes]
    start = {i: window.graph.node(i).pos for i in ids}
    for step in range(EDITS):
        node_id = ids[step % len(ids)]
        old = window.graph.node(node_id).pos
        new = (old[0] + 1.0, old[1] + (step % 3) - 1.0)
        window.undo_stack.push(MoveCommand(window.graph, {node_id: old}, {node_id: new}))
    moved = {i: window.graph.node(i).pos for i in ids}
    item = window.scene.nodes[ids[0]]
    assert (item.pos().x(), item.pos().y()) == moved[ids[0]]
    for _ in range(EDITS):
        window.undo_stack.undo()
    assert {i: window.graph.node(i).pos for i in ids} == start
    for _ in range(EDITS):
        window.undo_stack.redo()
    assert {i: window.graph.node(i).pos for i in ids} == moved
    # Structural edits too: add and remove blocks, each rebuilding items and labels.
    for step in range(150):
        window.add_block("Dense", QPointF(step, 900))
    assert len(window.graph) == len(ids) + 150
    for _ in range(150):
        window.undo_stack.undo()
    assert len(window.graph) == len(ids) and len(window.scene.nodes) == len(ids)
