"""Look inside while training: the trainer's gradient flow reaches the window during the
run as one line per block with weights; histograms per epoch (only while the tab is
open) with a slider over the epochs; a run restored from the Runs history shows what
was kept of them, and another project clears them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.gui.helpers import LEFT
from tests.gui.training import (
    RUN_TIMEOUT_MS,
    open_iris,
    run_to_end,
    start_long_run,
)
from tests.helpers import ROOT

pytestmark = pytest.mark.usefixtures("spare_trainer")


def open_training_tab(window):
    ui = window.training
    ui.look_dock.show()
    ui.look_dock.raise_()
    ui.look_tabs.setCurrentWidget(ui.inside)
    return ui.inside


def test_gradient_flow_and_histograms_reach_the_window_during_a_run(qtbot, window):
    inside = open_training_tab(window)
    ui = window.training
    assert not inside.flow.series["grad_norm"]
    start_long_run(qtbot, window)  # iris, batches of 2: many epochs a second
    assert ui.controller.controls.looking.is_set()  # the tab is open: histograms too
    flow = inside.flow
    qtbot.waitUntil(
        lambda: len(flow.series["grad_norm"].get("dense2", ())) >= 3, timeout=RUN_TIMEOUT_MS
    )
    qtbot.waitUntil(lambda: len(inside.histograms.records) >= 3, timeout=RUN_TIMEOUT_MS)
    assert ui.controller.busy  # all of it while the run trains
    with qtbot.waitSignal(flow.drawn, timeout=RUN_TIMEOUT_MS):
        flow.redraw()

    # One line per block with weights (ReLU has none), named in the legend.
    assert list(flow.curves) == ["dense1", "dense2"]
    legend = [label.text for _, label in flow.plot.getPlotItem().legend.items]
    assert legend == ["dense1", "dense2"]
    x, y = flow.curves["dense1"].getOriginalDataset()
    assert len(x) >= 3 and (y > 0).all()
    assert flow.plot.getPlotItem().ctrl.logYCheck.isChecked()  # a log axis
    flow.measure.setCurrentIndex(1)  # update ÷ weight: the same blocks
    assert list(flow.curves) == ["dense1", "dense2"]
    assert "Epoch" in flow.summary.text()

    # Histograms: before training and each epoch's end; the slider scrubs them.
    panel = inside.histograms
    epochs = [r.epoch for r in panel.records]
    assert epochs[:3] == [0, 1, 2]
    assert panel.slider.isEnabled() and panel.slider.maximum() == len(epochs) - 1
    with qtbot.waitSignal(panel.epoch_shown, timeout=5000) as shown:
        panel.slider.setValue(0)
    assert shown.args == [0] and panel.epoch.text() == "before training"
    assert set(panel.grid.histograms) == {"dense1", "dense2"}
    before = panel.grid.histograms["dense1"].counts.copy()
    panel.slider.setValue(2)
    assert panel.shown_epoch == 2 and panel.epoch.text() == "epoch 2"
    assert not (panel.grid.histograms["dense1"].counts == before).all()  # it trained
    panel.kind.setCurrentIndex(1)  # outputs on the fixed validation batch
    assert set(panel.grid.histograms) == {"dense1", "relu1", "dense2", "species"}

    with qtbot.waitSignal(ui.controller.run_ended, timeout=RUN_TIMEOUT_MS):
        ui.controller.stop()
    assert len(flow.series["grad_norm"]["dense1"]) >= 3  # the finished run keeps them
    assert window.open_template(ROOT / "templates" / "cnn_digits.json")
    assert not flow.series["grad_norm"] and not flow.curves and not panel.records
    assert inside.status.text().startswith("Train the network")


def test_histograms_only_while_the_tab_is_open_and_a_restored_run_shows_its_flow(qtbot, window):
    ui = window.training
    ui.look_dock.show()
    ui.look_dock.raise_()
    ui.look_tabs.setCurrentWidget(ui.look)  # Blocks: the Training tab is not on screen
    open_iris(window, epochs=20)
    outcome = run_to_end(qtbot, window)
    assert not ui.controller.looking
    inside = ui.inside
    assert inside.flow.series["grad_norm"]["dense1"]  # flow is measured all the same
    assert inside.histograms.records == []  # histograms are not
    assert inside.status.text().startswith(f"Run {outcome.run_id} finished")

    ui.runs_dock.raise_()
    ui.runs.select_run(outcome.run_id)
    with qtbot.waitSignal(ui.current.ended, timeout=RUN_TIMEOUT_MS):
        qtbot.mouseClick(ui.runs.restore_button, LEFT)
    open_training_tab(window)
    kept = inside.flow.series["grad_norm"]["dense1"]  # the run's flow, as it trained
    assert len(kept) >= 3 and inside.histograms.records == []
    assert inside.status.text().startswith(f"Run {outcome.run_id} from the Runs history")
    assert inside.histograms.note.text().startswith("No histograms: this tab was closed")


def test_a_restored_run_shows_its_histograms_and_a_broken_record_says_so(qtbot, window):
    inside = open_training_tab(window)
    ui = window.training
    open_iris(window, epochs=8)
    outcome = run_to_end(qtbot, window)
    live_epochs = [r.epoch for r in inside.histograms.records]
    live_flow = len(inside.flow.series["grad_norm"]["dense1"])
    assert live_epochs == list(range(9)) and live_flow >= 2

    def restore():
        ui.runs_dock.raise_()
        ui.runs.select_run(outcome.run_id)
        with qtbot.waitSignal(ui.current.ended, timeout=RUN_TIMEOUT_MS):
            qtbot.mouseClick(ui.runs.restore_button, LEFT)
        open_training_tab(window)

    restore()
    assert [r.epoch for r in inside.histograms.records] == live_epochs
    assert len(inside.flow.series["grad_norm"]["dense1"]) == live_flow
    inside.histograms.slider.setValue(0)
    assert inside.histograms.epoch.text() == "before training"

    record = Path(outcome.checkpoint).with_name(f"run-{outcome.run_id}-inside.json")
    record.write_text('{"format": 1, "flow": [{"epoch": "x"}]}', encoding="utf-8")
    restore()
    assert not inside.flow.series["grad_norm"] and inside.histograms.records == []
    status = inside.status.text()
    assert "record could not be read" in status and str(record) in status

    ui.runs_dock.raise_()
    ui.runs.select_run(outcome.run_id)
    qtbot.mouseClick(ui.runs.delete_button, LEFT)  # the run goes, and what was kept of it
    assert not record.exists() and not Path(outcome.checkpoint).exists()


def test_the_blocks_tab_looks_at_a_live_runs_weights_when_it_comes_on_screen(qtbot, window):
    ui = window.training
    look = ui.look
    start_long_run(qtbot, window)
    ui.look_dock.show()
    ui.look_dock.raise_()  # the Blocks tab comes on screen: the window asks the trainer
    window.scene.select_nodes(["dense1"])
    qtbot.waitUntil(
        lambda: look.shown_request is not None and look.shown_request.node == "dense1",
        timeout=RUN_TIMEOUT_MS,
    )
    first = look.shown_request
    assert first.checkpoint.endswith("-live.pt") and ui.controller.busy
    assert look.title.text().startswith("dense1 · sample 1 of validation · weights at epoch ")
    assert look.sections == ["activation"]

    ui.look_tabs.setCurrentWidget(ui.inside)
    ui.look_tabs.setCurrentWidget(look)  # on screen again: a newer moment of the run
    qtbot.waitUntil(lambda: look.shown_request != first, timeout=RUN_TIMEOUT_MS)
    assert look.shown_request.weights != first.weights

    with qtbot.waitSignal(ui.controller.run_ended, timeout=RUN_TIMEOUT_MS) as ended:
        ui.controller.stop()
    qtbot.waitUntil(
        lambda: (
            look.shown_request is not None
            and look.shown_request.checkpoint == ended.args[0].checkpoint
        ),
        timeout=RUN_TIMEOUT_MS,
    )
    assert "trained weights" in look.title.text()
    assert not Path(first.checkpoint).exists()  # the run's own checkpoint is what stays
