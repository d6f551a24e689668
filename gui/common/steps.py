"""Run work in small steps, each in a turn of the event loop of its own.

The window must answer within a frame (16 ms) even while it fills several views at
once (a run ends: panel, results, runs list) or builds plots ahead of need. A step
queue runs one callable per turn, so input and paint events get served between them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Slot

# Between two steps: a step's repaint comes in the next turn of the event loop, and a
# next step due at once ran in that same turn (4 + 6 ms at a run's end, a timer 17 ms
# late). Spaced this far apart, each repaint has a turn of its own.
STEP_GAP_MS = 8


class StepQueue(QObject):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        # (tag, step): a tag lets a group of steps be dropped when it is no longer wanted
        self.steps: deque[tuple[str, Callable[[], object]]] = deque()
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self._next)

    def add(self, *steps: Callable[[], object], delay_ms: int = 0, tag: str = "") -> None:
        self.steps.extend((tag, step) for step in steps)
        if not self.timer.isActive():
            self.timer.start(delay_ms)

    def drop(self, tag: str) -> None:
        """Forget the steps added with `tag` that have not run yet."""
        self.steps = deque(entry for entry in self.steps if entry[0] != tag)

    @property
    def pending(self) -> bool:
        return bool(self.steps)

    def run_all(self) -> None:
        """Do what is left now (the result is needed at once)."""
        self.timer.stop()
        while self.steps:
            self.steps.popleft()[1]()

    @Slot()
    def _next(self) -> None:
        if self.steps:
            self.steps.popleft()[1]()
        if self.steps:
            self.timer.start(STEP_GAP_MS)
