"""Keep Python's garbage collector on the GUI thread while other threads run Python.

An automatic collection runs in whichever thread happens to allocate when a threshold
is crossed. If that is the training (or dataset) thread, and the garbage holds the
last reference to a Qt object, the object is destroyed on the wrong thread: its timers
stay registered and later fire at freed memory (a segfault inside
QApplication::notify). While any worker thread is busy, automatic collection is off
and the GUI thread collects on a timer with the usual thresholds (as pyqtgraph's
GarbageCollector does).

The objects that exist when the first worker starts are frozen (`gc.freeze`) until the
last one ends: the window's ~130 thousand objects took 56 ms to walk in a full
collection, which the thresholds ask for about every 100 s of a run — a stall of three
frames. Frozen, a full collection walks only what the run has made since.
"""

from __future__ import annotations

import gc
import logging

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Slot

log = logging.getLogger(__name__)

INTERVAL_MS = 250


class _Collector(QObject):
    def __init__(self, parent: QObject | None) -> None:
        super().__init__(parent)
        self.holds = 0
        self.quiet = 0  # holds that asked for no collections at all
        self.was_enabled = True
        self.thresholds = gc.get_threshold()
        self.timer = QTimer(self)
        self.timer.setInterval(INTERVAL_MS)
        self.timer.timeout.connect(self.collect)

    def hold(self, collect: bool) -> None:
        if self.holds == 0:
            self.was_enabled = gc.isenabled()
            gc.disable()
            gc.freeze()
        self.holds += 1
        self.quiet += 0 if collect else 1
        self._pace()

    def release(self, collect: bool) -> None:
        if self.holds == 0:
            return
        self.holds -= 1
        self.quiet -= 0 if collect else 1
        self._pace()
        if self.holds == 0:
            gc.unfreeze()  # collected again from now on, with everything else
            if self.was_enabled:
                gc.enable()

    def _pace(self) -> None:
        wanted = self.holds > self.quiet
        if wanted and not self.timer.isActive():
            self.timer.start()
        elif not wanted:
            self.timer.stop()

    @Slot()
    def collect(self) -> None:
        """Collect the generations whose counts passed their thresholds."""
        counts = gc.get_count()
        for generation in range(3):
            if counts[generation] <= self.thresholds[generation]:
                break
            gc.collect(generation)


_collector: _Collector | None = None


def _instance() -> _Collector:
    global _collector
    if _collector is None:
        _collector = _Collector(QCoreApplication.instance())
    return _collector


def hold(collect: bool = True) -> None:
    """A worker thread starts running Python (call on the GUI thread). collect=False:
    nothing is collected until it is released, unless another holder asks (torch's
    import at start-up makes ~100 thousand lasting objects in seconds, which timed
    collections walked again and again: 120-310 ms on the GUI thread each)."""
    _instance().hold(collect)


def release(collect: bool = True) -> None:
    """That worker is done (call on the GUI thread, with the `collect` it held with)."""
    _instance().release(collect)
