"""A Split on the canvas: one output port per part, each wired on its own."""

from __future__ import annotations

from PySide6.QtCore import QPointF

from gui.canvas.commands import SetParamsCommand
from tests.gui.helpers import drag, port_pos


def test_a_split_shows_one_output_port_per_part_and_each_wires_on_its_own(window):
    image = window.add_block("Input", QPointF(0, 0))
    window.undo_stack.push(SetParamsCommand(window.graph, image, {"shape": [3, 8, 8]}))
    split = window.add_block("Split", QPointF(300, 0))
    drag(window.view, port_pos(window, image, None), port_pos(window, split, "x"))
    assert list(window.scene.nodes[split].outputs) == ["out1", "out2"]

    window.undo_stack.push(SetParamsCommand(window.graph, split, {"sizes": [1, 1, 1]}))
    item = window.scene.nodes[split]
    assert list(item.outputs) == ["out1", "out2", "out3"]
    heights = [item.outputs[p].pos().y() for p in ("out1", "out2", "out3")]
    assert heights == sorted(heights) and len(set(heights)) == 3  # stacked, apart

    convs = [window.add_block("Conv2d", QPointF(650, 250 * i)) for i in range(3)]
    for i, conv in enumerate(convs, start=1):
        drag(window.view, port_pos(window, split, None, f"out{i}"), port_pos(window, conv, "x"))
    wired = {(e.source_port, e.target) for e in window.graph.edges if e.source == split}
    assert wired == {(f"out{i}", conv) for i, conv in enumerate(convs, start=1)}
    assert window.scene.wires[(convs[2], "x")].label == "(N, 1, 8, 8)"
    assert not window.scene.analysis.errors_of(split)
