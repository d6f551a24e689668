"""Training in the window: a run streams curves and learns, the canvas is locked while
it trains, pause / resume / stop work, failures show in the panel, NaN stops the run,
and closing the window mid-run stops it cleanly and records it as stopped."""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from gui.run import child_trainer
from gui.run.lock import BANNER_TEXT
from gui.run.worker import State
from tests.gui.helpers import LEFT
from tests.gui.training import (
    RUN_TIMEOUT_MS,
    break_training,
    open_iris,
    run_to_end,
    start_long_run,
    stored_runs,
)

pytestmark = pytest.mark.usefixtures("spare_trainer")

NO_MODIFIER = Qt.KeyboardModifier.NoModifier


def drop_block(window, type_name: str) -> bool:
    """A drag from the palette onto the canvas and its drop; True if the canvas took it."""
    mime = window.palette.mime_for(type_name)
    viewport = window.view.viewport()
    point = viewport.rect().center()
    enter = QDragEnterEvent(point, Qt.DropAction.CopyAction, mime, LEFT, NO_MODIFIER)
    QApplication.sendEvent(viewport, enter)
    drop = QDropEvent(QPointF(point), Qt.DropAction.CopyAction, mime, LEFT, NO_MODIFIER)
    QApplication.sendEvent(viewport, drop)
    return enter.isAccepted()


def test_a_run_streams_curves_learns_and_shows_a_confusion_matrix(qtbot, window, data_dir):
    open_iris(window, epochs=12)
    ui = window.training
    outcome = run_to_end(qtbot, window)

    assert outcome.status == "finished", outcome.reason
    assert ui.curves.batch_count == 12 * ui.panel.started.batches
    assert ui.curves.epoch_count == 12
    losses = ui.curves.series["train_loss"].y.values
    assert losses[-1] < 0.6 * losses[0]  # it learned
    # Every plot shows the run to its last batch once it has ended (each plot redraws
    # in its own turn while the run trains).
    for name in ("batch_loss", "batch_metric", "lr"):
        drawn_x, _ = ui.curves.curves[name].getData()
        assert drawn_x is not None and drawn_x[-1] == pytest.approx(12.0), name
    # The panel reports the result; the confusion matrix names iris's classes.
    assert "Validation accuracy" in ui.panel.status.text()
    assert outcome.result.final_value > 0.8
    assert ui.results.task_views.currentWidget() is ui.results.confusion
    assert ui.results.confusion.class_names == ["setosa", "versicolor", "virginica"]
    assert ui.results.confusion.matrix.sum() == 75  # the validation flowers: half of 150
    assert ui.results.confusion.accuracy == pytest.approx(outcome.result.final_value)
    [record] = stored_runs(data_dir)
    assert (record.status, record.project_name) == ("finished", "MLP iris")
    assert record.checkpoint.endswith(f"run-{record.id}.pt")


def test_the_canvas_is_locked_while_training_and_unlocked_after(qtbot, window, data_dir):
    start_long_run(qtbot, window)
    ui = window.training
    blocks = len(window.graph)
    assert ui.lock.locked
    assert ui.lock.banner.isVisible() and ui.lock.banner.text() == BANNER_TEXT
    assert not window.view.isInteractive()
    assert not window.palette.isEnabled()
    assert not window.inspector.form_host.isEnabled()
    for name in ("delete", "paste", "undo", "redo", "open", "layout"):
        assert not window.actions_[name].isEnabled(), name
    assert not ui.panel.settings.isEnabled()
    assert not drop_block(window, "Dense")
    assert len(window.graph) == blocks  # the drop was refused

    with qtbot.waitSignal(ui.controller.run_ended, timeout=RUN_TIMEOUT_MS):
        qtbot.mouseClick(ui.panel.stop_button, LEFT)
    assert not ui.lock.locked and not ui.lock.banner.isVisible()
    assert window.view.isInteractive() and window.palette.isEnabled()
    assert window.actions_["delete"].isEnabled()
    assert drop_block(window, "Dense")
    assert len(window.graph) == blocks + 1


