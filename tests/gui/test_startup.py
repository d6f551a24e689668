"""The first window comes fast: nothing heavy (torch, onnx, scikit-learn) loads before it
paints; training is prepared after that, in the background (bench/startup.py times it)."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import textwrap
import weakref
from pathlib import Path

import pytest

from gui.common import gc_guard
from gui.run import child_trainer
from gui.run.preparation import AfterFirstPaint
from tests.gui.conftest import TEMPLATE
from tests.helpers import ROOT

HEAVY = ("torch", "onnx", "onnxruntime", "onnxscript", "sklearn", "scipy")
# A bound on failure: importing torch took over a minute on a 2-core machine under load.
PREPARED_TIMEOUT_MS = 240_000

# Starts the app as `python main.py gui PROJECT` does (gui.app.run_gui), with the event
# loop replaced by one that ends at the main window's first paint; prints what was
# loaded by module import and at that paint.
FIRST_PAINT = textwrap.dedent(
    """
    import json, sys
    from PySide6.QtCore import QEvent, QEventLoop, QObject, QTimer
    from PySide6.QtWidgets import QApplication

    import gui.app
    from gui.main_window import MainWindow

    seen = {"at_import": sorted(m for m in HEAVY if m in sys.modules)}

    class FirstPaint(QObject):
        def __init__(self, loop):
            super().__init__()
            self.loop = loop

        def eventFilter(self, watched, event):
            if event.type() == QEvent.Type.Paint and "at_paint" not in seen:
                seen["at_paint"] = sorted(m for m in HEAVY if m in sys.modules)
                self.loop.quit()
            return False

    def until_first_paint(app):
        window = next(w for w in app.topLevelWidgets() if isinstance(w, MainWindow))
        loop = QEventLoop()
        watcher = FirstPaint(loop)
        window.installEventFilter(watcher)
        QTimer.singleShot(120_000, loop.quit)  # a bound on failure
        loop.exec()
        window.removeEventFilter(watcher)
        window.undo_stack.setClean()
        return 0

    QApplication.exec = until_first_paint
    gui.app.run_gui(PROJECT)
    print(json.dumps(seen))
    """
)


def test_the_window_paints_before_torch_or_onnx_is_imported(tmp_path: Path) -> None:
    script = f"HEAVY = {HEAVY!r}\nPROJECT = {str(TEMPLATE)!r}\n" + FIRST_PAINT
    env = dict(os.environ)
    env.update(
        QT_QPA_PLATFORM="offscreen",
        NETLOOM_DATA_DIR=str(tmp_path / "data"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),  # the window's QSettings
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen == {"at_import": [], "at_paint": []}


# The app quits while torch is still being imported on its background thread.
QUIT_DURING_IMPORT = textwrap.dedent(
    """
    import threading
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    import gui.app
    from gui.main_window import MainWindow

    def importing():
        return any(t.name == "NetLoom torch import" for t in threading.enumerate())

    def until_the_import_runs(app):
        loop = QEventLoop()
        poll = QTimer(interval=5)
        poll.timeout.connect(lambda: importing() and loop.quit())
        poll.start()
        QTimer.singleShot(120_000, loop.quit)  # a bound on failure
        loop.exec()
        assert importing(), "the import never started"
        for window in app.topLevelWidgets():
            if isinstance(window, MainWindow):
                window.undo_stack.setClean()
        return 0

    QApplication.exec = until_the_import_runs
    gui.app.run_gui(PROJECT)
    """
)


def test_quitting_while_torch_loads_exits_cleanly(tmp_path: Path) -> None:
    # Closed in its first seconds, the app aborted inside libtorch's initialisers, or
    # logged the import's failure ("can't register atexit after shutdown").
    script = f"PROJECT = {str(TEMPLATE)!r}\n" + QUIT_DURING_IMPORT
    env = dict(os.environ)
    env.update(
        QT_QPA_PLATFORM="offscreen",
        NETLOOM_DATA_DIR=str(tmp_path / "data"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "ERROR" not in done.stderr, done.stderr


def test_training_is_prepared_after_the_first_paint(qtbot, tmp_path: Path, settings) -> None:
    from gui.main_window import MainWindow

    window = MainWindow(settings=settings, recovery_dir=tmp_path / "recovery")
    qtbot.addWidget(window)
    finished: list[bool] = []
    preparation = AfterFirstPaint(window, lambda: finished.append(True))
    assert not preparation.started  # nothing before the window is on screen
    window.show()
    qtbot.waitUntil(lambda: preparation.started)
    qtbot.waitUntil(lambda: bool(finished), timeout=PREPARED_TIMEOUT_MS)
    assert "torch" in sys.modules and "engine.inspect.saliency" in sys.modules
    assert child_trainer.spares.keep  # a trainer process warms up for the first run
    assert gc.isenabled()  # collection is back once the import is done
    assert gc.get_freeze_count() > 0  # start-up's objects are out of the collector's way


class Cycle:
    def __init__(self) -> None:
        self.me = self


def test_a_quiet_hold_collects_nothing_until_a_worker_asks(qtbot) -> None:
    gc.collect()
    gc_guard.hold(collect=False)  # as the start-up's torch import does
    try:
        assert not gc.isenabled()
        garbage = Cycle()
        gone = weakref.ref(garbage)
        del garbage
        made = [[] for _ in range(2 * gc.get_threshold()[0])]  # past the youngest's threshold
        gc_guard.hold()  # a run starts meanwhile: its timed collections resume
        try:
            qtbot.waitUntil(lambda: gone() is None, timeout=10_000)
        finally:
            gc_guard.release()
        assert not gc.isenabled() and made  # still held by the quiet holder
    finally:
        gc_guard.release(collect=False)
    assert gc.isenabled()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="dlopen by path is Linux's")
def test_torch_libraries_load_before_torch_is_imported() -> None:
    code = textwrap.dedent(
        """
        import sys
        from gui.run.warmup import load_torch_libraries
        loaded = load_torch_libraries()
        maps = open("/proc/self/maps").read()
        print(loaded, "torch" in sys.modules, "libtorch_cpu.so" in maps)
        import torch
        print(float(torch.ones(3).sum()))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["2", "False", "True", "3.0"]
