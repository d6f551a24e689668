"""The Training panel: hyperparameters write back to the project as undoable edits,
and the dataset picker previews a sample, states its shape and says whether the graph
fits it, naming the Input block when it does not — for your own files too."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication

from tests.gui.training import (
    open_iris,
)

pytestmark = pytest.mark.usefixtures("spare_trainer")


def commit_text(editor, text: str) -> None:
    editor.edit.setText(text)
    editor.edit.editingFinished.emit()


def test_a_hyperparameter_edit_is_written_to_the_project_and_undoable(window):
    open_iris(window)
    settings = window.training.panel.settings
    assert settings.editors["lr"].edit.text() == "0.005"  # the template's rate

    commit_text(settings.editors["lr"], "3e-4")
    assert window.project.training["lr"] == 3e-4
    assert window.isWindowModified()
    settings.editors["epochs"].box.setValue(7)
    assert window.project.training["epochs"] == 7

    window.undo_stack.undo()
    window.undo_stack.undo()
    assert window.project.training["lr"] == 0.005 and window.project.training["epochs"] == 40
    assert settings.editors["lr"].edit.text() == "0.005"


def test_a_refused_setting_names_itself_and_changes_nothing(window):
    open_iris(window)
    editor = window.training.panel.settings.editors["lr"]
    commit_text(editor, "0")
    assert editor.error.text() == "training.lr: expected a number > 0, got 0.0"
    assert window.project.training["lr"] == 0.005
    commit_text(editor, "fast")
    assert "lr: expected a number" in editor.error.text()


def test_choosing_a_schedule_shows_its_own_settings(window):
    open_iris(window)
    settings = window.training.panel.settings
    assert not settings.editors["step_size"].widget.isVisibleTo(settings)
    settings.editors["schedule"].box.setCurrentText("step")
    assert window.project.training["schedule"] == {"name": "step", "step_size": 10, "gamma": 0.1}
    assert settings.editors["step_size"].widget.isVisibleTo(settings)
    settings.editors["step_size"].box.setValue(4)
    assert window.project.training["schedule"]["step_size"] == 4


def test_the_split_a_test_part_and_class_weights_are_settings(window):
    open_iris(window)
    settings = window.training.panel.settings
    settings.editors["class_weights"].box.setCurrentText("balanced")
    settings.editors["split"].box.setCurrentText("stratified")
    commit_text(settings.editors["test_split"], "0.1")
    training = window.project.training
    assert (training["class_weights"], training["split"], training["test_split"]) == (
        "balanced",
        "stratified",
        0.1,
    )
    window.undo_stack.undo()
    assert "test_split" not in window.project.training
    commit_text(settings.editors["test_split"], "0.9")  # with val_split 0.2: nothing left
    assert "holds out every sample" in settings.editors["test_split"].error.text()


def show_training_panel(qtbot, window):
    window.training.training_dock.raise_()
    QApplication.processEvents()
    return window.training.panel.picker


def test_the_picker_previews_the_data_and_names_the_input_block_that_does_not_fit(qtbot, window):
    open_iris(window)
    picker = show_training_panel(qtbot, window)
    qtbot.waitUntil(lambda: picker.fit.isVisible() and bool(picker.fit.text()), timeout=120_000)
    assert picker.fit.property("ok") is True
    assert picker.fit.text().startswith("✓ Input 'measurements' takes (N, 4)")
    assert picker.preview.kind == "vector"
    assert "150 samples of (N, 4) · classification, 3 classes" in picker.caption.text()

    picker.combo.setCurrentIndex(picker.combo.findData("digits"))
    picker.combo.activated.emit(picker.combo.currentIndex())
    assert window.project.training["dataset"] == {"name": "digits", "params": {}}
    qtbot.waitUntil(lambda: picker.preview.kind == "image", timeout=120_000)
    assert picker.fit.property("ok") is False
    assert (
        "input 'measurements' expects (N, 4) but dataset digits gives (N, 1, 8, 8)"
        in picker.fit.text()
    )
    window.undo_stack.undo()  # back to iris
    assert window.project.training["dataset"]["name"] == "iris"
    qtbot.waitUntil(lambda: picker.fit.property("ok") is True, timeout=120_000)


def test_your_own_arrays_preview_and_a_missing_file_is_named(qtbot, window, tmp_path):
    rng = np.random.default_rng(0)
    np.savez(
        tmp_path / "flowers.npz",
        x=rng.normal(size=(40, 4)).astype(np.float32),
        y=rng.integers(0, 3, 40),
    )
    open_iris(window)
    picker = show_training_panel(qtbot, window)
    picker.combo.setCurrentIndex(picker.combo.findData("npz"))
    picker.combo.activated.emit(picker.combo.currentIndex())
    assert picker.preview.message.text() == "Choose the path of your data."
    path_editor = picker.editors["path"]
    commit_text(path_editor, str(tmp_path / "flowers.npz"))
    assert window.project.training["dataset"]["params"]["path"] == str(tmp_path / "flowers.npz")
    # Until the new file is read, no verdict of the data shown before stands.
    assert picker.fit.property("ok") is None and not picker.fit.isVisible()
    qtbot.waitUntil(lambda: picker.fit.property("ok") is True, timeout=120_000)
    assert "40 samples of (N, 4) · classification, 3 classes" in picker.caption.text()

    commit_text(path_editor, str(tmp_path / "missing.npz"))
    qtbot.waitUntil(lambda: picker.fit.property("ok") is False, timeout=120_000)
    assert picker.fit.text() == f"dataset.params.path: no such file: {tmp_path / 'missing.npz'}"