def test_pause_resume_and_stop(qtbot, window, data_dir):
    start_long_run(qtbot, window)
    ui = window.training
    # The trainer says when it has halted, after every batch it trained has arrived.
    with qtbot.waitSignal(ui.controller.paused, timeout=RUN_TIMEOUT_MS):
        qtbot.mouseClick(ui.panel.pause_button, LEFT)
    assert ui.controller.state == State.PAUSED
    assert ui.panel.pause_button.text().startswith("Paused · Resume")
    paused_at = ui.curves.batch_count
    qtbot.wait(300)  # a busy machine only makes this check easier to pass, never harder
    assert ui.curves.batch_count == paused_at  # no batch while paused

    qtbot.mouseClick(ui.panel.pause_button, LEFT)
    assert ui.controller.state == State.RUNNING
    qtbot.waitUntil(lambda: ui.curves.batch_count > paused_at, timeout=RUN_TIMEOUT_MS)

    with qtbot.waitSignal(ui.controller.run_ended, timeout=RUN_TIMEOUT_MS) as ended:
        qtbot.mouseClick(ui.panel.stop_button, LEFT)
    outcome = ended.args[0]
    assert outcome.status == "stopped"
    assert "stopped by the user" in outcome.reason
    assert ui.panel.progress.format() == "Stopped"
    assert stored_runs(data_dir)[0].status == "stopped"


def test_an_exception_in_training_shows_in_the_panel_and_the_app_keeps_working(
    qtbot,
    window,
    data_dir,
    monkeypatch,
):
    open_iris(window, epochs=2)
    ui = window.training
    with monkeypatch.context() as patch:  # the trainer runs in a child process: break it there
        patch.setattr(child_trainer, "CHILD_SETUP", break_training)
        outcome = run_to_end(qtbot, window)

    assert outcome.status == "failed"
    assert ui.panel.status.isVisible()
    assert ui.panel.status.property("kind") == "error"
    assert "RuntimeError: injected failure in epoch 1" in ui.panel.status.text()
    [record] = stored_runs(data_dir)
    assert record.status == "failed" and "injected failure" in record.reason
    assert not ui.lock.locked

    # The next run works: nothing was left broken.
    outcome = run_to_end(qtbot, window)
    assert outcome.status == "finished"
    assert ui.panel.status.property("kind") == "ok"


def test_a_graph_that_does_not_fit_is_refused_naming_the_input_block(qtbot, window, data_dir):
    open_iris(window, dataset={"name": "digits", "params": {}}, epochs=1)
    outcome = run_to_end(qtbot, window)
    assert outcome.refused and outcome.run_id is None
    panel = window.training.panel
    # One readable line: it never started, so nothing "failed".
    text = panel.status.text()
    assert text.startswith(
        "Cannot train: input 'measurements' expects (N, 4) but dataset digits gives (N, 1, 8, 8); "
        "species: Output with loss cross_entropy needs one score per class, (N, 10)"
    )
    assert "\n" not in text and "  " not in text
    assert panel.progress.format() == "Not started"
    assert window.statusBar().currentMessage() == panel.status.text()
    assert stored_runs(data_dir) == []  # nothing trained, nothing recorded


def test_a_dangling_block_with_an_error_refuses_training_before_it_starts(qtbot, window, data_dir):
    open_iris(window, epochs=1)
    ui = window.training
    conv = window.add_block("Conv2d", QPointF(0, 600))
    window.graph.connect("measurements", conv)  # (N, 4) into a Conv2d: it cannot fit
    assert not window.graph.outgoing(conv)  # it feeds nothing
    qtbot.mouseClick(ui.panel.start_button, LEFT)
    assert not ui.controller.busy and ui.current.kind == "none"  # refused, never started
    text = ui.panel.status.text()
    assert text.startswith(f"Cannot train: {conv} feeds nothing toward the Output, and {conv}: ")
    assert text.endswith("(delete the block or wire it on)")
    assert "\n" not in text and "  " not in text
    assert ui.panel.progress.format() == "Not started"
    assert stored_runs(data_dir) == []


def test_nan_stops_the_run_with_the_reason(qtbot, window, data_dir):
    open_iris(window, optimizer="sgd", lr=1e8, epochs=3)
    outcome = run_to_end(qtbot, window)
    assert outcome.status == "failed"
    assert "the loss became" in outcome.reason and "lower learning rate" in outcome.reason
    assert "the loss became" in window.training.panel.status.text()
    assert stored_runs(data_dir)[0].status == "failed"


def test_closing_the_window_mid_run_stops_cleanly_and_records_the_run(qtbot, window, data_dir):
    start_long_run(qtbot, window)
    ui = window.training
    began = time.perf_counter()
    window.close()
    # A bound on a hang, not a speed test: the worker gives a silent trainer process 30 s.
    assert time.perf_counter() - began < 60.0
    assert not ui.controller.busy
    [record] = stored_runs(data_dir)
    assert record.status == "stopped"
    assert "stopped by the user" in record.reason
    assert record.checkpoint  # the weights so far were kept
