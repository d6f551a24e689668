"""File > Import: a PyTorch class or an ONNX file becomes the open project.

The same engine call as `python main.py import`; the report it writes is shown in the
dialog, with every operation no block can express and its place. Importing a .py file
runs it, which the dialog says before anything happens.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from gui.gallery import lay_out_template

if TYPE_CHECKING:
    from engine.importers.check import ImportResult
    from gui.main_window import MainWindow

log = logging.getLogger(__name__)

RUNS_CODE = (
    "Importing a .py file RUNS that file and the model's code. Import only code you trust. "
    "(Opening a NetLoom project never runs code.)"
)


class ImportDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import a model")
        self.result_: ImportResult | None = None
        self.source = QLineEdit()
        self.source.setPlaceholderText("path/to/model.py or model.onnx")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self.browse)
        row = QHBoxLayout()
        row.addWidget(self.source)
        row.addWidget(browse)
        self.class_name = QLineEdit()
        self.class_name.setPlaceholderText("the nn.Module class (for .py)")
        self.shape = QLineEdit()
        self.shape.setPlaceholderText("one sample, no batch axis: 1,28,28")
        self.sequence = QCheckBox("the first axis is time (T)")
        self.dtype = QComboBox()
        self.dtype.addItems(["float32", "int64"])
        self.args = QLineEdit()
        self.args.setPlaceholderText('constructor arguments as JSON, e.g. {"classes": 10}')
        form = QFormLayout()
        form.addRow("Source", row)
        form.addRow("Class", self.class_name)
        form.addRow("Input shape", self.shape)
        form.addRow("", self.sequence)
        form.addRow("Input dtype", self.dtype)
        form.addRow("Arguments", self.args)
        warning = QLabel(RUNS_CODE)
        warning.setWordWrap(True)
        self.report = QPlainTextEdit()
        self.report.setReadOnly(True)
        self.report.setMinimumSize(560, 160)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.import_button = buttons.addButton("Import", QDialogButtonBox.ButtonRole.ActionRole)
        self.import_button.clicked.connect(self.run_import)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(warning)
        layout.addWidget(self.report)
        layout.addWidget(buttons)

    def browse(self) -> None:
        chosen, _ = QFileDialog.getOpenFileName(
            self, "Import a model", "", "Models (*.py *.onnx);;All files (*)"
        )
        if chosen:
            self.source.setText(chosen)

    def source_text(self) -> str:
        path = self.source.text().strip()
        if path.lower().endswith(".py") and self.class_name.text().strip():
            return f"{path}:{self.class_name.text().strip()}"
        return path

    def run_import(self) -> None:
        from engine.importers.report import Unreadable
        from engine.importers.run import import_source

        shape_text = self.shape.text().replace(" ", "")
        try:
            dims = tuple(int(d) for d in shape_text.split(",") if d) or None
        except ValueError:
            self.report.setPlainText(
                f"Input shape: expected sizes like 1,28,28, got {shape_text!r}"
            )
            return
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            result = import_source(
                self.source_text(),
                dims,
                self.sequence.isChecked(),
                self.dtype.currentText() if dims else None,
                self.args.text().strip() or None,
            )
        except Unreadable as err:
            self.report.setPlainText(f"Cannot import: {err}")
            return
        finally:
            QGuiApplication.restoreOverrideCursor()
        self.report.setPlainText(result.report.text())
        if result.project is not None:
            self.result_ = result
            self.accept()


def open_import_dialog(window: MainWindow) -> ImportDialog | None:
    """Show the dialog; an imported model replaces the document (after asking to save)."""
    if not window.maybe_save():
        return None
    dialog = ImportDialog(window)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.finished.connect(lambda _code: _adopt(window, dialog))
    dialog.open()
    return dialog


def _adopt(window: MainWindow, dialog: ImportDialog) -> None:
    result = dialog.result_
    if result is None or result.project is None:
        return
    adopt(window, result)


def adopt(window: MainWindow, result: ImportResult) -> None:
    """Put an imported model in the window as a new, unsaved document, laid out to read
    well in its canvas."""
    assert result.project is not None
    lay_out_template(result.project, window._view_size())
    window.set_project(result.project, None, modified=True)
    source = Path(result.report.source).name
    window.statusBar().showMessage(
        f"Imported {source}: {result.report.check} — save the project to keep it", 10000
    )
