"""Editing operations of the main window: add, delete, copy / cut / paste / duplicate,
select all, auto-layout and the quick-search finder. Each edit is one undo command."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF
from PySide6.QtGui import QGuiApplication

from engine.graph import Edge, GraphError, Node
from engine.spec import RegistryError, get_spec
from engine.units import Library
from gui.canvas.layout import arrange
from gui.canvas.node_item import HEADER_HEIGHT, NODE_WIDTH
from gui.clipboard import from_mime, selection_document, to_mime
from gui.commands import AddNodeCommand, AddUnitCommand, DeleteCommand, MoveCommand, PasteCommand
from gui.units import shipped

if TYPE_CHECKING:
    from gui.main_window import MainWindow

PASTE_STEP = 40.0


class EditingMixin:
    """Mixed into MainWindow; uses its graph, scene, view, undo stack and status bar."""

    _paste_count: int
    _quick_search_pos: QPointF

    def add_block(self: MainWindow, type_name: str, scene_pos: QPointF) -> str | None:
        """Place a block centred under `scene_pos`; returns its id."""
        pos = (round(scene_pos.x() - NODE_WIDTH / 2), round(scene_pos.y() - HEADER_HEIGHT / 2))
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
            command = AddUnitCommand(graph, type_name, pos, source)
        else:
            try:
                get_spec(type_name)  # refuse before the command exists, not inside its redo
            except RegistryError as err:
                self.statusBar().showMessage(f"Cannot add block: {err}", 8000)
                return None
            command = AddNodeCommand(graph, type_name, pos)
        self.undo_stack.push(command)
        assert command.node_id is not None
        self.scene.select_nodes([command.node_id])
        self.statusBar().showMessage(f"Added {command.node_id}", 4000)
        return command.node_id

    def open_quick_search(self: MainWindow, scene_pos: QPointF) -> None:
        self._quick_search_pos = scene_pos
        global_pos = self.view.viewport().mapToGlobal(self.view.mapFromScene(scene_pos))
        self.quick_search.open_at(global_pos)

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
        return self._paste(nodes, edges, PASTE_STEP * self._paste_count, units)

    def duplicate(self: MainWindow) -> list[str]:
        ids = self.scene.selected_node_ids()
        if not ids:
            return []
        chosen = set(ids)
        nodes = [n for n in self.scene.graph.nodes if n.id in chosen]
        edges = [e for e in self.scene.graph.edges if e.source in chosen and e.target in chosen]
        return self._paste(nodes, edges, PASTE_STEP)

    def _paste(
        self: MainWindow,
        nodes: list[Node],
        edges: list[Edge],
        step: float,
        units: Library | None = None,
    ) -> list[str]:
        """Paste copies under fresh ids; units from another project come with their
        definitions (renamed when this project has a different unit of that name)."""
        try:  # refuse before the command exists (a trial on an independent copy)
            PasteCommand(copy.deepcopy(self.scene.graph), nodes, edges, (step, step), units).redo()
        except GraphError as err:
            self.statusBar().showMessage(f"Cannot paste: {err}", 8000)
            return []
        command = PasteCommand(self.scene.graph, nodes, edges, (step, step), units)
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
