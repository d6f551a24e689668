"""Results of a run, by task: predictions against truth for regression and forecasting,
predicted masks beside the true ones for segmentation, and "try a sample"."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from tests.gui.training import (
    RUN_TIMEOUT_MS,
    load_template,
    run_to_end,
)
from tests.helpers import ROOT

pytestmark = pytest.mark.usefixtures("spare_trainer")


def test_a_forecast_shows_predictions_against_the_truth_over_time(qtbot, window):
    load_template(
        window,
        "lstm_forecast",
        dataset={"name": "sine", "params": {"length": 400}},
        epochs=2,
    )
    outcome = run_to_end(qtbot, window)
    assert outcome.status == "finished", outcome.reason
    results = window.training.results
    evaluation = outcome.evaluation
    assert evaluation.task == "regression" and evaluation.ordered
    assert results.task_views.currentWidget() is results.predictions
    plot = results.predictions.plot.getPlotItem()
    assert plot.titleLabel.text == "Forecast on the held-out tail"
    true_line, predicted_line = plot.listDataItems()
    assert len(true_line.getData()[1]) == evaluation.samples == len(predicted_line.getData()[1])
    results.trial.index.setValue(3)
    answer = results.trial.answer.text()
    expected = evaluation.predicted[2].reshape(-1)[0]
    assert answer.startswith(f"Predicted {expected:.4g} · true {evaluation.truth[2][0]:.4g}")
    assert results.trial.input_view.kind == "series"


def test_segmentation_shows_predicted_masks_beside_the_true_ones(qtbot, window):
    load_template(
        window,
        "fcn_segmentation",
        dataset={"name": "shapes_segmentation", "params": {"samples": 24}},
        epochs=2,
    )
    outcome = run_to_end(qtbot, window)
    assert outcome.status == "finished", outcome.reason
    results = window.training.results
    assert results.task_views.currentWidget() is results.masks
    image, true, predicted = results.masks.cells[0]
    assert (image.kind, true.kind, predicted.kind) == ("image", "mask", "mask")
    assert outcome.evaluation.predicted.shape == outcome.evaluation.truth.shape
    trial = results.trial
    assert trial.masks.isVisibleTo(trial)
    assert "pixels right" in trial.answer.text()


def test_a_ten_class_confusion_matrix_tells_counts_and_shows_every_mistake(qtbot):
    import numpy as np
    from PySide6.QtCore import QPointF

    from gui.results.confusion import LOW, ConfusionMatrixView, cell_colour

    matrix = np.diag(np.full(10, 180))
    matrix[3, 8] = 1  # one mistake among 181 samples of class 3
    view = ConfusionMatrixView()
    qtbot.addWidget(view)
    view.resize(300, 200)  # small: the cells cannot hold their counts
    view.set_matrix(matrix, [str(k) for k in range(10)])
    view.grab()  # paint once: the grid is laid out
    assert not view.counts_shown
    centre = view.grid.topLeft() + QPointF((8 + 0.5) * view.side, (3 + 0.5) * view.side)
    assert view.cell_at(centre) == (3, 8)
    assert view.describe_cell(3, 8) == "1 sample true 3, predicted 8 (0.6% of true 3)"
    # One mistake in 181 is as plainly red as a third of the way to a full mistake row.
    faint = cell_colour(1 / 181, right=False)
    assert faint != LOW and faint.red() - LOW.red() > 40
    view.resize(700, 600)
    view.grab()
    assert view.counts_shown  # room enough: counts in the cells


def wait_for_trial(qtbot, trial, what) -> None:
    """Wait until the trial's thread answered and `what()` holds."""
    qtbot.waitUntil(lambda: trial.asked is not None and what(), timeout=RUN_TIMEOUT_MS)


