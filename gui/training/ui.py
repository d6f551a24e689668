"""Training in the window: the wiring between the document, the training thread and
the views (its docks and Train menu: gui.training.docks). `install_training(window)`
is the one hook the main window calls.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Slot

from engine.data import DATASETS, TextParam
from engine.project.project import ProjectError, from_dict, to_dict
from engine.train.config import ConfigError, TrainConfig
from gui.common.steps import StepQueue
from gui.results.results import ResultsView
from gui.results.run_text import primary_metric
from gui.results.runs_view import RunsView
from gui.run import paths
from gui.run.current_run import CurrentRun
from gui.run.jobs import RestoreJob, TrainJob
from gui.run.lock import EditLock
from gui.run.records import RunOutcome, RunStarted
from gui.run.worker import State, TrainingController
from gui.training.commands import SetTrainingCommand
from gui.training.curve_data import GROUPS
from gui.training.curves import LiveCurves
from gui.training.docks import add_train_menu, add_training_docks, tab_size
from gui.training.fit_check import train_refusal
from gui.training.look_feed import LookInsideFeed
from gui.training.panel import TrainingPanel
from gui.training.pause_notice import PauseNotice
from gui.training.preview import DataKey
from gui.training.start_weights import StartWeights

if TYPE_CHECKING:
    from gui.main_window import MainWindow

log = logging.getLogger(__name__)


def planned_epochs(project: dict[str, Any] | None) -> int:
    """The epochs a run of this project snapshot is set to train (its settings as the
    trainer reads them, defaults included); 1 if they are wrong (the run will say so)."""
    try:
        return TrainConfig.from_dict((project or {}).get("training")).epochs
    except ConfigError:
        return 1


# CPU threads for torch in the window's runs: None chooses as the command line does.
# The run trains in a child process (gui.run.child_trainer), so torch may take
# every core: the GUI thread, waking ~5-10 times a second (progress bundles), preempts
# it. (In the window's own process, 2 threads on 2 cores gave p99 lateness 12 ms; it was
# capped at 1.)
GUI_THREADS: int | None = None
GUI_MAX_THREADS: int | None = None
PREPARE_DELAY_MS = 1500  # after start-up, when the window is idle
FIT_CHECK_DELAY_MS = 250  # of the window's height, given to the bottom docks in a run
RUN_VIEWS = "run views"  # the steps that fill the views with the current run


def absolute_data_paths(project: dict[str, Any], base_dir: Path | None) -> dict[str, Any]:
    """The project with its dataset's relative paths made absolute, so the recorded
    snapshot restores and trains again from anywhere."""
    snapshot = copy.deepcopy(project)
    dataset = snapshot.get("training", {}).get("dataset")
    if base_dir is None or not isinstance(dataset, dict) or dataset.get("name") not in DATASETS:
        return snapshot
    params = dataset.get("params") or {}
    for param in DATASETS[dataset["name"]].params:
        value = params.get(param.name)
        if isinstance(param, TextParam) and param.kind == "path" and isinstance(value, str):
            path = Path(value).expanduser()
            params[param.name] = str(path if path.is_absolute() else base_dir / path)
    return snapshot


class TrainingUi(QObject):
    def __init__(self, window: MainWindow, data_dir: Path | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.data_dir = data_dir or paths.data_dir()
        self.controller = TrainingController(self)
        self.lock = EditLock(window)
        self.panel = TrainingPanel()
        self.curves = LiveCurves()
        self.results = ResultsView()
        self.runs = RunsView(self.data_dir)
        self.start_weights = StartWeights(self.data_dir)  # an imported model's, if any
        # The run shown now: the panel's run line, Results, Curves and Look inside all
        # follow it.
        self.current = CurrentRun(self)
        self.feed = LookInsideFeed(window, self.current, self.controller, self.document_snapshot)
        self.look, self.inside, self.look_tabs = self.feed.look, self.feed.inside, self.feed.tabs
        self.last_outcome: RunOutcome | None = None
        self.restored_outcome: RunOutcome | None = None
        self._shown_training: dict[str, Any] = {}
        self._run_data_key: DataKey | None = None
        self._fit_timer = QTimer(self)
        self._fit_timer.setSingleShot(True)
        self._fit_timer.setInterval(FIT_CHECK_DELAY_MS)
        self._fit_timer.timeout.connect(self.panel.picker.refresh_fit)
        self.steps = StepQueue(self)
        self._add_docks()
        self._add_actions()
        self._connect()
        # While paused, the button, the status bar and the curves say so and how to resume.
        self.pause_notice = PauseNotice(
            window, self.controller, self.panel.pause_button, self.curves, self.pause_action
        )
        self.refresh_document()
        # Plots take ~15 ms each to make: make them in idle moments after start-up, one
        # per turn of the event loop, rather than all at once when Train is pressed.
        self.steps.add(*self._plot_makers(), delay_ms=PREPARE_DELAY_MS)

    def _plot_makers(self) -> list:
        curves = self.curves
        return [curves.build_next_plot] * 3 + self._curves_sized() + [self.results.trial.prepare]

    def _curves_sized(self) -> list:
        """Steps that lay the curves out at the size of the tab they will show in and
        warm each plot's paint, one per turn of the event loop: coming to the front,
        the curves then paint as in any frame of a run."""
        curves = self.curves
        return [lambda: curves.take_size(tab_size(self.window, self.curves_dock))] + [
            lambda i=i: curves.warm_up_plot(i) for i in range(3)
        ]

    # ------------------------------------------------------------ layout

    def _add_docks(self) -> None:
        d = add_training_docks(
            self.window, self.panel, self.results, self.curves, self.runs, self.look_tabs
        )
        self.training_dock, self.results_dock, self.curves_dock = d.training, d.results, d.curves
        self.runs_dock, self.look_dock = d.runs, d.look
        # A dock in a tab group counts as visible even behind another tab; these say
        # when each really comes into view.
        self.runs_dock.visibilityChanged.connect(self._on_runs_visible)
        self.training_dock.visibilityChanged.connect(self.panel.picker.set_active)
        self.curves_dock.visibilityChanged.connect(self._on_curves_visible)
        self.look_dock.visibilityChanged.connect(self.look_tabs.set_dock_visible)
        # (after the tabs have told the view whether it is on screen)
        self.look_dock.visibilityChanged.connect(self.feed.ask_live_weights)

    def _add_actions(self) -> None:
        self.actions = add_train_menu(
            self.window, self.start, self.toggle_pause, self.controller.stop, self.runs_dock
        )
        self.train_action = self.actions["train"]
        self.pause_action = self.actions["pause"]
        self.stop_action = self.actions["stop"]

    def _connect(self) -> None:
        c, p = self.controller, self.panel
        p.start_requested.connect(self.start)
        p.pause_requested.connect(c.pause)
        p.resume_requested.connect(c.resume)
        p.stop_requested.connect(c.stop)
        p.training_edited.connect(self.edit_training)
        c.state_changed.connect(self._on_state)
        # The training thread reports to the current run; the views observe the run.
        c.run_started.connect(self.current.set_started)
        c.progress.connect(self.current.add_progress)
        c.run_ended.connect(self._on_run_ended)
        c.restored.connect(self._on_restored)
        run = self.current
        run.changed.connect(self._on_current_changed)
        run.started.connect(self._on_run_started)
        run.progress.connect(p.on_progress)
        run.progress.connect(self.curves.add)
        run.progress.connect(self.inside.add)
        run.progress.connect(self.feed.on_live_weights)
        # Histograms cost the trainer something: taken only while they are on screen.
        self.look_tabs.looking.connect(self.controller.set_looking)
        self.look_tabs.looking.connect(self.feed.read_inside_record)
        run.ended.connect(self._on_current_ended)
        self.runs.restore_requested.connect(self.restore)
        self.window.undo_stack.indexChanged.connect(self._on_document_edited)
        self.window.project_replaced.connect(self._on_project_replaced)
        # Look inside follows the canvas selection and the sample of "try a sample".
        self.window.selection_changed.connect(self.feed.on_selection)
        self.results.trial.index.valueChanged.connect(lambda n: self.look.set_sample(n - 1))
        self._on_state(State.IDLE.value)
        self.feed.look_at_current()

    # ---------------------------------------------------------- document

    def base_dir(self) -> Path | None:
        return self.window.path.parent if self.window.path else None

    def document_snapshot(self) -> dict[str, Any]:
        """The open document as a run trains it: its dataset's paths made absolute."""
        return absolute_data_paths(to_dict(self.window.project), self.base_dir())

    @Slot()
    def _on_project_replaced(self) -> None:
        """Another project is in the window: no run of the last one stays on screen
        (a restore makes its run current right after)."""
        self.look.node = None  # the new document's canvas has nothing selected
        self.start_weights.forget()  # an import keeps its own right after
        self.current.clear()
        self.refresh_document()

    @Slot()
    def refresh_document(self) -> None:
        w = self.window
        self._shown_training = copy.deepcopy(w.project.training)
        self.panel.show_project(w.project.training, w.graph, self.base_dir())

    @Slot(int)
    def _on_document_edited(self, _index: int) -> None:
        # Most edits change the graph, not the settings: then only the fit check needs
        # a second look, once the edits settle (it analyses the whole graph).
        if self.current.kind == "none":
            self.feed.look_at_current()
        if self.window.project.training != self._shown_training:
            self.refresh_document()
        elif self.panel.picker.active:
            self._fit_timer.start()

    @Slot(dict, str)
    def edit_training(self, training: dict[str, Any], text: str) -> None:
        if self.controller.training:
            return
        project = self.window.project
        self.window.undo_stack.push(SetTrainingCommand(project, training, text))

    # -------------------------------------------------------------- runs

    @Slot()
    def start(self) -> None:
        w = self.window
        if self.controller.busy:
            w.statusBar().showMessage("A run is in progress; stop it first.", 5000)
            return
        if not w.project.training.get("dataset"):
            self._show_training_dock()
            self.panel.show_status("Choose a dataset to train on.", "error")
            return
        refusal = train_refusal(w.graph, self.panel.picker.data, w.project.training)
        if refusal:  # before anything starts: one line naming the block
            self._show_training_dock()
            self.panel.show_refusal(refusal)
            w.statusBar().showMessage(refusal, 8000)
            return
        snapshot = self.document_snapshot()
        data = self.panel.picker.data  # loaded for the preview already: no second load
        self._run_data_key = self.panel.picker.current_key()
        job = TrainJob(snapshot, self.base_dir(), self.data_dir, GUI_THREADS, GUI_MAX_THREADS, data)
        job = replace(job, weights=self.start_weights.path)  # an imported model's, if any
        self.feed.live_project = snapshot
        self.lock.lock(banner=False)  # shown in a step below
        self.current.begin_live()  # the views start over: nothing of an earlier run
        self.controller.start(job)
        # The views change in steps, one per turn of the event loop: together they
        # repaint most of the window (~20 ms), more than a frame. Shown after the start,
        # the picker (disabled now) does not load a preview competing with the run.
        plots = [self.curves.build_next_plot] * 3
        steps = [self.lock.show_banner, self._show_training_dock, *plots, *self._curves_sized()]
        self.steps.add(*steps, self._show_curves)

    def _show_curves(self) -> None:
        self.curves_dock.show()
        self.curves_dock.raise_()

    def _show_training_dock(self) -> None:
        self.training_dock.show()
        self.training_dock.raise_()

    @Slot()
    def toggle_pause(self) -> None:
        if self.controller.state == State.PAUSED:
            self.controller.resume()
        else:
            self.controller.pause()

    @Slot(str)
    def _on_state(self, state: str) -> None:
        if State(state) == State.IDLE and self.steps.pending:
            # After a run: the panel comes back to life once the results are shown (it
            # repaints as a whole; in the same turn as they, that was a dropped frame).
            self.steps.add(lambda: self.panel.set_state(state))
        else:
            self.panel.set_state(state)
        running = State(state) in (State.RUNNING, State.PAUSED)
        self.train_action.setEnabled(State(state) == State.IDLE)
        self.pause_action.setEnabled(running)
        self.stop_action.setEnabled(running)

    # ------------------------------------------------------ the current run

    @Slot()
    def _on_current_changed(self) -> None:
        """Every view shows the new current run from its beginning."""
        run = self.current
        self.feed.live_weights = None
        self.feed.look_at_current()
        self.steps.drop(RUN_VIEWS)  # views still to fill for the run shown before
        self.feed.inside_start_over()
        if run.kind == "live":
            self.panel.run_starting()
            self.curves.reset(None, planned_epochs(self.feed.live_project))
            self.results.clear("Training…")
        elif run.kind == "restoring" and run.record is not None:
            record = run.record
            self.panel.show_restoring(record)
            epochs = max((r.epoch for r in run.epochs), default=0)
            epochs = max(int(record.config.get("epochs", epochs) or epochs), epochs)
            self.curves.show_history(run.epochs, primary_metric(record, run.epochs), epochs)
            self.results.clear(f"Loading the weights of run {record.id}…")
        else:
            self.panel.show_no_run()
            self.curves.reset(None)
            self.results.clear()

    @Slot(object)
    def _on_run_started(self, started: RunStarted) -> None:
        self.panel.on_run_started(started)
        self.feed.on_run_started(started)
        self.curves.reset(started)
        self.window.statusBar().showMessage(f"Training: {started.describe()}", 6000)

    @Slot(object)
    def _on_run_ended(self, outcome: RunOutcome) -> None:
        """The training thread is done: the window is editable again, and the run (if
        still the one shown) shows its outcome."""
        self.last_outcome = outcome
        self.steps.run_all()  # anything prepared ahead that is still pending
        if outcome.data is not None and self._run_data_key is not None:
            self.panel.picker.loader.adopt(self._run_data_key, outcome.data)
        outcome.data = None  # the picker keeps it as long as it is chosen; nobody else
        self.lock.unlock()
        self.current.finish(outcome)
        if outcome.run_id is not None:
            self.steps.add(lambda: self._list_run(outcome.run_id))
        self.steps.add(self.refresh_document)
        first_line = outcome.reason.splitlines()[0] if outcome.reason else ""
        if outcome.refused:
            message = self.panel.status.text()
        else:
            message = f"Run {outcome.run_id or ''} {outcome.status}: {first_line}"
        self.window.statusBar().showMessage(message, 8000)

    @Slot(object)
    def _on_current_ended(self, outcome: RunOutcome) -> None:
        """Fill the views in steps: each is a few to ~25 ms; together they were 60 ms,
        four dropped frames, in one turn of the event loop. Steps belong to this run:
        if another becomes current before they run, they are dropped."""
        run = self.current
        self.feed.look_at_current()
        if run.kind == "restored" and run.record is not None:
            self.panel.show_restored(run.record, run.epochs)
            self.results.show_outcome(outcome)  # one view to fill, at the user's request
            return
        self.panel.on_run_ended(outcome)
        # The curves show the run's last points (a plot may be waiting for its turn).
        self.steps.add(*[self.curves.draw_now] * len(GROUPS), tag=RUN_VIEWS)
        self.feed.on_run_ended(outcome)
        if outcome.evaluation is None:
            what = "did not start" if outcome.refused else outcome.status
            self.results.clear(f"No results: the run {what}.")
            return
        self.steps.add(
            lambda: self.results.show_summary(outcome),
            lambda: self.results.trial.set_evaluation(outcome.evaluation, False),
            lambda: self.results.trial.show_sample(1),
            self._raise_results,
            tag=RUN_VIEWS,
        )

    def _raise_results(self) -> None:
        self.results_dock.show()
        self.results_dock.raise_()

    def _list_run(self, run_id: int) -> None:
        self.runs.mark_run(run_id)

    # ----------------------------------------------------------- restore

    @Slot(int)
    def restore(self, run_id: int) -> None:
        """Open a recorded run's network as a new, unsaved document and load its weights
        (in the background) for the results views and "try a sample"."""
        w = self.window
        store = self.runs.store()
        if store is None or self.controller.busy:
            w.statusBar().showMessage("Wait for the current run to end, then restore.", 5000)
            return
        record = store.run(run_id)
        # Killed before its weights were saved: its network and curves so far, no weights.
        curves_only = record.status == "interrupted" and not record.checkpoint
        if not curves_only and (not record.checkpoint or not Path(record.checkpoint).exists()):
            w.show_error("Cannot restore run", f"run {run_id}: its checkpoint file is missing")
            return
        try:
            project = from_dict(record.project)
        except ProjectError as err:
            w.show_error("Cannot restore run", f"run {run_id}: {err}")
            return
        if not w.maybe_save():
            return
        epochs = store.epochs(run_id)
        w.set_project(project, None, modified=True)
        self.current.begin_restore(record, epochs)  # its own numbers, not the last run's
        w.statusBar().showMessage(f"Restored run {run_id}: save it to keep it.", 8000)
        self.results_dock.show()
        self.results_dock.raise_()
        if curves_only:
            self.panel.show_restored(record, epochs)
            self.results.clear(f"No results: run {run_id} ended before its weights were saved.")
            return
        job = RestoreJob(run_id, record.project, Path(record.checkpoint), None, 1)
        self.controller.start(job)

    @Slot(object)
    def _on_restored(self, outcome: RunOutcome) -> None:
        self.restored_outcome = outcome
        record = self.current.record
        if outcome.evaluation is None and self.current.kind == "restoring" and record:
            text = f"Cannot restore run {record.id}: {outcome.reason}"
            self.results.clear(text)
            self.panel.show_status(text, "error")
            return
        self.current.restored(outcome)  # ignored if another run is shown by now

    @Slot(bool)
    def _on_curves_visible(self, visible: bool) -> None:
        if visible:
            self.curves.ensure_plots()

    @Slot(bool)
    def _on_runs_visible(self, visible: bool) -> None:
        self.runs.set_in_view(visible)

    # ---------------------------------------------------------- shutdown

    def shutdown(self) -> None:
        """Stop a run and join every thread (the window is closing)."""
        self.controller.shutdown()
        self.look.shutdown()
        self.results.trial.shutdown()
        self.panel.picker.loader.wait()
        self.runs.close_store()


def install_training(window: MainWindow) -> TrainingUi:
    return TrainingUi(window)
