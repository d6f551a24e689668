"""Autosave restores the unsaved canvas after the window is killed, and says so.

A real window process (tests/gui/crash_child.py: gui.app.run_gui, as `python main.py
gui PROJECT` starts it) opens a project, gets an unsaved edit and autosaves it (a short
NETLOOM_AUTOSAVE_MS); the test waits for the recovery file, kills the process with
SIGKILL, and starts a new window on the same data folder: it asks to restore, and the
restored canvas holds the edit, marked unsaved, with a status-bar line saying so.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from PySide6.QtWidgets import QMessageBox

from engine.project.project import load
from gui.autosave import ENV_INTERVAL, interval_from_env
from tests.helpers import ROOT

CHILD = Path(__file__).with_name("crash_child.py")
STARTUP_LIMIT_S = 60.0  # a generous ceiling for a busy machine, not a wait


def wait_for(condition, what: str, child: subprocess.Popen) -> None:
    """Poll `condition` until it holds; fail at once if the child ended first."""
    deadline = time.monotonic() + STARTUP_LIMIT_S
    while not condition():
        if child.poll() is not None:
            raise AssertionError(f"the window process ended (code {child.returncode}) {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} within {STARTUP_LIMIT_S:.0f} s")
        time.sleep(0.02)


def crash_after_autosave(project: Path, data: Path, tmp_path: Path) -> str:
    """Run the window, let it autosave an edit, SIGKILL it; the added block's id."""
    env = dict(os.environ)
    env.update(
        QT_QPA_PLATFORM="offscreen",
        NETLOOM_DATA_DIR=str(data),
        XDG_CONFIG_HOME=str(tmp_path / "config"),  # its settings, not the user's
        **{ENV_INTERVAL: "100"},
    )
    child = subprocess.Popen(
        [sys.executable, str(CHILD), str(project)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,  # its own group: the kill takes any helper it started
    )
    try:
        line = child.stdout.readline()
        assert line.startswith("edited "), f"the window said {line!r}"
        meta = data / "recovery" / "recovery-meta.json"  # written after the project
        wait_for(meta.exists, "autosave after the edit", child)
    finally:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    return line.split()[1]


def test_a_killed_window_s_edit_is_offered_and_restored(
    make_window, dialogs, data_dir: Path, tmp_path: Path
) -> None:
    project = tmp_path / "iris.json"
    shutil.copy(ROOT / "templates" / "mlp_iris.json", project)
    before = load(project)
    added = crash_after_autosave(project, data_dir, tmp_path)
    assert added not in {node.id for node in before.graph.nodes}

    window = make_window(data_dir / "recovery")  # the next start, same data folder
    dialogs.answer = QMessageBox.StandardButton.Yes
    assert window.offer_recovery()
    kind, title, text = dialogs.shown[-1]
    assert kind == "question" and "did not close normally" in text and "iris.json" in text
    assert added in [node.id for node in window.graph.nodes]
    assert window.graph.node(added).type == "ReLU"
    assert len(window.graph) == len(before.graph) + 1
    assert window.path == project  # Save writes back where it came from
    assert window.isWindowModified()  # the restored edit is not saved yet
    assert "Restored autosaved work" in window.statusBar().currentMessage()
    assert len(load(project).graph) == len(before.graph)  # the file itself is as it was


def test_autosave_interval_is_read_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv(ENV_INTERVAL, "250")
    assert interval_from_env() == 250
    monkeypatch.setenv(ENV_INTERVAL, "soon")
    assert interval_from_env() == 30_000
