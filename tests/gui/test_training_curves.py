"""Live curves: callbacks bundled to ≤ 10 signals a second, 10⁶ points drawn as a few
thousand (spikes kept), NaN left out, crosshair read-out and log scale."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np

from engine.train.events import BatchEnd, EpochEnd, SplitMetrics
from gui.common.decimate import PeakSeries
from gui.run.records import Progress, RunStarted
from gui.run.throttle import ProgressThrottle
from gui.training import curves as curves_module
from gui.training.curves import LiveCurves


def batch(epoch: int, number: int, loss: float, accuracy: float = 0.5) -> BatchEnd:
    return BatchEnd(epoch, 3, number, 10, loss, {"accuracy": accuracy}, 1e-3, 100.0)


def epoch_end(epoch: int, loss: float) -> EpochEnd:
    split = SplitMetrics(loss, {"accuracy": 0.8}, 100)
    return EpochEnd(epoch, 3, split, split, 1e-3, 100.0, 1.0, True)


def started() -> RunStarted:
    return RunStarted(
        1, "test", "blobs", "classification", "accuracy", ("accuracy",), 3, 10, 8, 80, 20,
        100, "cpu", 1,
    )  # fmt: skip


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_throttle_sends_at_most_5_bundles_a_second_and_loses_nothing():
    sent: list[Progress] = []
    clock = FakeClock()
    throttle = ProgressThrottle(sent.append, clock=clock)
    events = [batch(1, i % 10 + 1, float(i)) for i in range(2000)]
    for event in events:  # 2,000 batches over one second
        clock.now += 0.0005
        throttle.add_batch(event)
    throttle.add_epoch(epoch_end(1, 0.5))
    throttle.flush()
    assert len(sent) <= 7
    assert [e for bundle in sent for e in bundle.batches] == events
    assert [e.epoch for bundle in sent for e in bundle.epochs] == [1]


def test_a_million_points_draw_as_a_few_thousand_and_keep_their_spikes():
    series = PeakSeries()
    rng = np.random.default_rng(0)
    for start in range(0, 1_000_000, 10_000):
        x = np.arange(start, start + 10_000) / 1000.0
        y = rng.normal(size=10_000)
        if start == 500_000:
            y[1234] = 40.0  # one spike among a million points
        series.extend(x, y)
    assert len(series) == 1_000_000
    x, y = series.view()
    assert len(x) <= 2 * series.max_buckets + series.bucket
    assert y.max() == 40.0 and y.min() == series.y.values.min()
    assert np.all(np.diff(x) >= 0)
    zoomed_x, zoomed_y = series.view(501.0, 502.0)  # 1,000 points: drawn as they are
    assert len(zoomed_x) == 1002 and 40.0 in zoomed_y
    assert series.nearest(501.2344) == (501.234, 40.0)


def test_curves_take_batches_and_epochs_leave_nan_out_and_read_at_the_crosshair(qtbot):
    curves = LiveCurves()
    qtbot.addWidget(curves)
    curves.ensure_plots()
    curves.reset(started())
    losses = [2.0, 1.5, math.nan, 1.0]
    curves.add(Progress(batches=[batch(1, i + 1, loss) for i, loss in enumerate(losses)]))
    curves.add(Progress(epochs=[epoch_end(1, 1.2)]))
    curves.redraw()
    assert curves.batch_count == 3  # the NaN batch is not drawn
    x, y = curves.curves["batch_loss"].getData()
    assert list(x) == [0.1, 0.2, 0.4] and list(y) == [2.0, 1.5, 1.0]
    assert list(curves.curves["val_loss"].getData()[1]) == [1.2]
    smoothed = curves.series["smooth_loss"].y.values
    assert smoothed[0] == 2.0 and 1.0 < smoothed[-1] < 2.0

    curves.show_readout(0.2)
    text = curves.readout.text()
    assert text.startswith("epoch 0.20") and "batch loss 1.5" in text and "val loss 1.2" in text
    assert all(line.isVisible() for line in curves.crosshairs)


def test_log_scale_toggles_the_loss_axis(qtbot):
    curves = LiveCurves()
    qtbot.addWidget(curves)
    curves.ensure_plots()
    curves.reset(started())
    curves.add(Progress(batches=[batch(1, 1, 0.0), batch(1, 2, 10.0)]))
    curves.redraw()
    curves.log_scale.setChecked(True)
    assert curves.loss_plot.getPlotItem().getAxis("left").logMode
    # A loss of exactly 0 is drawn at a floor, so the log axis stays finite.
    assert np.isfinite(np.log10(curves.series["batch_loss"].y.values)).all()
    curves.log_scale.setChecked(False)
    assert not curves.loss_plot.getPlotItem().getAxis("left").logMode


def test_the_read_out_has_a_fixed_place_and_a_new_run_starts_it_afresh(qtbot):
    from gui.training.curves import READOUT_HINT

    curves = LiveCurves()
    qtbot.addWidget(curves)
    curves.resize(520, 300)
    curves.show()
    curves.ensure_plots()
    curves.reset(started())
    curves.add(Progress(batches=[batch(1, i + 1, 2.0 - 0.1 * i) for i in range(10)]))
    curves.add(Progress(epochs=[epoch_end(1, 1.2)]))
    qtbot.waitUntil(lambda: curves.fit_button.geometry().width() > 0)
    fit_at, log_at = curves.fit_button.geometry(), curves.log_scale.geometry()
    width = curves.minimumSizeHint().width()
    curves.show_readout(0.5)  # a long read-out in a narrow panel
    curves.layout().activate()  # lay the panel out again now, as the next paint would
    assert curves.readout.toolTip().startswith("epoch 0.50")
    assert curves.fit_button.geometry() == fit_at and curves.log_scale.geometry() == log_at
    assert curves.minimumSizeHint().width() == width  # the panel asks for no more room
    curves.reset(started())  # the next run
    assert curves.readout.text() == READOUT_HINT and curves.readout.toolTip() == ""
    assert not any(line.isVisible() for line in curves.crosshairs)


def test_a_redraw_hands_pyqtgraph_only_the_curves_that_changed_and_a_new_run_draws_afresh(
    qtbot,
):
    curves = LiveCurves()
    qtbot.addWidget(curves)
    curves.ensure_plots()
    curves.reset(started())
    curves.add(Progress(batches=[batch(1, i + 1, 2.0 - 0.1 * i) for i in range(5)]))
    curves.add(Progress(epochs=[epoch_end(1, 1.2)]))
    curves.redraw(all_plots=True)
    handed: list[str] = []
    for name, item in curves.curves.items():
        original = item.setData
        item.setData = lambda *a, _n=name, _o=original, **k: (handed.append(_n), _o(*a, **k))
    curves.add(Progress(batches=[batch(1, 6, 1.4)]))  # batches, but no new epoch point
    curves.redraw(all_plots=True)
    assert "batch_loss" in handed and "smooth_loss" in handed
    assert "train_loss" not in handed and "val_loss" not in handed  # per-epoch: unchanged
    handed.clear()
    curves.redraw(all_plots=True)  # nothing new at all
    assert handed == []
    curves.reset(started())  # the next run: every curve is drawn from its (empty) series
    assert len(curves.curves["val_loss"].getData()[0] or []) == 0
    assert len(curves.curves["batch_loss"].getData()[0] or []) == 0


def test_a_run_pressed_lays_its_epochs_out_before_it_reports_its_start(qtbot):
    curves = LiveCurves()
    qtbot.addWidget(curves)
    curves.ensure_plots()
    curves.reset(None, 3)  # Train pressed on a project set to 3 epochs
    before = curves.loss_plot.getViewBox().viewRange()[0]
    assert before[1] >= 3
    curves.reset(started())  # the run reports its start: 3 epochs, the x axis stays
    assert curves.loss_plot.getViewBox().viewRange()[0] == before
    assert curves.metric_plot.getPlotItem().titleLabel.text.startswith("Accuracy")


def test_a_bundle_redraws_the_plot_that_is_due_in_its_own_turn_and_a_timer_the_rest(
    qtbot, monkeypatch
):
    """A redraw of its own would wake the GUI thread once more: a plot that is due is
    drawn as the bundle is taken; one that is not waits for a later bundle, or for its
    timer when none comes."""
    clock = FakeClock()
    monkeypatch.setattr(curves_module, "time", SimpleNamespace(perf_counter=clock))
    curves = LiveCurves()
    qtbot.addWidget(curves)
    curves.ensure_plots()
    curves.reset(started())  # every plot drawn at 0: the loss is due again at 0.2 s

    def loss_points() -> int:
        x, _ = curves.curves["batch_loss"].getData()
        return 0 if x is None else len(x)

    clock.now = 0.05
    curves.add(Progress(batches=[batch(1, 1, 2.0)]))
    assert loss_points() == 0  # not due yet
    clock.now = 0.21
    curves.add(Progress(batches=[batch(1, 2, 1.5)]))
    assert loss_points() == 2  # due: drawn before add returned, no event in between
    clock.now = 0.22
    curves.add(Progress(batches=[batch(1, 3, 1.2)]))
    assert loss_points() == 2
    qtbot.waitUntil(lambda: loss_points() == 3)  # no bundle came: its timer drew it


def test_a_metric_plot_is_titled_as_the_user_reads_the_metric(qtbot):
    curves = LiveCurves()
    qtbot.addWidget(curves)
    curves.ensure_plots()
    regression = RunStarted(
        1, "test", "line", "regression", "mse", ("mse",), 3, 10, 8, 80, 20, 100, "cpu", 1
    )
    curves.reset(regression)
    assert curves.metric_plot.getPlotItem().titleLabel.text.startswith("MSE")
