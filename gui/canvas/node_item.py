"""A block on the canvas: its id and type, key params, output shape and weight count.

A frozen block (its weights kept in training) has a blue-grey, hatched header and a
snowflake before its id.

The item is a view of one `engine.graph.graph.Node`; it never edits the model. The scene
turns a finished drag into a move command and feeds analysis results back in.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsRectItem,
    QStyleOptionGraphicsItem,
    QWidget,
)

from engine.common.formatting import human
from engine.graph.graph import Node
from engine.graph.shapes import NodeInfo
from gui.canvas.port_item import PortItem
from gui.common import theme

NODE_WIDTH = 200.0
HEADER_HEIGHT = 26.0
LINE_HEIGHT = 17.0
BODY_LINES = 4  # params (two lines), output shape, weights/FLOPs
PORT_SPACING = 22.0
CORNER = 7.0
UNIT_STACK = 5.0  # offset of the card drawn behind a unit instance
# Below this zoom the text is unreadable anyway: draw plain tiles (level of detail).
DETAIL_ZOOM = 0.45
TITLE_ZOOM = 0.22
FROZEN_TINT = QColor("#7d93ab")  # blue-grey: mixed into a frozen block's header colour
FROZEN_MARK = "\u2744"  # ❄ before a frozen block's id


@cache  # fonts are built once, after the QApplication exists
def _fonts() -> tuple[QFont, QFont, QFont]:
    title = QFont(theme.ui_font())
    title.setPixelSize(13)
    title.setBold(True)
    body = QFont(theme.ui_font())
    body.setPixelSize(11)
    mono = QFont("DejaVu Sans Mono")
    mono.setStyleHint(QFont.StyleHint.Monospace)
    mono.setPixelSize(11)
    return title, body, mono


FAR_TITLE_ROOM = NODE_WIDTH - 12


@cache  # few names and zoom steps: measure each pair once
def _far_title(text: str, pixels: int) -> tuple[QFont, str]:
    """Font and text of a far-zoomed tile's bold title: as large as `pixels`, shrunk
    (down to two thirds) so a long name fits the tile, and elided past that. Drawn
    unmeasured, a name like "sequence" was cut at both ends in template thumbnails."""
    font = QFont(theme.ui_font())
    font.setBold(True)
    font.setPixelSize(pixels)
    width = QFontMetricsF(font).horizontalAdvance(text)
    if width > FAR_TITLE_ROOM:
        font.setPixelSize(max(int(pixels * 2 / 3), int(pixels * FAR_TITLE_ROOM / width)))
    elided = QFontMetricsF(font).elidedText(text, Qt.TextElideMode.ElideRight, FAR_TITLE_ROOM)
    return font, elided


def output_ports(node: Node) -> tuple[str, ...]:
    """The node's output ports: none for an Output block, ("",) for the plain one."""
    return () if node.spec.role == "output" else node.outputs


def node_size(node: Node) -> tuple[float, float]:
    """Width and height of a node's tile; more input (or output) ports make it taller."""
    ports = max(len(node.ports), len(output_ports(node)))
    body = max(BODY_LINES * LINE_HEIGHT + 10, ports * PORT_SPACING + 8)
    return NODE_WIDTH, HEADER_HEIGHT + body


def format_value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)


def params_lines(node: Node, width: float, font: QFont) -> tuple[str, str]:
    """Every parameter as 'name value' in declaration order (key ones come first),
    filled into two lines of `width`; what does not fit is elided on the second."""
    parts = [f"{p.name} {format_value(node.params[p.name])}" for p in node.spec.params]
    if not parts:
        return "no parameters", ""
    metrics = QFontMetricsF(font)
    first: list[str] = []
    while parts and metrics.horizontalAdvance(" · ".join([*first, parts[0]])) <= width:
        first.append(parts.pop(0))
    if not first:  # one very long value: let the first line elide it
        first.append(parts.pop(0))
    return " · ".join(first), " · ".join(parts)


def mixed(a: QColor, b: QColor, share_of_b: float) -> QColor:
    """The colour `share_of_b` of the way from `a` to `b`."""
    keep = 1.0 - share_of_b
    return QColor(
        round(a.red() * keep + b.red() * share_of_b),
        round(a.green() * keep + b.green() * share_of_b),
        round(a.blue() * keep + b.blue() * share_of_b),
    )


