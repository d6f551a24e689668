"""Results of a finished (or restored) run: what the task calls for — a confusion
matrix, predictions against the truth, or predicted masks beside the true ones — and
"try a sample" (gui.results.sample_trial).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from gui.common import plot_style as style
from gui.common.files import FolderAware
from gui.results.confusion import ConfusionMatrixView
from gui.results.sample_trial import SampleTrial
from gui.results.sample_view import SampleView
from gui.run.records import Evaluation, RunOutcome

MASK_ROWS = 3


class MaskGrid(QWidget):
    """A few samples: input, true mask, predicted mask."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(4)
        for column, title in enumerate(("input", "true mask", "predicted mask")):
            label = QLabel(title)
            label.setObjectName("hint")
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            grid.addWidget(label, 0, column)
        self.cells = [[SampleView() for _ in range(3)] for _ in range(MASK_ROWS)]
        for row, views in enumerate(self.cells, 1):
            for column, view in enumerate(views):
                grid.addWidget(view, row, column)

    def show_evaluation(self, evaluation: Evaluation) -> None:
        for row, (image, true, predicted) in enumerate(self.cells):
            if row >= evaluation.shown:
                for view in (image, true, predicted):
                    view.show_message("")
                continue
            image.show_sample(evaluation.inputs[row], evaluation.sequence)
            true.show_mask(evaluation.truth[row])
            predicted.show_mask(evaluation.predicted[row])


