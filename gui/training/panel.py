"""The Training panel: data, hyperparameters, Start / Pause / Resume / Stop, progress.

Widgets only: the panel asks for things through signals (start, pause, stop, a changed
setting) and shows what it is told (state, progress, the outcome). `gui.training.ui`
connects it to the document, the undo stack and the training thread.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QSize, Qt, Signal, Slot
from PySide6.QtGui import QPainter, QPalette
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from engine.graph.graph import Graph
from engine.history.runs import EpochRecord, RunRecord
from gui.common.plot_style import metric_label
from gui.results.run_text import recorded_result
from gui.run.records import Progress, RunOutcome, RunStarted
from gui.run.worker import State
from gui.training.dataset_picker import DatasetPicker
from gui.training.settings_form import SettingsForm, settings_problem, with_setting

READY = "Press Train to start a run."
# The progress bar and the speed/ETA/loss line change at most twice a second: as
# readable as at 5 or 30 (a number that changes faster than it can be read is noise),
# and each change repaints part of the dock. Over a cnn_lstm_video run the GUI thread
# spent 0.6% of a core on them at 5 a second, 0.2% at 2; every millisecond of it one
# that both torch threads of the run wait.
TEXT_INTERVAL_S = 0.5


class LiveLine(QWidget):
    """One line of text that changes while a run trains, elided to the width it has.

    A QLabel lays out the panel again with every new text (its size hint may have
    changed), and the panel's scroll area after it. This line's height is fixed and its
    width is whatever the layout gives it, so a new text only repaints the line.
    Coloured by the style sheet (`LiveLine { color: … }`)."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._text = text
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self._fit_height()

    def _fit_height(self) -> None:
        self.setFixedHeight(self.fontMetrics().height() + 2)

    def text(self) -> str:
        return self._text

    def setText(self, text: str) -> None:  # noqa: N802 (QLabel's name, for callers)
        if text != self._text:
            self._text = text
            self.setAccessibleName(text)
            self.update()

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(self.fontMetrics().horizontalAdvance(self._text), self.height())

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        if event.type() == QEvent.Type.FontChange:  # (the style sheet's font, say)
            self._fit_height()
        super().changeEvent(event)

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setPen(self.palette().color(QPalette.ColorRole.WindowText))
        text = self.fontMetrics().elidedText(self._text, Qt.TextElideMode.ElideRight, self.width())
        painter.drawText(
            self.rect(), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text
        )


def set_progress_later(bar: QProgressBar, value: int, text: str) -> None:
    """Set a progress bar's value and text, painted with the window's next frame.
    `QProgressBar.setValue` repaints at once when the bar shows the change (~0.7 ms
    a call, outside the frame every other widget paints in); with updates off it
    only records the value, and turning them back on asks for one ordinary paint."""
    bar.setUpdatesEnabled(False)
    bar.setValue(value)
    bar.setFormat(text)
    bar.setUpdatesEnabled(True)


def clock(seconds: float) -> str:
    seconds = max(int(round(seconds)), 0)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def refusal_line(reason: str) -> str:
    """Why Train was refused, on one line: "Cannot train: <reasons>"."""
    parts = [part.strip().rstrip(":") for part in reason.splitlines() if part.strip()]
    return "Cannot train: " + "; ".join(parts)


def section(title: str) -> QLabel:
    label = QLabel(title)
    label.setObjectName("panelSection")
    return label


class RunClock:
    """Active training time (pauses excluded), for the ETA."""

    def __init__(self) -> None:
        self.began = time.perf_counter()
        self.paused_at: float | None = None
        self.paused = 0.0

    def pause(self) -> None:
        if self.paused_at is None:
            self.paused_at = time.perf_counter()

    def resume(self) -> None:
        if self.paused_at is not None:
            self.paused += time.perf_counter() - self.paused_at
            self.paused_at = None

    @property
    def active(self) -> float:
        now = self.paused_at if self.paused_at is not None else time.perf_counter()
        return now - self.began - self.paused


