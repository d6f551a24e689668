"""Time to the first window, for bench/startup.py.

With NETLOOM_STARTUP_PROBE set, the app prints one line per milestone to stdout,
`netloom-startup <milestone> <time.time()>` (the bench subtracts the moment it started
the process), then quits:

- `window`: quit once the main window has painted for the first time (what the user
  sees as "the window is there"); also prints `window-cpu`, the CPU seconds the
  process had used by then (on a shared machine, less swayed by the others' load).
- `ready`: carry on until the after-start preparation (gui.run.warmup) is done,
  then also print `ready` and `longest-stall-ms`: the longest the event loop went
  unserved meanwhile, measured by a 5 ms timer (how long the window froze, if at all).
"""

from __future__ import annotations

import os
import sys
import time

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialog, QWidget

ENV_PROBE = "NETLOOM_STARTUP_PROBE"
MARK = "netloom-startup"
PROBE_TICK_MS = 5


def probe_mode() -> str | None:
    """ "window", "ready" or None (the probe is off, as in every normal start)."""
    mode = os.environ.get(ENV_PROBE, "").strip().lower()
    if not mode:
        return None
    if mode not in ("window", "ready"):
        raise ValueError(f"{ENV_PROBE}: expected 'window' or 'ready', got {mode!r}")
    return mode


def report(milestone: str, value: float | None = None) -> None:
    shown = time.time() if value is None else value
    sys.stdout.write(f"{MARK} {milestone} {shown:.6f}\n")
    sys.stdout.flush()


class StartupProbe(QObject):
    """Watches the window's first paint; in "ready" mode also the event loop's gaps."""

    def __init__(self, window: QWidget, mode: str) -> None:
        super().__init__(window)
        self.mode = mode
        self.painted = False
        self.done = False  # the preparation finished (perhaps before the first paint)
        self.last_tick = 0.0
        self.longest_gap_s = 0.0
        self.ticker = QTimer(self)
        self.ticker.setTimerType(Qt.TimerType.PreciseTimer)
        self.ticker.setInterval(PROBE_TICK_MS)
        self.ticker.timeout.connect(self._tick)
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.Paint and not self.painted:
            self.painted = True
            report("window")
            report("window-cpu", time.process_time())  # this process's CPU seconds so far
            if self.mode == "window":
                QTimer.singleShot(0, quit_app)
            else:
                self.last_tick = time.perf_counter()
                self.ticker.start()
                if self.done:
                    self.prepared()
        return False

    def _tick(self) -> None:
        now = time.perf_counter()
        self.longest_gap_s = max(self.longest_gap_s, now - self.last_tick)
        self.last_tick = now

    def prepared(self) -> None:
        """The after-start preparation has finished (called on the GUI thread)."""
        self.done = True
        if self.mode != "ready" or not self.painted:
            return
        self._tick()
        self.ticker.stop()
        report("ready")
        report("longest-stall-ms", self.longest_gap_s * 1000)
        QTimer.singleShot(0, quit_app)


def quit_app() -> None:
    """Quit, closing any dialog first (the template gallery may be open by now)."""
    for widget in QApplication.topLevelWidgets():
        if isinstance(widget, QDialog) and widget.isVisible():
            widget.reject()
    QApplication.quit()
