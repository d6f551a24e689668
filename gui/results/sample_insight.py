"""What "try a sample" adds beside the model's answer, computed off the event loop:

- where a classifier of images or frames looks: the sample with its saliency drawn over
  it (Grad-CAM on the last Conv2d, and gradient × input), one overlay per frame for
  frames;
- for a fully convolutional segmentation net, the sizes it runs at (`size_rule`) and
  its mask on a generated image of a chosen size.

The worker side (`TrialInspector`) shares the Look inside dock's model loading
(gui.inside.look_inside.Inspector: the project's model with a run's weights, and its
validation split, whose numbering "try a sample" uses) and runs on its own
`InspectThread`, so the window never waits for a gradient.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Signal, Slot
from PySide6.QtGui import QFontMetrics, QImage, QResizeEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from gui.inside.look_inside import Inspector, InspectThread
from gui.results.sample_view import SampleView

# Sizes offered beside the native one, when the network and the dataset take them.
OTHER_SIZES = (48, 64, 96)


@dataclass(frozen=True)
class TrialRequest:
    project: dict[str, Any]
    project_path: Path
    checkpoint: str  # "" for the seeded initial weights
    sample: int  # 0-based, as "try a sample" numbers them (minus one)
    size: int | None = None  # segmentation: a generated image of this size; None: native

    def model_key(self) -> str:
        from gui.inside.look_inside import Request

        return Request(self.project, self.project_path, self.checkpoint, None, 0).model_key()


@dataclass
class Looks:
    """One saliency method's picture: the overlay (RGB) and what it shows."""

    method: str  # "Grad-CAM" or "gradient × input"
    overlay: np.ndarray  # (H, W, 3) uint8; frames side by side for a clip
    caption: str
    explain: str = ""  # what the method marks, as the caption's tooltip
    brief: str = ""  # the caption in a few words, where there is no room for it


@dataclass
class TrialAnswer:
    request: TrialRequest
    error: str = ""
    looks: list[Looks] = field(default_factory=list)  # classification of pixels
    size_rule: str = ""  # segmentation: "H, W: any multiple of 4 (…)"
    sizes: list[int] = field(default_factory=list)  # other sizes it runs at
    image: np.ndarray | None = None  # the generated image (C, H, W) at request.size
    truth: np.ndarray | None = None  # its true mask (H, W)
    predicted: np.ndarray | None = None  # the model's mask (H, W)


class TrialInspector(Inspector):
    """Runs on the trial's thread: saliency for a sample, masks at other sizes."""

    def __init__(self) -> None:
        super().__init__()
        self._sizes: tuple[str, str, list[int]] | None = None  # (model key, rule, sizes)

    def failure(self, request: TrialRequest, text: str) -> TrialAnswer:  # type: ignore[override]
        return TrialAnswer(request, error=text)

    def answer(self, request: TrialRequest) -> TrialAnswer:  # type: ignore[override]
        subject = self.subject(request)
        i = min(request.sample, len(subject.x) - 1)
        x = subject.x[i]
        task = subject.objective.task
        if task == "classification" and x.is_floating_point() and x.dim() in (3, 4):
            return TrialAnswer(request, looks=_looks(subject, x))
        if task != "segmentation":
            return TrialAnswer(request)
        rule, sizes = self._size_choices(request)
        answer = TrialAnswer(request, size_rule=rule, sizes=sizes)
        if request.size is not None:
            answer.image, answer.truth, answer.predicted = self._at_size(request, subject)
        return answer

    def _size_choices(self, request: TrialRequest) -> tuple[str, list[int]]:
        """The rule for the project's image size, and which OTHER_SIZES it allows (and
        the dataset can generate); kept per model."""
        from engine.data import get_dataset_spec
        from engine.inspect.sizes import size_rule

        key = request.model_key()
        if self._sizes is None or self._sizes[0] != key:
            graph = self._project.graph
            inputs = graph.ids_of_role("input")
            rule = size_rule(graph, inputs[0]) if len(inputs) == 1 else None
            sizes: list[int] = []
            dataset = self._project.training.get("dataset", {})
            if rule is not None and rule.axes[-2:] == (1, 2):  # (C, H, W): H and W free
                spec = get_dataset_spec(dataset.get("name", ""))
                made = {p.name: p for p in spec.params}
                if "size" in made:
                    low, high = made["size"].minimum or 1, made["size"].maximum or 4096
                    native = rule.native[-1]
                    allowed = rule.square_sizes(OTHER_SIZES)
                    sizes = [s for s in allowed if low <= s <= high and s != native]
            self._sizes = (key, rule.describe() if rule is not None else "", sizes)
        return self._sizes[1], self._sizes[2]

    def _at_size(self, request: TrialRequest, subject: Any) -> tuple[np.ndarray, ...]:
        from engine.inspect.sizes import predict_mask, sample_at_size

        dataset = self._project.training["dataset"]
        assert request.size is not None
        made = sample_at_size(
            dataset["name"], dataset.get("params", {}), request.size,
            request.project_path.parent, request.sample,
        )  # fmt: skip
        if made is None:
            raise ValueError(f"{dataset['name']}: this dataset makes images of one size only")
        image, truth = made
        predicted = predict_mask(subject.model, image, subject.objective.loss)
        return np.asarray(image), np.asarray(truth), predicted


