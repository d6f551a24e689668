"""The undo command that freezes blocks and unit instances, or thaws them.

A frozen node keeps its weights while the rest of the model trains (engine.train.freeze).
One command covers any number of nodes, so ticking Freeze with several selected is one
undo step; like every command it changes the model only, and the canvas follows.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtGui import QUndoCommand

from engine.graph.graph import Graph


class SetFrozenCommand(QUndoCommand):
    def __init__(self, graph: Graph, node_ids: Iterable[str], frozen: bool) -> None:
        self.graph = graph
        self.frozen = frozen
        self.before = {node_id: graph.node(node_id).frozen for node_id in node_ids}
        ids = list(self.before)
        what = ids[0] if len(ids) == 1 else f"{len(ids)} blocks"
        super().__init__(f"{'Freeze' if frozen else 'Unfreeze'} {what}")

    def redo(self) -> None:
        for node_id in self.before:
            self.graph.set_frozen(node_id, self.frozen)

    def undo(self) -> None:
        for node_id, frozen in self.before.items():
            self.graph.set_frozen(node_id, frozen)
