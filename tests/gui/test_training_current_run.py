"""One current run: opening a template, File > New and restoring a run leave no view
showing the numbers of a run that is no longer the one on screen, and a new run starts
with fresh curves, ranges and read-out."""

from __future__ import annotations

import pytest

from gui.training.curves import READOUT_HINT, x_range
from gui.training.panel import READY
from tests.gui.helpers import LEFT
from tests.gui.training import (
    RUN_TIMEOUT_MS,
    open_iris,
    run_to_end,
    set_training,
)
from tests.helpers import template

pytestmark = pytest.mark.usefixtures("spare_trainer")

DIGITS = template("cnn_digits")


def assert_no_run_shown(ui) -> None:
    """What a user sees when no run is current: nothing of any earlier run."""
    assert ui.current.kind == "none"
    assert ui.panel.status.text() == READY
    assert ui.panel.progress.format() == "Not started"
    assert ui.panel.progress.value() == 0
    assert "accuracy" not in ui.panel.status.text()
    results = ui.results
    assert results.outcome is None and results.evaluation is None
    assert results.task_views.currentWidget() is results.empty
    assert results.title.text() == "Results appear here when a run ends."
    assert not results.trial.index.isEnabled() and results.trial.answer.text() == ""
    assert not results.save_weights.isEnabled()
    curves = ui.curves
    assert curves.batch_count == 0 and curves.epoch_count == 0
    assert all(len(curves.curves[name].getData()[0] or []) == 0 for name in curves.curves)
    assert curves.readout.text() == READOUT_HINT
    assert not any(line.isVisible() for line in curves.crosshairs)


def train_and_read(qtbot, window, **settings):
    open_iris(window, **settings)
    outcome = run_to_end(qtbot, window)
    assert outcome.status == "finished", outcome.reason
    ui = window.training
    ui.curves.show_readout(1.5)  # the pointer was over a plot
    assert ui.curves.readout.text().startswith("epoch 1.50")
    assert "Validation accuracy" in ui.panel.status.text()
    assert ui.results.task_views.currentWidget() is ui.results.confusion
    return outcome


def test_opening_another_template_after_a_run_shows_no_run(qtbot, window):
    train_and_read(qtbot, window, epochs=2)
    assert window.open_template(DIGITS)
    assert_no_run_shown(window.training)


def test_file_new_after_a_run_shows_no_run(qtbot, window):
    train_and_read(qtbot, window, epochs=2)
    window.actions_["new"].trigger()  # the unsaved template is discarded
    assert len(window.graph) == 0
    assert_no_run_shown(window.training)


def test_a_new_run_starts_with_fresh_ranges_and_read_out(qtbot, window):
    train_and_read(qtbot, window, epochs=2)
    ui = window.training
    curves = ui.curves
    view = curves.loss_plot.getViewBox()
    view.setRange(xRange=(0.4, 0.6), yRange=(5.0, 6.0), padding=0)  # the user zoomed in
    curves._on_user_zoom(None)
    assert not curves.fitted

    set_training(window, epochs=3)
    with qtbot.waitSignal(ui.current.started, timeout=RUN_TIMEOUT_MS):
        qtbot.mouseClick(ui.panel.start_button, LEFT)
    assert curves.fitted and not curves.fit_button.isEnabled()
    assert curves.readout.text() == READOUT_HINT
    (x0, x1), (y0, y1) = view.viewRange()
    assert (x0, x1) == x_range(3) and x1 > 3  # the last epoch's point shows whole
    assert (y0, y1) != (5.0, 6.0)
    # (On a busy machine the run may have ended already, in the same turn as it started.)
    qtbot.waitUntil(lambda: ui.current.kind == "finished", timeout=RUN_TIMEOUT_MS)
    qtbot.waitUntil(lambda: not ui.steps.pending, timeout=RUN_TIMEOUT_MS)
    assert curves.epoch_count == 3


def test_a_restored_run_shows_its_own_numbers(qtbot, window):
    first = train_and_read(qtbot, window, epochs=2, lr=0.001)
    set_training(window, epochs=4, lr=0.02)
    second = run_to_end(qtbot, window)
    ui = window.training
    assert ui.current.run_id == second.run_id and ui.curves.epoch_count == 4

    ui.runs_dock.raise_()
    ui.runs.select_run(first.run_id)
    with qtbot.waitSignal(ui.current.ended, timeout=RUN_TIMEOUT_MS):
        qtbot.mouseClick(ui.runs.restore_button, LEFT)

    assert ui.current.kind == "restored" and ui.current.run_id == first.run_id
    status = ui.panel.status.text()
    assert status.startswith(f"Restored run {first.run_id} (MLP iris, ")
    assert f"Validation accuracy: {first.result.final_value:.4f}" in status
    assert f"run {second.run_id}" not in status.lower()
    assert ui.results.title.text().startswith(f"<b>Run {first.run_id}</b>")
    assert ui.results.confusion.matrix.sum() == first.evaluation.confusion.sum()
    # The curves are the restored run's two recorded epochs and their batches, not the
    # last run's four.
    batches = sum(len(r.batch_losses) for r in ui.runs.store().epochs(first.run_id))
    assert ui.curves.epoch_count == 2 and ui.curves.batch_count == batches > 2
    val = ui.curves.series["val_loss"].y.values
    assert list(val) == [
        row.metrics["loss"] for row in ui.runs.store().epochs(first.run_id) if row.split == "val"
    ]
    assert ui.curves.readout.text() == READOUT_HINT
    assert ui.curves.loss_plot.getViewBox().viewRange()[0] == list(x_range(2))
