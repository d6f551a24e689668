"""The dataset picker previews your own table once its path and target are given: the
table's optional settings (features, drop, categorical) do not hold the preview back."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication

from tests.gui.training import open_iris

pytestmark = pytest.mark.usefixtures("spare_trainer")


def commit_text(editor, text: str) -> None:
    editor.edit.setText(text)
    editor.edit.editingFinished.emit()


def test_a_table_previews_with_only_its_path_and_target(qtbot, window, tmp_path):
    rows = ["petal;width;kind"] + [f"{i % 7},5;{i % 3},25;{'ab'[i % 2]}" for i in range(40)]
    (tmp_path / "flowers.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    open_iris(window)
    window.training.training_dock.raise_()
    QApplication.processEvents()
    picker = window.training.panel.picker
    picker.combo.setCurrentIndex(picker.combo.findData("csv"))
    picker.combo.activated.emit(picker.combo.currentIndex())
    assert picker.preview.message.text() == "Choose the path, target of your data."

    commit_text(picker.editors["path"], str(tmp_path / "flowers.csv"))
    assert picker.preview.message.text() == "Choose the target of your data."
    commit_text(picker.editors["target"], "kind")
    qtbot.waitUntil(lambda: "40 samples" in picker.caption.text(), timeout=120_000)
    assert "classification, 2 classes" in picker.caption.text()
