"""Editing operations of the main window: add, delete, copy / cut / paste / duplicate,
select all, auto-layout and the quick-search finder. Each edit is one undo step.

New blocks go where the user pointed, or to the nearest free place in reading
direction when a block is there already (`gui.canvas.layout.free_offset`): an insert
never covers a block."""

from __future__ import annotations

import copy
import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF
from PySide6.QtGui import QCursor, QGuiApplication

from engine.blocks.spec import RegistryError, Shape, get_spec
from engine.graph.graph import Edge, GraphError, Node
from engine.units.units import Library
from gui.canvas.commands import (
    AddNodeCommand,
    AddUnitCommand,
    ConnectCommand,
    DeleteCommand,
    MoveCommand,
    PasteCommand,
)
from gui.canvas.layout import Size, arrange, free_offset, free_position, taken_rects
from gui.canvas.node_item import HEADER_HEIGHT, NODE_WIDTH, node_size
from gui.editor.clipboard import from_mime, selection_document, to_mime
from gui.editor.units import shipped

if TYPE_CHECKING:
    from gui.main_window import MainWindow

log = logging.getLogger(__name__)

PASTE_STEP = 40.0
WireEnd = tuple[str, str]  # the source node and output port of a wire being dragged


def tile_size(node: Node) -> Size:
    """The tile a node will have on the canvas; a node whose spec cannot be read here
    (a unit still to be brought in by a paste) counts as a plain block."""
    try:
        return node_size(node)
    except (RegistryError, KeyError, ValueError) as err:
        log.debug("size of %s taken as a plain block's: %s", node.id, err)
        return node_size(Node(node.id, "Dense", get_spec("Dense").defaults()))