def test_try_a_sample_shows_where_a_digit_classifier_looks(qtbot, window):
    load_template(window, "cnn_digits", epochs=1)
    outcome = run_to_end(qtbot, window)
    assert outcome.status == "finished", outcome.reason
    trial = window.training.results.trial
    panel = trial.saliency
    wait_for_trial(qtbot, trial, lambda: panel.view.kind == "saliency")
    assert panel.isVisibleTo(trial) and trial.input_view.kind == "image"
    assert [panel.method.itemText(k) for k in range(panel.method.count())] == [
        "Grad-CAM",
        "gradient × input",
    ]
    assert panel.caption.text().startswith("Grad-CAM on conv2 for <b>")
    overlay = panel.view.picture.image
    assert (overlay.width(), overlay.height()) == (8, 8)  # the digit's own pixels
    cam = panel.looks[0].overlay
    assert cam.std() > 0  # heat, not a flat picture

    panel.method.setCurrentIndex(1)  # the other method: shown without asking again
    assert panel.caption.text().startswith("gradient × input for <b>")
    with qtbot.waitSignal(trial.looked, timeout=RUN_TIMEOUT_MS):
        trial.index.setValue(5)  # another sample: its own heat, the method kept
    assert trial.asked.sample == 4
    assert panel.method.currentText() == "gradient × input"
    evaluation = outcome.evaluation
    predicted = evaluation.class_name(int(evaluation.predicted[4]))
    assert f"<b>{predicted}</b> (predicted)" in panel.caption.text()

    ui = window.training
    ui.runs_dock.raise_()  # restore the run: try a sample asks its weights again
    ui.runs.select_run(outcome.run_id)
    with qtbot.waitSignal(ui.current.ended, timeout=RUN_TIMEOUT_MS):
        qtbot.mouseClick(ui.runs.restore_button, Qt.MouseButton.LeftButton)
    wait_for_trial(qtbot, trial, lambda: panel.view.kind == "saliency")
    assert trial.asked.checkpoint == outcome.checkpoint and trial.asked.sample == 0

    assert window.open_template(ROOT / "templates" / "lstm_adding.json")  # another project
    assert trial.project is None and trial.asked is None
    assert not panel.isVisibleTo(trial)


def test_try_a_sample_shows_where_a_video_classifier_looks_frame_by_frame(qtbot, window):
    load_template(
        window,
        "cnn_lstm_video",
        dataset={"name": "moving_shapes", "params": {"samples": 64}},
        epochs=1,
    )
    outcome = run_to_end(qtbot, window)
    assert outcome.status == "finished", outcome.reason
    trial = window.training.results.trial
    panel = trial.saliency
    wait_for_trial(qtbot, trial, lambda: panel.view.kind == "saliency")
    assert trial.input_view.kind == "frames"
    frames, _, height, width = outcome.evaluation.inputs.shape[1:]
    strip = trial.input_view.picture.image
    overlay = panel.view.picture.image
    # One overlay per frame, laid out as the input's strip is: they line up frame by frame.
    assert (overlay.width(), overlay.height()) == (strip.width(), strip.height())
    assert overlay.width() == frames * width + (frames - 1) * 2
    assert trial.pictures.direction() == trial.pictures.Direction.TopToBottom


def test_no_saliency_where_it_does_not_apply(qtbot, window):
    load_template(window, "mlp_iris", epochs=1)
    run_to_end(qtbot, window)
    trial = window.training.results.trial
    assert not trial.saliency.isVisibleTo(trial)  # flowers are four numbers, no pixels
    assert trial.asked is None  # and nothing is computed for them


def test_a_fully_convolutional_net_tries_a_sample_at_other_sizes(qtbot, window):
    load_template(
        window,
        "fcn_segmentation",
        dataset={"name": "shapes_segmentation", "params": {"samples": 24}},
        epochs=2,
    )
    outcome = run_to_end(qtbot, window)
    assert outcome.status == "finished", outcome.reason
    trial = window.training.results.trial
    picker = trial.size_picker
    wait_for_trial(qtbot, trial, lambda: picker.combo.count() > 0)
    offered = [picker.combo.itemText(k) for k in range(picker.combo.count())]
    assert offered == ["32×32 (trained)", "48×48", "64×64", "96×96"]
    assert picker.isVisibleTo(trial)
    assert picker.toolTip() == "H, W: any multiple of 4 (same weights; 32×32 now)"

    with qtbot.waitSignal(trial.looked, timeout=RUN_TIMEOUT_MS):
        picker.choose(64)
    assert trial.predicted_view.picture.image.width() == 64
    assert trial.truth_view.picture.image.height() == 64
    assert trial.input_view.picture.image.width() == 64
    assert trial.answer.text().startswith("A generated 64×64 image (trained on 32×32): mask 64×64")
    with qtbot.waitSignal(trial.looked, timeout=RUN_TIMEOUT_MS):
        trial.index.setValue(2)  # another generated image of the same size
    assert trial.asked.size == 64 and trial.asked.sample == 1

    picker.choose(None)  # back to the run's own validation images
    assert trial.predicted_view.picture.image.width() == 32
    assert "pixels right" in trial.answer.text() and "generated" not in trial.answer.text()


def test_a_net_with_dense_layers_offers_no_other_size(qtbot, window):
    load_template(window, "cnn_digits", epochs=1)
    run_to_end(qtbot, window)
    trial = window.training.results.trial
    wait_for_trial(qtbot, trial, lambda: trial.saliency.view.kind == "saliency")
    assert not trial.size_picker.isVisibleTo(trial)
