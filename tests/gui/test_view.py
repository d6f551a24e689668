"""Zoom, level of detail, fit to view, rubber-band selection and auto-layout."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from tests.gui.helpers import drag


def wheel(view, notches: int) -> None:
    centre = QPointF(view.viewport().rect().center())
    event = QWheelEvent(
        centre,
        QPointF(view.viewport().mapToGlobal(centre.toPoint())),
        QPoint(0, 0),
        QPoint(0, 120 * notches),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(view.viewport(), event)


def test_wheel_zooms_and_far_zoom_drops_detail(video_window):
    window = video_window
    window.view.set_zoom(1.0)
    wheel(window.view, 2)
    assert abs(window.view.zoom - 1.15**2) < 1e-6
    assert window.zoom_label.text() == "132%"
    port = window.scene.nodes["conv1"].inputs["x"]
    assert port.isVisible()
    wheel(window.view, -12)
    assert window.view.zoom < 0.45 and not port.isVisible()  # too small to aim at
    wheel(window.view, 12)
    assert port.isVisible()


def test_fit_shows_every_block(video_window):
    window = video_window
    window.view.set_zoom(2.5)
    window.actions_["fit"].trigger()
    visible = window.view.mapToScene(window.view.viewport().rect()).boundingRect()
    for item in window.scene.nodes.values():
        assert visible.contains(item.sceneBoundingRect())


def test_rubber_band_selects_the_blocks_it_covers(video_window):
    window = video_window
    window.view.fit_all()
    first, second = window.scene.nodes["frames"], window.scene.nodes["conv1"]
    corner = first.sceneBoundingRect().topLeft() - QPointF(20, 20)
    far = second.sceneBoundingRect().bottomRight() + QPointF(10, 10)
    drag(window.view, corner, far)
    assert set(window.scene.selected_node_ids()) == {"frames", "conv1"}
    assert window.inspector.type_label.text() == "2 blocks selected."


def test_auto_layout_orders_by_depth_and_wraps_only_when_too_wide(window, qtbot):
    window.resize(2200, 900)  # the canvas holds the chain at life size: one row
    qtbot.waitUntil(lambda: window.view.viewport().width() > 1500)  # laid out again
    for i, type_name in enumerate(["Input", "Dense", "ReLU", "Output"]):
        window.add_block(type_name, QPointF(0, 200 * i))  # stacked in a column
    ids = [n.id for n in window.graph.nodes]
    for source, target in zip(ids, ids[1:]):
        window.graph.connect(source, target)
    window.auto_layout()
    xs = [window.graph.node(i).pos[0] for i in ids]
    ys = {window.graph.node(i).pos[1] for i in ids}
    assert xs == sorted(xs) and len(set(xs)) == 4 and len(ys) == 1
    assert window.undo_stack.undoText() == "Auto-layout"
    window.resize(900, 700)  # too narrow to read one row: two rows of two
    qtbot.waitUntil(lambda: window.view.viewport().width() < 900)
    window.auto_layout()
    rows = [window.graph.node(i).pos for i in ids]
    assert rows[0][1] == rows[1][1] < rows[2][1] == rows[3][1]
    assert rows[0][0] < rows[1][0] and rows[2][0] < rows[3][0]
    assert window.view.zoom >= 0.45  # readable


def test_templates_open_whole_with_their_text_drawn(make_window):
    """All of a template in view (no column cut off, issue 22 #5), no larger than life,
    and not so small that the blocks drop their text (test_canvas_stability checks
    every template at 1280x800 and 1440x900)."""
    from gui.canvas.node_item import DETAIL_ZOOM
    from tests.helpers import ROOT

    window = make_window()
    window.resize(1440, 900)
    for path in sorted((ROOT / "templates").glob("*.json")):
        assert window.open_template(path)
        assert DETAIL_ZOOM <= window.view.zoom <= 1.0, (path.name, window.view.zoom)
        visible = window.view.mapToScene(window.view.viewport().rect()).boundingRect()
        for item in window.scene.nodes.values():
            assert visible.contains(item.sceneBoundingRect()), (path.name, item.node_id)


def test_training_banner_sits_above_the_canvas_not_over_blocks(video_window):
    window = video_window
    view = window.view
    lock = window.training.lock
    lock.lock()
    banner = lock.banner
    assert banner.isVisible()
    assert banner.geometry().bottom() < view.viewport().geometry().top()
    window.resize(1000, 700)  # the strip follows the view's width
    assert banner.width() >= view.viewport().width()
    assert banner.geometry().bottom() < view.viewport().geometry().top()
    lock.unlock()
    assert not banner.isVisible()
    assert view.viewport().geometry().top() == view.frameWidth()  # the room is given back


def test_far_zoom_titles_fit_their_tiles(qapp):
    """Template thumbnails and far zoom draw one bold name per tile; it must fit the tile
    (shrunk, and elided only when shrinking would make it unreadable)."""
    from PySide6.QtGui import QFontMetricsF

    from engine.project.project import load
    from gui.canvas.node_item import FAR_TITLE_ROOM, _far_title
    from tests.helpers import ROOT

    names = {n.id for p in (ROOT / "templates").glob("*.json") for n in load(p).graph.nodes}
    assert "sequence" in names
    for name in names:
        for pixels in (13, 26, 40):
            font, text = _far_title(name, pixels)
            assert QFontMetricsF(font).horizontalAdvance(text) <= FAR_TITLE_ROOM, (name, pixels)
            assert text == name or (text.endswith("…") and name.startswith(text[:-1]))
    font, text = _far_title("sequence", 40)
    assert text == "sequence" and font.pixelSize() >= 27