class EditingMixin:
    """Mixed into MainWindow; uses its graph, scene, view, undo stack and status bar."""

    _paste_count: int
    _quick_search_pos: QPointF
    _finder_wire: WireEnd | None = None  # set while the finder offers to end a wire

    def add_block(
        self: MainWindow, type_name: str, scene_pos: QPointF, wire_from: WireEnd | None = None
    ) -> str | None:
        """Place a block centred under `scene_pos` (with its input there when it ends
        the wire `wire_from`, which it is then wired to: one undo step); a block already
        there pushes it right, then down. Returns its id."""
        graph = self.scene.graph
        library = graph.library
        command: AddNodeCommand | AddUnitCommand
        if (library is not None and type_name in library) or type_name in shipped():
            # A unit: the project's own, else a shipped one imported with the instance.
            source = None if library is not None and type_name in library else shipped()
            owner_library = library if library is not None else source
            if problem := owner_library.placement_problem(type_name, graph.owner):
                self.statusBar().showMessage(f"Cannot add unit: {problem}", 8000)
                return None
            unit_library = shipped() if source is not None else owner_library
            spec = unit_library.spec(type_name)
            trial = Node("new", type_name, spec.defaults(), library=unit_library)
        else:
            try:  # refuse before the command exists, not inside its redo
                spec = get_spec(type_name)
            except RegistryError as err:
                self.statusBar().showMessage(f"Cannot add block: {err}", 8000)
                return None
            source = None
            trial = Node("new", type_name, spec.defaults())
        size = tile_size(trial)
        if wire_from is None:
            wanted = (scene_pos.x() - NODE_WIDTH / 2, scene_pos.y() - HEADER_HEIGHT / 2)
        else:
            wanted = (scene_pos.x(), scene_pos.y() - size[1] / 2)
        x, y = free_position(size, wanted, taken_rects(graph))
        pos = (round(x), round(y))
        if trial.library is not None:
            command = AddUnitCommand(graph, type_name, pos, source)
        else:
            command = AddNodeCommand(graph, type_name, pos)
        if wire_from is None:
            self.undo_stack.push(command)
        else:
            self._add_and_wire(command, wire_from)
        assert command.node_id is not None
        self.scene.select_nodes([command.node_id])
        self.statusBar().showMessage(f"Added {command.node_id}", 4000)
        return command.node_id

    def _add_and_wire(
        self: MainWindow, command: AddNodeCommand | AddUnitCommand, wire_from: WireEnd
    ) -> None:
        """Add a block and wire `wire_from` into its first input, as one undo step."""
        graph = self.scene.graph
        self.undo_stack.beginMacro(f"{command.text()} and wire it")
        try:
            self.undo_stack.push(command)
            assert command.node_id is not None
            source, out = wire_from
            port = graph.node(command.node_id).ports[0]
            if reason := graph.can_connect(source, command.node_id, port, out):
                self.statusBar().showMessage(f"Cannot wire: {reason}", 8000)
            else:
                self.undo_stack.push(ConnectCommand(graph, source, command.node_id, port, out))
        finally:
            self.undo_stack.endMacro()

    def _selected_shape(self: MainWindow) -> Shape | None:
        """The shape leaving the one selected block (what a block added next would take)."""
        ids = self.scene.selected_node_ids()
        if len(ids) != 1:
            return None
        info = self.scene.analysis.nodes.get(ids[0])
        return info.output_shape() if info is not None else None

    def open_quick_search(self: MainWindow, scene_pos: QPointF) -> None:
        """The finder at `scene_pos`; blocks that take the selected block's output first."""
        self._finder_wire = None
        self._quick_search_pos = scene_pos
        global_pos = self.view.viewport().mapToGlobal(self.view.mapFromScene(scene_pos))
        self.quick_search.open_at(global_pos, self._selected_shape())

    def open_wire_finder(self: MainWindow, source: str, out: str, scene_pos: QPointF) -> None:
        """A wire from `source`'s output `out` was let go on empty canvas: offer the
        blocks that take its shape; the one picked lands there, wired."""
        self.scene.refresh_if_dirty()
        info = self.scene.analysis.nodes.get(source)
        shape = info.output_shape(out) if info is not None else None
        self._finder_wire = (source, out)
        self._quick_search_pos = scene_pos
        global_pos = self.view.viewport().mapToGlobal(self.view.mapFromScene(scene_pos))
        self.quick_search.open_at(global_pos, shape, only_fitting=shape is not None)

    def finder_chose(self: MainWindow, type_name: str) -> None:
        wire_from, self._finder_wire = self._finder_wire, None
        self.add_block(type_name, self._quick_search_pos, wire_from)

    def finder_cancelled(self: MainWindow) -> None:
        self._finder_wire = None  # nothing was added; the dragged wire is already gone

    def quick_search_at_cursor(self: MainWindow) -> None:
        self.open_quick_search(self.view.centre_scene_pos())

    def delete_selection(self: MainWindow) -> None:
        nodes, wires = self.scene.selected_node_ids(), self.scene.selected_wires()
        if nodes or wires:
            self.undo_stack.push(DeleteCommand(self.scene.graph, nodes, wires))

    def copy(self: MainWindow) -> bool:
        ids = self.scene.selected_node_ids()
        if not ids:
            return False
        QGuiApplication.clipboard().setMimeData(to_mime(selection_document(self.scene.graph, ids)))
        self._paste_count = 0
        self.statusBar().showMessage(f"Copied {len(ids)} block(s)", 3000)
        return True

    def cut(self: MainWindow) -> None:
        if self.copy():
            self.delete_selection()

    def paste(self: MainWindow) -> list[str]:
        content = from_mime(QGuiApplication.clipboard().mimeData())
        if content is None:
            self.statusBar().showMessage("The clipboard holds no NetLoom blocks", 4000)
            return []
        self._paste_count += 1
        nodes, edges, units = content
        step = PASTE_STEP * self._paste_count
        offset = (step, step)
        if pointer := self._pointer_scene_pos():  # where the user points, if on the canvas
            offset = (
                pointer.x() - min(n.pos[0] for n in nodes),
                pointer.y() - min(n.pos[1] for n in nodes),
            )
        return self._paste(nodes, edges, offset, units)

    def duplicate(self: MainWindow) -> list[str]:
        ids = self.scene.selected_node_ids()
        if not ids:
            return []
        chosen = set(ids)
        nodes = [n for n in self.scene.graph.nodes if n.id in chosen]
        edges = [e for e in self.scene.graph.edges if e.source in chosen and e.target in chosen]
        return self._paste(nodes, edges, (PASTE_STEP, PASTE_STEP))

    def _pointer_scene_pos(self: MainWindow) -> QPointF | None:
        viewport = self.view.viewport()
        local = viewport.mapFromGlobal(QCursor.pos())
        if not viewport.isVisible() or not viewport.rect().contains(local):
            return None
        return self.view.mapToScene(local)

    def _paste(
        self: MainWindow,
        nodes: list[Node],
        edges: list[Edge],
        wanted: tuple[float, float],
        units: Library | None = None,
    ) -> list[str]:
        """Paste copies under fresh ids, shifted by `wanted` or, where blocks are in the
        way, to the nearest free place; units from another project come with their
        definitions (renamed when this project has a different unit of that name)."""
        if not nodes:
            return []
        shapes = [(n.pos[0], n.pos[1], *tile_size(n)) for n in nodes]
        dx, dy = free_offset(shapes, taken_rects(self.scene.graph), start=wanted)
        offset = (round(dx), round(dy))
        try:  # refuse before the command exists (a trial on an independent copy)
            PasteCommand(copy.deepcopy(self.scene.graph), nodes, edges, offset, units).redo()
        except GraphError as err:
            self.statusBar().showMessage(f"Cannot paste: {err}", 8000)
            return []
        command = PasteCommand(self.scene.graph, nodes, edges, offset, units)
        self.undo_stack.push(command)
        if renamed := command.renamed_units:
            names = ", ".join(f"{old} as {new}" for old, new in renamed.items())
            self.statusBar().showMessage(
                f"Pasted {names}: this project has a different unit of that name", 8000
            )
        self.scene.select_nodes(command.new_ids)
        return command.new_ids

    def select_all(self: MainWindow) -> None:
        self.scene.select_nodes(list(self.scene.nodes))

    def auto_layout(self: MainWindow) -> None:
        after = arrange(self.scene.graph, self._view_size())
        before = {node_id: self.scene.graph.node(node_id).pos for node_id in after}
        changed = {k: v for k, v in after.items() if before[k] != v}
        if changed:
            self.undo_stack.push(
                MoveCommand(
                    self.scene.graph, {k: before[k] for k in changed}, changed, "Auto-layout"
                )
            )
        self.view.open_view()
