"""The adapted project into the open document as ONE undoable edit: each block whose
params changed (the Input's shape, the width of the layer feeding the Output, the
Output's loss) and the training settings (the dataset pointed at the person's data), in
one macro on the window's undo stack — Ctrl+Z puts graph and settings back together.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gui.canvas.commands import SetParamsCommand
from gui.training.commands import SetTrainingCommand

if TYPE_CHECKING:
    from PySide6.QtGui import QUndoStack

    from engine.project.project import Project


class AdaptError(Exception):
    """The adapted project cannot be applied to the open one (one line, shown as is)."""


def param_changes(current: Project, adapted: Project) -> dict[str, dict]:
    """Block id → the params that differ, for blocks in both graphs; AdaptError when
    the adapted graph has other blocks or wires (adapt only resizes)."""
    old, new = current.graph, adapted.graph
    if {n.id for n in old.nodes} != {n.id for n in new.nodes}:
        added = sorted({n.id for n in new.nodes} - {n.id for n in old.nodes})
        removed = sorted({n.id for n in old.nodes} - {n.id for n in new.nodes})
        raise AdaptError(
            f"the adapted network adds {added or 'no blocks'} and removes "
            f"{removed or 'no blocks'}; only resizing is applied here — use the adapt command"
        )
    changes: dict[str, dict] = {}
    for node in new.nodes:
        before = old.node(node.id).params
        changed = {k: v for k, v in node.params.items() if before.get(k) != v}
        if changed:
            changes[node.id] = changed
    return changes


def apply_adapted(stack: QUndoStack, current: Project, adapted: Project, text: str) -> int:
    """Push the changes as one macro named `text`; returns the blocks changed."""
    changes = param_changes(current, adapted)
    stack.beginMacro(text)
    try:
        for node_id, params in changes.items():
            stack.push(SetParamsCommand(current.graph, node_id, params))
        if adapted.training != current.training:
            stack.push(SetTrainingCommand(current, adapted.training, "dataset"))
    finally:
        stack.endMacro()
    return len(changes)
