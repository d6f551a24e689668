"""Undo commands. Each changes the model (`engine.graph.graph.Graph`) only; the canvas,
inspector and summary follow the graph's events.

Every command records what it needs to put the graph back exactly: ids, params,
positions and the wires a removal or a port change took with it.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from PySide6.QtGui import QUndoCommand

from engine.graph.graph import Edge, Graph, Node
from engine.project.units_section import Brought, bring_back, bring_units, import_unit, take_back
from engine.units import edits as unit_edits
from engine.units.units import Library, library_of

Point = tuple[float, float]


def _reconnect(graph: Graph, edges: Iterable[Edge]) -> None:
    seen: set[tuple[str, str]] = set()
    for edge in edges:
        if (edge.target, edge.port) in seen or edge.port in graph.incoming(edge.target):
            continue
        seen.add((edge.target, edge.port))
        graph.reconnect(edge)


class AddNodeCommand(QUndoCommand):
    def __init__(
        self,
        graph: Graph,
        type_name: str,
        pos: Point,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(f"Add {type_name}")
        self.graph = graph
        self.type_name = type_name
        self.pos = pos
        self.params = dict(params or {})
        self.node_id: str | None = None  # fixed on the first redo so redo repeats it

    def redo(self) -> None:
        node = self.graph.add_node(self.type_name, self.params, self.pos, self.node_id)
        self.node_id = node.id
        self.setText(f"Add {node.id}")

    def undo(self) -> None:
        assert self.node_id is not None
        self.graph.remove_node(self.node_id)


class DeleteCommand(QUndoCommand):
    """Delete nodes (with their wires) and single wires, as one step."""

    def __init__(self, graph: Graph, node_ids: Iterable[str], wires: Iterable[Edge] = ()) -> None:
        self.node_ids = list(node_ids)
        self.wires = [
            w for w in wires if w.source not in self.node_ids and w.target not in self.node_ids
        ]
        what = ", ".join(self.node_ids) or f"{len(self.wires)} wire(s)"
        super().__init__(f"Delete {what}")
        self.graph = graph
        self.removed: list[Node] = []
        self.lost_wires: list[Edge] = []

    def redo(self) -> None:
        self.removed, self.lost_wires = [], []
        for wire in self.wires:
            self.lost_wires.append(self.graph.disconnect(wire.target, wire.port))
        for node_id in self.node_ids:
            node, wires = self.graph.remove_node(node_id)
            self.removed.append(copy.deepcopy(node))
            self.lost_wires.extend(wires)

    def undo(self) -> None:
        for node in self.removed:
            self.graph.restore_node(node)
        _reconnect(self.graph, self.lost_wires)


class ConnectCommand(QUndoCommand):
    def __init__(
        self, graph: Graph, source: str, target: str, port: str, source_port: str = ""
    ) -> None:
        self.edge = Edge(source, target, port, source_port)
        super().__init__(f"Wire {self.edge}")
        self.graph = graph

    def redo(self) -> None:
        self.graph.reconnect(self.edge)

    def undo(self) -> None:
        self.graph.disconnect(self.edge.target, self.edge.port)


class DisconnectCommand(QUndoCommand):
    def __init__(self, graph: Graph, target: str, port: str) -> None:
        self.edge = graph.incoming_edges(target)[port]
        super().__init__(f"Unwire {self.edge}")
        self.graph = graph

    def redo(self) -> None:
        self.graph.disconnect(self.edge.target, self.edge.port)

    def undo(self) -> None:
        self.graph.reconnect(self.edge)


class RewireCommand(QUndoCommand):
    """Move the end of a wire from one input port to another (drag it off and drop it)."""

    def __init__(self, graph: Graph, old: Edge, new: Edge) -> None:
        super().__init__(f"Rewire {old.source} → {new.target}.{new.port}")
        self.graph, self.old, self.new = graph, old, new

    def redo(self) -> None:
        self.graph.disconnect(self.old.target, self.old.port)
        self.graph.reconnect(self.new)

    def undo(self) -> None:
        self.graph.disconnect(self.new.target, self.new.port)
        self.graph.reconnect(self.old)


class SetParamsCommand(QUndoCommand):
    def __init__(self, graph: Graph, node_id: str, changes: Mapping[str, Any]) -> None:
        names = ", ".join(changes)
        super().__init__(f"Set {node_id}.{names}")
        self.graph = graph
        self.node_id = node_id
        self.changes = copy.deepcopy(dict(changes))
        self.before = copy.deepcopy(graph.node(node_id).params)
        self.dropped: list[Edge] = []

    def redo(self) -> None:
        self.dropped = self.graph.set_params(self.node_id, self.changes)

    def undo(self) -> None:
        self.graph.set_params(self.node_id, self.before)
        _reconnect(self.graph, self.dropped)


class MoveCommand(QUndoCommand):
    """Positions before and after one drag (or an auto-layout) of any number of nodes."""

    def __init__(
        self, graph: Graph, before: Mapping[str, Point], after: Mapping[str, Point], text: str = ""
    ) -> None:
        ids = list(after)
        label = text or ("Move " + (ids[0] if len(ids) == 1 else f"{len(ids)} blocks"))
        super().__init__(label)
        self.graph = graph
        self.before = dict(before)
        self.after = dict(after)

    def redo(self) -> None:
        for node_id, pos in self.after.items():
            self.graph.move(node_id, pos)

    def undo(self) -> None:
        for node_id, pos in self.before.items():
            self.graph.move(node_id, pos)


class PasteCommand(QUndoCommand):
    """Add copies of nodes and the wires among them under fresh ids. Nodes copied from
    another project bring the units they use (`units`, that project's library): a unit
    this project lacks is added, one it has with other content comes in renamed."""

    def __init__(
        self,
        graph: Graph,
        nodes: list[Node],
        edges: list[Edge],
        offset: Point,
        units: Library | None = None,
    ) -> None:
        super().__init__(f"Paste {len(nodes)} block(s)")
        self.graph = graph
        self.nodes = copy.deepcopy(nodes)
        self.edges = list(edges)
        self.offset = offset
        self.units = units
        self.brought: Brought | None = None
        self.renamed: dict[str, str] = {}

    def redo(self) -> None:
        library = library_of(self.graph) if self.units is not None else None
        if library is not None and self.units is not None:
            if self.brought is None:
                types = {n.type for n in self.nodes}
                self.brought = bring_units(library, self.units, types)
                names = self.brought.renamed
                for node in self.nodes:
                    node.type = names.get(node.type, node.type)
                    node.library = library if node.type in library else None
            else:
                bring_back(library, self.brought)
        if not self.renamed:
            self.renamed = self.graph.add_subgraph(self.nodes, self.edges, self.offset)
            return
        # Redo after undo: the same ids again, so later commands that name them still apply.
        dx, dy = self.offset
        for node in self.nodes:
            pos = (node.pos[0] + dx, node.pos[1] + dy)
            self.graph.add_node(node.type, copy.deepcopy(node.params), pos, self.renamed[node.id])
        for edge in self.edges:
            if edge.source in self.renamed and edge.target in self.renamed:
                ends = self.renamed[edge.source], self.renamed[edge.target]
                self.graph.connect(*ends, edge.port, edge.source_port)

    def undo(self) -> None:
        for new_id in reversed(list(self.renamed.values())):
            self.graph.remove_node(new_id)
        if self.brought is not None:
            take_back(library_of(self.graph), self.brought)

    @property
    def renamed_units(self) -> dict[str, str]:
        """Units pasted under another name, for the status line: old → new."""
        if self.brought is None:
            return {}
        return {old: new for old, new in self.brought.renamed.items() if old != new}

    @property
    def new_ids(self) -> list[str]:
        return list(self.renamed.values())


# ------------------------------------------------------------------- units


class MakeUnitCommand(QUndoCommand):
    """Make a unit of the selected blocks (engine.units.edits.make_unit), as one step."""

    def __init__(self, graph: Graph, node_ids: Iterable[str], name: str, analysis: Any) -> None:
        super().__init__("Make unit")
        self.graph = graph
        self.node_ids = list(node_ids)
        self.name = name
        self.analysis = analysis
        self.grouping: unit_edits.Grouping | None = None

    def redo(self) -> None:
        self.grouping = unit_edits.make_unit(self.graph, self.node_ids, self.name, self.analysis)
        self.setText(f"Make unit {self.grouping.definition.name}")

    def undo(self) -> None:
        assert self.grouping is not None
        unit_edits.undo_make_unit(self.graph, self.grouping)

    @property
    def instance_id(self) -> str:
        assert self.grouping is not None
        return self.grouping.instance.id


class UngroupCommand(QUndoCommand):
    def __init__(self, graph: Graph, instance_id: str) -> None:
        super().__init__(f"Ungroup {instance_id}")
        self.graph = graph
        self.instance_id = instance_id
        self.ungrouping: unit_edits.Ungrouping | None = None

    def redo(self) -> None:
        self.ungrouping = unit_edits.ungroup(self.graph, self.instance_id)

    def undo(self) -> None:
        assert self.ungrouping is not None
        unit_edits.undo_ungroup(self.graph, self.ungrouping)


class IndependentCopyCommand(QUndoCommand):
    """Give one instance its own copy of its definition; undo points it back."""

    def __init__(self, graph: Graph, instance_id: str) -> None:
        super().__init__(f"Make {instance_id} independent")
        self.graph = graph
        self.instance_id = instance_id
        self.original = graph.node(instance_id).type
        self.copy_name: str | None = None
        self.before = unit_edits.arrangement(graph)

    def redo(self) -> None:
        self.before = unit_edits.arrangement(self.graph)
        self.copy_name = unit_edits.make_independent_copy(self.graph, self.instance_id)

    def undo(self) -> None:
        assert self.copy_name is not None
        unit_edits.retype(self.graph, self.instance_id, self.original)
        library_of(self.graph).remove(self.copy_name)
        self.graph.reorder(*self.before)


class AddUnitCommand(QUndoCommand):
    """Place an instance of a unit; a shipped unit's definition (and the units it uses)
    comes into the project's library first, and leaves again on undo."""

    def __init__(self, graph: Graph, name: str, pos: Point, source: Library | None) -> None:
        super().__init__(f"Add {name}")
        self.graph = graph
        self.name = name
        self.pos = pos
        self.source = source
        self.imported: list[str] = []
        self.node_id: str | None = None

    def redo(self) -> None:
        library = library_of(self.graph)
        if self.source is not None and self.name not in library:
            self.imported = import_unit(library, self.source, self.name)
        node = self.graph.add_node(self.name, {}, self.pos, self.node_id)
        self.node_id = node.id
        self.setText(f"Add {node.id}")

    def undo(self) -> None:
        assert self.node_id is not None
        self.graph.remove_node(self.node_id)
        library = library_of(self.graph)
        for name in reversed(self.imported):
            library.remove(name)
        self.imported = []


class RenameUnitCommand(QUndoCommand):
    """Rename a unit definition; its instances everywhere follow."""

    def __init__(self, root: Graph, old: str, new: str) -> None:
        super().__init__(f"Rename unit {old} → {new}")
        self.root, self.old, self.new = root, old, new

    def redo(self) -> None:
        unit_edits.rename_unit(self.root, self.old, self.new)

    def undo(self) -> None:
        unit_edits.rename_unit(self.root, self.new, self.old)


class RenamePortCommand(QUndoCommand):
    """Rename a unit's input or output port; the wires of its instances follow."""

    def __init__(self, root: Graph, unit: str, old: str, new: str) -> None:
        super().__init__(f"Rename port {unit}.{old} → {new}")
        self.root, self.unit, self.old, self.new = root, unit, old, new

    def redo(self) -> None:
        unit_edits.rename_port(self.root, self.unit, self.old, self.new)

    def undo(self) -> None:
        unit_edits.rename_port(self.root, self.unit, self.new, self.old)
