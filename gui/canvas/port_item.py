"""A port on a node: the right-hand output, or one named input on the left."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from gui.common import theme

if TYPE_CHECKING:
    from gui.canvas.node_item import NodeItem

PORT_RADIUS = 6.0
HIT_RADIUS = 11.0  # the area that catches the mouse is larger than the dot


class PortItem(QGraphicsItem):
    """`port` is the input port's name, or None for an output; `out` names that output
    ("" for a block's one output, else one of a unit's several)."""

    def __init__(self, node: NodeItem, port: str | None, out: str = "") -> None:
        super().__init__(node)
        self.node = node
        self.port = port
        self.out = out
        self.highlight: QColor | None = None  # set while a wire is dragged over it
        self.wired = False
        self.setAcceptHoverEvents(True)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setZValue(2)

    @property
    def is_output(self) -> bool:
        return self.port is None

    @property
    def node_id(self) -> str:
        return self.node.node_id

    def describe(self) -> str:
        if self.is_output:
            return f"{self.node_id}.{self.out} output" if self.out else f"{self.node_id} output"
        return f"{self.node_id}.{self.port}"

    def scene_anchor(self) -> QPointF:
        return self.scenePos()

    def boundingRect(self) -> QRectF:
        return QRectF(-HIT_RADIUS, -HIT_RADIUS, 2 * HIT_RADIUS, 2 * HIT_RADIUS)

    def tooltip_text(self) -> str:
        return self.node.port_tooltip(self.port, self.out)

    def set_highlight(self, colour: QColor | None) -> None:
        if colour != self.highlight:
            self.highlight = colour
            self.update()

    def hoverEnterEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self.set_highlight(theme.NODE_SELECTED)
        super().hoverEnterEvent(event)

    def hoverLeaveEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self.set_highlight(None)
        super().hoverLeaveEvent(event)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        if lod < 0.45:
            return
        colour = self.highlight or theme.category_colour(self.node.category).lighter(150)
        radius = PORT_RADIUS + (2 if self.highlight else 0)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(theme.CANVAS_BACKGROUND, 2))
        painter.setBrush(QBrush(colour if (self.wired or self.highlight) else theme.NODE_BODY))
        painter.drawEllipse(QPointF(0, 0), radius, radius)
        if not (self.wired or self.highlight):
            painter.setPen(QPen(colour, 2))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawEllipse(QPointF(0, 0), radius - 1.5, radius - 1.5)