def _looks(subject: Any, x: Any) -> list[Looks]:
    """Grad-CAM first when the model has a Conv2d (steadier), then gradient × input."""
    from engine.inspect.render import saliency_overlay
    from engine.inspect.saliency import grad_cam, gradient_x_input, last_conv_block

    names = subject.class_names

    def name(k: int) -> str:
        return names[k] if names and 0 <= k < len(names) else str(k)

    sample = x.numpy()
    looks = []
    if last_conv_block(subject.model) is not None:
        cam = grad_cam(subject.model, x)
        looks.append(
            Looks(
                "Grad-CAM",
                saliency_overlay(sample, cam.heatmap),
                f"Grad-CAM on {cam.node} for <b>{name(cam.target_class)}</b> (predicted)",
                f"The feature maps of {cam.node}, the last convolution, weighed by how much "
                "the predicted class's score depends on each: the regions it found for it",
                f"for <b>{name(cam.target_class)}</b>",
            )
        )
    simple = gradient_x_input(subject.model, x)
    looks.append(
        Looks(
            "gradient × input",
            saliency_overlay(sample, simple.heatmap),
            f"gradient × input for <b>{name(simple.target_class)}</b> (predicted)",
            "Each pixel's value times the gradient of the predicted class's score: the "
            "pixels whose change would move that score most",
            f"for <b>{name(simple.target_class)}</b>",
        )
    )
    return looks


