"""GUI tests run offscreen with pytest-qt; no dialog may block a test."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before anything loads Qt

from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QMessageBox  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "templates" / "cnn_lstm_video.json"


@dataclass
class Dialogs:
    """Message boxes shown during a test, and the answer the next question gets."""

    shown: list[tuple[str, str, str]] = field(default_factory=list)
    answer: QMessageBox.StandardButton = QMessageBox.StandardButton.Discard

    def texts(self, kind: str | None = None) -> list[str]:
        return [text for k, _title, text in self.shown if kind is None or k == kind]


@pytest.fixture(scope="session", autouse=True)
def clipboard_released_at_exit():
    """As the app does when it quits (gui.app): blocks left on the clipboard by a copy
    crashed the test process as it exited, after every test had passed."""
    from gui.editor.clipboard import release_clipboard

    yield
    release_clipboard()


@pytest.fixture(autouse=True)
def dialogs(monkeypatch: pytest.MonkeyPatch) -> Dialogs:
    record = Dialogs()

    def question(parent, title, text, *args, **kwargs):
        record.shown.append(("question", title, text))
        return record.answer

    def note(kind):
        def show(parent, title, text, *args, **kwargs):
            record.shown.append((kind, title, text))
            return QMessageBox.StandardButton.Ok

        return show

    monkeypatch.setattr(QMessageBox, "question", staticmethod(question))
    for kind in ("critical", "warning", "information"):
        monkeypatch.setattr(QMessageBox, kind, staticmethod(note(kind)))
    monkeypatch.setattr(QMessageBox, "about", staticmethod(note("about")))
    return record


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Runs, checkpoints and recovery files go to a temporary folder, never the user's."""
    folder = tmp_path / "netloom-data"
    monkeypatch.setenv("NETLOOM_DATA_DIR", str(folder))
    return folder


@pytest.fixture
def make_window(qtbot, tmp_path: Path):
    from gui.main_window import MainWindow

    def make(recovery_dir: Path | None = None) -> MainWindow:
        settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
        window = MainWindow(settings=settings, recovery_dir=recovery_dir or tmp_path / "recovery")
        qtbot.addWidget(window)
        window.resize(1200, 800)
        window.show()
        return window

    return make


@pytest.fixture
def window(make_window):
    return make_window()


@pytest.fixture
def video_window(window):
    assert window.open_template(TEMPLATE)
    return window
