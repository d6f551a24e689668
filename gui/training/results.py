"""Results of a finished (or restored) run: what the task calls for — a confusion
matrix, predictions against the truth, or predicted masks beside the true ones — and
"try a sample": pick a held-out sample and see its input, the prediction and the truth.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from gui.training import plot_style as style
from gui.training.confusion import ConfusionMatrixView
from gui.training.records import Evaluation, RunOutcome
from gui.training.sample_view import SampleView

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


class SampleTrial(QWidget):
    """Try a sample: its input, the model's answer and the truth."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.evaluation: Evaluation | None = None
        self.index = QSpinBox()
        self.index.setPrefix("sample ")
        self.index.valueChanged.connect(self.show_sample)
        self.random_button = QPushButton("Random")
        self.random_button.clicked.connect(self._random)
        header = QHBoxLayout()
        title = QLabel("Try a sample")
        title.setObjectName("panelSection")
        header.addWidget(title)
        header.addStretch(1)
        header.addWidget(self.index)
        header.addWidget(self.random_button)
        self.input_view = SampleView()
        self.truth_view = SampleView()  # masks only
        self.predicted_view = SampleView()
        self.scores = SampleView()  # class probabilities as bars
        self.bars: pg.BarGraphItem | None = None
        self.answer = QLabel()
        self.answer.setObjectName("sampleAnswer")
        self.answer.setWordWrap(True)
        # Fixed sizes below keep the layout still when texts change: a relayout of this
        # view repaints the docks around it too (15 ms at the end of a run).
        self.answer.setFixedHeight(2 * self.answer.fontMetrics().lineSpacing() + 6)
        self.index.setMinimumWidth(
            self.index.fontMetrics().horizontalAdvance("sample 00000 of 00000") + 40
        )
        masks = QHBoxLayout()
        masks.setContentsMargins(0, 0, 0, 0)
        masks.addWidget(self.truth_view)
        masks.addWidget(self.predicted_view)
        self.masks = QWidget()
        self.masks.setLayout(masks)
        # The answer area switches pages rather than showing and hiding widgets: a
        # layout that holds still repaints only what changed, not the docks around it.
        self.answer_area = QStackedWidget()
        self.answer_area.setMinimumHeight(110)
        self.nothing = QWidget()
        for page in (self.nothing, self.scores, self.masks):
            self.answer_area.addWidget(page)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(header)
        layout.addWidget(self.input_view, 3)
        layout.addWidget(self.answer_area, 2)
        layout.addWidget(self.answer)
        self.set_evaluation(None)

    def prepare(self) -> None:
        """Make the probability plot and its bars ahead of need (~12 ms)."""
        if self.bars is None:
            self.bars = pg.BarGraphItem(x=[0], height=[0], width=0.7, pen=None)
            item = self.scores.plot.getPlotItem()
            item.addItem(self.bars)
            # Room above 100 % and below 0 for their tick labels: the axis drops a label
            # that would stick out of the plot, and then only "50%" was left.
            item.setYRange(0, 1, padding=0.15)
            item.disableAutoRange()
            item.getAxis("left").setTicks([[(0.0, "0"), (0.5, "50%"), (1.0, "100%")]])
            self.scores.setCurrentWidget(self.scores.plot)

    def set_evaluation(self, evaluation: Evaluation | None, show_first: bool = True) -> None:
        """Browse these results; `show_first` False leaves showing sample 1 to the caller
        (a step of its own, so the window answers in between)."""
        self.evaluation = evaluation
        shown = evaluation.shown if evaluation else 0
        self.index.setEnabled(shown > 0)
        self.random_button.setEnabled(shown > 0)
        page = self.nothing
        if evaluation is not None and evaluation.task == "segmentation":
            page = self.masks
        elif evaluation is not None and evaluation.scores is not None:
            page = self.scores
            self.prepare()
            self._label_classes(evaluation)
        self.answer_area.setCurrentWidget(page)
        self.index.blockSignals(True)
        self.index.setRange(1, max(shown, 1))
        self.index.setValue(1)
        self.index.setSuffix(f" of {shown}" if shown else "")
        self.index.blockSignals(False)
        if evaluation is None or not shown:
            self.input_view.show_message("Train or restore a run to try its model on a sample.")
            self.answer.clear()
            return
        if show_first:
            self.show_sample(1)

    def _label_classes(self, evaluation: Evaluation) -> None:
        assert evaluation.scores is not None
        classes = evaluation.scores.shape[1]
        item = self.scores.plot.getPlotItem()
        item.setXRange(-0.6, classes - 0.4, padding=0)
        ticks = [(k, evaluation.class_name(k)[:10]) for k in range(classes)]
        item.getAxis("bottom").setTicks([ticks] if classes <= 12 else None)

    @Slot(int)
    def show_sample(self, number: int) -> None:
        """Show sample `number` (1-based, as the spin box counts)."""
        evaluation = self.evaluation
        if evaluation is None or not 1 <= number <= evaluation.shown:
            return
        i = number - 1
        self.input_view.show_sample(
            evaluation.inputs[i], evaluation.sequence, evaluation.feature_names
        )
        truth, predicted = evaluation.truth[i], evaluation.predicted[i]
        if evaluation.task == "segmentation":
            self.truth_view.show_mask(truth)
            self.predicted_view.show_mask(predicted)
            right = float((truth == predicted).mean())
            self.answer.setText(f"Left: true mask · right: predicted — {right:.1%} pixels right")
        elif evaluation.task == "classification":
            self._show_class(evaluation, i)
        else:
            values = predicted.reshape(-1)
            targets = truth.reshape(-1)
            error = float(np.abs(values - targets).mean())
            self.answer.setText(
                f"Predicted {_numbers(values)} · true {_numbers(targets)} · error {error:.4g}"
            )

    def _show_class(self, evaluation: Evaluation, i: int) -> None:
        truth, predicted = int(evaluation.truth[i]), int(evaluation.predicted[i])
        assert evaluation.scores is not None
        scores = evaluation.scores[i]
        mark = "✓" if truth == predicted else "✗"
        self.answer.setText(
            f"{mark}  Predicted <b>{evaluation.class_name(predicted)}</b> "
            f"({scores[predicted]:.0%}) · true <b>{evaluation.class_name(truth)}</b>"
        )
        colours = [style.brush(style.TRAIN, 140)] * len(scores)
        colours[predicted] = style.brush(style.METRIC_TRAIN if truth == predicted else "#e5484d")
        assert self.bars is not None
        self.bars.setOpts(x=np.arange(len(scores)), height=scores, brushes=colours)

    def _random(self) -> None:
        if self.evaluation is not None and self.evaluation.shown:
            self.index.setValue(random.randint(1, self.evaluation.shown))


