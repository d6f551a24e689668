"""main.py dispatches: no arguments or `gui` opens the window (gui.app.run_gui, given the
project named on the command line), any other command runs headless through
engine.cli.main.run; the engine alone cannot open the window, and a window that cannot
start for a missing package says so in one line, exit 2 (as before the move)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import main
from engine.cli.main import run

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "templates" / "cnn_digits.json"


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """What `gui.app.run_gui` was asked to open (the window itself is not started)."""
    import gui.app

    calls: list[str | None] = []
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")  # the display check passes
    monkeypatch.setattr(gui.app, "run_gui", lambda project=None: calls.append(project) or 0)
    return calls


@pytest.mark.parametrize(
    ("argv", "project"), [([], None), (["gui"], None), (["gui", str(TEMPLATE)], str(TEMPLATE))]
)
def test_no_command_or_gui_opens_the_window_with_the_project_given(
    opened: list[str | None], argv: list[str], project: str | None
) -> None:
    assert main.main(argv) == 0
    assert opened == [project]


def test_a_command_runs_headless_without_opening_the_window(
    opened: list[str | None], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main.main(["check", str(TEMPLATE)]) == 0
    assert opened == []
    assert "OK: every wire fits." in capsys.readouterr().out


def test_the_engine_alone_does_not_open_the_window(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["gui"]) == 2
    err = capsys.readouterr().err
    assert err == "error: the desktop editor starts from main.py: python main.py gui [PROJECT]\n"


def test_a_missing_window_package_is_one_line_naming_it(tmp_path: Path) -> None:
    # PySide6 made unimportable in a fresh interpreter, as in an environment without it.
    script = (
        "import sys\n"
        "class Refuse:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.partition('.')[0] == 'PySide6':\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, Refuse())\n"
        "import main\n"
        f"sys.exit(main.main(['gui', {str(TEMPLATE)!r}]))\n"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: The desktop editor needs the package PySide6-Essentials")
    assert "pip install" in lines[0]