@cache  # built once, after the QApplication exists
def frozen_hatch() -> QBrush:
    """Thin light diagonal lines over a frozen block's header."""
    return QBrush(QColor(255, 255, 255, 40), Qt.BrushStyle.BDiagPattern)


class ErrorBadge(QGraphicsItem):
    """The red '!' in the node's top-right corner; its tooltip holds the message."""

    SIZE = 18.0

    def __init__(self, parent: NodeItem) -> None:
        super().__init__(parent)
        self.setZValue(3)
        self.setVisible(False)

    def boundingRect(self) -> QRectF:
        return QRectF(-self.SIZE / 2, -self.SIZE / 2, self.SIZE, self.SIZE)

    def tooltip_text(self) -> str:
        return self.parentItem().error or ""

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(theme.CANVAS_BACKGROUND, 2))
        painter.setBrush(theme.ERROR)
        painter.drawEllipse(self.boundingRect().adjusted(1, 1, -1, -1))
        font = QFont(theme.ui_font())
        font.setPixelSize(12)
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(QColor("#ffffff"))
        painter.drawText(self.boundingRect(), Qt.AlignmentFlag.AlignCenter, "!")


class NodeItem(QGraphicsRectItem):
    """A block's tile. A rect item only so that Qt holds its bounding rect in C++: a frame
    asks every block for it several times, and a Python override cost a third of a
    full-view repaint. The rect item's own pen and brush stay unused (paint() draws)."""

    def __init__(self, node: Node) -> None:
        super().__init__()
        self.setPen(Qt.PenStyle.NoPen)
        self.node_id = node.id
        self.type_name = node.type
        self.category = node.spec.category
        self.colour = theme.category_colour(self.category)
        self.tile_brush = QBrush(self.colour.darker(250))
        self.params_text = ""
        self.params_more = ""
        # The shape and counts lines, composed from the facts when first read (a paint
        # near enough for text, a tooltip), not for every block an edit changes.
        self._texts: tuple[str, str] | None = ("—", "")
        self.error: str | None = None
        self.has_info = False  # set_info has run at least once
        self.is_unit = node.library is not None  # an instance of a unit definition
        self.frozen = node.frozen  # training keeps its weights
        self.info: NodeInfo | None = None
        self.ports_visible = True  # the scene hides ports when zoomed far out
        # The last paint drew a far tile, which shows no text: a change of text alone then
        # needs no repaint (zooming in rescales, and Qt redraws the cached pixmap anyway).
        self.drawn_far = False
        self.inputs: dict[str, PortItem] = {}
        # Output port name → item: "" for a block's one output; a unit with several
        # outputs has one per Output block inside.
        self.outputs: dict[str, PortItem] = {}
        self.height = HEADER_HEIGHT + BODY_LINES * LINE_HEIGHT + 10
        self.wires: set = set()  # WireItems attached at either end; the scene keeps this
        self.badge = ErrorBadge(self)
        self.badge.setPos(NODE_WIDTH - 4, 2)
        self.setFlags(
            QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
            | QGraphicsItem.GraphicsItemFlag.ItemIsMovable
            | QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges
        )
        self.setZValue(1)
        # Qt repaints an unchanged block from a cached pixmap without calling paint():
        # a full view of a thousand blocks then costs no Python per block.
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setPos(QPointF(*node.pos))
        self.update_from_node(node)

    # ----------------------------------------------------------- model → item

    def update_from_node(self, node: Node) -> None:
        """Ports and parameter text from the model (after add or a param change)."""
        self.prepareGeometryChange()
        self.is_unit = node.library is not None
        self.frozen = node.frozen
        repeat = node.params.get("repeat", 1) if self.is_unit else 1
        # A repeated instance says so in its header: "ResidualBlock ×3".
        self.type_name = f"{node.type} ×{repeat}" if repeat > 1 else node.type
        self.params_text, self.params_more = params_lines(node, NODE_WIDTH - 24, _fonts()[1])
        ports = node.ports
        self.height = node_size(node)[1]
        extra = UNIT_STACK if self.is_unit else 0.0
        self.setRect(QRectF(-3, -3, NODE_WIDTH + 6 + extra, self.height + 6 + extra))
        body = self.height - HEADER_HEIGHT
        for name in list(self.inputs):
            if name not in ports:
                port_item = self.inputs.pop(name)
                port_item.setParentItem(None)
                if port_item.scene():
                    port_item.scene().removeItem(port_item)
        first = HEADER_HEIGHT + (body - (len(ports) - 1) * PORT_SPACING) / 2
        for i, name in enumerate(ports):
            port_item = self.inputs.get(name) or self._new_port(name)
            port_item.setPos(0, first + i * PORT_SPACING)
            self.inputs[name] = port_item
        outputs = output_ports(node)
        for name in list(self.outputs):
            if name not in outputs:
                port_item = self.outputs.pop(name)
                port_item.setParentItem(None)
                if port_item.scene():
                    port_item.scene().removeItem(port_item)
        first = HEADER_HEIGHT + (body - (len(outputs) - 1) * PORT_SPACING) / 2
        for i, name in enumerate(outputs):
            port_item = self.outputs.get(name) or self._new_port(None, name)
            port_item.setPos(NODE_WIDTH, first + i * PORT_SPACING)
            self.outputs[name] = port_item
        self.update()

    @property
    def output(self) -> PortItem | None:
        """The output port (the first, for a unit with several)."""
        return next(iter(self.outputs.values()), None)

    def _new_port(self, name: str | None, out: str = "") -> PortItem:
        port = PortItem(self, name, out)
        port.setVisible(self.ports_visible)
        return port

    def set_ports_visible(self, visible: bool) -> None:
        self.ports_visible = visible
        for port in self.ports():
            port.setVisible(visible)

    def ports(self) -> list[PortItem]:
        return [*self.inputs.values(), *self.outputs.values()]

    def port_tooltip(self, port: str | None, out: str = "") -> str:
        """Built when the mouse arrives, so an edit does not rewrite every tooltip."""
        if port is None and out:
            shape = self.info.output_shape(out) if self.info is not None else None
            return f"output '{out}': {shape.detailed() if shape else '?'}"
        if port is None:
            return f"output: {self.shape_text}"
        for wire in self.wires:
            if wire.target is self and wire.port == port:
                return f"input '{port}': {wire.label} from {wire.source.node_id}"
        return f"input '{port}': not wired"

    def set_info(self, info: NodeInfo, errors: list[str]) -> None:
        """Shape, counts and error badge from the analysis."""
        self.has_info = True
        self.info = info
        self._texts = None
        failed = self.error is not None
        self.error = "\n".join(errors) or None
        if failed != (self.error is not None):
            self.badge.setVisible(not failed)
            self.update()
        elif not self.drawn_far:
            self.update()

    @property
    def shape_text(self) -> str:
        """The output shape line: "(N, 64)", "error", or "—" while it waits for inputs."""
        return self._lines()[0]

    @property
    def stats_text(self) -> str:
        """The counts line: weights and FLOPs, or why there are none."""
        return self._lines()[1]

    def _lines(self) -> tuple[str, str]:
        if self._texts is None:
            info = self.info
            assert info is not None  # set_info emptied the texts, and set the facts
            if info.outputs:  # a unit with several outputs: each one's shape, in port order
                shape = " · ".join(shape.detailed() for shape in info.outputs.values())
            else:
                shape = info.shape.detailed() if info.shape else ("error" if self.error else "—")
            if info.shape:
                stats = f"{human(info.params)} weights · {human(info.flops)} FLOPs"
            else:
                stats = "waiting for its inputs" if not self.error else ""
            self._texts = (shape, stats)
        return self._texts

    def tooltip_text(self) -> str:
        """Built when asked (see GraphScene.helpEvent), not on every edit."""
        lines = [f"{self.node_id} — {self.type_name}", self.params_text, self.params_more]
        if self.is_unit and self.info is not None:
            # An instance's totals and what arrives at each of its ports.
            for port, shape in self.info.input_shapes.items():
                lines.append(f"in '{port}': {shape.detailed() if shape else '?'}")
            for out, shape in self.info.outputs.items():
                lines.append(f"out '{out}': {shape.detailed()}")
            if not self.info.outputs:
                lines.append(f"out: {self.shape_text}")
            lines.append(self.stats_text)
            lines.append("Double-click to open the unit")
        if self.frozen:
            lines.append(f"{FROZEN_MARK} Frozen: training keeps its weights")
        if self.error:
            lines.append(f"⚠ {self.error}")
        return "\n".join(line for line in lines if line)

    @property
    def header_colour(self) -> QColor:
        """The category's colour; for a frozen block, cooled towards blue-grey."""
        if not self.frozen:
            return self.colour
        return mixed(self.colour, FROZEN_TINT, 0.65)

    @property
    def title_text(self) -> str:
        return f"{FROZEN_MARK} {self.node_id}" if self.frozen else self.node_id

    # ------------------------------------------------------------- geometry

    def body_rect(self) -> QRectF:
        return QRectF(0, 0, NODE_WIDTH, self.height)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRoundedRect(self.body_rect(), CORNER, CORNER)
        return path

    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value: Any) -> Any:  # noqa: N802
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionHasChanged:
            for wire in self.wires:
                wire.update_path()
        return super().itemChange(change, value)

    # ---------------------------------------------------------------- paint

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        self.drawn_far = lod < DETAIL_ZOOM
        selected = self.isSelected()
        rect = self.body_rect()
        border = (
            theme.NODE_SELECTED if selected else (theme.ERROR if self.error else theme.NODE_BORDER)
        )
        if lod < DETAIL_ZOOM:
            self._paint_tile(painter, rect, border, lod)
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        title_font, body_font, mono_font = _fonts()
        if self.is_unit:  # a unit is drawn as a little stack: blocks inside a block
            painter.setPen(QPen(self.colour, 1.2))
            painter.setBrush(QBrush(theme.NODE_BODY.darker(130)))
            painter.drawRoundedRect(rect.translated(UNIT_STACK, UNIT_STACK), CORNER, CORNER)
        # Body and header.
        painter.setPen(QPen(border, 2.0 if selected or self.error else 1.2))
        painter.setBrush(QBrush(theme.NODE_BODY))
        painter.drawRoundedRect(rect, CORNER, CORNER)
        header = QPainterPath()
        header.addRoundedRect(QRectF(1, 1, NODE_WIDTH - 2, HEADER_HEIGHT), CORNER - 1, CORNER - 1)
        square = QPainterPath()
        square.addRect(QRectF(1, HEADER_HEIGHT / 2, NODE_WIDTH - 2, HEADER_HEIGHT / 2))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(self.header_colour)
        painter.drawPath(header.united(square))
        if self.frozen:
            painter.setBrush(frozen_hatch())
            painter.drawPath(header.united(square))
        # Title: id on the left, type on the right.
        text_left, text_width = 12.0, NODE_WIDTH - 24.0
        painter.setFont(body_font)
        type_width = QFontMetricsF(body_font).horizontalAdvance(self.type_name) + 4
        painter.setPen(QColor(255, 255, 255, 190))
        header_rect = QRectF(text_left, 0, text_width, HEADER_HEIGHT)
        painter.drawText(
            header_rect, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, self.type_name
        )
        painter.setFont(title_font)
        painter.setPen(QColor("#ffffff"))
        title = QFontMetricsF(title_font).elidedText(
            self.node_id, Qt.TextElideMode.ElideRight, text_width - type_width - 6
        )
        painter.drawText(
            header_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, title
        )
        if self.frozen:  # in the margin before the id, which keeps all its room
            painter.setFont(body_font)
            painter.drawText(
                QRectF(0, 0, text_left, HEADER_HEIGHT), Qt.AlignmentFlag.AlignCenter, FROZEN_MARK
            )
        # Body lines.
        y = HEADER_HEIGHT + 5
        lines = (
            (body_font, theme.TEXT_DIM, self.params_text),
            (body_font, theme.TEXT_DIM, self.params_more),
            (mono_font, theme.ERROR if self.error else theme.TEXT_SHAPE, self.shape_text),
            (body_font, theme.TEXT_DIM, self.stats_text),
        )
        for font, colour, text in lines:
            painter.setFont(font)
            painter.setPen(colour)
            elided = QFontMetricsF(font).elidedText(text, Qt.TextElideMode.ElideRight, text_width)
            painter.drawText(
                QRectF(text_left, y, text_width, LINE_HEIGHT),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                elided,
            )
            y += LINE_HEIGHT

    def _paint_tile(self, painter: QPainter, rect: QRectF, border: QColor, lod: float) -> None:
        painter.setPen(
            QPen(border, 2.0 / max(lod, 0.05))
            if (self.isSelected() or self.error)
            else Qt.PenStyle.NoPen
        )
        painter.setBrush(self.tile_brush)
        painter.drawRect(rect)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(self.header_colour)
        painter.drawRect(QRectF(0, 0, NODE_WIDTH, HEADER_HEIGHT))
        if lod >= TITLE_ZOOM:
            font, title = _far_title(self.title_text, int(min(40, 13 / max(lod, 0.3))))
            painter.setFont(font)
            painter.setPen(QColor("#ffffff"))
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, title)
