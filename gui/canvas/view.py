"""The view onto the canvas: zoom on the wheel, pan with the middle button (or Space +
drag), rubber-band selection, fit to view, and the drops and keys that add blocks.

The view never edits the graph: it reports what the user asked for through signals
and the window turns those into undo commands.

The view never moves on its own. A scene without a fixed rect grows to its items and Qt
re-centres it after each edit, shifting every block on screen; here the scene rect is
set by the view, only ever grows while the user edits (the content, what is on screen,
and a viewport's worth of room around both), and is recomputed only when the user asks
to fit or a project opens.
"""

from __future__ import annotations

import math
from pathlib import Path

from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QKeyEvent, QMouseEvent, QPainter, QPen, QWheelEvent
from PySide6.QtWidgets import QGraphicsScene, QGraphicsView, QWidget

from gui.canvas.node_item import DETAIL_ZOOM, NodeItem
from gui.canvas.port_item import PortItem
from gui.canvas.wire_item import WireItem
from gui.common import theme

BLOCK_MIME = "application/x-netloom-block"  # a block type dragged here (the palette's drags)
MIN_ZOOM, MAX_ZOOM = 0.05, 3.0
FIT_MARGIN = 40.0  # scene units of canvas shown around the blocks by Fit
GRID = 24.0


def content_rect(scene: QGraphicsScene) -> QRectF:
    """What the user drew: the blocks and wires (not a wire being dragged)."""
    return scene.nodes_rect() if hasattr(scene, "nodes_rect") else scene.itemsBoundingRect()


