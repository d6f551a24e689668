"""A wire from a node's output to another node's input port, labelled with its shape.

Wires that run forwards are smooth S-curves. A wire whose target sits to the left of
its source (the next row of a wrapped layout, or a hand-made loop-back) is routed
through the gap between the two nodes instead of cutting across other blocks.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetricsF,
    QPainter,
    QPainterPath,
    QPainterPathStroker,
    QPen,
)
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsRectItem,
    QStyleOptionGraphicsItem,
    QWidget,
)

from engine.graph.graph import Edge
from gui.common import theme

if TYPE_CHECKING:
    from gui.canvas.node_item import NodeItem

LABEL_ZOOM = 0.45  # labels vanish below this zoom, like node text
ANTIALIAS = QPainter.RenderHint.Antialiasing
NO_BRUSH = Qt.BrushStyle.NoBrush


@cache
def _pens() -> dict[tuple[str, bool], QPen]:
    """Pens per state (normal/selected/error) and zoom (near/far), built once: a frame
    with a thousand wires should not build a thousand pens."""
    colours = {"normal": theme.WIRE, "selected": theme.WIRE_SELECTED, "error": theme.ERROR}
    pens = {}
    for state, colour in colours.items():
        pens[(state, True)] = QPen(colour, 2.2 if state == "selected" else 1.8)
        pens[(state, False)] = QPen(colour, 0)  # cosmetic: one pixel at any zoom
    return pens


STUB = 28.0  # how far a routed wire leaves a port before turning


@cache
def _label_font() -> QFont:
    font = QFont("DejaVu Sans Mono")
    font.setStyleHint(QFont.StyleHint.Monospace)
    font.setPixelSize(11)
    return font


def curve(start: QPointF, end: QPointF) -> QPainterPath:
    path = QPainterPath(start)
    pull = max(40.0, abs(end.x() - start.x()) * 0.5)
    path.cubicTo(QPointF(start.x() + pull, start.y()), QPointF(end.x() - pull, end.y()), end)
    return path


def routed(start: QPointF, end: QPointF, channel_y: float) -> QPainterPath:
    """Right out of the source, along a horizontal channel, and into the target from the left."""
    right, left = start.x() + STUB, end.x() - STUB
    corners = [
        start,
        QPointF(right, start.y()),
        QPointF(right, channel_y),
        QPointF(left, channel_y),
        QPointF(left, end.y()),
        end,
    ]
    path = QPainterPath(start)
    radius = 10.0
    for i in range(1, len(corners) - 1):
        before, corner, after = corners[i - 1], corners[i], corners[i + 1]
        path.lineTo(_toward(corner, before, radius))
        path.quadTo(corner, _toward(corner, after, radius))
    path.lineTo(end)
    return path


def _toward(corner: QPointF, other: QPointF, distance: float) -> QPointF:
    dx, dy = other.x() - corner.x(), other.y() - corner.y()
    length = max((dx * dx + dy * dy) ** 0.5, 1e-6)
    step = min(distance, length / 2)
    return QPointF(corner.x() + dx / length * step, corner.y() + dy / length * step)


@cache  # a network has few distinct shapes; measure each text once
def _label_size(text: str) -> tuple[float, float]:
    metrics = QFontMetricsF(_label_font())
    width = metrics.horizontalAdvance(text) + 12 if text else 0.0
    return width, metrics.height() + 4


class WireItem(QGraphicsRectItem):
    """A rect item only so that Qt holds its bounding rect (curve and label) in C++, as
    NodeItem does; its pen and brush stay unused, paint() draws the curve."""

    def __init__(self, source: NodeItem, target: NodeItem, port: str, out: str = "") -> None:
        super().__init__()
        self.setPen(Qt.PenStyle.NoPen)
        self.source = source
        self.target = target
        self.port = port
        self.out = out  # the source's output port: "" for its one output
        self.label = ""
        self.error = False
        self._path = QPainterPath()
        self._label_rect: QRectF | None = QRectF()
        self._label_room = 0.0  # the widest label the item's bounds hold since the path was laid
        self._path_bounds = QRectF()  # the curve's own bounds, kept for label changes
        self._middle = QPointF()
        self._label_font = _label_font()
        # The last paint was too far out for the label: a new label of the same width and
        # colour then needs no repaint (zooming in redraws the cached pixmap anyway).
        self.drawn_far = False
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setZValue(0)
        # Like a block, an unchanged wire repaints from a cached pixmap without calling
        # paint(): after an edit only the wires it changed draw their curve again.
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        source.wires.add(self)
        target.wires.add(self)
        self.update_path()

    def detach(self) -> None:
        self.source.wires.discard(self)
        self.target.wires.discard(self)

    @property
    def key(self) -> tuple[str, str]:
        return (self.target.node_id, self.port)

    def set_label(self, text: str, error: bool) -> None:
        if text == self.label and error == self.error:
            return
        colour_changed = error != self.error
        self.error = error
        if text != self.label:
            self.label = text
            if _label_size(text)[0] > self._label_room:
                # Only a label wider than any since the path was laid moves the item's
                # bounds (and the scene index); a narrower one draws inside them, so a
                # label flipping between "?" and a shape costs no geometry change.
                self.prepareGeometryChange()
                self._place_label()
                return
            self._label_rect = None  # placed when next drawn or asked for
        if not self.drawn_far or colour_changed:
            self.update()

    def tooltip_text(self) -> str:
        """Built when asked (see GraphScene.helpEvent), not on every edit."""
        start = f"{self.source.node_id}.{self.out}" if self.out else self.source.node_id
        return f"{start} → {self.target.node_id}.{self.port}: {self.label}"

    @property
    def edge(self) -> Edge:
        return Edge(self.source.node_id, self.target.node_id, self.port, self.out)

    def update_path(self) -> None:
        out_port = self.source.outputs.get(self.out) or self.source.output
        in_port = self.target.inputs.get(self.port)
        if out_port is None or in_port is None:
            return
        start, end = out_port.scenePos(), in_port.scenePos()
        self.prepareGeometryChange()
        if end.x() - start.x() >= 2 * STUB:
            self._path = curve(start, end)
            self._middle = self._path.pointAtPercent(0.5)
        else:
            channel = self._channel_y()
            self._path = routed(start, end, channel)
            self._middle = QPointF((start.x() + STUB + end.x() - STUB) / 2, channel)
        self._path_bounds = self._path.boundingRect().adjusted(-4, -4, 4, 4)
        self._place_label()

    def _place_label(self) -> None:
        self._label_rect = rect = self._label_at(_label_size(self.label))
        self._label_room = rect.width()
        self.setRect(self._path_bounds.united(rect))

    def _label_at(self, size: tuple[float, float]) -> QRectF:
        """Where a label of `size` sits: centred just above the wire's middle, so the
        line stays visible under it."""
        width, height = size
        middle = self._middle
        return QRectF(middle.x() - width / 2, middle.y() - height - 3, width, height)

    def _channel_y(self) -> float:
        source = self.source.sceneBoundingRect()
        target = self.target.sceneBoundingRect()
        if target.top() > source.bottom():
            return (source.bottom() + target.top()) / 2
        if target.bottom() < source.top():
            return (target.bottom() + source.top()) / 2
        return max(source.bottom(), target.bottom()) + 36

    def path(self) -> QPainterPath:
        return self._path

    def label_rect(self) -> QRectF:
        if self._label_rect is None:
            self._label_rect = self._label_at(_label_size(self.label))
        return self._label_rect

    def shape(self) -> QPainterPath:
        stroker = QPainterPathStroker()
        stroker.setWidth(10)
        return stroker.createStroke(self._path)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        near = lod >= LABEL_ZOOM
        self.drawn_far = not near
        state = "selected" if self.isSelected() else ("error" if self.error else "normal")
        if near:
            painter.setRenderHint(ANTIALIAS)
        painter.setPen(_pens()[(state, near)])
        painter.setBrush(NO_BRUSH)
        painter.drawPath(self._path)
        if lod < LABEL_ZOOM or not self.label:
            return
        painter.setPen(QPen(_pens()[(state, True)].color().darker(130), 1))
        painter.setBrush(QBrush(theme.WIRE_LABEL_BACK))
        label_rect = self.label_rect()
        painter.drawRoundedRect(label_rect, 4, 4)
        painter.setFont(self._label_font)
        painter.setPen(theme.ERROR.lighter(130) if self.error else theme.TEXT_SHAPE)
        painter.drawText(label_rect, Qt.AlignmentFlag.AlignCenter, self.label)


class DraftWire(QGraphicsItem):
    """The wire that follows the mouse while the user drags from a port."""

    def __init__(self, anchor: QPointF, from_output: bool) -> None:
        super().__init__()
        self.anchor = anchor
        self.from_output = from_output
        self.colour = theme.NODE_SELECTED
        self._path = QPainterPath()
        self.setZValue(5)
        self.move_to(anchor)

    def move_to(self, point: QPointF) -> None:
        self.prepareGeometryChange()
        start, end = (self.anchor, point) if self.from_output else (point, self.anchor)
        self._path = curve(start, end)

    def set_colour(self, colour: QColor) -> None:
        self.colour = colour
        self.update()

    def boundingRect(self) -> QRectF:
        return self._path.boundingRect().adjusted(-3, -3, 3, 3)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(self.colour, 2, Qt.PenStyle.DashLine))
        # The view does not save painter state between items (DontSavePainterState), so
        # the brush left by the last tile painted would fill the curve: clear it.
        painter.setBrush(NO_BRUSH)
        painter.drawPath(self._path)
