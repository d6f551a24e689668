"""Opening a big project keeps the window turning (issue 23, item 2).

A project is parsed in a thread and, over gui.opening's threshold, drawn a slice per
event-loop turn: a timer keeps firing during `open_path`, the window takes no input
meanwhile (a second open is refused, closing waits), and the result is the whole
project, as a small file's open gives.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QTimer

from engine.graph.graph import Graph
from engine.project.project import Project, save, to_dict
from gui import opening

BLOCKS = opening.SLICED_BLOCKS + 300


def big_project_file(folder: Path) -> Path:
    graph = Graph()
    tip = graph.add_node("Input", {"shape": [8]}).id
    for k in range(BLOCKS - 2):
        dense = graph.add_node("Dense", {"units": 8}).id
        graph.move(dense, (220.0 * (k % 40), 160.0 * (k // 40)))
        graph.connect(tip, dense)
        tip = dense
    graph.connect(tip, graph.add_node("Output", {"loss": "mse"}).id)
    path = folder / "big.json"
    save(Project(graph, name="big"), path)
    return path


def test_opening_a_big_project_keeps_the_event_loop_turning(
    window, dialogs, tmp_path: Path
) -> None:
    path = big_project_file(tmp_path)
    during: list[tuple[bool, bool, bool]] = []  # loading, menus enabled, close accepted
    second_open: list[bool] = []

    def tick() -> None:
        if window.loading:
            during.append((window.loading, window.menuBar().isEnabled(), window.close()))
            if not second_open:
                second_open.append(window.open_path(path))

    timer = QTimer()
    timer.timeout.connect(tick)
    timer.start(0)
    assert window.open_path(path)
    timer.stop()

    assert len(during) >= 3, "the event loop stood still while the project opened"
    assert all(loading and not menus and not closed for loading, menus, closed in during)
    assert second_open == [False]  # refused while the first open runs
    assert not window.loading and window.menuBar().isEnabled() and window.isVisible()
    assert len(window.scene.nodes) == BLOCKS and len(window.scene.wires) == BLOCKS - 1
    assert window.scene.analysis.nodes and not window.scene.analysis.problems
    assert window.summary.model.rowCount() == BLOCKS
    assert window.path == path and not window.isWindowModified()
    assert not dialogs.shown


def test_a_big_broken_file_is_one_dialog_and_the_open_project_stays(
    window, dialogs, tmp_path: Path
) -> None:
    path = big_project_file(tmp_path)
    path.write_text(path.read_text(encoding="utf-8")[:-5000], encoding="utf-8")  # torn
    before = to_dict(window.project)
    assert not window.open_path(path)
    [(kind, title, message)] = dialogs.shown
    assert (kind, title) == ("critical", "Cannot open project")
    assert message.startswith(str(path)) and "\n" not in message
    assert to_dict(window.project) == before and not window.loading
    assert window.menuBar().isEnabled()