class GraphView(QGraphicsView):
    block_dropped = Signal(str, QPointF)  # type name, scene position
    files_dropped = Signal(list)  # paths of .json files
    quick_search_requested = Signal(QPointF)  # scene position
    zoom_changed = Signal(float)
    node_double_clicked = Signal(str)  # node id (a unit instance opens)
    back_requested = Signal()  # Esc: leave an opened unit

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setOptimizationFlags(QGraphicsView.OptimizationFlag.DontSavePainterState)
        self.setAcceptDrops(True)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._pan_from: QPointF | None = None
        self._space_held = False
        self.last_scene_pos = QPointF(0, 0)
        self.top_bar: QWidget | None = None
        self._bars: list[QWidget] = []  # shown bars, oldest first; the last is visible
        # Always shown: scroll bars that come and go would resize the viewport and move
        # the blocks under the user's hand.
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)

    # ------------------------------------------------------------ scene rect

    def setScene(self, scene: QGraphicsScene | None) -> None:  # noqa: N802 (Qt override)
        old = self.scene()
        if old is not None and hasattr(old, "item_placed"):
            old.item_placed.disconnect(self.make_room)
        super().setScene(scene)
        if scene is None:
            return
        if hasattr(scene, "item_placed"):
            scene.item_placed.connect(self.make_room)
        self._reset_scene_rect(content_rect(scene))

    def visible_scene_rect(self) -> QRectF:
        return self.mapToScene(self.viewport().rect()).boundingRect()

    def _room(self, rect: QRectF) -> QRectF:
        """`rect` with a viewport's worth of canvas around it: zooming out a step or
        panning past the last block never hits the scene's edge."""
        visible = self.visible_scene_rect()
        margin = max(visible.width(), visible.height(), 400.0)
        return rect.united(visible).adjusted(-margin, -margin, margin, margin)

    def make_room(self, rect: QRectF | None = None) -> None:
        """Grow the scene rect (never shrink it) to hold `rect` and the visible area. A
        scroll bar's value is kept when its range grows, so nothing on screen moves."""
        scene = self.scene()
        if scene is None:
            return
        wanted = self._room(rect if rect is not None else QRectF())
        current = scene.sceneRect()
        if not current.contains(wanted):
            scene.setSceneRect(current.united(wanted))

    def _reset_scene_rect(self, content: QRectF) -> None:
        """A fresh rect around `content` (on open and fit: the view is about to move)."""
        scene = self.scene()
        if scene is not None:
            scene.setSceneRect(self._room(content))

    # ------------------------------------------------------------- top bar

    def show_top_bar(self, bar: QWidget) -> None:
        """Show `bar` (e.g. the training lock's notice) in a strip above the canvas: the
        viewport shrinks by its height, so the bar never covers a block. Bars stack: the
        newest shows, and hiding it brings back the one it covered (an opened unit's
        breadcrumb returns when training ends)."""
        if bar in self._bars:
            self._bars.remove(bar)
        if self.top_bar is not None and self.top_bar is not bar:
            self.top_bar.hide()
        self._bars.append(bar)
        self.top_bar = bar
        bar.setParent(self)
        self._place_top_bar()
        bar.show()
        bar.raise_()

    def shows_top_bar(self, bar: QWidget) -> bool:
        """Whether `bar` is among the bars shown (visible or covered by a newer one)."""
        return bar in self._bars

    def hide_top_bar(self, bar: QWidget | None = None) -> None:
        """Hide `bar` (the newest when None); the bar it covered shows again."""
        bar = bar or self.top_bar
        if bar is None:
            return
        bar.hide()
        if bar in self._bars:
            self._bars.remove(bar)
        self.top_bar = None
        self.setViewportMargins(0, 0, 0, 0)
        if self._bars:
            self.show_top_bar(self._bars[-1])

    def _place_top_bar(self) -> None:
        bar = self.top_bar
        if bar is None:
            return
        height = bar.sizeHint().height()
        self.setViewportMargins(0, height, 0, 0)
        frame = self.frameWidth()
        bar.setGeometry(frame, frame, self.width() - 2 * frame, height)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._place_top_bar()
        self.make_room()

    # ------------------------------------------------------------------ zoom

    @property
    def zoom(self) -> float:
        return self.transform().m11()

    def set_zoom(self, zoom: float) -> None:
        zoom = max(MIN_ZOOM, min(MAX_ZOOM, zoom))
        factor = zoom / self.zoom
        self.scale(factor, factor)
        self._zoom_settled()

    def _zoom_settled(self) -> None:
        self.make_room()
        detailed = self.zoom >= DETAIL_ZOOM
        # Antialiasing costs more than it shows on tiles a few pixels wide.
        self.setRenderHint(QPainter.RenderHint.Antialiasing, detailed)
        scene = self.scene()
        if hasattr(scene, "set_detailed"):
            scene.set_detailed(detailed)
        self.zoom_changed.emit(self.zoom)

    def zoom_by(self, factor: float) -> None:
        self.set_zoom(self.zoom * factor)

    def fit_all(self, max_zoom: float = 1.0, min_zoom: float = MIN_ZOOM) -> None:
        """Show every block; never zoom in past `max_zoom` (a tiny graph stays life-size).
        Below `min_zoom` the view stops shrinking and shows the graph's top-left corner
        (where the Input block sits); the scroll bars reach the rest."""
        scene = self.scene()
        if scene is None:
            return
        rect = content_rect(scene)
        if rect.isEmpty():
            self.set_zoom(1.0)
            self._reset_scene_rect(QRectF(-1, -1, 2, 2))
            self.centerOn(0, 0)
            return
        rect = rect.adjusted(-FIT_MARGIN, -FIT_MARGIN, FIT_MARGIN, FIT_MARGIN)
        room = self.viewport().rect().adjusted(2, 2, -2, -2)
        fitting = min(room.width() / rect.width(), room.height() / rect.height())
        self.set_zoom(max(min_zoom, min(max_zoom, fitting)))
        self._reset_scene_rect(rect)
        if self.zoom <= fitting + 1e-9:
            self.centerOn(rect.center())
        else:  # held at `min_zoom`, too big to show whole: its top-left corner
            self.show_corner(rect)

    def open_view(self) -> None:
        """How a newly opened project is shown: all of it, never above life size, and
        never so small that the blocks lose their text (a bigger graph opens at that
        size with its top-left corner, where the Input block sits, in view)."""
        self.fit_all(min_zoom=DETAIL_ZOOM)

    def show_corner(self, rect: QRectF) -> None:
        """Scroll so the top-left of `rect` sits at the top-left of the viewport."""
        visible = self.mapToScene(self.viewport().rect()).boundingRect()
        self.centerOn(rect.left() + visible.width() / 2, rect.top() + visible.height() / 2)

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 (Qt override)
        steps = event.angleDelta().y() / 120
        if steps:
            self.zoom_by(math.pow(1.15, steps))
        event.accept()

    # ---------------------------------------------------------------- panning

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        pan = event.button() == Qt.MouseButton.MiddleButton or (
            event.button() == Qt.MouseButton.LeftButton and self._space_held
        )
        if pan:
            self._pan_from = event.position()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self.last_scene_pos = self.mapToScene(event.position().toPoint())
        if self._pan_from is not None:
            delta = event.position() - self._pan_from
            self._pan_from = event.position()
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - int(delta.x()))
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - int(delta.y()))
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._pan_from is not None:
            self._pan_from = None
            self.viewport().unsetCursor()
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        item = self.itemAt(event.position().toPoint())
        if item is None or not isinstance(item, (NodeItem, PortItem, WireItem)):
            if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
                self.fit_all()  # Ctrl + double-click on empty canvas: show everything
            else:
                self.quick_search_requested.emit(self.mapToScene(event.position().toPoint()))
            event.accept()
            return
        node = item if isinstance(item, NodeItem) else item.parentItem()
        if isinstance(node, NodeItem) and not isinstance(item, PortItem):
            self.node_double_clicked.emit(node.node_id)
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    # -------------------------------------------------------------------- keys

    def event(self, event: QEvent) -> bool:
        # Tab would move focus to the next widget; on the canvas it opens the finder.
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            if event.key() == Qt.Key.Key_Tab and not event.modifiers():
                self.quick_search_requested.emit(self._cursor_scene_pos())
                return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_held = True
            self.setDragMode(QGraphicsView.DragMode.NoDrag)
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            return
        if event.key() == Qt.Key.Key_Escape and not event.modifiers():
            self.back_requested.emit()
            event.accept()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_held = False
            self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
            self.viewport().unsetCursor()
            return
        super().keyReleaseEvent(event)

    def _cursor_scene_pos(self) -> QPointF:
        inside = self.viewport().rect().contains(self.viewport().mapFromGlobal(self.cursor().pos()))
        if inside:
            return self.mapToScene(self.viewport().mapFromGlobal(self.cursor().pos()))
        return self.mapToScene(self.viewport().rect().center())

    def centre_scene_pos(self) -> QPointF:
        return self.mapToScene(self.viewport().rect().center())

    # ------------------------------------------------------------------ drops

    def _wanted(self, event) -> bool:
        mime = event.mimeData()
        if mime.hasFormat(BLOCK_MIME):
            return True
        return mime.hasUrls() and any(u.toLocalFile().endswith(".json") for u in mime.urls())

    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if self._wanted(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:  # noqa: N802
        if self._wanted(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event) -> None:  # noqa: N802
        mime = event.mimeData()
        if mime.hasFormat(BLOCK_MIME):
            type_name = bytes(mime.data(BLOCK_MIME).data()).decode("utf-8")
            self.block_dropped.emit(type_name, self.mapToScene(event.position().toPoint()))
            event.acceptProposedAction()
            return
        paths = [u.toLocalFile() for u in mime.urls() if u.toLocalFile().endswith(".json")]
        if paths:
            self.files_dropped.emit([str(Path(p)) for p in paths])
            event.acceptProposedAction()
            return
        event.ignore()

    # ------------------------------------------------------------- background

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:  # noqa: N802
        painter.fillRect(rect, theme.CANVAS_BACKGROUND)
        zoom = self.zoom
        for step, colour, min_zoom in (
            (GRID, theme.GRID_MINOR, 0.5),
            (GRID * 5, theme.GRID_MAJOR, 0.12),
        ):
            if zoom < min_zoom:
                continue
            painter.setPen(QPen(colour, 0))
            left = math.floor(rect.left() / step) * step
            top = math.floor(rect.top() / step) * step
            x = left
            while x < rect.right():
                painter.drawLine(QPointF(x, rect.top()), QPointF(x, rect.bottom()))
                x += step
            y = top
            while y < rect.bottom():
                painter.drawLine(QPointF(rect.left(), y), QPointF(rect.right(), y))
                y += step
