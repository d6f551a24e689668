"""Start the desktop editor: `python main.py` (or `python main.py gui PROJECT.json`).

The window shows before anything heavy loads: torch (which the in-window views use,
and a spare trainer process imports for the first run) is loaded in the background
after the window's first paint (gui.run.preparation). bench/startup.py measures
the time from `python main.py` to that paint.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from gui.common.latency import ask_for_short_slices
from gui.common.theme import apply_theme
from gui.editor.clipboard import release_clipboard
from gui.main_window import MainWindow
from gui.run.preparation import AfterFirstPaint
from gui.startup_probe import StartupProbe, probe_mode

log = logging.getLogger(__name__)


def run_gui(project_path: str | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("NetLoom")
    app.setOrganizationName("NetLoom")
    apply_theme(app)
    app.aboutToQuit.connect(release_clipboard)
    ask_for_short_slices()  # served within a frame while a run keeps every core busy
    window = MainWindow()
    mode = probe_mode()
    probe = StartupProbe(window, mode) if mode else None
    AfterFirstPaint(window, probe.prepared if probe else None)
    window.show()

    def after_show() -> None:
        # Offer crash recovery first; then open what was asked for, or the gallery.
        if window.offer_recovery():
            return
        if project_path:
            window.open_path(Path(project_path))
        else:
            window.new_from_template()

    QTimer.singleShot(0, after_show)
    try:
        return app.exec()
    finally:
        # A run still going when the event loop ends (no close event came): stop it and
        # join its thread here, as the queued finished → quit can no longer run.
        window.training.shutdown()
