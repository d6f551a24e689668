"""Render the README's screenshots offscreen: the main window with the CNN+LSTM video
template, and the template gallery.

    QT_QPA_PLATFORM=offscreen .venv/bin/python resources/make_screenshots.py
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from gui.gallery import TemplateGallery  # noqa: E402
from gui.main_window import MainWindow  # noqa: E402
from gui.theme import apply_theme  # noqa: E402

OUT = ROOT / "resources" / "screenshots"
TEMPLATE = ROOT / "templates" / "cnn_lstm_video.json"
SIZE = (1600, 980)


def settle(app: QApplication, window) -> None:
    for _ in range(5):
        app.processEvents()
    window.repaint()
    app.processEvents()


def main() -> int:
    logging.basicConfig(level=logging.INFO)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_theme(app)
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        settings = QSettings(str(Path(scratch) / "settings.ini"), QSettings.Format.IniFormat)
        window = MainWindow(settings=settings, recovery_dir=Path(scratch) / "recovery")
        window.resize(*SIZE)
        window.show()
        settle(app, window)
        window.open_template(TEMPLATE)
        settle(app, window)
        window.view.fit_all()
        window.focus_node("conv2")  # shows the inspector with a Conv2d's params and doc
        window.view.fit_all()
        settle(app, window)
        window.grab().save(str(OUT / "editor.png"))
        logging.info("wrote %s", OUT / "editor.png")

        gallery = TemplateGallery(window)
        gallery.show()
        settle(app, gallery)
        gallery.grab().save(str(OUT / "gallery.png"))
        logging.info("wrote %s", OUT / "gallery.png")
        gallery.close()
        window.undo_stack.setClean()  # nothing to save: close without asking
        window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