def _numbers(values: np.ndarray) -> str:
    shown = ", ".join(f"{v:.4g}" for v in values[:4])
    return shown + (", …" if len(values) > 4 else "")


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

        self.confusion = ConfusionMatrixView()
        self.predictions = PredictionPlot()
        self.masks = MaskGrid()
        self.empty = QLabel("")
        self.task_views = QStackedWidget()
        for view in (self.empty, self.confusion, self.predictions, self.masks):
            self.task_views.addWidget(view)
        self.trial = SampleTrial()
        body = QHBoxLayout()
        body.addWidget(self.task_views, 3)
        body.addWidget(self.trial, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 8)
        layout.addLayout(header)
        layout.addLayout(body, 1)

    @property
    def evaluation(self) -> Evaluation | None:
        return self.outcome.evaluation if self.outcome else None

    def clear(self, text: str = "Results appear here when a run ends.") -> None:
        self.outcome = None
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
        score = ""
        if evaluation.metric_value is not None:
            score = f" · {evaluation.split} {evaluation.metric} {evaluation.metric_value:.4f}"
        name = (outcome.project or {}).get("name", "")
        self.title.setText(f"<b>Run {outcome.run_id}</b> · {name}{score}")
        self.title.setToolTip(f"{evaluation.samples:,} {evaluation.split} samples")
        if evaluation.task == "classification":
            self.confusion.set_matrix(evaluation.confusion, evaluation.class_names)
            self.task_views.setCurrentWidget(self.confusion)
        elif evaluation.task == "segmentation":
            self.masks.show_evaluation(evaluation)
            self.task_views.setCurrentWidget(self.masks)
        else:
            self.predictions.show_evaluation(evaluation)
            self.task_views.setCurrentWidget(self.predictions)

    def _save_weights(self) -> None:
        if self.outcome is None or not self.outcome.checkpoint:
            return
        source = Path(self.outcome.checkpoint)
        chosen, _ = QFileDialog.getSaveFileName(
            self, "Save weights", f"run-{self.outcome.run_id}.pt", "NetLoom checkpoint (*.pt)"
        )
        if not chosen:
            return
        try:
            shutil.copyfile(source, chosen)
        except OSError as err:
            QMessageBox.warning(self, "Save weights", f"{chosen}: {err.strerror or err}")
