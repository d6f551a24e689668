"""Open, save and export dialogs start in the project's folder (or the last folder
used), never in the folder the program was started from."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog

from engine.graph.graph import Graph
from engine.project.project import Project, save
from gui.common.files import remember_folder, start_folder
from gui.export import TARGETS
from gui.import_dialog import ImportDialog
from gui.run.records import RunOutcome


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The process's working directory: somewhere no dialog should open."""
    folder = tmp_path / "started-here"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


class FileDialogs:
    """Stands in for QFileDialog's static functions: records the folder each dialog
    would open in and answers with `answer` ("" = the user cancelled)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.starts: list[tuple[str, str]] = []  # (title, the dialog's start path)
        self.answer = ""
        for name in ("getOpenFileName", "getSaveFileName"):
            monkeypatch.setattr(QFileDialog, name, staticmethod(self._ask))

    def _ask(self, parent, title: str, start: str = "", file_filter: str = "", *rest, **kw):
        self.starts.append((title, start))
        return self.answer, file_filter.split(";;")[0]

    def folders(self) -> dict[str, Path]:
        """The folder each dialog opens in (a start path naming a file: its folder)."""
        return {
            title: Path(start) if Path(start).is_dir() else Path(start).parent
            for title, start in self.starts
        }


@pytest.fixture
def file_dialogs(monkeypatch: pytest.MonkeyPatch) -> FileDialogs:
    return FileDialogs(monkeypatch)


def project_file(path: Path, name: str = "Untitled") -> Path:
    graph = Graph()
    graph.add_node("Input", {"shape": [4]}, (0, 0), "x")
    graph.add_node("Dense", {"units": 2}, (300, 0), "fc")
    graph.add_node("Output", {}, (600, 0), "out")
    graph.connect("x", "fc")
    graph.connect("fc", "out")
    path.parent.mkdir(parents=True, exist_ok=True)
    save(Project(graph, name=name), path)
    return path


def every_file_dialog(window) -> None:
    window.actions_["open"].trigger()
    window.actions_["save_as"].trigger()
    for target in TARGETS:
        window.actions_[f"export_{target.key}"].trigger()
    window.actions_["export_picture"].trigger()
    ImportDialog(window).browse()  # File > Import Model…'s Browse
    results = window.training.results  # Results' "Save weights…" of a finished run
    results.outcome = RunOutcome(run_id=7, status="finished", reason="", checkpoint="run-7.pt")
    results.save_weights.setEnabled(True)
    results.save_weights.click()


def test_the_start_folder_is_the_projects_then_the_last_used_then_home(
    tmp_path, elsewhere, settings
):
    assert start_folder(None, settings) == Path.home()
    exports = tmp_path / "exports"
    exports.mkdir()
    remember_folder(settings, exports / "model.py")
    assert start_folder(None, settings) == exports
    project = project_file(tmp_path / "work" / "net.json")
    assert start_folder(project, settings) == project.parent
    assert elsewhere not in {start_folder(p, settings) for p in (None, project)}


def test_every_file_dialog_of_a_saved_project_opens_in_its_folder(
    window, tmp_path, elsewhere, file_dialogs
):
    path = project_file(tmp_path / "projects" / "net.json")
    assert window.open_path(path)
    every_file_dialog(window)
    folders = file_dialogs.folders()
    assert len(folders) == 2 + len(TARGETS) + 3, folders
    assert set(folders.values()) == {path.parent}, folders
    # Save and export suggest a file name there, after the project.
    assert ("Save project", str(path)) in file_dialogs.starts
    assert ("Export python", str(path.parent / "net.py")) in file_dialogs.starts


def test_an_unsaved_project_opens_dialogs_where_the_last_one_was_used(
    make_window, tmp_path, elsewhere, file_dialogs
):
    window = make_window()
    out = tmp_path / "pictures" / "graph.png"
    out.parent.mkdir()
    file_dialogs.answer = str(out)
    window.actions_["export_picture"].trigger()
    assert out.exists()
    file_dialogs.answer = ""
    file_dialogs.starts.clear()
    every_file_dialog(window)
    assert set(file_dialogs.folders().values()) == {out.parent}
    # A window opened later (the next session) starts there too.
    file_dialogs.starts.clear()
    make_window().actions_["save_as"].trigger()
    assert set(file_dialogs.folders().values()) == {out.parent}


def test_an_untitled_project_exports_a_class_named_after_its_file(window, tmp_path, file_dialogs):
    path = project_file(tmp_path / "my_classifier.json")
    assert window.open_path(path) and window.project.name == "Untitled"
    out = tmp_path / "model.py"
    file_dialogs.answer = str(out)
    window.actions_["export_python"].trigger()
    assert "class MyClassifier(nn.Module):" in out.read_text()