class TrainingPanel(QScrollArea):
    start_requested = Signal()
    pause_requested = Signal()
    resume_requested = Signal()
    stop_requested = Signal()
    training_edited = Signal(dict, str)  # new training settings, what changed

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.training: dict[str, Any] = {}
        self.state = State.IDLE
        self.started: RunStarted | None = None
        self.run_clock: RunClock | None = None
        self.batches_seen = 0
        self._next_text = 0.0

        self.picker = DatasetPicker()
        self.picker.edited.connect(self._on_dataset_edited)
        self.settings = SettingsForm()
        self.settings.edited.connect(self._on_setting_edited)

        self.start_button = QPushButton("▶  Train")
        self.start_button.setObjectName("trainButton")
        self.start_button.setToolTip("Train this network on the chosen data (F5)")
        self.pause_button = QPushButton("Pause")
        self.stop_button = QPushButton("Stop")
        self.start_button.clicked.connect(self.start_requested)
        self.pause_button.clicked.connect(self._on_pause_clicked)
        self.stop_button.clicked.connect(self.stop_requested)
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button, 2)
        buttons.addWidget(self.pause_button, 1)
        buttons.addWidget(self.stop_button, 1)

        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.setFormat("Not started")
        self.progress.setValue(0)
        self.stats = LiveLine(" ")
        self.status = QLabel()
        self.status.setObjectName("runStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.show_status(READY, "info")

        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(10, 8, 10, 10)
        layout.setSpacing(6)
        layout.addWidget(section("Run"))
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.stats)
        layout.addWidget(self.status)
        layout.addWidget(section("Data"))
        layout.addWidget(self.picker)
        layout.addWidget(section("Settings"))
        layout.addWidget(self.settings)
        layout.addStretch(1)
        self.setWidget(body)
        self.set_state(State.IDLE)

    # ---------------------------------------------------------- document

    def show_project(self, training: dict[str, Any], graph: Graph, base_dir: Path | None) -> None:
        self.training = training
        self.picker.show_choice(training, graph, base_dir)
        self.settings.show_settings(training)
        self._update_buttons()

    def _on_dataset_edited(self, choice: dict[str, Any]) -> None:
        changed = dict(self.training)
        changed["dataset"] = choice
        self.training_edited.emit(changed, f"Train on {choice['name']}")

    def _on_setting_edited(self, name: str, value: Any) -> None:
        if self.training.get(name) == value and name in self.training:
            return
        changed = with_setting(self.training, name, value)
        problem = settings_problem(changed)
        if problem:
            self.settings.show_problem(name, problem)
            return
        self.training_edited.emit(changed, f"Set training {name.replace('_', ' ')}")

    # ------------------------------------------------------------- state

    def set_state(self, state: State | str) -> None:
        self.state = State(state)
        if self.run_clock is not None:
            if self.state == State.PAUSED:
                self.run_clock.pause()
            else:
                self.run_clock.resume()
        if self.state == State.STOPPING:
            self.stats.setText("Stopping after this batch…")
        self._update_buttons()

    def _update_buttons(self) -> None:
        idle = self.state == State.IDLE
        self.start_button.setEnabled(idle and bool(self.training.get("dataset")))
        self.pause_button.setEnabled(self.state in (State.RUNNING, State.PAUSED))
        self.pause_button.setText("Resume" if self.state == State.PAUSED else "Pause")
        self.stop_button.setEnabled(self.state in (State.RUNNING, State.PAUSED))
        self.picker.setEnabled(idle)
        self.settings.setEnabled(idle)

    def _on_pause_clicked(self) -> None:
        if self.state == State.PAUSED:
            self.resume_requested.emit()
        else:
            self.pause_requested.emit()

    # -------------------------------------------------------------- runs

    def show_no_run(self) -> None:
        """No run is current (another project is open): nothing of an earlier run stays."""
        self.started, self.run_clock, self.batches_seen = None, None, 0
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("Not started")
        self.stats.setText(" ")
        self.show_status(READY, "info")

    def show_restoring(self, record: RunRecord) -> None:
        self.show_no_run()
        self.progress.setFormat(f"Run {record.id} · loading its weights…")
        self.show_status(f"Restoring run {record.id} ({record.project_name})…", "info")

    def show_restored(self, record: RunRecord, epochs: list[EpochRecord]) -> None:
        """A run from the history: what it recorded, not what the last live run did."""
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self.progress.setFormat(f"Run {record.id} · restored")
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(record.started))
        text = f"Restored run {record.id} ({record.project_name}, {when}): {record.status}"
        if record.reason:
            text += f", {record.reason}"
        result = recorded_result(record, epochs)
        text += f". {result}" if result else "."
        self.show_status(text, "ok" if record.status == "finished" else "info")

    def show_refusal(self, line: str) -> None:
        """Train was refused before anything started (the graph or data is wrong)."""
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("Not started")
        self.stats.setText(" ")
        self.show_status(line, "error")

    def run_starting(self) -> None:
        self.started, self.batches_seen = None, 0
        self.progress.setRange(0, 0)  # busy: loading data and building the model
        self.progress.setFormat("Starting…")
        self.stats.setText(" ")
        self.show_status("Loading the data and building the model…", "info")

    @Slot(object)
    def on_run_started(self, started: RunStarted) -> None:
        self.started = started
        self.run_clock = RunClock()
        self.progress.setRange(0, started.epochs * started.batches)
        self.progress.setValue(0)
        self.progress.setFormat(f"Epoch 1/{started.epochs}")
        self.show_status(started.describe(), "info")

    @Slot(object)
    def on_progress(self, progress: Progress) -> None:
        if self.started is None or not progress.batches:
            return
        self.batches_seen += len(progress.batches)
        now = time.perf_counter()
        if now < self._next_text:
            return
        self._next_text = now + TEXT_INTERVAL_S
        last = progress.batches[-1]
        done = (last.epoch - 1) * last.batches + last.batch
        set_progress_later(
            self.progress,
            done,
            f"Epoch {last.epoch}/{last.epochs} · batch {last.batch}/{last.batches}",
        )
        parts = [f"{last.samples_per_s:,.0f} samples/s"]
        if self.run_clock is not None and done:
            total = self.progress.maximum()
            remaining = self.run_clock.active * (total - done) / done
            parts.append(f"ETA {clock(remaining)}")
        parts.append(f"loss {last.loss:.4g}")
        self.stats.setText("  ·  ".join(parts))

    @Slot(object)
    def on_run_ended(self, outcome: RunOutcome) -> None:
        self.run_clock = None
        self.progress.setRange(0, max(self.progress.maximum(), 1))
        result = outcome.result
        if outcome.status == "finished" and result is not None:
            self.progress.setValue(self.progress.maximum())
            self.progress.setFormat("Finished")
            text = f"{result.reason} in {clock(result.seconds)}."
            if result.final_value is not None:
                split = "Validation" if result.final_split == "val" else "Training"
                metric = metric_label(result.metric)
                text += f" {split} {metric}: {result.final_value:.4f}"
            self.show_status(text, "ok")
        elif outcome.status == "stopped":
            self.progress.setFormat("Stopped")
            self.show_status(outcome.reason or "Stopped.", "info")
        elif outcome.refused:  # it never started: nothing failed, the graph or data is wrong
            self.show_refusal(refusal_line(outcome.reason))
        else:
            self.progress.setFormat("Failed")
            self.show_status(outcome.reason, "error")
        self.stats.setText(" ")

    def show_status(self, text: str, kind: str) -> None:
        """kind: "info", "ok" or "error" (styled by the sheet through the property).

        The label always shows (empty text reads "ready"): appearing and disappearing
        would lay the whole panel out again mid-run.
        """
        self.status.setText(text or READY)
        if self.status.property("kind") != kind:
            self.status.setProperty("kind", kind)
            self.status.style().unpolish(self.status)
            self.status.style().polish(self.status)
