"""A wire's label that flips between a shape and "?" (an edit breaks a block upstream,
the next mends it) draws in the wire's bounds as they are: only a label wider than any
since the wire was laid moves them; the label stays centred above the wire."""

from __future__ import annotations

from engine.graph.graph import Graph
from engine.project.project import Project
from gui.canvas.commands import SetParamsCommand
from gui.canvas.wire_item import WireItem


def skip_join() -> Project:
    """input1 → dense1 → add1.in1, input1 → add1.in2, add1 → output1: dense1 of another
    width than the input breaks add1, and the wire add1 → output1 then carries "?"."""
    graph = Graph()
    graph.add_node("Input", {"shape": [8]}, pos=(0.0, 0.0))
    graph.add_node("Dense", {"units": 8}, pos=(260.0, 0.0))
    graph.add_node("Add", pos=(520.0, 0.0))
    graph.add_node("Output", {"loss": "mse"}, pos=(780.0, 0.0))
    graph.connect("input1", "dense1")
    graph.connect("dense1", "add1", "in1")
    graph.connect("input1", "add1", "in2")
    graph.connect("add1", "output1")
    return Project(graph, name="skip join")


def set_units(window, qtbot, units: int) -> None:
    with qtbot.waitSignal(window.scene.analysis_changed):
        window.undo_stack.push(SetParamsCommand(window.graph, "dense1", {"units": units}))


def test_a_label_flipping_to_and_from_a_question_mark_keeps_the_wire_bounds(
    window, qtbot, monkeypatch
):
    window.set_project(skip_join(), None)
    qtbot.waitUntil(lambda: window.scene.nodes["output1"].has_info)
    wire = window.scene.wires[("output1", "x")]
    moved: list[WireItem] = []  # wires that told the scene their bounds change (the
    # edited block's own wires do: its ports may move)
    change = WireItem.prepareGeometryChange
    monkeypatch.setattr(
        WireItem, "prepareGeometryChange", lambda self: moved.append(self) or change(self)
    )
    assert wire.label == "(N, 8)"
    laid, label = wire.rect(), wire.label_rect()
    assert laid.contains(label)

    set_units(window, qtbot, 4)  # add1 breaks: nothing leaves it
    assert wire.label == "?"
    narrow = wire.label_rect()
    assert narrow.width() < label.width()
    assert abs(narrow.center().x() - label.center().x()) < 0.01  # still centred
    assert wire.rect() == laid  # drawn inside the bounds it had
    assert laid.contains(narrow)

    set_units(window, qtbot, 8)  # mended
    assert wire.label == "(N, 8)"
    assert wire.label_rect() == label
    assert wire.rect() == laid
    assert wire not in moved
