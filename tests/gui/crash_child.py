"""A window process for tests/gui/test_autosave_crash.py, killed with SIGKILL.

    python crash_child.py PROJECT

Starts the window as `python main.py gui PROJECT` does (gui.app.run_gui), and once the
project is open adds a ReLU block from the palette's action, an unsaved edit, then
prints `edited <id>`. The autosave timer (NETLOOM_AUTOSAVE_MS) writes the recovery
file; the test waits for it and kills this process.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from PySide6.QtCore import QPointF, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from gui.app import run_gui  # noqa: E402
from gui.main_window import MainWindow  # noqa: E402


def edit_once_open(project: Path) -> QTimer:
    """Poll until the window shows `project`, then add a block (once)."""
    timer = QTimer()

    def poll() -> None:
        for window in QApplication.topLevelWidgets():
            if isinstance(window, MainWindow) and window.path == project:
                timer.stop()
                node_id = window.add_block("ReLU", QPointF(900, 500))
                print(f"edited {node_id}", flush=True)
                return

    timer.timeout.connect(poll)
    timer.start(20)
    return timer


def main() -> int:
    project = Path(sys.argv[1])
    _app = QApplication.instance() or QApplication(sys.argv[:1])  # run_gui uses it
    _timer = edit_once_open(project)  # kept alive while the window runs
    return run_gui(str(project))


if __name__ == "__main__":
    sys.exit(main())
