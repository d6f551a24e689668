"""The block finder: a wire dragged into empty canvas opens it, offering only blocks that
take the wire's shape; it ranks by the shape it will take, then by how the name matches."""

from __future__ import annotations

import dataclasses

import pytest
from PySide6.QtCore import QPointF, Qt

from engine.blocks.spec import Shape, all_specs, get_spec
from gui.canvas.wire_item import DraftWire
from gui.editor.block_search import accepts, search_specs
from tests.gui.helpers import drag, port_pos
from tests.helpers import ROOT


@pytest.fixture
def digits(window, open_template):
    window.resize(1440, 900)
    open_template("cnn_digits")
    window.scene.refresh_if_dirty()
    return window


def empty_spot_right_of(window, node_id: str) -> QPointF:
    """Empty canvas level with `node_id`'s output, clear of every block."""
    right = max(item.sceneBoundingRect().right() for item in window.scene.nodes.values())
    return QPointF(right + 150, port_pos(window, node_id, None).y())


def drag_wire_to_canvas(window, node_id: str) -> QPointF:
    spot = empty_spot_right_of(window, node_id)
    drag(window.view, port_pos(window, node_id, None), spot)
    return spot


def test_a_wire_let_go_on_canvas_offers_only_blocks_that_take_its_shape(digits):
    window = digits
    shape = window.scene.analysis.nodes["conv1"].output_shape()
    assert shape == Shape((32, 8, 8))
    drag_wire_to_canvas(window, "conv1")
    finder = window.quick_search
    assert finder.isVisible()
    listed = finder.listed()
    assert "MaxPool2d" in listed and "BatchNorm" in listed
    assert "Dense" not in listed and "LSTM" not in listed and "Input" not in listed
    specs = {s.name: s for s in [*all_specs(), *finder.unit_specs()]}
    assert all(accepts(specs[name], shape) for name in listed)
    assert "ConvBnReLU" in listed  # a shipped unit whose input takes a feature map
    assert str(shape) in finder.edit.placeholderText()


def test_picking_from_the_wire_finder_places_and_wires_it_in_one_undo_step(digits, qtbot):
    window = digits
    nodes, edges = len(window.graph.nodes), len(window.graph.edges)
    depth = window.undo_stack.count()
    spot = drag_wire_to_canvas(window, "conv1")
    qtbot.keyClicks(window.quick_search.edit, "max")
    assert window.quick_search.listed()[0] == "MaxPool2d"
    qtbot.keyClick(window.quick_search.edit, Qt.Key.Key_Return)
    [new] = [
        n for n in window.graph.nodes if n.type == "MaxPool2d" and n.id not in ("pool1", "pool2")
    ]
    assert [(e.source, e.target) for e in window.graph.edges if e.target == new.id] == [
        ("conv1", new.id)
    ]
    item = window.scene.nodes[new.id]
    assert item.sceneBoundingRect().contains(spot)  # its input where the wire was let go
    assert window.undo_stack.count() == depth + 1
    window.undo_stack.undo()
    assert (len(window.graph.nodes), len(window.graph.edges)) == (nodes, edges)
    window.undo_stack.redo()
    assert new.id in window.graph and len(window.graph.edges) == edges + 1


def test_esc_closes_the_wire_finder_and_leaves_nothing_behind(digits, qtbot):
    window = digits
    before = (len(window.graph.nodes), len(window.graph.edges), window.undo_stack.count())
    drag_wire_to_canvas(window, "conv1")
    assert window.quick_search.isVisible()
    qtbot.keyClick(window.quick_search.edit, Qt.Key.Key_Escape)
    assert not window.quick_search.isVisible()
    after = (len(window.graph.nodes), len(window.graph.edges), window.undo_stack.count())
    assert after == before
    assert not [i for i in window.scene.items() if isinstance(i, DraftWire)]
    # The next Tab finder is a plain one again: its choice is not wired to conv1.
    window.scene.clearSelection()
    window.open_quick_search(empty_spot_right_of(window, "conv2"))
    qtbot.keyClicks(window.quick_search.edit, "Dense")
    qtbot.keyClick(window.quick_search.edit, Qt.Key.Key_Return)
    assert len(window.graph.edges) == before[1]


def test_a_wire_let_go_on_a_block_opens_no_finder(digits):
    window = digits
    body = window.scene.nodes["dense2"].sceneBoundingRect().center()
    drag(window.view, port_pos(window, "conv1", None), body)
    assert not window.quick_search.isVisible()


def test_tab_finder_ranks_by_the_selected_blocks_output(digits, qtbot):
    window = digits
    window.scene.select_nodes(["conv1"])  # (N, 32, 8, 8): a 2-d feature map
    window.open_quick_search(empty_spot_right_of(window, "conv1"))
    qtbot.keyClicks(window.quick_search.edit, "max")
    listed = window.quick_search.listed()
    assert listed[0] == "MaxPool2d"
    assert listed.index("MaxPool2d") < listed.index("MaxPool1d") < listed.index("MaxPool3d")
    window.quick_search.hide()


def test_lstm_is_first_after_a_sequence(window, qtbot):
    assert window.open_template(ROOT / "templates" / "lstm_adding.json")
    window.scene.refresh_if_dirty()
    window.scene.select_nodes(["sequence"])
    window.open_quick_search(QPointF(0, 400))
    qtbot.keyClicks(window.quick_search.edit, "lstm")
    assert window.quick_search.listed()[0] == "LSTM"
    window.quick_search.hide()


def test_name_matches_rank_exact_then_prefix_then_alias_then_substring():
    base = get_spec("ReLU")

    def spec(name: str, aliases: tuple[str, ...] = ()):
        return dataclasses.replace(base, name=name, aliases=aliases, summary="", category="Zz")

    made = [spec("Subgate"), spec("Other", ("gate keeper",)), spec("Gateway"), spec("Gate")]
    found = [s.name for s in search_specs("gate", made) if s.category == "Zz"]
    assert found == ["Gate", "Gateway", "Other", "Subgate"]


def test_blocks_that_fit_come_first_for_any_shape():
    """From the engine's rules, not a list of names: every block offered first takes
    the shape; a per-frame block counts as fitting a sequence of frames."""
    frames = Shape((8, 1, 28, 28), time=True)
    ranked = [s.name for s in search_specs("conv", context=frames)]
    assert ranked[0] == "Conv2d"
    flat = [s.name for s in search_specs("", context=Shape((16,)), only_fitting=True)]
    assert "Dense" in flat and "Conv2d" not in flat and "LSTM" not in flat