def rgb_image(rgb: np.ndarray) -> QImage:
    h, w, _ = rgb.shape
    pixels = np.ascontiguousarray(rgb)
    return QImage(pixels.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


class SaliencyPanel(QWidget):
    """Where the classifier looks: the method to show, the overlay and a caption."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.looks: list[Looks] = []
        self.method = QComboBox()
        self.method.setToolTip("How the heat is computed (both explain the predicted class)")
        self.method.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.method.currentIndexChanged.connect(self._show_method)
        self.title = title = QLabel("Where it looks")
        title.setObjectName("hint")
        # It takes no width of its own: beside an image the panel is narrow, and then
        # the method and whom it explains come first (the method's tooltip says what).
        title.setMinimumWidth(1)  # (not 0: that is "no minimum of its own" to Qt)
        # The caption in a few words when the panel is low (compact): beside the method
        # where they fit, else on their line under the picture.
        self.brief = QLabel()
        self.brief.setObjectName("hint")
        self.brief.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.brief.hide()
        self.header = QHBoxLayout()
        self.header.setContentsMargins(0, 0, 0, 0)
        self.header.addWidget(title)
        self.header.addWidget(self.method)
        self.header.addWidget(self.brief, 1)
        self.header.addStretch(0)
        self.view = SampleView()
        self.caption = QLabel()
        self.caption.setObjectName("hint")
        self.caption.setWordWrap(True)
        self.caption.setFixedHeight(2 * self.caption.fontMetrics().lineSpacing() + 4)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(self.header)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.caption)
        self.compact = False

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._arrange()

    def set_compact(self, compact: bool) -> None:
        """Low on room: the caption shrinks to a few words (the whole caption as their
        tooltip), beside the method where they fit, else on one line under the picture."""
        self.compact = compact
        self._arrange()

    def _arrange(self) -> None:
        look = self.looks[self.method.currentIndex()] if self.looks else None
        brief = look.brief if look is not None else ""
        metrics = self.brief.fontMetrics()
        words = _advance(metrics, brief)
        spacing = self.header.spacing()
        room = self.width() - self.method.sizeHint().width() - spacing
        beside = room >= words + spacing
        if self.compact and beside:
            room -= words + spacing
        place = self.header if beside else self.layout()
        if self.compact and place.indexOf(self.brief) < 0:
            self.header.removeWidget(self.brief)
            self.layout().removeWidget(self.brief)
            if beside:
                self.header.insertWidget(2, self.brief, 1)
            else:
                self.layout().addWidget(self.brief)
        self.brief.setVisible(self.compact)
        self.caption.setVisible(not self.compact)
        titled = room >= self.title.sizeHint().width() + spacing
        self.title.setVisible(titled)
        # Beside an image the panel is narrow: the title, when it has no room in the
        # header, leads the line under the picture if that line holds it.
        if self.compact and not beside and not titled and brief:
            longer = f"{self.title.text()} {brief}"
            if _advance(metrics, longer) <= self.width():
                brief = longer
        self.brief.setText(brief)

    def overhead(self) -> int:
        """The panel's height besides its picture, with its caption in full."""
        spacing = self.layout().spacing()
        caption = 2 * self.caption.fontMetrics().lineSpacing() + 4
        return self.header.sizeHint().height() + 2 * spacing + caption

    def show_looks(self, looks: list[Looks]) -> None:
        chosen = self.method.currentText()
        self.looks = looks
        self.method.blockSignals(True)
        self.method.clear()
        self.method.addItems([look.method for look in looks])
        names = [look.method for look in looks]
        self.method.setCurrentIndex(names.index(chosen) if chosen in names else 0)
        self.method.blockSignals(False)
        self._show_method(self.method.currentIndex())

    def show_message(self, text: str) -> None:
        self.looks = []
        self.view.show_message(text)
        self.caption.clear()
        self.brief.clear()

    @Slot(int)
    def _show_method(self, index: int) -> None:
        if not 0 <= index < len(self.looks):
            return
        look = self.looks[index]
        self.view.show_image(rgb_image(look.overlay), "saliency")
        self.caption.setText(look.caption)
        self.caption.setToolTip(look.explain)
        self.brief.setToolTip(f"{look.caption}: {look.explain}")
        self._arrange()


class SizePicker(QWidget):
    """The image size "try a sample" runs a fully convolutional net at."""

    chosen = Signal(object)  # int, or None for the native size

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.combo = QComboBox()
        self.combo.setToolTip(
            "A fully convolutional network has no weight tied to the image size: "
            "run it on a generated image of another size"
        )
        self.combo.activated.connect(self._on_activated)
        label = QLabel("size")
        label.setObjectName("hint")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(label)
        layout.addWidget(self.combo)
        self.set_sizes(None, [])

    def set_sizes(self, native: int | None, sizes: list[int]) -> None:
        """Offer the native size and `sizes`; hidden when there is nothing to choose."""
        self.combo.blockSignals(True)
        self.combo.clear()
        if native is not None:
            self.combo.addItem(f"{native}×{native} (trained)", None)
        for size in sizes:
            self.combo.addItem(f"{size}×{size}", size)
        self.combo.blockSignals(False)
        self.setVisible(bool(sizes))

    def current_size(self) -> int | None:
        return self.combo.currentData()

    def choose(self, size: int | None) -> None:
        """Pick `size` as a user would (it emits `chosen`)."""
        index = self.combo.findData(size)
        if index >= 0:
            self.combo.setCurrentIndex(index)
            self._on_activated(index)

    @Slot(int)
    def _on_activated(self, index: int) -> None:
        self.chosen.emit(self.combo.itemData(index))


def _advance(metrics: QFontMetrics, rich: str) -> int:
    """The width of a rich text's words, with room for its bold ones."""
    return metrics.horizontalAdvance(re.sub(r"<[^>]+>", "", rich)) + 8


def trial_thread(parent: QWidget) -> InspectThread:
    return InspectThread(parent, TrialInspector())
