"""File > Import: a PyTorch class or an ONNX file becomes the open project.

The same engine call as `python main.py import`, run in a child process
(engine.importers.cage) that a timer polls: the window keeps drawing while the model's
code runs, Cancel kills the child at once, and a file that never returns, exits or
eats memory ends in one line in the dialog, the open project untouched. The report
shows what the import made (blocks, units, weights) and every operation no block can
express, with its source line. The input shape starts filled, or hinted, from what the
file says (read without running it).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QCloseEvent, QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from gui.common.files import FolderAware
from gui.gallery import lay_out_template

if TYPE_CHECKING:
    from engine.importers.cage import CagedImport
    from engine.importers.check import ImportResult
    from gui.main_window import MainWindow

log = logging.getLogger(__name__)

RUNS_CODE = (
    "Importing a .py file RUNS that file and the model's code. Import only code you trust. "
    "(Opening a NetLoom project never runs code.)"
)
CAGED = (
    "It runs in a separate process with a time limit and a memory ceiling; "
    "Cancel stops it at any moment."
)
POLL_MS = 50
HINT_DELAY_MS = 250  # the hint is read this long after the last keystroke

# What the child is doing, in the words the status line uses.
DOING = {
    "start": "Starting the import process (loading PyTorch)",
    "load": "Running {file}",
    "init": "Building the model (its __init__)",
    "forward": "Tracing the model and checking the imported one against it",
    "onnx": "Reading the ONNX file",
    "save": "Handing back the imported model",
}


class ImportDialog(QDialog):
    import_finished = Signal(bool)  # True when a project was imported
    imported = Signal(object)  # the ImportResult of a model that became a project

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import a model")
        self.result_: ImportResult | None = None
        self.cage: CagedImport | None = None
        self._began = 0.0
        self._shape_from_hint = False
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self._check_import)
        self._hint_timer = QTimer(self)
        self._hint_timer.setSingleShot(True)
        self._hint_timer.setInterval(HINT_DELAY_MS)
        self._hint_timer.timeout.connect(self.update_hint)

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
        self.hint = QLabel()
        # One line (a wrapped label in a form takes odd heights); the tooltip has it all.
        self.hint.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.hint.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        quiet = self.hint.palette()
        quiet.setColor(
            QPalette.ColorRole.WindowText, quiet.color(QPalette.ColorRole.PlaceholderText)
        )
        self.hint.setPalette(quiet)
        self.hint.hide()
        self.sequence = QCheckBox("the first axis is time (T)")
        self.dtype = QComboBox()
        self.dtype.addItems(["float32", "int64"])
        self.args = QLineEdit()
        self.args.setPlaceholderText('constructor arguments as JSON, e.g. {"classes": 10}')
        self.timeout = QDoubleSpinBox()
        self.timeout.setRange(1, 3600)
        self.timeout.setDecimals(0)
        self.timeout.setValue(120)
        self.timeout.setSuffix(" s")
        self.timeout.setToolTip("How long the file's code may run before the import stops")
        form = QFormLayout()
        form.addRow("Source", row)
        form.addRow("Class", self.class_name)
        form.addRow("Input shape", self.shape)
        form.addRow("", self.hint)
        form.addRow("", self.sequence)
        form.addRow("Input dtype", self.dtype)
        form.addRow("Arguments", self.args)
        form.addRow("Time limit", self.timeout)
        self.inputs: list[QWidget] = [
            self.source,
            browse,
            self.class_name,
            self.shape,
            self.sequence,
            self.dtype,
            self.args,
            self.timeout,
        ]
        warning = QLabel(f"{RUNS_CODE} {CAGED}")
        warning.setWordWrap(True)

        self.busy = QProgressBar()
        self.busy.setRange(0, 0)  # an import has no known length: a busy bar
        self.busy.setTextVisible(False)
        self.busy.setMaximumHeight(8)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.busy.hide()
        self.status.hide()
        self.report = QPlainTextEdit()
        self.report.setReadOnly(True)
        self.report.setMinimumSize(640, 180)
        self.report.setPlaceholderText("The import report appears here.")

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button = buttons.button(QDialogButtonBox.StandardButton.Cancel)
        self.import_button = buttons.addButton("Import", QDialogButtonBox.ButtonRole.ActionRole)
        self.import_button.setDefault(True)
        self.import_button.clicked.connect(self.run_import)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(warning)
        layout.addWidget(self.busy)
        layout.addWidget(self.status)
        layout.addWidget(self.report, 1)
        layout.addWidget(buttons)
        self.resize(900, 720)  # room for a report of a few dozen lines without scrolling

        self.source.textChanged.connect(self._hint_timer.start)
        self.class_name.textChanged.connect(self._hint_timer.start)
        self.shape.textEdited.connect(self._shape_typed)

    # ------------------------------------------------------------------ the form

    def browse(self) -> None:
        # The window's folder rule (the project's folder, else the last one used), when
        # the dialog belongs to a window; never the folder NetLoom was started from.
        window = self.parentWidget()
        start = window.dialog_start() if isinstance(window, FolderAware) else str(Path.home())
        chosen, _ = QFileDialog.getOpenFileName(
            self, "Import a model", start, "Models (*.py *.onnx);;All files (*)"
        )
        if chosen:
            if isinstance(window, FolderAware):
                window.remember_dialog_folder(Path(chosen))
            self.source.setText(chosen)

    def source_text(self) -> str:
        path = self.source.text().strip()
        if path.lower().endswith(".py") and self.class_name.text().strip():
            return f"{path}:{self.class_name.text().strip()}"
        return path

    @Slot()
    def _shape_typed(self) -> None:
        self._shape_from_hint = False

    @Slot()
    def update_hint(self) -> None:
        """Read the file (without running it) for what it says of its input."""
        from engine.importers.hints import model_classes, shape_hint

        if self.running:  # the form is locked while an import runs
            return
        path = self.source.text().strip()
        is_python = path.lower().endswith(".py")
        classes = model_classes(path) if is_python else []
        self.class_name.setPlaceholderText(
            f"the nn.Module class; in this file: {', '.join(classes)}"
            if classes
            else "the nn.Module class (for .py)"
        )
        self.class_name.setEnabled(not path.lower().endswith(".onnx"))
        self.args.setEnabled(not path.lower().endswith(".onnx"))
        hint = shape_hint(path, self.class_name.text()) if path else None
        if hint is None:
            self.hint.hide()
            if self._shape_from_hint:
                self.shape.clear()
            return
        where = "the file's code" if is_python else "the file"
        self.hint.setText(f"From {where}: {hint.text}")
        self.hint.setToolTip(self.hint.text())
        self.hint.show()
        if hint.dims and (not self.shape.text().strip() or self._shape_from_hint):
            self.shape.setText(hint.field_text)
            self._shape_from_hint = True
        if not self.shape.text().strip() or self._shape_from_hint:
            self.sequence.setChecked(hint.sequence)
            if hint.dtype:
                self.dtype.setCurrentText(hint.dtype)

    # ------------------------------------------------------------------ the import

    @property
    def running(self) -> bool:
        return self.cage is not None

    def run_import(self) -> None:
        """Start the import in its child process; the timer polls it from here on."""
        from engine.importers.cage import CagedImport, CageLimits, ImportRequest
        from engine.importers.hints import model_classes
        from engine.importers.report import Unreadable
        from engine.importers.run import check_request

        if self.running:
            return
        shape_text = self.shape.text().replace(" ", "")
        try:
            dims = tuple(int(d) for d in shape_text.replace("x", ",").split(",") if d) or None
        except ValueError:
            self._show_failure(f"Input shape: expected sizes like 1,28,28, got {shape_text!r}")
            return
        if dims is not None and any(d < 1 for d in dims):
            self._show_failure(f"Input shape: expected positive sizes, got {shape_text!r}")
            return
        source = self.source.text().strip()
        if source.lower().endswith(".py") and not self.class_name.text().strip():
            classes = ", ".join(model_classes(source)) or "none found"
            self._show_failure(
                f"Class: name the model's class (the file's nn.Module classes: {classes})"
            )
            return
        request = ImportRequest(
            self.source_text(),
            dims,
            self.sequence.isChecked(),
            self.dtype.currentText() if dims else None,
            self.args.text().strip() or None,
        )
        try:
            check_request(request)
        except Unreadable as err:
            self._show_failure(f"Cannot import: {err}")
            return
        self.result_ = None
        self.cage = CagedImport(request, CageLimits(timeout=self.timeout.value()))
        self._began = time.monotonic()
        self._set_running(True)
        self._show_progress()
        self._poll.start()

    def _set_running(self, running: bool) -> None:
        for widget in self.inputs:
            widget.setEnabled(not running)
        if not running:
            self.update_hint()  # restores which fields an ONNX source leaves out
        self.import_button.setEnabled(not running)
        self.cancel_button.setText("Cancel import" if running else "Close")
        self.busy.setVisible(running)
        self.status.setVisible(True)
        if running:
            self.report.clear()

    def _show_progress(self) -> None:
        assert self.cage is not None
        file = Path(self.source.text().strip()).name
        doing = DOING.get(self.cage.stage, "Importing").format(file=file)
        elapsed = time.monotonic() - self._began
        self.status.setText(f"{doing}… {elapsed:.0f} s")

    @Slot()
    def _check_import(self) -> None:
        from engine.importers.cage import CageFailure
        from engine.importers.report import Unreadable

        if self.cage is None:
            self._poll.stop()
            return
        try:
            result = self.cage.poll()
        except (CageFailure, Unreadable) as err:
            self._end()
            self._show_failure(f"Cannot import: {err}")
            self.import_finished.emit(False)
            return
        if result is None:
            self._show_progress()
            return
        self._end()
        self._show_result(result)

    def _end(self) -> None:
        self._poll.stop()
        self.cage = None
        self._set_running(False)

    def _show_failure(self, message: str) -> None:
        self.status.setText(message)
        self.status.show()
        self.report.setPlainText(message)

    def _show_result(self, result: ImportResult) -> None:
        from engine.importers.report import summary, unsupported_lines

        report = result.report
        lines = []
        if result.project is not None:
            lines += summary(result.project, result.state_dict)
        lines.append(report.text().splitlines()[1].strip())  # "N operation(s) mapped …"
        if report.check:
            lines.append(f"Check: {report.check}")
        if report.errors:
            lines += ["", "Unsupported (nothing was imported):"]
            lines += [f"  {line}" for line in unsupported_lines(report)]
        if report.notes:
            lines += ["", "Notes:"] + [f"  {note}" for note in report.notes]
        self.report.setPlainText("\n".join(lines))
        done = result.project is not None
        self.status.setText(
            f"Imported {Path(report.source).name}: it is open in the editor, not yet saved."
            if done
            else f"Not imported: {len(report.errors)} operation(s) have no block."
        )
        if done:
            self.result_ = result
            self.cancel_button.setText("Close")
            self.imported.emit(result)
        self.import_finished.emit(done)

    def cancel_import(self) -> None:
        """Stop a running import; the dialog stays open with the form as it was."""
        if self.cage is None:
            return
        cage = self.cage
        self._end()
        cage.cancel()
        self.status.setText("Import cancelled: the model's process was stopped.")
        self.report.setPlainText("Import cancelled. Nothing was imported.")
        self.import_finished.emit(False)

    def wait_until_done(self, timeout: float = 300.0) -> None:
        """Block (turning the event loop) until a running import ends: for scripts."""
        deadline = time.monotonic() + timeout
        while self.running and time.monotonic() < deadline:
            QCoreApplication.processEvents()
            time.sleep(POLL_MS / 1000)
            self._check_import()

    # ------------------------------------------------------------------ closing

    def reject(self) -> None:
        """Cancel (or Esc) stops a running import first; pressed again, it closes."""
        if self.running:
            self.cancel_import()
            return
        super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt's name)
        if self.cage is not None:
            self.cancel_import()
        super().closeEvent(event)

    def done(self, code: int) -> None:
        if self.cage is not None:  # closed by the window going away: no child left behind
            self.cancel_import()
        super().done(code)


def open_import_dialog(window: MainWindow) -> ImportDialog | None:
    """Show the dialog; an imported model replaces the document (after asking to save)."""
    if not window.maybe_save():
        return None
    dialog = ImportDialog(window)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    # The model opens behind the dialog, which stays up with the report until closed.
    dialog.imported.connect(lambda result: adopt(window, result))
    dialog.open()
    return dialog


def adopt(window: MainWindow, result: ImportResult) -> None:
    """Put an imported model in the window as a new, unsaved document, laid out to read
    well in its canvas."""
    assert result.project is not None
    lay_out_template(result.project, window._view_size())
    window.set_project(result.project, None, modified=True)
    # Its runs start from the imported weights (a replaced head from fresh ones).
    weights = window.training.start_weights
    kept = bool(result.state_dict) and weights.keep(result.state_dict, result.project) is not None
    source = Path(result.report.source).name
    window.statusBar().showMessage(
        f"Imported {source}: {result.report.check} — save the project to keep it"
        + ("; training starts from its weights" if kept else ""),
        10000,
    )
