"""A parameter edit updates only what it changed: the edited block's tile, the blocks
downstream whose shapes or counts follow, their wires and summary rows; every other
item, row and the inspector keep what they show."""

from __future__ import annotations

import pytest

from engine.graph.graph import Graph
from engine.project.project import Project
from gui.canvas.commands import SetParamsCommand
from gui.canvas.node_item import NodeItem
from gui.canvas.wire_item import WireItem
from gui.editor.summary import SHAPE, WEIGHTS

# input1 → dense1 → relu1 → dense2 → output1, and beside it input2 → dense3 → output2.
CHAIN = ["input1", "dense1", "relu1", "dense2", "output1"]
BESIDE = ["input2", "dense3", "output2"]


def two_chains() -> Project:
    graph = Graph()
    for column, (node_type, params) in enumerate(
        [
            ("Input", {"shape": [8]}),
            ("Dense", {"units": 4}),
            ("ReLU", {}),
            ("Dense", {"units": 3}),
            ("Output", {"loss": "mse"}),
        ]
    ):
        graph.add_node(node_type, params, pos=(column * 260.0, 0.0))
    for column, (node_type, params) in enumerate(
        [("Input", {"shape": [6]}), ("Dense", {"units": 2}), ("Output", {"loss": "mse"})]
    ):
        graph.add_node(node_type, params, pos=(column * 260.0, 300.0))
    for chain in (CHAIN, BESIDE):
        for source, target in zip(chain, chain[1:], strict=False):
            graph.connect(source, target)
    return Project(graph, name="two chains")


@pytest.fixture
def chains(window, qtbot):
    window.set_project(two_chains(), None)
    qtbot.waitUntil(lambda: window.scene.nodes["output2"].has_info)
    return window


def push_units(window, qtbot, node_id: str, units: int) -> set[str] | None:
    """Set a Dense's units as the inspector does; the blocks the scene says changed."""
    with qtbot.waitSignal(window.scene.analysis_changed) as blocker:
        window.undo_stack.push(SetParamsCommand(window.graph, node_id, {"units": units}))
    return blocker.args[1]


def row(window, node_id: str) -> tuple[str, ...]:
    return window.summary.model.rows[window.summary.row_of[node_id]]


def test_an_edit_updates_the_edited_block_its_wires_and_its_summary_row(chains, qtbot):
    window = chains
    changed = push_units(window, qtbot, "dense1", 5)
    # dense1's width, relu1's shape and dense2's weights follow; nothing else.
    assert changed == {"dense1", "relu1", "dense2"}
    tile = window.scene.nodes["dense1"]
    assert "units 5" in tile.params_text
    assert tile.shape_text == "(N, 5)"
    assert tile.stats_text.startswith("45 weights")  # 8×5 + 5
    assert window.scene.wires[("relu1", "x")].label == "(N, 5)"
    assert window.scene.wires[("dense2", "x")].label == "(N, 5)"
    assert row(window, "dense1")[SHAPE] == "(N, 5)"
    assert row(window, "dense1")[WEIGHTS] == "45"
    assert row(window, "dense2")[WEIGHTS] == "18"  # 5×3 + 3
    assert "77 weights" in window.summary.totals.text()  # 45 + 18 + 14 (dense3: 6×2 + 2)

    # Undo puts every text back.
    with qtbot.waitSignal(window.scene.analysis_changed):
        window.undo_stack.undo()
    assert window.scene.nodes["dense1"].shape_text == "(N, 4)"
    assert window.scene.wires[("relu1", "x")].label == "(N, 4)"
    assert row(window, "dense2")[WEIGHTS] == "15"


