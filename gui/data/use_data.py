"""File → "Use my data…": pick a table, a series, an NPZ or a folder of images, see it
(the first rows with each column's role, the classes and their counts, a few images per
class, the target over time), read the verdict — what `adapt` will change in the
network and its settings — and OK applies it as one undoable edit.

Any problem (the file, a column, the network) is one line in the dialog; nothing in the
project changes until OK.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from engine.data.registry import DataError
from engine.project.project import Project
from gui.data.apply import AdaptError, param_changes
from gui.data.reading import (
    FEATURE,
    IGNORED,
    TARGET,
    TIME,
    ArraysPreview,
    FolderPreview,
    Preview,
    TablePreview,
    preview,
)
from gui.data.verdict import Question, Verdict, VerdictJob
from gui.data.verdict import start as start_job
from gui.data.views import ImageGrid, RolesTable, SeriesPlot, class_lines, role_hint

if TYPE_CHECKING:
    from engine.data.adapt import Adaptation

log = logging.getLogger(__name__)

DATA_FILTER = "Tables, series and arrays (*.csv *.tsv *.txt *.npz);;All files (*)"
SIZE = (1180, 780)  # fits a 1440×900 screen with its title bar and the task bar


# Puts the dialog's adaptation into the document; AdaptError says why it cannot.
Applier = Callable[["UseDataDialog"], None]


class UseDataDialog(QDialog):
    """The preview and verdict of one file or folder; OK hands the adaptation to
    `apply` (which pushes it on the window's undo stack) and closes, or shows its
    refusal in the dialog's error line and stays open."""

    verdict_ready = Signal()  # the verdict (or its one-line refusal) of the last question

    def __init__(
        self,
        project: Project,
        project_file: Path | None = None,
        parent: QWidget | None = None,
        apply: Applier | None = None,
    ) -> None:
        super().__init__(parent)
        self.apply = apply
        self.asked = self.answered = 0  # verdicts asked for and taken, numbered
        self.setWindowTitle("Use my data")
        self.resize(*SIZE)
        self.project = project
        self.project_file = project_file
        self.base_dir = project_file.parent if project_file else None
        self.path: Path | None = None
        self.preview: Preview | None = None
        self.adaptation: Adaptation | None = None
        self.target: str | None = None
        self.time: str | None = None
        self.overrides: dict[str, str] = {}  # column → feature/ignored, chosen by hand

        self.path_label = QLabel("Choose a table (CSV/TSV), a series, an NPZ or a folder of images")
        self.path_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.choose_file = QPushButton("Choose file…")
        self.choose_folder = QPushButton("Choose folder…")
        self.choose_file.clicked.connect(self._pick_file)
        self.choose_folder.clicked.connect(self._pick_folder)
        top = QHBoxLayout()
        top.addWidget(self.path_label, 1)
        top.addWidget(self.choose_file)
        top.addWidget(self.choose_folder)
        self.kind_label = QLabel("")
        self.kind_label.setObjectName("kindLine")

        self.table = RolesTable()
        self.table.role_changed.connect(self._role_chosen)
        self.images = ImageGrid()
        self.arrays = QLabel("")
        self.arrays.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.empty = QLabel("")
        self.pages = QStackedWidget()
        for page in (self.empty, self.table, self.images, self.arrays):
            self.pages.addWidget(page)

        self.target_box = QComboBox()
        self.target_box.setObjectName("targetChoice")
        self.target_box.activated.connect(
            lambda _index: self._choose_target(self.target_box.currentText())
        )
        self.window_box = QSpinBox()
        self.window_box.setRange(1, 10_000)
        self.window_box.setValue(24)
        self.horizon_box = QSpinBox()
        self.horizon_box.setRange(1, 1_000)
        self.horizon_box.setValue(1)
        self.window_box.editingFinished.connect(lambda: self._series_set("window"))
        self.horizon_box.editingFinished.connect(lambda: self._series_set("horizon"))
        self.series_set: set[str] = set()  # window / horizon, once the user sets them
        self.classes = QLabel("")
        self.classes.setObjectName("classList")
        self.classes.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.classes.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.form = form = QFormLayout()
        form.addRow("Predict", self.target_box)
        form.addRow("Window (steps)", self.window_box)
        form.addRow("Horizon (steps)", self.horizon_box)
        side = QVBoxLayout()
        side.addLayout(form)
        side.addWidget(self.classes, 1)
        side_host = QWidget()
        side_host.setLayout(side)
        side_host.setFixedWidth(300)
        body = QHBoxLayout()
        body.addWidget(self.pages, 1)
        body.addWidget(side_host)

        self.series = SeriesPlot()
        self.series.setMinimumHeight(190)
        self.series.hide()
        self.hint = QLabel("")
        self.hint.setObjectName("hint")
        self.hint.setWordWrap(True)
        self.verdict = QLabel("")
        self.verdict.setObjectName("verdict")
        self.verdict.setWordWrap(True)
        self.verdict.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error = QLabel("")
        self.error.setObjectName("dataError")
        self.error.setStyleSheet("color: #ff8a8e;")
        self.error.setWordWrap(True)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Use this data")
        self.ok_button.setEnabled(False)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.kind_label)
        layout.addLayout(body, 3)
        layout.addWidget(self.series, 2)
        layout.addWidget(self.hint)
        layout.addWidget(self.verdict)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self._show_series_settings(False)

    # ------------------------------------------------------------ choosing

    def _pick_file(self) -> None:
        start = str(self.path.parent if self.path else (self.base_dir or Path.home()))
        chosen, _ = QFileDialog.getOpenFileName(self, "Use my data", start, DATA_FILTER)
        if chosen:
            self.load(Path(chosen))

    def _pick_folder(self) -> None:
        start = str(self.path.parent if self.path else (self.base_dir or Path.home()))
        chosen = QFileDialog.getExistingDirectory(self, "Use my images", start)
        if chosen:
            self.load(Path(chosen))

    def load(self, path: Path) -> None:
        """Show `path` with the roles guessed, and the verdict."""
        self.path, self.target, self.time, self.overrides = path, None, None, {}
        self.series_set = set()
        self.path_label.setText(str(path))
        self._read()

    def _read(self) -> None:
        """The preview (a table read whole, a folder listed), under the wait cursor;
        then the verdict is asked for."""
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            self._read_now()
        finally:
            QApplication.restoreOverrideCursor()

    def _read_now(self) -> None:
        assert self.path is not None
        try:
            self.preview = preview(self.path, self.target, self.time)
        except DataError as err:
            self.asked += 1  # an answer still on its way is for another file
            self.answered = self.asked
            self.preview = None
            self.pages.setCurrentWidget(self.empty)
            self.series.hide()
            self.kind_label.setText("")
            self.classes.setText("")
            self._refuse(str(err))
            return
        self._show(self.preview)
        self.refresh_verdict()

    def _show(self, shown: Preview) -> None:
        self.series.hide()
        self._show_series_settings(False)
        self.form.setRowVisible(self.target_box, isinstance(shown, TablePreview))
        if isinstance(shown, TablePreview):
            for column, role in self.overrides.items():
                if shown.roles.get(column) in (FEATURE, IGNORED):
                    shown.roles[column] = role
            self.table.blockSignals(True)
            self.table.show_table(shown)
            self.table.blockSignals(False)
            self.pages.setCurrentWidget(self.table)
            self.target_box.clear()
            self.target_box.addItems([c for c in shown.columns if c != shown.time])
            self.target_box.setCurrentText(shown.target)
            series = bool(shown.time)
            self._show_series_settings(series)
            what = "Series" if series else "Table"
            self.kind_label.setText(f"<b>{what}</b> · {role_hint(shown)}")
            if series:
                self.series.show()
                self.series.show_series(shown, shown.target)
                self.classes.setText("")
            elif shown.classes:
                head = f"<b>{len(shown.classes)} classes</b> in {shown.target!r}<br>"
                self.classes.setText(head + class_lines(shown.classes).replace("\n", "<br>"))
            else:
                self.classes.setText(f"{shown.target!r} holds numbers: a regression")
            self.hint.setText("\n".join(shown.notes))
        elif isinstance(shown, FolderPreview):
            self.images.show_folder(shown)
            self.pages.setCurrentWidget(self.images)
            images = sum(n for _, n in shown.classes)
            self.kind_label.setText(
                f"<b>Images</b> · {len(shown.classes)} classes · {images:,} images"
            )
            self.target_box.clear()
            self.classes.setText(
                f"<b>{len(shown.classes)} classes</b><br>"
                + class_lines(shown.classes).replace("\n", "<br>")
            )
            self.hint.setText("Reading the images' headers…")
        elif isinstance(shown, ArraysPreview):
            lines = [f"{name}: {shape} {dtype}" for name, shape, dtype in shown.arrays]
            self.arrays.setText("<b>Arrays</b><br>" + "<br>".join(lines))
            self.pages.setCurrentWidget(self.arrays)
            self.kind_label.setText(f"<b>Arrays</b> · {len(shown.arrays)} in the file")
            self.target_box.clear()
            self.classes.setText(
                f"<b>{len(shown.classes)} classes</b> in y<br>"
                + class_lines(shown.classes).replace("\n", "<br>")
                if shown.classes
                else "y holds numbers: a regression"
            )
            self.hint.setText("")

    def _show_series_settings(self, shown: bool) -> None:
        for box in (self.window_box, self.horizon_box):
            self.form.setRowVisible(box, shown)

    def _series_set(self, name: str) -> None:
        self.series_set.add(name)
        self.refresh_verdict()

    def _choose_target(self, column: str) -> None:
        if not column or self.preview is None or column == getattr(self.preview, "target", ""):
            return
        self.target = column
        self.overrides.pop(column, None)
        self._read()

    def _role_chosen(self, column: str, role: str) -> None:
        shown = self.preview
        if not isinstance(shown, TablePreview):
            return
        was = shown.roles[column]
        if role == TARGET:
            self._choose_target(column)
        elif role == TIME:
            self.time = column
            if column == shown.target:
                self.target = None
            self._read()
        elif was in (TARGET, TIME):
            # The verdict stands: only this choice is refused, and the combo goes back.
            self.error.setText(
                f"{column!r} is the target: choose another column to predict first"
                if was == TARGET
                else f"{column!r} is the series' time column: choose another column as time"
            )
            self.table.blockSignals(True)
            self.table.set_role(column, was)
            self.table.blockSignals(False)
        else:
            self.overrides[column] = role
            shown.roles[column] = role
            self.kind_label.setText(
                f"<b>{'Series' if shown.time else 'Table'}</b> · {role_hint(shown)}"
            )
            self.refresh_verdict()

    # ------------------------------------------------------------- verdict

    def choices(self) -> dict[str, object]:
        shown = self.preview
        found: dict[str, object] = {}
        if isinstance(shown, TablePreview):
            found["target"] = shown.target
            if shown.time:
                found["time"] = shown.time
                if "window" in self.series_set:
                    found["window"] = self.window_box.value()
                if "horizon" in self.series_set:
                    found["horizon"] = self.horizon_box.value()
        return found

    def chosen_features(self) -> list[str] | None:
        """The feature columns when the user changed a column's role by hand, else None
        (adapt's own choice stands)."""
        shown = self.preview
        if not isinstance(shown, TablePreview) or not self.overrides:
            return None
        if shown.time:  # a series' target is an input too: its past values
            return [c for c in shown.columns if shown.roles[c] in (FEATURE, TARGET)]
        return shown.with_role(FEATURE)

    def refresh_verdict(self) -> None:
        """Ask adapt what it would change (off the GUI thread); the lines, or the one
        line saying why not, come in `_take_verdict`. A later question wins."""
        if self.path is None or self.preview is None:
            return
        self.asked += 1
        self.adaptation = None
        self.ok_button.setEnabled(False)
        self.verdict.setText("<b>Reading the data…</b>")
        folder = self.preview if isinstance(self.preview, FolderPreview) else None
        question = Question(
            copy.deepcopy(self.project),
            self.path,
            self.choices(),
            self.chosen_features(),
            self.project_file,
            folder,
        )
        job = VerdictJob(self.asked, question)
        job.done.connect(self._take_verdict)
        start_job(job)

    @property
    def pending(self) -> bool:
        """A verdict was asked for and has not come yet."""
        return self.answered < self.asked

    def _take_verdict(self, number: int, verdict: Verdict) -> None:
        if number != self.asked:
            return  # an older question's answer: another is on its way
        self.answered = number
        if isinstance(self.preview, FolderPreview):
            self.hint.setText("\n".join(verdict.notes))
        adaptation = verdict.adaptation
        try:
            if adaptation is None:
                raise AdaptError(verdict.error)
            param_changes(self.project, adaptation.project)
        except AdaptError as err:
            self._refuse(str(err))
            self.verdict_ready.emit()
            return
        self.adaptation = adaptation
        params = adaptation.project.training.get("dataset", {}).get("params", {})
        for name, box in (("window", self.window_box), ("horizon", self.horizon_box)):
            if isinstance(params.get(name), int):
                box.setValue(params[name])  # adapt's choice, shown
        lines = adaptation.changes or ["nothing to change: the network already fits"]
        self.verdict.setText(
            f"<b>Using this data ({adaptation.kind}) changes:</b><br>" + "<br>".join(lines)
        )
        self.error.setText("")
        self.ok_button.setEnabled(True)
        self.verdict_ready.emit()

    def accept(self) -> None:
        if self.adaptation is None:
            return
        if self.apply is not None:
            try:
                self.apply(self)
            except AdaptError as err:
                self._refuse(str(err))
                return
        super().accept()

    def _refuse(self, line: str) -> None:
        self.adaptation = None
        self.verdict.setText("")
        self.error.setText(line)
        self.ok_button.setEnabled(False)
