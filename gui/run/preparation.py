"""After the window's first paint: get training ready without holding the window up.

The window shows first (no torch in its process yet); then, once it has painted,
`gui.run.warmup.import_in_background` imports what the in-window views compute
with on a background thread, while the user is reading the template gallery. When that
is done, a spare trainer process starts (it pays torch's and torch._dynamo's imports
over there, for the first run). One after the other, not together: on 2 cores the
spare's start beside the import doubled the window's event-loop gaps over 50 ms
(15-20 against 5-8 in three starts each under load) and lengthened the longest.

While that thread imports, garbage collection is held (gui.common.gc_guard: a
collection run by the importing thread could destroy a Qt object on the wrong thread),
with no timed collections on the GUI thread either: they walked the import's ~100
thousand new objects again and again, 120-310 ms each. When it is done, what start-up
allocated is frozen out of the collector's reach (`gc.freeze`): a full collection of it
(~235 thousand objects) took ~300 ms.

`prepare_for_training` does the same on the calling thread, for scripts that want it
all done before they go on (screenshots, benchmarks).
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer, Signal, Slot
from PySide6.QtWidgets import QWidget

from gui.common import gc_guard
from gui.run import child_trainer
from gui.run.warmup import import_for_views, import_in_background

log = logging.getLogger(__name__)


def prepare_for_training() -> float:
    """Start a spare trainer process and import the views' torch, then freeze what
    start-up allocated out of the collector's reach; returns the seconds this took on
    the calling thread.

    A full garbage collection walks every object the process holds, on the GUI thread
    (gui.common.gc_guard) in the middle of a run; `gc.freeze` moves the start-up
    objects, which live as long as the process, to a generation collections never scan.
    """
    began = time.perf_counter()
    child_trainer.keep_spare()
    import_for_views()
    gc.collect()
    gc.freeze()
    return time.perf_counter() - began


class AfterFirstPaint(QObject):
    """Starts the preparation once `window` has painted; `on_done` runs on the GUI
    thread when it has finished."""

    finished = Signal(float)  # emitted by the importing thread: seconds it took

    def __init__(self, window: QWidget, on_done: Callable[[], None] | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.on_done = on_done
        self.started = False
        self.done = False
        self.finished.connect(self._finish)
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.Paint and not self.started:
            self.started = True
            self.window.removeEventFilter(self)
            QTimer.singleShot(0, self.begin)  # after this paint has reached the screen
        return False

    @Slot()
    def begin(self) -> None:
        gc_guard.hold(collect=False)  # see the module's docstring
        import_in_background(self._report)

    def _report(self, seconds: float) -> None:
        """On the importing thread: tell the GUI thread (a queued signal)."""
        try:
            self.finished.emit(seconds)
        except RuntimeError:  # the window, and this object with it, is gone: app quit
            log.debug("prepared after the window closed")

    @Slot(float)
    def _finish(self, seconds: float) -> None:
        gc_guard.release(collect=False)
        gc.freeze()
        child_trainer.keep_spare()
        self.done = True
        log.info("prepared for training in the background in %.2f s", seconds)
        if self.on_done is not None:
            self.on_done()
