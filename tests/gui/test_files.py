"""Files: save and open, prompts, recent files, dropping a file, templates, autosave."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QMessageBox

from engine.project.project import load, to_dict
from gui.gallery import TemplateGallery, find_templates
from tests.gui.conftest import TEMPLATE


def test_save_then_open_round_trip(video_window, make_window, tmp_path):
    window = video_window
    window.graph.set_params("dense1", {"units": 7})
    path = tmp_path / "video.json"
    assert window.write_to(path)
    assert window.windowTitle() == "video.json[*] — NetLoom" and not window.isWindowModified()
    other = make_window()
    assert other.open_path(path)
    assert to_dict(other.project) == to_dict(window.project)
    assert other.scene.wires[("direction", "x")].label == "(N, 7)"
    assert other.recent.paths()[0] == path.resolve()


def test_edit_marks_title_modified_and_undo_clears_it(window, tmp_path):
    window.write_to(tmp_path / "empty.json")
    window.add_block("Dense", QPointF(0, 0))
    assert window.isWindowModified()
    window.undo_stack.undo()
    assert not window.isWindowModified()


def test_broken_file_shows_the_place_and_keeps_the_document(video_window, dialogs, tmp_path):
    window = video_window
    broken = tmp_path / "broken.json"
    text = TEMPLATE.read_text().replace('"kernel_size": 3', '"kernel_size": -2', 1)
    broken.write_text(text)
    assert not window.open_path(broken)
    [message] = dialogs.texts("critical")
    assert (
        "nodes[1].params.kernel_size: expected an integer ≥ 1 or a list of 2 of them "
        "(one per axis), got -2"
    ) in message
    assert "conv1" in window.graph and window.path is None


def test_unsaved_prompt_cancel_keeps_work_and_discard_drops_it(window, dialogs):
    window.add_block("Dense", QPointF(0, 0))
    dialogs.answer = QMessageBox.StandardButton.Cancel
    window.new_document()
    assert len(window.graph) == 1 and dialogs.texts("question")
    dialogs.answer = QMessageBox.StandardButton.Discard
    window.new_document()
    assert len(window.graph) == 0 and not window.isWindowModified()


def test_close_with_changes_asks_and_can_be_cancelled(window, dialogs):
    window.add_block("Dense", QPointF(0, 0))
    dialogs.answer = QMessageBox.StandardButton.Cancel
    assert not window.close()
    assert window.isVisible()
    dialogs.answer = QMessageBox.StandardButton.Discard
    assert window.close()


def test_dropping_a_project_file_opens_it(window, tmp_path):
    path = tmp_path / "dropped.json"
    path.write_text(TEMPLATE.read_text())
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    enter = QDragEnterEvent(
        QPoint(50, 50),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(window.view.viewport(), enter)
    assert enter.isAccepted()
    drop = QDropEvent(
        QPointF(50, 50),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(window.view.viewport(), drop)
    assert window.path == path and "lstm1" in window.graph


def test_recent_files_menu_lists_opened_files(window, tmp_path):
    path = tmp_path / "a.json"
    path.write_text(TEMPLATE.read_text())
    window.open_path(path)
    window.fill_recent_menu()
    texts = [a.text() for a in window.recent_menu.actions()]
    assert str(path.resolve()) in texts


def test_gallery_opens_every_template_without_errors(window):
    templates = find_templates()
    assert templates and all(t.error is None for t in templates)
    gallery = TemplateGallery(window)
    assert gallery.list.count() == len(templates)
    for row, template in enumerate(templates):
        item = gallery.list.item(row)
        assert item.text() == template.project.name
        assert not item.icon().pixmap(64, 64).isNull()
        gallery.list.setCurrentRow(row)
        assert gallery.description.text() == template.project.description
        assert window.open_template(template.path)
        assert window.scene.analysis.problems == []
        assert set(window.scene.nodes) == {n.id for n in window.graph.nodes}
        assert all(w.label not in ("", "?") for w in window.scene.wires.values())
        assert window.path is None  # saving asks where; the template stays untouched
    gallery.close()


def test_gallery_lists_a_broken_template_with_its_error(window, tmp_path):
    (tmp_path / "bad.json").write_text('{"format": "netloom", "version": 1, "nodes": 3}')
    gallery = TemplateGallery(window, folder=tmp_path)
    assert gallery.list.count() == 1
    gallery.list.setCurrentRow(0)
    assert "nodes: expected a list" in gallery.description.text()
    gallery.close()


def test_autosave_and_recovery_after_a_crash(make_window, dialogs, tmp_path):
    recovery = tmp_path / "rescue"
    first = make_window(recovery)
    first.open_path(_copy_template(tmp_path))
    first.graph.set_params("lstm1", {"hidden_size": 48})
    first.add_block("Dropout", QPointF(0, 500))
    assert first.autosaver.save_now()
    assert not first.autosaver.save_now()  # nothing new since the last autosave
    # The first window "crashes": it never closes. A new session finds the file.
    dialogs.answer = QMessageBox.StandardButton.Yes
    second = make_window(recovery)
    assert second.offer_recovery()
    assert second.graph.node("lstm1").params["hidden_size"] == 48
    assert "dropout1" in second.graph
    assert second.isWindowModified() and second.path == tmp_path / "project.json"
    assert "project.json" in dialogs.texts("question")[-1]
    second.write_to(second.path)
    assert not (recovery / "recovery.json").exists()
    assert load(second.path).graph.node("lstm1").params["hidden_size"] == 48


def test_declined_recovery_is_discarded(make_window, dialogs, tmp_path):
    recovery = tmp_path / "rescue"
    first = make_window(recovery)
    first.add_block("Dense", QPointF(0, 0))
    first.autosaver.save_now()
    dialogs.answer = QMessageBox.StandardButton.No
    second = make_window(recovery)
    assert not second.offer_recovery()
    assert len(second.graph) == 0 and not (recovery / "recovery.json").exists()


def _copy_template(tmp_path: Path) -> Path:
    path = tmp_path / "project.json"
    path.write_text(TEMPLATE.read_text())
    return path


def test_export_picture_png_and_svg(video_window, tmp_path):
    window = video_window
    png, svg = tmp_path / "net.png", tmp_path / "net.svg"
    assert window.write_picture(png) and window.write_picture(svg)
    from PySide6.QtGui import QImage

    image = QImage(str(png))
    assert image.width() > 500 and image.height() > 200
    text = svg.read_text()
    assert text.lstrip().startswith("<?xml") and "<svg" in text and "lstm1" in text


def test_export_model_menu_reports_result(video_window, dialogs, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    out = tmp_path / "model.py"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(out), ""))
    )
    video_window.actions_["export_python"].trigger()
    assert "class CnnLstmVideo(nn.Module):" in out.read_text()
    assert dialogs.texts("warning") == []


def test_title_names_the_template_before_saving(window):
    window.open_template(TEMPLATE)
    assert window.windowTitle().startswith("CNN+LSTM video")


def test_run_gui_opens_the_project_given_on_the_command_line(qtbot, monkeypatch, tmp_path):
    from PySide6.QtCore import QSettings, QStandardPaths
    from PySide6.QtWidgets import QApplication

    from gui import app as gui_app
    from gui.main_window import MainWindow

    QStandardPaths.setTestModeEnabled(True)  # keep recovery files out of the real profile
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(tmp_path))
    seen: list[MainWindow] = []

    def windows() -> list[MainWindow]:
        return [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]

    def run_events(_app) -> int:
        # The start-up timer opens the project once the event loop turns.
        qtbot.waitUntil(lambda: any(w.path == TEMPLATE for w in windows()), timeout=120_000)
        seen.extend(windows())
        return 0

    monkeypatch.setattr(QApplication, "exec", run_events)
    assert gui_app.run_gui(str(TEMPLATE)) == 0
    window = next(w for w in seen if w.path == TEMPLATE)
    assert "lstm1" in window.graph and window.windowTitle().startswith("cnn_lstm_video.json")
    for w in seen:
        w.undo_stack.setClean()
        w.close()


def test_autosave_writes_under_netloom_data_dir(qtbot, data_dir, settings):
    from gui.main_window import MainWindow

    window = MainWindow(settings=settings)  # no recovery folder given: the default one
    qtbot.addWidget(window)
    window.add_block("Dense", QPointF(0, 0))
    assert window.autosaver.save_now()
    assert (data_dir / "recovery" / "recovery.json").is_file()
    assert load(data_dir / "recovery" / "recovery.json").graph.node("dense1")
    window.undo_stack.setClean()


def test_the_autosave_timer_dies_with_its_window(qtbot, dialogs, settings):
    import shiboken6

    from gui.main_window import MainWindow

    window = MainWindow(settings=settings)  # deleted here, not by qtbot
    window.show()
    window.add_block("Dense", QPointF(0, 0))
    dialogs.answer = QMessageBox.StandardButton.Cancel
    assert not window.close()  # the close was cancelled: closeEvent did not stop the timer
    autosaver, timer = window.autosaver, window.autosaver.timer
    assert timer.isActive()
    with qtbot.waitSignal(window.destroyed, timeout=5_000):
        window.deleteLater()
    # Gone with the window: no tick can reach the deleted document (its undo stack).
    assert not shiboken6.isValid(timer) and not shiboken6.isValid(autosaver)
