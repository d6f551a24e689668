"""A run whose window was killed is listed in the Runs tab as "interrupted", says why,
and overlays its curves so far."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt

from engine.history.owner import Owner
from engine.history.runs import RunStore
from gui.run.paths import runs_db
from tests.gui.test_runs_readable import show_runs
from tests.gui.training import IRIS


def test_an_interrupted_run_is_listed_as_such_with_its_curves_so_far(qtbot, window, data_dir):
    store = RunStore(runs_db(data_dir))
    me = Owner.current()
    killed = Owner(me.pid, me.started + "0")  # this id, another start: a process now gone
    run_id = store.start_run(json.loads(IRIS.read_text()), {"epochs": 10}, owner=killed)
    for epoch, accuracy in ((1, 0.5), (2, 0.75)):
        train = {"loss": 1 / epoch, "accuracy": accuracy, "seconds": 1.5}
        store.add_epoch(run_id, epoch, "train", train)
        store.add_epoch(run_id, epoch, "val", {"loss": 1.2 / epoch, "accuracy": accuracy})
        store.add_batch_losses(run_id, epoch, 4, [1 / epoch] * 4)
    store.add_batch_losses(run_id, 3, 4, [0.3, 0.3])
    store.close()

    runs = show_runs(qtbot, window, (1440, 900))
    item = runs.tree.topLevelItem(0)
    assert [item.text(c) for c in (0, 2, 3, 4, 5)] == [
        str(run_id),
        "interrupted",
        "0.7500",
        "3/10",
        "3.0 s",
    ]
    reason = "the window ended during training (epoch 3 of 10)"
    assert reason in item.toolTip(2)

    runs.select_run(run_id)
    assert "interrupted" in runs.hint.text() and reason in runs.hint.toolTip()
    item.setCheckState(0, Qt.CheckState.Checked)
    (loss,) = runs.loss_plot.getPlotItem().listDataItems()
    (metric,) = runs.metric_plot.getPlotItem().listDataItems()
    assert list(loss.getData()[0]) == [1, 2] and list(metric.getData()[1]) == [0.5, 0.75]

    # Restore: its network and its curves so far (every batch), no weights to load.
    assert runs.restore_button.isEnabled() and runs.delete_button.isEnabled()
    qtbot.mouseClick(runs.restore_button, Qt.MouseButton.LeftButton)
    ui = window.training
    assert len(window.project.graph.nodes) > 0 and window.windowTitle().startswith("MLP iris")
    assert len(ui.curves.series["batch_loss"]) == 4 + 4 + 2
    assert len(ui.curves.series["val_metric"]) == 2
    assert "interrupted, " + reason in ui.panel.status.text()
    assert "before its weights were saved" in ui.results.title.text()
    assert not ui.controller.busy  # nothing to load
    window.grab().save("/tmp/runs_interrupted.png")
