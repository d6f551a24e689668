"""GUI tests run offscreen with pytest-qt; no dialog may block a test.

The set-up the GUI tests share: the window (offscreen, with settings and a recovery
folder of the test's own, closed by pytest-qt after the test), a loaded template, the
app's theme, a private data folder and a warm trainer process for the tests that train.
Plain helpers live in tests/helpers.py, tests/gui/helpers.py and tests/gui/training.py.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before anything loads Qt

from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QMessageBox  # noqa: E402

from tests.helpers import template  # noqa: E402

TEMPLATE = template("cnn_lstm_video")


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


def own_settings(folder: Path) -> QSettings:
    """Window settings kept in `folder`, never the user's (recent files, layout, the
    last folder a dialog used)."""
    return QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def settings(tmp_path: Path) -> QSettings:
    """The settings a window made by hand in a test uses: the test's own."""
    return own_settings(tmp_path)


@pytest.fixture
def spare_trainer(data_dir: Path) -> Path:
    """As the app does at start-up: a trainer process warms up (imports torch) while the
    test makes its window, so a run does not wait for a fresh one. For the modules that
    train (`pytestmark = pytest.mark.usefixtures("spare_trainer")`, so it is in place
    before any window is made); runs go to the test's own data folder."""
    from gui.run import child_trainer

    child_trainer.keep_spare()
    return data_dir


@pytest.fixture
def themed(qapp):
    """The app's own style, font and style sheet (they set every widget's size, a
    column's width), put back afterwards for the other tests."""
    from gui.common.theme import apply_theme

    style, font, sheet = qapp.style().name(), qapp.font(), qapp.styleSheet()
    apply_theme(qapp)
    yield
    qapp.setStyleSheet(sheet)
    qapp.setFont(font)
    qapp.setStyle(style)


@pytest.fixture
def make_window(qtbot, tmp_path: Path):
    from gui.main_window import MainWindow

    def make(recovery_dir: Path | None = None, size: tuple[int, int] = (1200, 800)) -> MainWindow:
        """A window laid out at `size`, then shown (offscreen); closed after the test."""
        settings = own_settings(tmp_path)
        window = MainWindow(settings=settings, recovery_dir=recovery_dir or tmp_path / "recovery")
        qtbot.addWidget(window)
        window.resize(*size)
        window.show()
        return window

    return make


@pytest.fixture
def window(make_window):
    return make_window()


@pytest.fixture
def open_template(window):
    """A loaded template: `open_template(name)` opens the shipped template `name` in the
    window as the gallery does, and returns the window."""

    def open_(name: str):
        assert window.open_template(template(name))
        return window

    return open_


@pytest.fixture
def video_window(open_template):
    return open_template("cnn_lstm_video")
