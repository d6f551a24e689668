"""Try a sample: pick a held-out sample and see its input, the model's answer and the
truth; beside it, where a classifier of images or frames looks; for a fully
convolutional net, its mask on a generated image of another size. The model's work
(gui.results.sample_insight) runs off the event loop.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal, Slot
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QBoxLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from gui.common import plot_style as style
from gui.results.sample_fit import likeliest, natural_width
from gui.results.sample_insight import (
    SaliencyPanel,
    SizePicker,
    TrialAnswer,
    TrialRequest,
    trial_thread,
)
from gui.results.sample_view import SampleView
from gui.run.records import Evaluation

CHART_MIN_PX = 100  # the probability chart's least height with its ticks readable
QWIDGETSIZE_MAX = (1 << 24) - 1  # Qt's "no maximum"
MASKS_MIN_PX = 48  # the true and the predicted mask side by side
PICTURE_PX = 96  # a picture this high is readable (a digit, a clip's frame strip)


class SampleTrial(QWidget):
    """Try a sample: its input, the model's answer and the truth; where a classifier
    looks; a fully convolutional net at another image size."""

    looked = Signal()  # an answer from the trial's thread is on screen (tests wait for it)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.evaluation: Evaluation | None = None
        # The model behind the results: a run's project and weights (set_model).
        self.project: dict | None = None
        self.project_path = Path.cwd() / "project.json"
        self.checkpoint = ""
        self.asked: TrialRequest | None = None  # the newest question to the thread
        self.thread_ = trial_thread(self)
        self.thread_.answered.connect(self._on_answer)
        self.size_picker = SizePicker()
        self.size_picker.chosen.connect(self._on_size)
        self.index = QSpinBox()
        self.index.setPrefix("sample ")
        self.index.valueChanged.connect(self.show_sample)
        self.random_button = QPushButton("Random")
        self.random_button.clicked.connect(self._random)
        self.header = QHBoxLayout()
        self.title = QLabel("Try a sample")
        self.title.setObjectName("panelSection")
        # It takes no width of its own: shown only where the controls leave it room.
        self.title.setMinimumWidth(1)  # (not 0: that is "no minimum of its own" to Qt)
        self.header.addWidget(self.title)
        self.header.addStretch(1)
        self.header.addWidget(self.size_picker)
        self.header.addWidget(self.index)
        self.header.addWidget(self.random_button)
        self.input_view = SampleView()
        self.saliency = SaliencyPanel()  # classification of images or frames
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
        self._fit_index("00000")
        masks = QHBoxLayout()
        masks.setContentsMargins(0, 0, 0, 0)
        masks.addWidget(self.truth_view)
        masks.addWidget(self.predicted_view)
        self.masks = QWidget()
        self.masks.setLayout(masks)
        # The answer area switches pages rather than showing and hiding widgets: a
        # layout that holds still repaints only what changed, not the docks around it.
        self.answer_area = QStackedWidget()
        # As low as the probability chart can go with its ticks readable. Where the view
        # is lower than its pictures and this chart together, the chart gives way to a
        # line of text (`compact`): at 1440 × 900 the Results dock is ~200 px high.
        self.answer_area.setMinimumHeight(CHART_MIN_PX)
        self.nothing = QWidget()
        for page in (self.nothing, self.scores, self.masks):
            self.answer_area.addWidget(page)
        self.compact = False  # the chart as a line of text under the answer
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        # The sample and, for a classifier of pixels, where it looks: side by side for
        # an image, one strip above the other for frames (so they line up per frame).
        self.pictures = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        self.pictures.setContentsMargins(0, 0, 0, 0)
        self.pictures.addWidget(self.input_view, 1)
        self.pictures.addWidget(self.saliency, 1)
        layout.addLayout(self.header)
        layout.addLayout(self.pictures, 3)
        layout.addWidget(self.answer_area, 1)
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
        # The chart needs its height; masks share the height with the input evenly.
        masks = page is self.masks
        self.answer_area.setMinimumHeight(MASKS_MIN_PX if masks else CHART_MIN_PX)
        self.layout().setStretchFactor(self.answer_area, 3 if masks else 1)
        self._fit_index(str(shown))
        pixels = evaluation is not None and _pixels(evaluation)
        self.saliency.setVisible(pixels)
        if pixels:
            assert evaluation is not None
            frames = evaluation.inputs.ndim == 5
            self.pictures.setDirection(
                QBoxLayout.Direction.TopToBottom if frames else QBoxLayout.Direction.LeftToRight
            )
            self.saliency.show_message("Finding where the model looks…")
        self.size_picker.set_sizes(None, [])
        self.asked = None
        self.index.blockSignals(True)
        self.index.setRange(1, max(shown, 1))
        self.index.setValue(1)
        self.index.setSuffix(f" of {shown}" if shown else "")
        self.index.blockSignals(False)
        if evaluation is None or not shown:
            self.input_view.show_message("Train or restore a run to try its model on a sample.")
            self.answer.clear()
            self._fit()
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
        if evaluation.task == "segmentation" and self.size_picker.current_size() is not None:
            self._ask()  # a generated image of the chosen size, drawn by this number
            return
        if _pixels(evaluation) or evaluation.task == "segmentation":
            self._ask()  # where it looks; the sizes a segmentation net runs at
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
        self._fit()

    def _show_class(self, evaluation: Evaluation, i: int) -> None:
        truth, predicted = int(evaluation.truth[i]), int(evaluation.predicted[i])
        assert evaluation.scores is not None
        scores = evaluation.scores[i]
        mark = "✓" if truth == predicted else "✗"
        said, true = evaluation.class_name(predicted), evaluation.class_name(truth)
        if self.compact:  # the chart's place is taken by the pictures: its gist in words
            text = f"{mark} Predicted <b>{said}</b> · true <b>{true}</b><br>"
            width, metrics = self.answer.width(), self.answer.fontMetrics()
            text += likeliest(
                scores, evaluation.class_name, lambda line: metrics.horizontalAdvance(line) <= width
            )
        else:
            text = f"{mark}  Predicted <b>{said}</b> ({scores[predicted]:.0%}) · true <b>{true}</b>"
        self.answer.setText(text)
        colours = [style.brush(style.TRAIN, 140)] * len(scores)
        colours[predicted] = style.brush(style.METRIC_TRAIN if truth == predicted else "#e5484d")
        assert self.bars is not None
        self.bars.setOpts(x=np.arange(len(scores)), height=scores, brushes=colours)

    # ------------------------------------------------------------ fitting the space

    def _fit_index(self, most: str) -> None:
        """The spin box as wide as its longest text ("sample 359 of 359"), no wider:
        set once per run, so the header holds still as the number changes."""
        text = f"{self.index.prefix()}{most} of {most}"
        self.index.setFixedWidth(self.index.fontMetrics().horizontalAdvance(text) + 40)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        """Lay the view out for the space it has: the title gives way to the controls
        when narrow; the probability chart to a line of text when low. Nothing is
        squeezed below what it needs (a squeezed widget draws over its neighbours)."""
        controls = [self.size_picker, self.index, self.random_button]
        controls = [w for w in controls if not w.isHidden()]
        spacing = self.header.spacing()
        needed = sum(natural_width(w) + spacing for w in controls)
        self.title.setVisible(self.width() >= needed + natural_width(self.title))
        self._fit_strip()
        compact = self._chart_squeezed()
        if compact != self.compact:
            self.compact = compact
            self.saliency.set_compact(compact)
            evaluation, number = self.evaluation, self.index.value()
            if evaluation is not None and evaluation.scores is not None and evaluation.shown:
                self._show_class(evaluation, number - 1)  # with or without its line
        page = self.answer_area.currentWidget()
        self.answer_area.setVisible(page is self.masks or (page is self.scores and not compact))

    def _fit_strip(self) -> None:
        """A clip's strip above where it looks: as high as the strip is at this width,
        so the height left goes to the overlay below and the two come out alike."""
        image = self.input_view.picture.image
        frames = self.pictures.direction() == QBoxLayout.Direction.TopToBottom
        if frames and self.input_view.kind == "frames" and image is not None and image.width():
            self.input_view.setMaximumHeight(self.width() * image.height() // image.width() + 4)
        else:
            self.input_view.setMaximumHeight(QWIDGETSIZE_MAX)

    def _chart_squeezed(self) -> bool:
        """Whether the pictures, each at a readable height, leave less than the chart's
        least height."""
        evaluation = self.evaluation
        if evaluation is None or evaluation.scores is None:
            return False
        spacing = self.layout().spacing()
        fixed = self.header.sizeHint().height() + self.answer.height() + 3 * spacing
        return self.height() - fixed - self._pictures_height() < CHART_MIN_PX

    def _pictures_height(self) -> int:
        """The height the sample (and where it looks) need: each picture as high as it
        is when it fills its width, up to PICTURE_PX; a plot its least height."""
        spacing = self.pictures.spacing()
        frames = self.pictures.direction() == QBoxLayout.Direction.TopToBottom
        beside = self.saliency.isVisibleTo(self) and not frames
        width = (self.width() - spacing) // 2 if beside else self.width()
        image = self.input_view.picture.image
        if self.input_view.kind in ("image", "frames") and image is not None and image.width():
            picture = min(PICTURE_PX, width * image.height() // image.width())
        else:
            picture = PICTURE_PX
        if not self.saliency.isVisibleTo(self):
            return picture
        looks = self.saliency.overhead() + picture
        return picture + spacing + looks if frames else max(picture, looks)

    def _random(self) -> None:
        if self.evaluation is not None and self.evaluation.shown:
            self.index.setValue(random.randint(1, self.evaluation.shown))

    # ------------------------------------------------- the model, off the event loop

    def set_model(self, project: dict | None, project_path: Path, checkpoint: str) -> None:
        """The run whose results are shown: its project (with absolute data paths) and
        weights; None when no run is shown."""
        self.project, self.project_path, self.checkpoint = project, project_path, checkpoint
        self.asked = None

    def _ask(self) -> None:
        """Ask the thread about the shown sample. Only a run's end or the user's choice
        asks, one sample at a time, so it asks even behind another tab."""
        if self.project is None or self.evaluation is None:
            return
        request = TrialRequest(
            self.project, self.project_path, self.checkpoint, self.index.value() - 1,
            self.size_picker.current_size(),
        )  # fmt: skip
        if request != self.asked:
            self.asked = request
            self.thread_.ask(request)

    @Slot(object)
    def _on_size(self, size: int | None) -> None:
        if size is None:  # back to the run's own samples
            self.show_sample(self.index.value())
            return
        self.input_view.show_message(f"Generating a {size}×{size} image…")
        self._ask()

    @Slot(object)
    def _on_answer(self, answer: TrialAnswer) -> None:
        if answer.request != self.asked or self.evaluation is None:
            return  # a question nobody asks any more
        if answer.error:
            if self.saliency.isVisibleTo(self):
                self.saliency.show_message(answer.error)
            else:
                self.answer.setText(answer.error)
        if answer.looks:
            self.saliency.show_looks(answer.looks)
        if answer.sizes and self.size_picker.combo.count() == 0:
            native = int(self.evaluation.inputs.shape[-1])
            self.size_picker.set_sizes(native, answer.sizes)
            self.size_picker.setToolTip(answer.size_rule)
        if answer.image is not None and answer.truth is not None:
            self._show_at_size(answer)
        self.looked.emit()

    def _show_at_size(self, answer: TrialAnswer) -> None:
        assert answer.truth is not None and answer.predicted is not None
        assert answer.image is not None and self.evaluation is not None
        self.input_view.show_sample(answer.image, False)
        self.truth_view.show_mask(answer.truth)
        self.predicted_view.show_mask(answer.predicted)
        right = float((answer.truth == answer.predicted).mean())
        h, w = answer.predicted.shape
        native = self.evaluation.inputs.shape[-1]
        self.answer.setText(
            f"A generated {h}×{w} image (trained on {native}×{native}): mask {h}×{w}, "
            f"{right:.1%} pixels right · {answer.size_rule}"
        )

    def shutdown(self) -> None:
        self.thread_.request = None
        self.thread_.wait()


def _pixels(evaluation: Evaluation) -> bool:
    """Classification of images (C, H, W) or frames (T, C, H, W): saliency applies."""
    sample = evaluation.inputs.shape[1:]
    return (
        evaluation.task == "classification"
        and len(sample) in (3, 4)
        and np.issubdtype(evaluation.inputs.dtype, np.floating)
    )


def _numbers(values: np.ndarray) -> str:
    shown = ", ".join(f"{v:.4g}" for v in values[:4])
    return shown + (", …" if len(values) > 4 else "")
