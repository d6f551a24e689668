"""The canvas never moves under the user's hand: after any edit, every block the user
did not touch stays on the same viewport pixel; an insert never covers a block; opening
a template shows all of it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from gui.canvas.commands import SetParamsCommand
from tests.gui.helpers import drag, port_pos
from tests.gui.test_canvas_editing import drop_block
from tests.helpers import TEMPLATES, template

SIZES = [(1280, 800), (1440, 900)]


def settle(window) -> None:
    QApplication.processEvents()
    window.scene.refresh_if_dirty()
    QApplication.processEvents()


def on_screen(window) -> dict[str, QPointF]:
    """Each block's top-left corner in viewport pixels (unrounded)."""
    transform = window.view.viewportTransform()
    return {node_id: transform.map(item.scenePos()) for node_id, item in window.scene.nodes.items()}


def moved_px(window, edit: Callable[[], object], touched: set[str] = frozenset()) -> float:
    """The largest distance, in viewport pixels, that a block outside `touched` moved."""
    settle(window)
    before = on_screen(window)
    edit()
    settle(window)
    after = on_screen(window)
    shifts = [
        (after[k] - before[k]).manhattanLength() for k in before if k in after and k not in touched
    ]
    assert shifts, "no untouched block left to watch"
    return max(shifts)


# A graph wider than the view (scroll bars) and one smaller than it (Qt centres it).
STABLE = {
    "cnn_lstm_video": ("conv1", {"out_channels": 64}),
    "lstm_adding": ("lstm1", {"hidden_size": 8}),
}


def open_at(make_window, name: str, size: tuple[int, int] = (1440, 900)):
    window = make_window()
    window.resize(*size)
    settle(window)
    assert window.open_template(template(name))
    settle(window)
    return window


@pytest.fixture
def canvas(make_window):
    return open_at(make_window, "cnn_lstm_video")


@pytest.fixture(params=sorted(STABLE))
def stable(make_window, request):
    return open_at(make_window, request.param)


def free_point(window) -> QPoint:
    """A viewport point over empty canvas, right of and below the blocks if possible."""
    view = window.view
    rect = view.viewport().rect()
    for x in range(rect.width() - 60, 0, -40):
        for y in range(rect.height() - 60, 0, -40):
            if not view.items(QPoint(x, y)):
                return QPoint(x, y)
    raise AssertionError("no empty canvas in view")


def test_palette_drop_moves_nothing(stable):
    assert moved_px(stable, lambda: drop_block(stable, "Dense", free_point(stable))) == 0


def test_tab_insert_moves_nothing(stable, qtbot):
    def insert() -> None:
        spot = stable.view.mapToScene(free_point(stable))
        stable.open_quick_search(spot)
        qtbot.keyClicks(stable.quick_search.edit, "gru")
        qtbot.keyClick(stable.quick_search.edit, Qt.Key.Key_Return)

    count = len(stable.graph.nodes)
    assert moved_px(stable, insert) == 0
    assert len(stable.graph.nodes) == count + 1


def test_paste_moves_nothing(stable):
    stable.scene.select_nodes([n.id for n in stable.graph.nodes[:2]])
    assert stable.copy()
    assert moved_px(stable, stable.paste) == 0


def test_delete_moves_nothing(stable):
    last = max(stable.scene.nodes.values(), key=lambda i: (i.pos().y(), i.pos().x()))
    stable.scene.select_nodes([last.node_id])
    assert moved_px(stable, stable.delete_selection, {last.node_id}) == 0


def test_move_by_mouse_moves_nothing_else(stable):
    moving = stable.graph.nodes[1].id
    start = stable.scene.nodes[moving].sceneBoundingRect().topLeft() + QPointF(30, 10)
    far = start + QPointF(0, 600)  # past the bottom of the graph: the scene grows
    assert moved_px(stable, lambda: drag(stable.view, start, far, steps=8), {moving}) == 0
    assert stable.graph.node(moving).pos[1] > start.y() + 500


def test_wire_and_unwire_move_nothing(stable):
    second = stable.graph.nodes[1].id
    [edge] = [e for e in stable.graph.edges if e.target == second]
    target = port_pos(stable, second, edge.port)
    empty = stable.view.mapToScene(free_point(stable))
    assert moved_px(stable, lambda: drag(stable.view, target, empty)) == 0  # unwire
    assert not [e for e in stable.graph.edges if e.target == second]
    source = port_pos(stable, edge.source, None, edge.source_port)
    assert moved_px(stable, lambda: drag(stable.view, source, target)) == 0  # wire
    assert [e for e in stable.graph.edges if e.target == second] == [edge]


def test_param_change_undo_and_redo_move_nothing(stable, request):
    node_id, change = STABLE[request.node.callspec.params["stable"]]
    command = SetParamsCommand(stable.graph, node_id, change)
    assert moved_px(stable, lambda: stable.undo_stack.push(command)) == 0
    assert moved_px(stable, stable.undo_stack.undo) == 0
    assert moved_px(stable, stable.undo_stack.redo) == 0
    added = stable.add_block("Dense", stable.view.mapToScene(free_point(stable)))
    assert moved_px(stable, stable.undo_stack.undo) == 0
    assert moved_px(stable, stable.undo_stack.redo, {added}) == 0


