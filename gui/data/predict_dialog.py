"""Predict… on a finished run: pick files (a table, images, an NPZ, a series), the run's
model answers off the GUI thread, its answers show as a table (one row per input row
or file, the metric when the files held the target), and Save CSV… writes them as the
`predict` command does. A problem is one line in the dialog; the table shown stays.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QThread, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.data.registry import DataError

if TYPE_CHECKING:
    from engine.predict import Predictions

log = logging.getLogger(__name__)

FILES_FILTER = (
    "Data to predict (*.csv *.tsv *.txt *.npz *.png *.jpg *.jpeg *.bmp *.gif *.tif *.tiff"
    " *.webp);;All files (*)"
)
RUNNING: set[PredictJob] = set()  # jobs kept alive until their thread has ended
MAX_ROWS_SHOWN = 5000  # the table shows these; Save CSV writes every row
SIZE = (980, 680)


def run_predict(project: dict[str, Any], weights: Path, paths: list[Path]) -> Predictions:
    """The model's answers on every file, in the order given, as one table."""
    from engine.predict import predict
    from engine.project.project import from_dict

    model = from_dict(project)
    combined: Predictions | None = None
    for path in paths:
        answer = predict(model, weights, path)
        if combined is None:
            combined = answer
            continue
        if answer.header != combined.header:
            raise DataError(
                f"{path}: its predictions have columns {answer.header}, "
                f"not {combined.header} as {paths[0].name}'s; predict them separately"
            )
        combined.rows += answer.rows
        combined.notes += answer.notes
        combined.metric = None  # a metric per file does not add up
    assert combined is not None
    return combined


class PredictJob(QThread):
    """Runs the prediction; `done` carries the Predictions, or one line saying why not."""

    done = Signal(object)  # Predictions | str

    def __init__(
        self, project: dict[str, Any], weights: Path, paths: list[Path], parent=None
    ) -> None:
        super().__init__(parent)
        self.project, self.weights, self.paths = project, weights, paths

    def run(self) -> None:
        from engine.predict import PredictError

        try:
            result: object = run_predict(self.project, self.weights, self.paths)
        except (DataError, PredictError) as err:
            result = str(err)
        except Exception as err:  # noqa: BLE001  # one line in the dialog, never a traceback
            log.exception("predict failed on %s", self.paths)
            result = f"{self.paths[0]}: {type(err).__name__}: {err}"
        self.done.emit(result)


def shown_cell(value: object, probability: bool) -> str:
    """A probability to 4 decimals (columns line up); other values as the CSV has them."""
    if isinstance(value, float) and probability:
        return f"{value:.4f}"
    from engine.predict.output import cell

    return cell(value)


def metric_line(predictions: Predictions) -> str:
    if predictions.metric is None:
        return ""
    name, value = predictions.metric
    return f"{name} = {value:.4f} (the files hold the target)"


