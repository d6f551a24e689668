"""Start the desktop editor: `python main.py` (or `python main.py gui PROJECT.json`)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from gui.main_window import MainWindow
from gui.theme import apply_theme

log = logging.getLogger(__name__)


def run_gui(project_path: str | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("NetLoom")
    app.setOrganizationName("NetLoom")
    apply_theme(app)
    window = MainWindow()
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
    return app.exec()
