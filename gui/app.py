"""Start the desktop editor: `python main.py` (or `python main.py gui PROJECT.json`)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtGui import QColor, QFont, QPainter, QPixmap
from PySide6.QtWidgets import QApplication, QSplashScreen

from gui.clipboard import release_clipboard
from gui.latency import ask_for_short_slices
from gui.main_window import MainWindow
from gui.startup_probe import StartupProbe, probe_mode
from gui.theme import apply_theme
from gui.training.warmup import prepare_for_training

log = logging.getLogger(__name__)


def run_gui(project_path: str | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("NetLoom")
    app.setOrganizationName("NetLoom")
    apply_theme(app)
    app.aboutToQuit.connect(release_clipboard)
    ask_for_short_slices()  # served within a frame while a run keeps every core busy
    splash = show_splash(app)
    prepare_for_training()  # ~1-3 s of imports now rather than a stall in the first run
    window = MainWindow()
    mode = probe_mode()
    probe = StartupProbe(window, mode) if mode else None
    window.show()
    if probe:
        QTimer.singleShot(0, probe.prepared)
    splash.finish(window)

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


def show_splash(app: QApplication) -> QSplashScreen:
    pixmap = QPixmap(420, 150)
    pixmap.fill(QColor("#1d1f23"))
    painter = QPainter(pixmap)
    painter.setPen(QColor("#e3e6eb"))
    font = QFont(app.font())
    font.setPointSizeF(20)
    font.setBold(True)
    painter.setFont(font)
    painter.drawText(28, 62, "NetLoom")
    font.setPointSizeF(10)
    font.setBold(False)
    painter.setFont(font)
    painter.setPen(QColor("#9aa3ae"))
    painter.drawText(28, 100, "Loading PyTorch…")
    painter.end()
    splash = QSplashScreen(pixmap)
    splash.show()
    app.processEvents()
    return splash
