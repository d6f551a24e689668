"""The summary after an edit that changes every block: the rows are rewritten when read
(by the table as it shows them, or by anyone asking), and what they say then is the
new analysis's, row for row."""

from __future__ import annotations

from PySide6.QtCore import Qt

from engine.graph.graph import Graph
from engine.project.project import Project
from gui.canvas.commands import SetParamsCommand
from gui.editor.summary import PROBLEM, SHAPE, WEIGHTS, Summary, shape_text


def long_chain(blocks: int = 40) -> Project:
    """input1 → dense1 → relu1 → dense2 → … → output1, every Dense 8 wide."""
    graph = Graph()
    previous = graph.add_node("Input", {"shape": [8]}).id
    for i in range(blocks // 2):
        for node_type, params in (("Dense", {"units": 8}), ("ReLU", {})):
            node_id = graph.add_node(node_type, params, pos=(i * 260.0, 0.0)).id
            graph.connect(previous, node_id)
            previous = node_id
    graph.connect(previous, graph.add_node("Output", {"loss": "mse"}).id)
    return Project(graph, name="long chain")


def test_an_edit_of_every_block_composes_the_rows_when_read(window, qtbot, monkeypatch):
    window.set_project(long_chain(), None)
    qtbot.waitUntil(lambda: window.scene.nodes["output1"].has_info)
    summary, model = window.summary, window.summary.model
    composed: list[str] = []
    row_of = Summary._row
    monkeypatch.setattr(
        Summary,
        "_row",
        staticmethod(lambda graph, a, by, n: composed.append(n) or row_of(graph, a, by, n)),
    )
    # The Input gains a leading axis: every block after it outputs one more.
    with qtbot.waitSignal(window.scene.analysis_changed) as blocker:
        window.undo_stack.push(SetParamsCommand(window.graph, "input1", {"shape": [3, 8]}))
    changed = blocker.args[1]
    assert changed == {node.id for node in window.graph.nodes}
    assert len(composed) < len(changed) / 2  # the rows nobody has read yet wait

    analysis = window.scene.analysis
    for node_id in changed:
        row = summary.row_of[node_id]
        shown = model.data(model.index(row, SHAPE), Qt.ItemDataRole.DisplayRole)
        assert shown == shape_text(analysis.nodes[node_id])
    assert summary.cell(summary.row_of["output1"], SHAPE) == "(N, 3, 8)"
    assert summary.cell(summary.row_of["dense20"], WEIGHTS) == "72"  # 8×8 + 8
    assert summary.cell(summary.row_of["output1"], PROBLEM) == ""
