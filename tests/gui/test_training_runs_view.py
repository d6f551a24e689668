"""The Runs view: recorded runs are listed, ticked runs' curves overlaid, and a run
restores as a new document with its own trained weights."""

from __future__ import annotations

import numpy as np
import pytest

from tests.gui.helpers import LEFT
from tests.gui.training import (
    RUN_TIMEOUT_MS,
    open_iris,
    run_to_end,
    set_training,
)

pytestmark = pytest.mark.usefixtures("spare_trainer")


def test_recorded_runs_are_listed_and_their_curves_overlaid(qtbot, window):
    open_iris(window, epochs=4)
    first = run_to_end(qtbot, window)
    set_training(window, lr=0.003)
    second = run_to_end(qtbot, window)
    ui = window.training
    ui.runs_dock.raise_()
    runs = ui.runs
    listed = [runs.tree.topLevelItem(i) for i in range(runs.tree.topLevelItemCount())]
    assert [item.text(0) for item in listed] == [str(second.run_id), str(first.run_id)]
    assert all(item.text(2) == "finished" for item in listed)
    assert runs.tree.headerItem().text(3) == "accuracy"  # the column names the metric
    assert listed[1].text(3) == f"{first.result.final_value:.4f}"
    assert listed[1].text(4) == "4/4"

    runs.set_ticked(first.run_id)
    runs.set_ticked(second.run_id)
    curves = runs.loss_plot.getPlotItem().listDataItems()
    assert len(curves) == 2  # one per ticked run
    # The legend names each run (number, project, start time), above the plots.
    first_name, second_name = sorted(runs.legend_names)
    assert first_name != second_name
    assert first_name.startswith(f"run {first.run_id} · MLP iris · ")
    assert second_name.startswith(f"run {second.run_id} · MLP iris · ")
    assert first_name in runs.legend.text() and second_name in runs.legend.text()
    x_low, x_high = runs.loss_plot.getViewBox().viewRange()[0]
    assert x_low < 1 and x_high > 4  # the first and last epochs' points show whole
    x, y = curves[0].getData()
    assert list(x) == [1.0, 2.0, 3.0, 4.0]
    runs.set_ticked(first.run_id, False)
    assert len(runs.loss_plot.getPlotItem().listDataItems()) == 1


def test_a_run_restores_its_graph_and_weights(qtbot, window):
    open_iris(window, epochs=6)
    trained = run_to_end(qtbot, window)
    trained_ids = [n.id for n in window.graph.nodes]
    ui = window.training

    window.new_document()  # the user moves on (the unsaved template is discarded)
    assert len(window.graph) == 0
    ui.runs_dock.raise_()
    ui.runs.select_run(trained.run_id)
    with qtbot.waitSignal(ui.controller.restored, timeout=RUN_TIMEOUT_MS) as restored:
        qtbot.mouseClick(ui.runs.restore_button, LEFT)

    # The run's network is back as a new, unsaved document with its settings.
    assert [n.id for n in window.graph.nodes] == trained_ids
    assert window.path is None and window.isWindowModified()
    assert window.project.training["epochs"] == 6
    # Its weights answer exactly as the trained model did, on the same held-out samples.
    again = restored.args[0].evaluation
    np.testing.assert_array_equal(again.truth, trained.evaluation.truth)
    np.testing.assert_allclose(again.scores, trained.evaluation.scores, rtol=1e-5, atol=1e-6)
    assert ui.results.evaluation is again
    assert ui.results.trial.index.isEnabled()
    assert "Predicted" in ui.results.trial.answer.text()


def test_restore_is_refused_with_a_message_when_the_checkpoint_is_gone(qtbot, window, dialogs):
    open_iris(window, epochs=1)
    outcome = run_to_end(qtbot, window)
    from pathlib import Path

    Path(outcome.checkpoint).unlink()
    nodes = len(window.graph)
    window.training.restore(outcome.run_id)
    assert dialogs.texts("critical") == [f"run {outcome.run_id}: its checkpoint file is missing"]
    assert len(window.graph) == nodes  # the document was left alone
