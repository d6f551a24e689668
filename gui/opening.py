"""Opening a big project without holding the GUI thread.

Parsing and the shape pass are pure Python with no Qt (engine.project.project.load,
engine.graph.shapes.analyze): for a big file they run in a thread while the event loop keeps
turning. Building the canvas must happen on the GUI thread; `run_in_slices` spreads it
over event-loop turns of a few milliseconds each. Both wait in a local event loop, so
their callers read as plain calls: `open_path` still returns once the project is open.

A small file can hold a big project (units ten to a level: 12 KB for 10,000 blocks),
so every open takes the thread; it costs a millisecond.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QEventLoop, QObject, QTimer, Signal

from engine.graph.shapes import Analysis, analyze
from engine.project.project import Project, load

log = logging.getLogger(__name__)

# A graph with more blocks than this is put on the canvas in slices (a turn of the
# event loop costs Qt a walk over the scene's items, so small graphs go at once).
SLICED_BLOCKS = 2_000
# The GUI thread's work per event-loop turn while a canvas fills: inside a frame.
SLICE_SECONDS = 0.015


@dataclass
class Loaded:
    project: Project
    analysis: Analysis


class _Done(QObject):
    finished = Signal()  # emitted from the loading thread; queued to the GUI thread


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while a project opens, and what the
    open made frozen after (gc.freeze: later collections skip it).

    An open makes a few hundred thousand objects that all live; each full collection
    in between walks all of them while holding the interpreter lock (measured: 0.4 to
    1.1 s each, five per 10,000-block open, the window stopped for each), and after the
    open every later full collection would walk them again. What an earlier open froze
    is unfrozen first, so a project that has been replaced is collected as usual."""
    gc.unfreeze()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


def load_project(path: Path) -> Loaded:
    """`engine.project.project.load(path)` and the shape pass, in a thread; raises what `load`
    raises. The event loop turns while it waits."""
    outcome: dict[str, object] = {}

    def work() -> None:
        try:
            project = load(path)
            outcome["loaded"] = Loaded(project, analyze(project.graph))
        except BaseException as err:  # re-raised on the GUI thread, where it is handled
            outcome["error"] = err
        finally:
            done.finished.emit()

    done = _Done()
    loop = QEventLoop()
    done.finished.connect(loop.quit)
    started = time.perf_counter()
    thread = threading.Thread(target=work, name=f"load {path.name}", daemon=True)
    thread.start()
    loop.exec()
    thread.join()
    log.info("%s parsed in a thread in %.2f s", path, time.perf_counter() - started)
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["loaded"]  # type: ignore[return-value]


def run_in_slices(steps: Iterator[None], sliced: bool) -> None:
    """Exhaust `steps`: at once, or (`sliced`) a few milliseconds per event-loop turn,
    returning when it is done. An exception in a step is raised here."""
    if not sliced:
        for _ in steps:
            pass
        return
    loop = QEventLoop()
    timer = QTimer()
    timer.setInterval(0)
    failure: list[BaseException] = []

    def turn() -> None:
        end = time.perf_counter() + SLICE_SECONDS
        try:
            while time.perf_counter() < end:
                next(steps)
        except StopIteration:
            timer.stop()
            loop.quit()
        except BaseException as err:  # noqa: BLE001 (raised again below)
            failure.append(err)
            timer.stop()
            loop.quit()

    timer.timeout.connect(turn)
    timer.start()
    loop.exec()
    if failure:
        raise failure[0]
