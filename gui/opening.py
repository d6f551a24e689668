"""Opening a big project without holding the GUI thread.

Parsing and the shape pass are pure Python with no Qt (engine.project.load,
engine.shapes.analyze): for a big file they run in a thread while the event loop keeps
turning. Building the canvas must happen on the GUI thread; `run_in_slices` spreads it
over event-loop turns of a few milliseconds each. Both wait in a local event loop, so
their callers read as plain calls: `open_path` still returns once the project is open.

Small files take the direct path (no thread, no local loop): they open within a frame.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QEventLoop, QObject, QTimer, Signal

from engine.project import Project, load
from engine.shapes import Analysis, analyze

log = logging.getLogger(__name__)

# A project file bigger than this is parsed in a thread (a 1,000-block file is ~150 KB
# and parses in ~60 ms; ten times that would hold the window for a visible moment).
BACKGROUND_BYTES = 256 * 1024
# A graph with more blocks than this is put on the canvas in slices (a turn of the
# event loop costs Qt a walk over the scene's items, so small graphs go at once).
SLICED_BLOCKS = 2_000
# The GUI thread's work per event-loop turn while a canvas fills: inside a frame.
SLICE_SECONDS = 0.015


@dataclass
class Loaded:
    project: Project
    analysis: Analysis | None  # the shape pass, when it ran in the loading thread


class _Done(QObject):
    finished = Signal()  # emitted from the loading thread; queued to the GUI thread


def load_project(path: Path) -> Loaded:
    """`engine.project.load(path)`, in a thread for a big file (with its shape pass
    too); raises what `load` raises. The event loop turns while it waits."""
    try:
        big = path.stat().st_size > BACKGROUND_BYTES
    except OSError:
        big = False  # let load() name the problem
    if not big:
        return Loaded(load(path), None)
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
