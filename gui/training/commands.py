"""The undo command for the project's training settings (dataset, hyperparameters).

Settings share the window's undo stack with graph edits, so Ctrl+Z takes back a
changed learning rate like a moved block, and the document is marked modified.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from PySide6.QtGui import QUndoCommand

from engine.project.project import Project


class SetTrainingCommand(QUndoCommand):
    def __init__(
        self,
        project: Project,
        after: dict[str, Any],
        text: str,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(text)
        self.project = project
        self.before = copy.deepcopy(project.training)
        self.after = copy.deepcopy(after)
        self.on_change = on_change

    def _set(self, training: dict[str, Any]) -> None:
        self.project.training = copy.deepcopy(training)
        if self.on_change is not None:
            self.on_change()

    def redo(self) -> None:
        self._set(self.after)

    def undo(self) -> None:
        self._set(self.before)