def test_an_edit_leaves_the_other_blocks_items_and_rows_as_they_were(chains, qtbot):
    window = chains
    untouched = ["input1", "output1", *BESIDE]
    tiles = {n: window.scene.nodes[n] for n in untouched}
    facts = {n: tile.info for n, tile in tiles.items()}
    texts = {n: (t.params_text, t.shape_text, t.stats_text) for n, t in tiles.items()}
    rows = {n: row(window, n) for n in untouched}
    wires = {key: wire for key, wire in window.scene.wires.items() if key[0] in BESIDE}

    changed = push_units(window, qtbot, "dense1", 7)

    assert changed is not None and changed.isdisjoint(untouched)
    for node_id in untouched:
        tile = window.scene.nodes[node_id]
        assert tile is tiles[node_id]
        assert tile.info is facts[node_id]  # the same facts, not recomputed ones
        assert (tile.params_text, tile.shape_text, tile.stats_text) == texts[node_id]
        assert row(window, node_id) == rows[node_id]
    assert {k: w for k, w in window.scene.wires.items() if k[0] in BESIDE} == wires
    assert window.scene.wires[("dense3", "x")].label == "(N, 6)"


def test_after_an_edit_the_canvas_redraws_only_the_changed_blocks_and_wires(
    window, qtbot, monkeypatch
):
    drawn: list[str] = []

    def drawing(cls, name_of):
        paint = cls.paint

        def counted(self, painter, option, widget=None):
            drawn.append(name_of(self))
            return paint(self, painter, option, widget)

        monkeypatch.setattr(cls, "paint", counted)

    drawing(NodeItem, lambda tile: tile.node_id)
    drawing(WireItem, lambda wire: f"{wire.source.node_id}->{wire.target.node_id}")
    window.set_project(two_chains(), None)  # items made after the counting is in place
    qtbot.waitUntil(lambda: window.scene.nodes["output2"].has_info)
    window.view.fit_all()
    window.view.viewport().repaint()  # every item draws once, into its cache
    assert "dense3" in drawn and "input2->dense3" in drawn
    drawn.clear()

    changed = push_units(window, qtbot, "dense1", 6)
    window.view.viewport().repaint()

    blocks = {name for name in drawn if "->" not in name}
    wires = {name for name in drawn if "->" in name}
    assert blocks and blocks <= changed
    assert wires and all(set(wire.split("->")) & changed for wire in wires)
    assert not (blocks | {n for w in wires for n in w.split("->")}) & set(BESIDE)


def test_an_edit_elsewhere_leaves_the_inspector_and_what_is_typed_there(chains, qtbot):
    window = chains
    window.scene.select_nodes(["dense3"])
    box = window.inspector.editors["units"].box
    box.lineEdit().setText("9")  # typed, not yet committed (Enter or leaving the field)
    push_units(window, qtbot, "dense1", 5)
    assert box.lineEdit().text() == "9"
    assert window.graph.node("dense3").params["units"] == 2
    # An edit of the block shown does refresh it.
    push_units(window, qtbot, "dense3", 4)
    assert box.value() == 4
    assert "out   (N, 4)" in window.inspector.facts.text().splitlines()


def test_an_edit_made_zoomed_far_out_shows_its_text_once_zoomed_in(window, qtbot, monkeypatch):
    """Far out a tile shows no text, so a text-only change does not redraw it there; the
    new text must still be what the tile shows when the user zooms in."""
    drawn: list[tuple[str, str]] = []
    paint = NodeItem.paint

    def counted(self, painter, option, widget=None):
        result = paint(self, painter, option, widget)
        drawn.append((self.node_id, "far" if self.drawn_far else self.shape_text))
        return result

    monkeypatch.setattr(NodeItem, "paint", counted)
    window.set_project(two_chains(), None)
    qtbot.waitUntil(lambda: window.scene.nodes["output2"].has_info)
    window.view.set_zoom(0.2)
    window.view.centerOn(window.scene.nodes["output2"])
    window.view.viewport().repaint()
    assert ("output2", "far") in drawn

    push_units(window, qtbot, "dense3", 5)  # output2's shape text follows: (N, 5)
    drawn.clear()
    window.view.viewport().repaint()
    assert "output2" not in {node_id for node_id, _ in drawn}  # its far tile is unchanged

    window.view.set_zoom(1.0)
    window.view.centerOn(window.scene.nodes["output2"])
    window.view.viewport().repaint()
    assert ("output2", "(N, 5)") in drawn
