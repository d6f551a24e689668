"""The scene: one NodeItem per node and one WireItem per edge, kept in step with the
graph through its events, and the mouse gestures that turn into undo commands
(drag a wire between ports, move blocks).

After edits the scene re-runs `engine.graph.shapes.analyze` once (not once per event) and
pushes shapes, counts and errors into the items that changed; `analysis_changed` tells the
docks which blocks those were, so they too redo only their part.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

from PySide6.QtCore import QPointF, QRectF, QTimer, Signal
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import (
    QGraphicsScene,
    QGraphicsSceneHelpEvent,
    QGraphicsSceneMouseEvent,
    QToolTip,
)

from engine.graph.graph import Edge, Graph, GraphEvent
from engine.graph.shapes import Analysis, analyze
from gui.canvas.commands import ConnectCommand, DisconnectCommand, MoveCommand, RewireCommand
from gui.canvas.facts import changed_nodes, errors_by_node
from gui.canvas.node_item import NodeItem
from gui.canvas.port_item import PortItem
from gui.canvas.wire_item import DraftWire, WireItem
from gui.common import theme

log = logging.getLogger(__name__)

# Items added (or given their facts) between two yields of `GraphScene.populate`.
ITEMS_PER_STEP = 20


class GraphScene(QGraphicsScene):
    status_message = Signal(str)
    # The new Analysis, and the ids of the blocks whose facts, problems or params changed
    # with it; None when any block may have (a block or wire came or went, a new document).
    analysis_changed = Signal(object, object)
    # A block was added, moved or resized: the view grows the canvas to hold it.
    item_placed = Signal(QRectF)  # its scene rect
    # A new wire from an output was let go over empty canvas: offer blocks to end it.
    wire_dropped = Signal(str, str, QPointF)  # source node, source port, scene position

    def __init__(
        self,
        graph: Graph,
        undo_stack: QUndoStack,
        parent=None,
        analysis_source: Callable[[], Analysis | None] | None = None,
        deferred: bool = False,
    ) -> None:
        """A scene for `graph`, filled at once; or, `deferred`, empty until the caller
        runs `populate()` (a big graph, spread over event-loop turns)."""
        super().__init__(parent)
        self.graph = graph
        # Inside an opened unit: the facts of the body for the instance's actual input
        # (engine.units.units.instance_pass), instead of a pass over the body on its own.
        self.analysis_source = analysis_source
        # The unit library's revision at the last pass: an edit inside a definition (on
        # another scene) changes this graph's instances without any event here.
        self._library_revision = self._revision()
        self.undo_stack = undo_stack
        self.nodes: dict[str, NodeItem] = {}
        self.wires: dict[tuple[str, str], WireItem] = {}
        self.analysis = Analysis({}, [])
        self.errors: dict[str, list[str]] = {}  # node id → its problem messages
        self._dirty = False
        # Since the last analysis: nodes whose params changed, and whether any node or
        # wire came or went (then the next pass is a full one, else incremental).
        self._changed_params: set[str] = set()
        self._structure_changed = False
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.timeout.connect(self.refresh_if_dirty)
        self._draft: DraftWire | None = None
        self._draft_port: PortItem | None = None
        self._detached: Edge | None = None  # the wire lifted off an input port, if any
        self._hover_port: PortItem | None = None
        self._press_positions: dict[str, tuple[float, float]] = {}
        self.detailed = True  # False when zoomed out too far to read text or hit ports
        self.setBackgroundBrush(theme.CANVAS_BACKGROUND)
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.BspTreeIndex)
        if not deferred:
            for _ in self.populate():
                pass

    def populate(self, analysis: Analysis | None = None) -> Iterator[None]:
        """Add an item per node and wire, then follow the graph and show its facts
        (`analysis` when the caller has it, e.g. from a loading thread; else a pass
        here). Yields every few items, so a caller can spread a big graph over
        event-loop turns; the scene is complete when the generator is exhausted."""
        for count, node in enumerate(self.graph.nodes, 1):
            self._add_node_item(node.id)
            if count % ITEMS_PER_STEP == 0:
                yield
        for count, edge in enumerate(self.graph.edges, 1):
            self._add_wire_item(edge)
            if count % ITEMS_PER_STEP == 0:
                yield
        self.graph.subscribe(self._on_graph_event)
        self.undo_stack.indexChanged.connect(self.refresh_if_dirty)
        if analysis is None:
            self.refresh_analysis()
            return
        self._library_revision = self._revision()
        self._changed_params, self._structure_changed, self._dirty = set(), False, False
        yield from self._show_analysis(analysis, None)

    def dismantle(self) -> None:
        """Before deleteLater: drop the spatial index, so deleting ten thousand items
        does not rebalance it after each one (a second on the GUI thread)."""
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)

    def detach_from_graph(self) -> None:
        """Stop following the graph (the window is switching documents)."""
        self.graph.unsubscribe(self._on_graph_event)
        self.undo_stack.indexChanged.disconnect(self.refresh_if_dirty)
        self._refresh_timer.stop()

    # --------------------------------------------------------- model events

    def _on_graph_event(self, event: GraphEvent) -> None:
        kind = event.kind
        if kind == "node_added":
            self._add_node_item(event.node)
        elif kind == "node_removed":
            item = self.nodes.pop(event.node)
            self.removeItem(item)
        elif kind == "edge_added":
            self._add_wire_item(event.edge)
        elif kind == "edge_removed":
            wire = self.wires.pop((event.edge.target, event.edge.port))
            wire.detach()
            self.removeItem(wire)
            self._mark_port(event.edge.target, event.edge.port, False)
        elif kind == "params_changed":
            item = self.nodes[event.node]
            item.update_from_node(self.graph.node(event.node))
            for wire in item.wires:
                wire.update_path()
        elif kind == "node_moved":
            item = self.nodes[event.node]
            pos = QPointF(*self.graph.node(event.node).pos)
            if item.pos() != pos:
                item.setPos(pos)
        if kind in ("node_added", "node_moved", "params_changed"):
            self.item_placed.emit(self.nodes[event.node].sceneBoundingRect())
        if kind == "params_changed":
            self._changed_params.add(event.node)
        elif kind != "node_moved":
            self._structure_changed = True
        if kind != "node_moved":  # a move changes no shape
            self._dirty = True
            if not self._refresh_timer.isActive():
                self._refresh_timer.start(0)

    def set_detailed(self, detailed: bool) -> None:
        """Level of detail: far out, ports are hidden so a frame paints half the items."""
        if detailed == self.detailed:
            return
        self.detailed = detailed
        for item in self.nodes.values():
            item.set_ports_visible(detailed)

    def _add_node_item(self, node_id: str) -> None:
        item = NodeItem(self.graph.node(node_id))
        if not self.detailed:
            item.set_ports_visible(False)
        self.nodes[node_id] = item
        self.addItem(item)

    def _add_wire_item(self, edge: Edge) -> None:
        source = self.nodes[edge.source]
        wire = WireItem(source, self.nodes[edge.target], edge.port, edge.source_port)
        self.wires[(edge.target, edge.port)] = wire
        self.addItem(wire)
        self._mark_port(edge.target, edge.port, True)
        if out := source.outputs.get(edge.source_port):
            out.wired = True

    def _mark_port(self, node_id: str, port: str, wired: bool) -> None:
        item = self.nodes.get(node_id)
        if item and port in item.inputs:
            item.inputs[port].wired = wired
            item.inputs[port].update()

    # ------------------------------------------------------------- analysis

    def _revision(self) -> int | None:
        library = self.graph.library
        return None if library is None else library.revision

    def refresh_if_dirty(self) -> None:
        if self._revision() != self._library_revision:
            self._structure_changed = self._dirty = True
            for node in self.graph.nodes:  # an instance's ports follow its definition
                if node.library is not None and node.id in self.nodes:
                    item = self.nodes[node.id]
                    item.update_from_node(node)
                    for wire in item.wires:  # its ports may have moved or changed
                        wire.update_path()
        if self._dirty:
            self.refresh_analysis()

    def refresh_analysis(self) -> None:
        self._dirty = False
        self._refresh_timer.stop()
        self._library_revision = self._revision()
        sourced = self.analysis_source() if self.analysis_source is not None else None
        whole = self._structure_changed or not self.analysis.nodes
        if sourced is not None:
            analysis = sourced
        elif whole:
            analysis = analyze(self.graph)
        else:
            analysis = analyze(self.graph, self.analysis, self._changed_params)
        edited = None if whole else self._changed_params
        self._changed_params, self._structure_changed = set(), False
        for _ in self._show_analysis(analysis, edited):
            pass

    def _show_analysis(self, analysis: Analysis, edited: set[str] | None) -> Iterator[None]:
        """Push shapes and errors into the items; yields every few items. With `edited`
        (the nodes whose params changed, no block or wire having come or gone since the
        last pass) only the items of changed nodes and their wires are touched."""
        errors = errors_by_node(analysis)
        previous, previous_errors = self.analysis, self.errors
        if edited is None:
            yield from self._show_everything(analysis, errors)
            changed = None
        else:
            changed = changed_nodes(analysis, previous, errors, previous_errors)
            self._show_changed(analysis, errors, changed)
            changed |= edited
        self.analysis, self.errors = analysis, errors
        self.analysis_changed.emit(analysis, changed)

    def _show_changed(
        self, analysis: Analysis, errors: dict[str, list[str]], changed: set[str]
    ) -> None:
        """The items of `changed` nodes take their new facts, and every wire at either
        end of one of them its label (the source's shape) and colour (the target's error)."""
        wires: set[WireItem] = set()
        for node_id in changed:
            item = self.nodes.get(node_id)
            info = analysis.nodes.get(node_id)
            if item is None or info is None:
                continue
            item.set_info(info, errors.get(node_id, []))
            wires |= item.wires
        for wire in wires:
            self._label_wire(wire, analysis)

    def _label_wire(self, wire: WireItem, analysis: Analysis) -> None:
        source_info = analysis.nodes.get(wire.source.node_id)
        shape = source_info.output_shape(wire.out) if source_info else None
        # Red only when the wire's end fails on shapes, not for an unwired sibling port.
        target_info = analysis.nodes.get(wire.target.node_id)
        wire.set_label(str(shape) if shape else "?", bool(target_info and target_info.error))

    def _show_everything(self, analysis: Analysis, errors: dict[str, list[str]]) -> Iterator[None]:
        """Every item from `analysis` (a new document, or blocks or wires came or went);
        a node item whose facts did not change keeps its drawing."""
        previous, previous_errors = self.analysis, self.errors
        for count, (node_id, item) in enumerate(self.nodes.items(), 1):
            info = analysis.nodes.get(node_id)
            if info is None:
                continue
            mine = errors.get(node_id, [])
            changed = info != previous.nodes.get(node_id) or mine != previous_errors.get(
                node_id, []
            )
            if changed or not item.has_info:
                item.set_info(info, mine)
            if count % ITEMS_PER_STEP == 0:
                yield
        for count, wire in enumerate(self.wires.values(), 1):
            self._label_wire(wire, analysis)
            if count % ITEMS_PER_STEP == 0:
                yield
        feeding = {(wire.source.node_id, wire.out) for wire in self.wires.values()}
        for node_id, item in self.nodes.items():
            for out, port_item in item.outputs.items():
                port_item.wired = (node_id, out) in feeding

    def helpEvent(self, event: QGraphicsSceneHelpEvent) -> None:  # noqa: N802 (Qt override)
        # Tooltips are composed when the mouse rests on an item, not stored on a thousand
        # items after every edit.
        for item in self.items(event.scenePos()):
            text = item.tooltip_text() if hasattr(item, "tooltip_text") else item.toolTip()
            if text:
                QToolTip.showText(event.screenPos(), text)
                event.accept()
                return
        QToolTip.hideText()
        event.ignore()

    def tooltip_at(self, pos: QPointF) -> str:
        """The text a tooltip would show at `pos` (what helpEvent displays)."""
        for item in self.items(pos):
            if hasattr(item, "tooltip_text") and item.tooltip_text():
                return item.tooltip_text()
        return ""

    # ------------------------------------------------------------ selection

    def selected_node_ids(self) -> list[str]:
        return [i.node_id for i in self.selectedItems() if isinstance(i, NodeItem)]

    def selected_wires(self) -> list[Edge]:
        return [w.edge for w in self.selectedItems() if isinstance(w, WireItem)]

    def select_nodes(self, node_ids: list[str]) -> None:
        self.clearSelection()
        for node_id in node_ids:
            if node_id in self.nodes:
                self.nodes[node_id].setSelected(True)

    def nodes_rect(self) -> QRectF:
        rect = QRectF()
        for item in self.nodes.values():
            rect = rect.united(item.sceneBoundingRect())
        for wire in self.wires.values():
            rect = rect.united(wire.sceneBoundingRect())
        return rect

    # --------------------------------------------------------------- mouse

    def _port_at(self, pos: QPointF) -> PortItem | None:
        for item in self.items(pos):
            if isinstance(item, PortItem):
                return item
        return None

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        port = (
            self._port_at(event.scenePos()) if event.button() == event.button().LeftButton else None
        )
        if port is not None:
            self._start_wire(port)
            event.accept()
            return
        super().mousePressEvent(event)
        self._press_positions = {
            i.node_id: (i.pos().x(), i.pos().y())
            for i in self.selectedItems()
            if isinstance(i, NodeItem)
        }

    def mouseMoveEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        if self._draft is None:
            super().mouseMoveEvent(event)
            return
        self._draft.move_to(event.scenePos())
        port = self._port_at(event.scenePos())
        if port is self._hover_port:
            return  # the verdict for this port is already shown
        if self._hover_port is not None:
            self._hover_port.set_highlight(None)
        self._hover_port = port
        if port is None or port is self._draft_port:
            self._draft.set_colour(theme.NODE_SELECTED)
            return
        reason = self._refusal(port)
        colour = theme.PORT_REFUSED if reason else theme.PORT_OK
        port.set_highlight(colour)
        self._draft.set_colour(colour)
        if reason:
            self.status_message.emit(f"Cannot wire: {reason}")

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        if self._draft is not None:
            self._finish_wire(self._port_at(event.scenePos()), event.scenePos())
            event.accept()
            return
        super().mouseReleaseEvent(event)
        self._commit_moves()

    def _commit_moves(self) -> None:
        before, after = {}, {}
        for node_id, old in self._press_positions.items():
            item = self.nodes.get(node_id)
            if item is None:
                continue
            new = (item.pos().x(), item.pos().y())
            if new != old:
                before[node_id], after[node_id] = old, new
        self._press_positions = {}
        if after:
            self.undo_stack.push(MoveCommand(self.graph, before, after))

    # --------------------------------------------------------------- wiring

    def _start_wire(self, port: PortItem) -> None:
        self._detached = None
        anchor_port = port
        if not port.is_output:
            wired = self.graph.incoming_edges(port.node_id).get(port.port)
            if wired is not None:
                # Dragging a wired input lifts that wire off: it now follows the mouse
                # from its source, to be dropped on another port or on empty canvas.
                self._detached = wired
                source = self.nodes[wired.source]
                anchor_port = source.outputs.get(wired.source_port) or source.output
                self.wires[(port.node_id, port.port)].setVisible(False)
        self._draft_port = anchor_port
        self._draft = DraftWire(anchor_port.scenePos(), anchor_port.is_output)
        self.addItem(self._draft)

    def _empty_at(self, pos: QPointF) -> bool:
        return not any(isinstance(item, NodeItem) for item in self.items(pos))

    def _endpoints(self, port: PortItem) -> Edge | str:
        """The wire from the draft's anchor to `port`, or why there can be none."""
        anchor = self._draft_port
        assert anchor is not None
        if port.is_output == anchor.is_output:
            kind = "outputs" if port.is_output else "inputs"
            return f"both ends are {kind}; drag from an output to an input"
        out, into = (anchor, port) if anchor.is_output else (port, anchor)
        assert into.port is not None
        return Edge(out.node_id, into.node_id, into.port, out.out)

    def _refusal(self, port: PortItem) -> str | None:
        new = self._endpoints(port)
        if isinstance(new, str):
            return new
        if self._detached:
            return None if new == self._detached else self._rewire_refusal(self._detached, new)
        return self.graph.can_connect(new.source, new.target, new.port, new.source_port)

    def _finish_wire(self, port: PortItem | None, end: QPointF) -> None:
        assert self._draft is not None
        self.removeItem(self._draft)
        self._draft = None
        if self._hover_port is not None:
            self._hover_port.set_highlight(None)
            self._hover_port = None
        detached, self._detached = self._detached, None
        if detached:
            self.wires[(detached.target, detached.port)].setVisible(True)
        if port is None or port is self._draft_port:
            if detached:  # dropped on empty canvas: the lifted wire is removed
                self.undo_stack.push(DisconnectCommand(self.graph, detached.target, detached.port))
            elif port is None and self._draft_port.is_output and self._empty_at(end):
                anchor = self._draft_port
                self.wire_dropped.emit(anchor.node_id, anchor.out, end)
            return
        new = self._endpoints(port)
        if isinstance(new, str):
            self.status_message.emit(f"Cannot wire: {new}")
            return
        if detached == new:
            return
        reason = (
            self._rewire_refusal(detached, new)
            if detached
            else self.graph.can_connect(new.source, new.target, new.port, new.source_port)
        )
        if reason:
            self.status_message.emit(f"Cannot wire: {reason}")
            return
        if detached:
            self.undo_stack.push(RewireCommand(self.graph, detached, new))
        else:
            command = ConnectCommand(self.graph, new.source, new.target, new.port, new.source_port)
            self.undo_stack.push(command)
        self.status_message.emit(f"Wired {new}")

    def _rewire_refusal(self, old: Edge, new: Edge) -> str | None:
        """Check the new wire as if the old one were already gone."""
        trial = self.graph.copy()
        trial.disconnect(old.target, old.port)
        return trial.can_connect(new.source, new.target, new.port, new.source_port)
