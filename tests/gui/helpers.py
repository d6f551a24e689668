"""Driving the canvas the way a hand does: mouse events sent to the view's viewport."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from gui.canvas.view import GraphView

LEFT = Qt.MouseButton.LeftButton
NONE = Qt.MouseButton.NoButton


def send_mouse(view: GraphView, kind: QEvent.Type, scene_pos: QPointF, button, buttons) -> None:
    local = QPointF(view.mapFromScene(scene_pos))
    event = QMouseEvent(
        kind,
        local,
        QPointF(view.viewport().mapToGlobal(local.toPoint())),
        button,
        buttons,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(view.viewport(), event)


def drag(view: GraphView, start: QPointF, end: QPointF, steps: int = 5) -> None:
    """Press at `start`, move in steps with the button held, release at `end`."""
    send_mouse(view, QEvent.Type.MouseButtonPress, start, LEFT, LEFT)
    for i in range(1, steps + 1):
        point = start + (end - start) * (i / steps)
        send_mouse(view, QEvent.Type.MouseMove, point, NONE, LEFT)
    send_mouse(view, QEvent.Type.MouseButtonRelease, end, LEFT, NONE)


def port_pos(window, node_id: str, port: str | None, out: str = "") -> QPointF:
    """An input port's place, or (port None) that of the output `out` ("" for the one)."""
    item = window.scene.nodes[node_id]
    port_item = (item.outputs.get(out) or item.output) if port is None else item.inputs[port]
    return port_item.scenePos()
