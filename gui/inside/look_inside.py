"""Look inside: what the selected block computes for the sample of "try a sample".

The view observes the current run (gui.run.current_run) and the canvas
selection. Its model is the current one: the seeded initial weights when no run is
shown, the checkpoint of a finished or restored run otherwise (a run trains in a child
process, so its trained state reaches the window as the checkpoint in its outcome).
A live run's weights stay in the child: when the view comes on screen during a run, the
window asks the trainer for them (it saves them after its next batch) and the view
looks at that moment of the run. The dock's other tab (`LookInsideTabs`,
gui.inside.flow_view) shows what the child sends of a live run: gradient flow every
few batches and histograms per epoch.

The model itself is made lazily: when it changes (another project, run or weights)
the view only marks it out of date (`invalidate_model`) and asks its owner for it
(`model_wanted`) when it is next on screen. Converting a 10,000-block project to a dict
and copying it took 0.25-0.5 s of the GUI thread at the end of every open, for a view
that was mostly behind another tab.

Everything heavy — loading the data, building the model, the capture, the time lens,
saliency — runs on a QThread, only while the view is visible and only when asked;
the images come back as numpy RGB arrays drawn by engine.inspect.render, and are shown
at their natural size in a scroll area (wide maps scroll, they are never squashed).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QThread, Signal, Slot
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QLabel, QScrollArea, QTabWidget, QVBoxLayout, QWidget

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Request:
    """What to look at: a project (as a dict), its weights, a block and a sample."""

    project: dict[str, Any]
    project_path: Path  # relative dataset paths resolve against its folder
    checkpoint: str  # "" for the seeded initial weights
    node: str | None  # None: the views of the whole model (filters, saliency, any size)
    sample: int  # 0-based, the numbering of "try a sample"
    # Which weights these are, if not a finished run's ("weights at epoch 3, batch 40 …"):
    # a live run's are saved to the same file each time the view asks.
    weights: str = ""

    def model_key(self) -> str:
        key = [self.project, str(self.project_path), self.checkpoint, self.weights]
        return json.dumps(key, sort_keys=True)


@dataclass
class Answer:
    request: Request
    title: str
    sections: list[tuple[str, np.ndarray]] = field(default_factory=list)  # (kind, RGB)
    error: str = ""


def _rgb(image: Any) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(image.convert("RGB"), dtype=np.uint8))


class Inspector:
    """The engine side, run on the worker thread: keeps the last model and capture."""

    def __init__(self) -> None:
        self._key: str | None = None
        self._subject: Any = None
        self._project: Any = None
        self._captured: tuple[int, list] | None = None

    def subject(self, request: Request) -> Any:
        from engine.inspect.command import prepare
        from engine.project.project import from_dict

        key = request.model_key()
        if key != self._key:
            self._key, self._subject, self._captured = None, None, None
            project = from_dict(request.project)
            self._subject = prepare(project, request.project_path, request.checkpoint or None)
            self._project, self._key = project, key
        return self._subject

    def failure(self, request: Request, text: str) -> Answer:
        return Answer(request, "", error=text)

    def answer(self, request: Request) -> Answer:
        from engine.inspect import render
        from engine.inspect.activations import capture, first_conv_filters
        from engine.inspect.command import any_size_view, saliency_view
        from engine.inspect.lens import recurrent_blocks, time_lens

        subject = self.subject(request)
        model = subject.model
        samples = len(subject.x)
        i = min(request.sample, samples - 1)
        x, y = subject.x[i], subject.y[i]
        weights = "trained weights" if request.checkpoint else "initial (seeded) weights"
        weights = request.weights or weights
        if self._captured is None or self._captured[0] != i:
            self._captured = (i, capture(model, subject.analysis, x))
        found = {a.node: a for a in self._captured[1]}
        sections: list[tuple[str, np.ndarray]] = []
        filters = first_conv_filters(model)
        if request.node is None:
            title = (
                f"Sample {i + 1} of {subject.split} · {weights} · select a block to see its output"
            )
            if filters is not None:
                sections.append(("filters", _rgb(render.render_filters(filters))))
            pixels = x.is_floating_point() and x.dim() in (3, 4)
            if subject.objective.task == "classification" and pixels:
                view = saliency_view(model, x, int(y), subject.class_names)
                sections.append(("saliency", _rgb(view)))
            if subject.objective.task == "segmentation":
                view = any_size_view(self._project, request.project_path, subject)
                if view is not None:
                    sections.append(("any_size", _rgb(view)))
            return Answer(request, title, sections)
        act = found.get(request.node)
        title = f"{request.node} · sample {i + 1} of {subject.split} · {weights}"
        if act is None:
            return Answer(request, title, error=f"{request.node}: this block has no output here")
        recurrent = request.node in recurrent_blocks(model)
        sections.append(("activation", _rgb(render.render_activation(act, recurrent))))
        if filters is not None and filters.node == request.node:
            sections.append(("filters", _rgb(render.render_filters(filters))))
        if recurrent:
            lens = time_lens(model, subject.loss_fn, x, y, request.node)
            sections.append(("lens", _rgb(render.render_lens(lens))))
        return Answer(request, title, sections)


class InspectThread(QThread):
    """Answers one request at a time off the event loop; the newest request wins.

    `inspector.answer(request)` runs on this thread; an exception becomes
    `inspector.failure(request, one_line)`, an answer that shows the line.
    """

    answered = Signal(object)  # Answer (or the inspector's own kind of answer)

    def __init__(self, parent: QWidget | None = None, inspector: Any = None) -> None:
        super().__init__(parent)
        self.inspector = inspector if inspector is not None else Inspector()
        self.request: Request | None = None
        self.done: Request | None = None
        # A request that came as the loop ended is taken up when the thread stops.
        self.finished.connect(self._again)

    def ask(self, request: Request) -> None:
        self.request = request
        if not self.isRunning():
            self.start()

    @Slot()
    def _again(self) -> None:
        if self.request is not None and self.request != self.done:
            self.start()

    def run(self) -> None:
        import torch

        # One CPU thread: on a busy 2-core machine torch's thread pool made an 8×8 digit's
        # saliency take ~300 ms (spinning workers); with one thread it took 1-6 ms. The
        # window's own process trains nothing (runs train in a child process).
        torch.set_num_threads(1)
        while self.request is not None and self.request != self.done:
            request = self.done = self.request
            try:
                answer = self.inspector.answer(request)
            except Exception as err:  # noqa: BLE001 — shown as one line, never a crash
                log.info("look inside: %s", err, exc_info=True)
                answer = self.inspector.failure(request, _one_line(err))
            self.answered.emit(answer)


def _one_line(err: Exception) -> str:
    problems = getattr(err, "problems", None)
    if problems:
        return f"The graph does not fit the data: {problems[0]}"
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__


def free_dims_text(graph: Any) -> str:
    """Which input dimensions are free (a fully convolutional net's H and W)."""
    from engine.inspect.sizes import describe_free

    try:
        found = {node: describe_free(graph, node) for node in graph.ids_of_role("input")}
    except Exception:  # noqa: BLE001 — a graph mid-edit: no label rather than a crash
        return ""
    free = [f"{node} {sizes.shape}: {sizes.text}" for node, sizes in found.items() if sizes.text]
    if not free:
        return "Input size: fixed (this network's weights need the size it has)."
    return "Free input sizes: " + " · ".join(free)


class LookInsideView(QWidget):
    """The dock's body: a title line and the images, scrolling when larger."""

    shown = Signal()  # a new answer is on screen (tests wait for it)
    # The model is out of date and the view is on screen: the owner sets it now
    # (set_model or wait_for_run), within the emit.
    model_wanted = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel()
        self.title.setObjectName("hint")
        self.title.setWordWrap(True)
        self.free = QLabel()
        self.free.setObjectName("hint")
        self.body = QWidget()
        self.body_layout = QVBoxLayout(self.body)
        self.body_layout.setContentsMargins(4, 4, 4, 4)
        self.body_layout.addStretch(1)
        self.scroll = QScrollArea()
        self.scroll.setWidget(self.body)
        self.scroll.setWidgetResizable(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 8)
        layout.addWidget(self.title)
        layout.addWidget(self.free)
        layout.addWidget(self.scroll, 1)
        self.thread_ = InspectThread(self)
        self.thread_.answered.connect(self._on_answer)
        self.visible = False
        self.node: str | None = None
        self.sample = 0
        self.project: dict[str, Any] | None = None
        self.project_path = Path.cwd() / "project.json"
        self.checkpoint = ""
        self.weights = ""  # says which weights, when not those of a finished run
        self.graph: Any = None
        self.free_shown = False
        self.waiting_text = ""  # a live run: nothing to look at until it ends
        self.model_stale = False  # the model changed; asked for when next on screen
        self.sections: list[str] = []  # kinds of the images shown, in order
        self.shown_request: Request | None = None
        self.clear("Select a block to see what it computes.")

    # ------------------------------------------------------------ inputs

    def set_model(
        self, project: dict[str, Any] | None, project_path: Path, checkpoint: str, weights: str = ""
    ) -> None:
        """The model to look into: a project dict and its weights ("" = initial);
        `weights` names them when they are a live run's."""
        self.project, self.project_path, self.checkpoint = project, project_path, checkpoint
        self.weights = weights
        self.waiting_text = ""
        self.model_stale = False
        self.refresh()

    def wait_for_run(self, text: str) -> None:
        self.project, self.waiting_text = None, text
        self.model_stale = False
        self.clear(text)

    def invalidate_model(self) -> None:
        """The current model changed: on screen, it is asked for now; off screen, the
        last one is forgotten and the new one asked for when the view is next shown."""
        self.model_stale = True
        if self.visible:
            self.refresh()
            return
        # No request can be made of a model that is out of date, no late answer about
        # the last one is shown, and its images do not come back on screen with the tab.
        self.project, self.checkpoint, self.weights, self.waiting_text = None, "", "", ""
        self.clear("Looking inside…")

    def set_node(self, node: str | None) -> None:
        self.node = node
        self.refresh()

    def set_sample(self, sample: int) -> None:
        self.sample = max(sample, 0)
        self.refresh()

    def set_graph(self, graph: Any) -> None:
        """The document's graph, for the label of free input dimensions (made when seen)."""
        self.graph, self.free_shown = graph, False
        self.refresh()

    @Slot(bool)
    def set_visible(self, visible: bool) -> None:
        self.visible = visible
        self.refresh()

    def request(self) -> Request | None:
        if self.project is None:
            return None
        return Request(
            self.project, self.project_path, self.checkpoint, self.node, self.sample, self.weights
        )

    def refresh(self) -> None:
        """Ask for the views when they are on screen and not shown already."""
        if self.visible and self.model_stale:
            self.model_stale = False
            self.model_wanted.emit()  # the owner's set_model (or wait_for_run) is in place
        if self.visible and not self.free_shown:
            self.free.setText(free_dims_text(self.graph) if self.graph is not None else "")
            self.free_shown = True
        request = self.request()
        if request is None:
            self.clear(self.waiting_text or "Open a project to look inside its network.")
            return
        if not self.visible or request == self.shown_request:
            return
        self.title.setText("Looking inside…")
        self.thread_.ask(request)

    # ------------------------------------------------------------ output

    def clear(self, text: str) -> None:
        self.shown_request = None
        self.title.setText(text)
        self._set_images([])

    def _set_images(self, sections: list[tuple[str, np.ndarray]]) -> None:
        while self.body_layout.count() > 1:
            item = self.body_layout.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.sections = [kind for kind, _ in sections]
        for k, (kind, rgb) in enumerate(sections):
            h, w, _ = rgb.shape
            image = QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
            label = QLabel()
            label.setObjectName(f"look_{kind}")
            label.setPixmap(QPixmap.fromImage(image))  # natural size: scroll, never squash
            label.setFixedSize(w, h)
            self.body_layout.insertWidget(k, label)

    @Slot(object)
    def _on_answer(self, answer: Answer) -> None:
        if answer.request != self.request():
            return  # an answer to a question nobody asks any more
        self.shown_request = answer.request
        self.title.setText(answer.error or answer.title)
        self._set_images([] if answer.error else answer.sections)
        self.shown.emit()

    def shutdown(self) -> None:
        self.thread_.request = None
        self.thread_.wait()


class LookInsideTabs(QTabWidget):
    """The dock: what each block computes ("Blocks") and the run's gradient flow and
    histograms ("Training"). Each tab works only while it is the one on screen;
    `looking` says when the Training tab is, so the trainer takes its histograms."""

    looking = Signal(bool)

    def __init__(self, blocks: LookInsideView, training: Any, parent: QWidget | None = None):
        super().__init__(parent)
        self.blocks, self.training = blocks, training
        self.addTab(blocks, "Blocks")
        self.addTab(training, "Training")
        self.setTabToolTip(0, "What the selected block computes for a sample")
        self.setTabToolTip(1, "Gradient flow and histograms of the current run")
        self.setDocumentMode(True)
        self.dock_visible = False
        self.currentChanged.connect(self._update)

    @Slot(bool)
    def set_dock_visible(self, visible: bool) -> None:
        self.dock_visible = visible
        self._update()

    @property
    def training_on_screen(self) -> bool:
        return self.dock_visible and self.currentWidget() is self.training

    @Slot()
    def _update(self) -> None:
        training = self.training_on_screen
        self.blocks.set_visible(self.dock_visible and self.currentWidget() is self.blocks)
        self.training.set_visible(training)
        self.looking.emit(training)
