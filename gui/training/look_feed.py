"""What Look inside shows of the run on screen: it makes Look inside's views (the
Blocks tab, gui.inside.look_inside; the Training tab's gradient flow and histograms,
gui.inside.flow_view) and feeds them the current run — the document's initial weights
with no run, the live weights a training run sends when the tab asks, a finished or
restored run's checkpoint, and a restored run's Look inside record once its tab is on
screen.

gui.training.ui wires the signals (in the order the views rely on); this module only
answers them. Imports gui.inside and gui.run.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Slot

from engine.history.runs import RunRecord
from gui.inside.flow_view import TrainingInsideView
from gui.inside.look_inside import LookInsideTabs, LookInsideView
from gui.run.current_run import CurrentRun
from gui.run.records import LiveWeights, Progress, RunOutcome, RunStarted
from gui.run.worker import TrainingController

if TYPE_CHECKING:
    from gui.main_window import MainWindow


class LookInsideFeed(QObject):
    """Look inside's views and what they are shown of `current`. `document_snapshot`
    gives the open document as a run would train it (paths made absolute)."""

    def __init__(
        self,
        window: MainWindow,
        current: CurrentRun,
        controller: TrainingController,
        document_snapshot: Callable[[], dict[str, Any]],
    ) -> None:
        super().__init__(current)
        self.window = window
        self.current = current
        self.controller = controller
        self.document_snapshot = document_snapshot
        self.look = LookInsideView()
        self.inside = TrainingInsideView()  # gradient flow and histograms of the run
        self.tabs = LookInsideTabs(self.look, self.inside)
        self.live_project: dict[str, Any] | None = None  # the live run's snapshot
        self.live_weights: LiveWeights | None = None  # its weights, when Look inside asked
        # A restored run whose Look inside record (flow, histograms) is read only when
        # the Training tab comes on screen: for a big network it is a big file.
        self.inside_unread: RunRecord | None = None
        self.tabs.currentChanged.connect(self.ask_live_weights)
        self.look.model_wanted.connect(self.fill_look)

    @Slot(list)
    def on_selection(self, ids: list) -> None:
        self.look.set_node(ids[0] if len(ids) == 1 else None)

    def look_at_current(self) -> None:
        """The current model changed: Look inside asks for it (`fill_look`) now if it
        is on screen, else when it next comes on screen. (Made at once, converting and
        copying a 10,000-block project held the GUI thread 0.25-0.5 s at every open.)"""
        self.look.invalidate_model()

    @Slot()
    def fill_look(self) -> None:
        """Look inside the current model: the document's initial weights with no run,
        a finished or restored run's checkpoint, nothing while a run trains."""
        run, w = self.current, self.window
        path = w.path or (Path.cwd() / "project.json")
        if run.kind == "live" and self.live_weights is not None and self.live_project:
            weights = self.live_weights
            self.look.set_model(self.live_project, path, weights.checkpoint, weights.describe())
        elif run.kind == "live":
            self.look.wait_for_run(
                "Training: the trainer sends its weights after its next batch (a paused "
                "run, when it resumes)."
            )
        elif run.kind == "restoring":
            self.look.wait_for_run("Loading the run's weights…")
        elif run.outcome is not None and run.outcome.checkpoint and run.outcome.project:
            self.look.set_model(run.outcome.project, path, run.outcome.checkpoint)
        else:
            self.look.set_model(self.document_snapshot(), path, "")
        self.look.set_graph(w.graph)

    @Slot()
    def ask_live_weights(self) -> None:
        """Look inside's Blocks tab came on screen during a run: ask for the weights now."""
        if self.current.kind == "live" and self.look.visible:
            self.controller.ask_weights()

    @Slot(object)
    def on_live_weights(self, progress: Progress) -> None:
        if progress.weights is not None and self.current.kind == "live":
            self.live_weights = progress.weights
            self.look_at_current()

    def inside_start_over(self) -> None:
        run = self.current
        self.inside_unread = None
        if run.kind == "live":
            self.inside.start_over(
                "Training: gradient flow arrives every few batches.",
                "Taken at each epoch's end while this tab is open.",
            )
        elif run.record is not None:
            self.inside.start_over(f"Run {run.record.id} from the Runs history: reading…")
            self.inside_unread = run.record
            self.read_inside_record(self.tabs.training_on_screen)
        else:
            self.inside.start_over("Train the network to see its gradients flow here.")

    @Slot(bool)
    def read_inside_record(self, looking: bool) -> None:
        """The restored run's Look inside record, read once its tab is on screen."""
        record = self.inside_unread
        if looking and record is not None and record is self.current.record:
            self.inside_unread = None
            self.inside.show_history(record.id, record.checkpoint)

    def on_run_started(self, started: RunStarted) -> None:
        self.ask_live_weights()  # Look inside is on screen as the run starts
        self.inside.status.setText(
            f"Run {started.run_id}: gradient flow arrives every few batches (measuring "
            "takes at most ~3% of the training time while this tab is open, ~1% while not)."
        )

    def on_run_ended(self, outcome: RunOutcome) -> None:
        self.inside.status.setText(
            f"Run {outcome.run_id or ''} {outcome.status}: its gradient flow, and the "
            "histograms taken while this tab was open."
        )
