"""The Runs tab at 1280 x 800: every column whole and its metric column named after the
task's metric; a restored run shows its per-batch loss, and its plots span that run."""

from __future__ import annotations

import json
import math
import time

import numpy as np
import pytest

from engine.history.runs import EpochRecord, RunStore
from gui.run.paths import runs_db
from gui.training.curves import LiveCurves
from tests.gui.helpers import LEFT
from tests.gui.training import (
    IRIS,
    RUN_TIMEOUT_MS,
    open_iris,
    run_to_end,
)

# The app's own style, font and style sheet, as the window runs: they set the columns' widths.
pytestmark = pytest.mark.usefixtures("spare_trainer", "themed")


def record_run(store: RunStore, metric: str, values: list[float]) -> int:
    """A finished run in the history, as a run records it (without training one)."""
    project = json.loads(IRIS.read_text())
    run_id = store.start_run(project, {"epochs": len(values), "metric": "auto"})
    for epoch, value in enumerate(values, 1):
        store.add_epoch(run_id, epoch, "train", {"loss": 1 / epoch, metric: value, "lr": 0.01})
        store.add_epoch(run_id, epoch, "val", {"loss": 1.1 / epoch, metric: value})
        store.add_batch_losses(run_id, epoch, 5, [1 / epoch] * 5)
    store.finish_run(run_id, "finished", "trained", "")
    return run_id


def show_runs(qtbot, window, size: tuple[int, int]):
    window.resize(*size)
    ui = window.training
    ui.runs_dock.show()
    ui.runs_dock.raise_()
    ui.runs.refresh()
    qtbot.waitUntil(lambda: ui.runs.in_view and ui.runs.tree.topLevelItemCount() > 0)
    qtbot.waitUntil(lambda: ui.runs.width() > 0 and window.width() == size[0])
    return ui.runs


def assert_columns_whole(runs) -> None:
    tree, header = runs.tree, runs.tree.header()
    for column in range(header.count()):
        right = header.sectionViewportPosition(column) + header.sectionSize(column)
        name = tree.headerItem().text(column)
        assert right <= tree.viewport().width(), f"column {name!r} runs out of view"
        assert header.sectionSize(column) >= header.sectionSizeHint(column), name


def test_runs_columns_are_whole_at_1280_and_named_after_the_metric(qtbot, window, data_dir):
    store = RunStore(runs_db(data_dir))
    first = record_run(store, "accuracy", [0.5, 0.8, 0.9667])
    second = record_run(store, "accuracy", [0.6, 0.9])
    store.close()
    for size in ((1280, 800), (1440, 900)):
        runs = show_runs(qtbot, window, size)
        assert runs.tree.headerItem().text(3) == "accuracy"
        assert [runs.tree.topLevelItem(i).text(3) for i in range(2)] == ["0.9000", "0.9667"]
        # The list is laid out again after the resize reaches it (a queued event).
        qtbot.waitUntil(lambda r=runs: assert_columns_whole(r))
        for i in range(2):  # both runs' lines in view, whole
            rect = runs.tree.visualItemRect(runs.tree.topLevelItem(i))
            assert rect.bottom() <= runs.tree.viewport().height(), (size, i, rect)
        runs.set_ticked(first)
        runs.set_ticked(second)
        for plot in (runs.loss_plot, runs.metric_plot):
            assert plot.width() >= 180 and plot.height() >= 100, (size, plot.size())
            assert plot.isVisible()


def test_runs_of_several_metrics_name_each_value(qtbot, window, data_dir):
    store = RunStore(runs_db(data_dir))
    record_run(store, "accuracy", [0.5, 0.9])
    record_run(store, "mse", [0.2, 0.0123])
    store.close()
    runs = show_runs(qtbot, window, (1280, 800))
    assert runs.tree.headerItem().text(3) == "accuracy / MSE"
    values = sorted(runs.tree.topLevelItem(i).text(3) for i in range(2))
    assert values == ["MSE 0.0123", "accuracy 0.9000"]
    qtbot.waitUntil(lambda: assert_columns_whole(runs))


def rows_with_batches(epochs: int, batches: int) -> list[EpochRecord]:
    return [
        EpochRecord(e, "train", {"loss": 1 / e, "accuracy": 0.5}, (1 / e,) * batches, batches)
        for e in range(1, epochs + 1)
    ]


def test_a_recorded_run_shows_its_batches_and_spans_what_it_trained(qtbot):
    curves = LiveCurves()
    qtbot.addWidget(curves)
    curves.ensure_plots()
    curves.loss_plot.getViewBox().setXRange(10, 20)  # zoomed into the last run shown
    curves._on_user_zoom(None)
    # Set to 5000 epochs, it was stopped after 3: the plot shows those 3.
    curves.show_history(rows_with_batches(3, 7), "accuracy", 5000)
    assert len(curves.series["batch_loss"]) == 21
    assert len(curves.series["train_loss"]) == 3
    x0, x1 = curves.loss_plot.getViewBox().viewRange()[0]
    assert x0 <= 0.2 and 3 < x1 < 3.5
    x, _y = curves.curves["batch_loss"].getData()
    assert len(x) and math.isclose(x[0], 1 / 7) and math.isclose(x[-1], 3.0)

    # A run recorded before batches were kept: its epochs, and no batch curve.
    old = [EpochRecord(e, "train", {"loss": 1 / e}) for e in (1, 2)]
    curves.show_history(old, "accuracy", 2)
    assert len(curves.series["batch_loss"]) == 0 and len(curves.series["train_loss"]) == 2


def test_a_restored_run_shows_its_per_batch_loss(qtbot, window, data_dir):
    open_iris(window, epochs=3)
    trained = run_to_end(qtbot, window)
    ui = window.training
    live = ui.curves.series["batch_loss"].view(None, None, 10_000)[1]
    window.new_document()
    assert len(ui.curves.series["batch_loss"]) == 0
    ui.runs_dock.raise_()
    ui.runs.select_run(trained.run_id)
    with qtbot.waitSignal(ui.controller.restored, timeout=RUN_TIMEOUT_MS):
        qtbot.mouseClick(ui.runs.restore_button, LEFT)
    restored = ui.curves.series["batch_loss"].view(None, None, 10_000)[1]
    assert len(restored) == len(live) > 3  # every batch, not one point per epoch
    np.testing.assert_allclose(restored, live, rtol=1e-6)
    x0, x1 = ui.curves.loss_plot.getViewBox().viewRange()[0]
    assert x0 <= 0.2 and 3 < x1 < 3.5


def test_a_run_of_today_shows_its_clock_time_an_older_one_its_day_too():
    from gui.results.runs_view import started_text

    now = time.mktime((2026, 12, 7, 16, 45, 0, 0, 0, -1))
    assert started_text(now - 3600, now) == "15:45"
    assert started_text(now - 3 * 86400, now) == "12-04 16:45"