def test_zooming_out_keeps_the_centre(stable):
    """Wheel steps out show more than the old scene rect; the centre stays put."""
    view = stable.view
    centre = view.mapToScene(view.viewport().rect().center())
    for _ in range(6):
        view.zoom_by(1 / 1.15)
    after = view.mapToScene(view.viewport().rect().center())
    assert (after - centre).manhattanLength() < 2 / view.zoom


# ------------------------------------------------------------------ placement


def tiles_overlap(window) -> list[tuple[str, str]]:
    items = list(window.scene.nodes.values())
    return [
        (a.node_id, b.node_id)
        for i, a in enumerate(items)
        for b in items[i + 1 :]
        if a.sceneBoundingRect().intersects(b.sceneBoundingRect())
    ]


def test_drop_on_a_block_lands_beside_it(canvas):
    conv = canvas.scene.nodes["conv1"]
    point = canvas.view.mapFromScene(conv.sceneBoundingRect().center())
    drop_block(canvas, "Dense", point)
    [new] = canvas.scene.selected_node_ids()
    assert tiles_overlap(canvas) == []
    placed = canvas.scene.nodes[new].sceneBoundingRect()
    assert placed.left() > conv.sceneBoundingRect().right()  # reading direction: right


def test_tab_inserts_and_pastes_never_cover_a_block(canvas, qtbot):
    spot = canvas.scene.nodes["relu1"].sceneBoundingRect().center()
    for name in ("dense", "gru", "lstm"):
        canvas.open_quick_search(spot)
        qtbot.keyClicks(canvas.quick_search.edit, name)
        qtbot.keyClick(canvas.quick_search.edit, Qt.Key.Key_Return)
    canvas.scene.select_nodes(["conv1", "relu1", "pool1"])
    assert canvas.copy()
    first = canvas.paste()
    second = canvas.paste()
    assert len(first) == len(second) == 3
    assert tiles_overlap(canvas) == []
    # A pasted group keeps its own arrangement.
    for group in (first, second):
        xs = [canvas.graph.node(i).pos[0] for i in group]
        ys = [canvas.graph.node(i).pos[1] for i in group]
        old_xs = [canvas.graph.node(i).pos[0] for i in ("conv1", "relu1", "pool1")]
        old_ys = [canvas.graph.node(i).pos[1] for i in ("conv1", "relu1", "pool1")]
        assert [x - xs[0] for x in xs] == [x - old_xs[0] for x in old_xs]
        assert [y - ys[0] for y in ys] == [y - old_ys[0] for y in old_ys]


# -------------------------------------------------------------------- opening


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_every_template_opens_whole_and_no_larger_than_life(make_window, size):
    from gui.canvas.node_item import DETAIL_ZOOM

    window = make_window()
    window.resize(*size)
    settle(window)
    for path in TEMPLATES:
        assert window.open_template(path)
        settle(window)
        view = window.view
        visible = view.mapToScene(view.viewport().rect()).boundingRect()
        cut = [
            n for n, i in window.scene.nodes.items() if not visible.contains(i.sceneBoundingRect())
        ]
        assert cut == [], (path.name, size, view.zoom)
        assert DETAIL_ZOOM <= view.zoom <= 1.0, (path.name, size, view.zoom)


def double_click(view, point: QPoint, modifiers: Qt.KeyboardModifier) -> None:
    local = QPointF(point)
    global_pos = QPointF(view.viewport().mapToGlobal(point))
    left = Qt.MouseButton.LeftButton
    event = QMouseEvent(QEvent.Type.MouseButtonDblClick, local, global_pos, left, left, modifiers)
    QApplication.sendEvent(view.viewport(), event)


def test_ctrl_double_click_on_empty_canvas_fits_and_plain_one_opens_the_finder(canvas):
    view = canvas.view
    view.set_zoom(2.0)
    point = free_point(canvas)
    double_click(view, point, Qt.KeyboardModifier.NoModifier)
    assert canvas.quick_search.isVisible() and view.zoom == pytest.approx(2.0)
    canvas.quick_search.hide()
    double_click(view, point, Qt.KeyboardModifier.ControlModifier)
    assert not canvas.quick_search.isVisible()
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    assert all(visible.contains(i.sceneBoundingRect()) for i in canvas.scene.nodes.values())


def test_a_free_spot_is_found_right_then_below():
    from gui.canvas.layout import MAX_HOPS, PLACE_GAP, free_position

    size = (200.0, 100.0)
    one = [(0.0, 0.0, 200.0, 100.0)]
    assert free_position(size, (500.0, 0.0), one) == (500.0, 0.0)  # free: where pointed
    assert free_position(size, (50.0, 20.0), one) == (200.0 + PLACE_GAP, 20.0)  # right
    row = [(i * 230.0, 0.0, 200.0, 100.0) for i in range(MAX_HOPS + 2)]  # a long row
    assert free_position(size, (50.0, 20.0), row) == (50.0, 100.0 + PLACE_GAP)  # below