class PredictionPlot(QWidget):
    """Regression: predicted against true values, or a forecast over time."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot: pg.PlotWidget | None = None  # made on first use
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)

    def show_evaluation(self, evaluation: Evaluation) -> None:
        if self.plot is None:
            self.plot = style.styled_plot("")
            self.layout_.addWidget(self.plot)
        item = self.plot.getPlotItem()
        item.clear()
        truth = evaluation.truth.reshape(evaluation.shown, -1)[:, 0].astype(float)
        predicted = evaluation.predicted.reshape(evaluation.shown, -1)[:, 0].astype(float)
        legend = item.addLegend(offset=(8, 8), labelTextColor="#c9ced6")
        legend.clear()
        if evaluation.ordered:  # a forecast: both series over the held-out tail
            steps = np.arange(len(truth))
            item.setTitle("Forecast on the held-out tail", color="#e3e6eb", size="9.5pt")
            item.plot(steps, truth, pen=style.pen("#c9ced6", 1.2), name="true")
            item.plot(steps, predicted, pen=style.pen(style.VAL, 1.6), name="predicted")
            item.setLabel("bottom", "time step", color=style.AXIS_TEXT)
            item.setLabel("left", "value", color=style.AXIS_TEXT)
            return
        item.setTitle("Predicted against true", color="#e3e6eb", size="9.5pt")
        low = float(min(truth.min(), predicted.min()))
        high = float(max(truth.max(), predicted.max()))
        item.plot([low, high], [low, high], pen=style.pen(style.CROSSHAIR, 1), name="perfect")
        item.plot(
            truth,
            predicted,
            pen=None,
            symbol="o",
            symbolSize=5,
            symbolPen=None,
            symbolBrush=style.brush(style.TRAIN, 170),
            name="samples",
        )
        item.setLabel("bottom", "true", color=style.AXIS_TEXT)
        item.setLabel("left", "predicted", color=style.AXIS_TEXT)


class LeastHeight(QWidget):
    """A scroll area's content that is as high as the area, or as its minimum if that
    is more. (For content with height-for-width, as any word-wrapped label gives, a
    QScrollArea takes the preferred height at the width: it scrolled a view that fit.)"""

    def heightForWidth(self, width: int) -> int:  # noqa: N802 (Qt override)
        return self.minimumSizeHint().height()


class ResultsView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.outcome: RunOutcome | None = None
        self.title = QLabel("Results appear here when a run ends.")
        self.title.setObjectName("resultsTitle")
        self.title.setMinimumWidth(120)
        self.save_weights = QPushButton("Save weights…")
        self.save_weights.setToolTip("Save the trained weights as a NetLoom checkpoint (.pt)")
        self.save_weights.clicked.connect(self._save_weights)
        self.save_weights.setEnabled(False)
        header = QHBoxLayout()
        header.addWidget(self.title, 1)
        header.addWidget(self.save_weights)
        self.header = header  # add_action_button() puts other rooms' run actions here

        self.confusion = ConfusionMatrixView()
        self.predictions = PredictionPlot()
        self.masks = MaskGrid()
        self.empty = QLabel("")
        self.task_views = QStackedWidget()
        for view in (self.empty, self.confusion, self.predictions, self.masks):
            self.task_views.addWidget(view)
        self.trial = SampleTrial()
        # The dock may be made lower or narrower than the views need (its minimum is
        # its own, gui.training.docks): then they scroll rather than draw over each
        # other. Try a sample fits itself to any usual size (a line for its chart).
        body = LeastHeight()
        self.row = QHBoxLayout(body)
        self.row.setContentsMargins(0, 0, 0, 0)
        self.row.addWidget(self.task_views, 3)
        self.row.addWidget(self.trial, 2)
        self.body = QScrollArea()
        self.body.setWidgetResizable(True)
        self.body.setFrameShape(QFrame.Shape.NoFrame)
        self.body.setWidget(body)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 8)
        layout.addLayout(header)
        layout.addWidget(self.body, 1)

    @property
    def evaluation(self) -> Evaluation | None:
        return self.outcome.evaluation if self.outcome else None

    def clear(self, text: str = "Results appear here when a run ends.") -> None:
        self.outcome = None
        self.trial.set_model(None, self.trial.project_path, "")
        self.title.setText(text)
        self.task_views.setCurrentWidget(self.empty)
        self.trial.set_evaluation(None)
        self.save_weights.setEnabled(False)

    @Slot(object)
    def show_outcome(self, outcome: RunOutcome) -> None:
        self.show_summary(outcome)
        if outcome.evaluation is not None:
            self.trial.set_evaluation(outcome.evaluation)

    def show_summary(self, outcome: RunOutcome) -> None:
        """The title and the task's view; "try a sample" is filled by the caller (a
        separate step, so the window answers in between)."""
        evaluation = outcome.evaluation
        if evaluation is None:
            return
        self.outcome = outcome
        self.save_weights.setEnabled(bool(outcome.checkpoint))
        if outcome.project and outcome.checkpoint:
            # The snapshot's data paths are absolute: any folder resolves them.
            self.trial.set_model(outcome.project, Path.cwd() / "project.json", outcome.checkpoint)
        score = ""
        if evaluation.metric_value is not None:
            score = f" · {evaluation.split} {evaluation.metric} {evaluation.metric_value:.4f}"
        name = (outcome.project or {}).get("name", "")
        self.title.setText(f"<b>Run {outcome.run_id}</b> · {name}{score}")
        self.title.setToolTip(f"{evaluation.samples:,} {evaluation.split} samples")
        # A clip's frames side by side are wide: they take half the width, not two fifths.
        self.row.setStretch(0, 1 if evaluation.inputs.ndim == 5 else 3)
        self.row.setStretch(1, 1 if evaluation.inputs.ndim == 5 else 2)
        if evaluation.task == "classification":
            self.confusion.set_matrix(evaluation.confusion, evaluation.class_names)
            self.task_views.setCurrentWidget(self.confusion)
        elif evaluation.task == "segmentation":
            self.masks.show_evaluation(evaluation)
            self.task_views.setCurrentWidget(self.masks)
        else:
            self.predictions.show_evaluation(evaluation)
            self.task_views.setCurrentWidget(self.predictions)

    def add_action_button(self, button: QPushButton) -> None:
        """A button acting on the shown run (Predict…), beside Save weights…; its owner
        enables it."""
        self.header.addWidget(button)

    def _save_weights(self) -> None:
        if self.outcome is None or not self.outcome.checkpoint:
            return
        source = Path(self.outcome.checkpoint)
        name = f"run-{self.outcome.run_id}.pt"
        window = self.window()  # its folder rule: the project's folder, else the last used
        start = window.dialog_start(name) if isinstance(window, FolderAware) else name
        chosen, _ = QFileDialog.getSaveFileName(
            self, "Save weights", start, "NetLoom checkpoint (*.pt)"
        )
        if not chosen:
            return
        if isinstance(window, FolderAware):
            window.remember_dialog_folder(Path(chosen))
        try:
            shutil.copyfile(source, chosen)
        except OSError as err:
            QMessageBox.warning(self, "Save weights", f"{chosen}: {err.strerror or err}")