class PredictDialog(QDialog):
    """The predictions of one run on files the user picks."""

    finished_predicting = Signal()  # the table (or the error line) shows the last answer

    def __init__(
        self,
        project: dict[str, Any],
        weights: Path,
        title: str = "",
        start_folder: Path | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Predict")
        self.resize(*SIZE)
        self.project = project
        self.weights = weights
        self.start_folder = start_folder or Path.home()
        self.predictions: Predictions | None = None
        self.job: PredictJob | None = None
        self.busy = False  # a job is predicting; its answer has not come yet

        self.model_label = QLabel(title or f"Model: {weights}")
        self.choose_files = QPushButton("Choose files…")
        self.choose_folder = QPushButton("Choose folder…")
        self.choose_files.clicked.connect(self._pick_files)
        self.choose_folder.clicked.connect(self._pick_folder)
        top = QHBoxLayout()
        top.addWidget(self.model_label, 1)
        top.addWidget(self.choose_files)
        top.addWidget(self.choose_folder)
        self.status = QLabel("Choose a table, images, an NPZ or a series to predict.")
        self.status.setObjectName("hint")
        self.metric_label = QLabel("")
        self.metric_label.setObjectName("predictMetric")
        self.error = QLabel("")
        self.error.setObjectName("predictError")
        self.error.setStyleSheet("color: #ff8a8e;")
        self.error.setWordWrap(True)
        self.table = QTableWidget()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.notes = QLabel("")
        self.notes.setObjectName("hint")
        self.notes.setWordWrap(True)
        self.save_button = QPushButton("Save CSV…")
        self.save_button.setEnabled(False)
        self.save_button.clicked.connect(self._save)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.save_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.status)
        layout.addWidget(self.metric_label)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.notes)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    # -------------------------------------------------------------- files

    def _pick_files(self) -> None:
        chosen, _ = QFileDialog.getOpenFileNames(
            self, "Predict", str(self.start_folder), FILES_FILTER
        )
        if chosen:
            self.predict([Path(p) for p in chosen])

    def _pick_folder(self) -> None:
        chosen = QFileDialog.getExistingDirectory(
            self, "Predict a folder of images", str(self.start_folder)
        )
        if chosen:
            self.predict([Path(chosen)])

    def predict(self, paths: list[Path]) -> None:
        """Start predicting `paths` off the GUI thread (one job at a time)."""
        if self.busy:
            self.error.setText("Still predicting the last files; wait for them.")
            return
        self.busy = True
        self.start_folder = paths[0].parent
        names = ", ".join(p.name for p in paths[:3]) + (" …" if len(paths) > 3 else "")
        self.status.setText(f"Predicting {names}…")
        self.error.setText("")
        for button in (self.choose_files, self.choose_folder):
            button.setEnabled(False)
        # No parent: a dialog closed (or its window deleted) mid-prediction does not
        # take a running thread with it: RUNNING keeps the job until its thread ends.
        self.job = job = PredictJob(self.project, self.weights, paths)
        for ended in [j for j in RUNNING if j.isFinished()]:
            RUNNING.discard(ended)  # dropped here, in the GUI thread, once truly ended
        RUNNING.add(job)
        job.done.connect(self._show)
        job.start()

    def _show(self, result: object) -> None:
        self.busy = False
        for button in (self.choose_files, self.choose_folder):
            button.setEnabled(True)
        if isinstance(result, str):
            self.status.setText("")
            self.error.setText(result)  # the last table stays
        else:
            self.show_predictions(result)  # type: ignore[arg-type]
        self.finished_predicting.emit()

    def show_predictions(self, predictions: Predictions) -> None:
        self.predictions = predictions
        shown = predictions.rows[:MAX_ROWS_SHOWN]
        self.table.clear()
        self.table.setColumnCount(len(predictions.header))
        self.table.setRowCount(len(shown))
        self.table.setHorizontalHeaderLabels(predictions.header)
        probability = [name.startswith("p_") for name in predictions.header]
        for r, row in enumerate(shown):
            for c, value in enumerate(row):
                self.table.setItem(r, c, QTableWidgetItem(shown_cell(value, probability[c])))
        self.table.resizeColumnsToContents()
        more = len(predictions.rows) - len(shown)
        extra = f" (the first {len(shown):,} shown; Save CSV writes all)" if more > 0 else ""
        self.status.setText(f"{len(predictions.rows):,} predictions{extra}")
        self.metric_label.setText(metric_line(predictions))
        self.notes.setText("\n".join(f"note: {n}" for n in predictions.notes))
        self.save_button.setEnabled(True)

    def _save(self) -> None:
        if self.predictions is None:
            return
        chosen, _ = QFileDialog.getSaveFileName(
            self, "Save predictions", str(self.start_folder / "predictions.csv"), "CSV (*.csv)"
        )
        if chosen:
            self.save(Path(chosen))

    def save(self, path: Path) -> bool:
        """Write the predictions shown as CSV; a failure is the dialog's error line."""
        from engine.predict import write_predictions

        assert self.predictions is not None
        try:
            write_predictions(self.predictions, path)
        except (OSError, DataError) as err:
            self.error.setText(f"{path}: cannot write: {getattr(err, 'strerror', None) or err}")
            return False
        self.status.setText(f"Saved {len(self.predictions.rows):,} predictions to {path}")
        return True
