"""Results of a run, by task: predictions against truth for regression and forecasting,
predicted masks beside the true ones for segmentation, and "try a sample"."""

from __future__ import annotations

from engine.project import load
from tests.gui.conftest import ROOT
from tests.gui.test_training_support import (
    data_dir,  # noqa: F401  (autouse fixture)
    run_to_end,
    set_training,
)


def open_template(window, name: str, **training) -> None:
    project = load(ROOT / "templates" / f"{name}.json")
    window.set_project(project, None)
    set_training(window, **training)


def test_a_forecast_shows_predictions_against_the_truth_over_time(qtbot, window):
    open_template(
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
    open_template(
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

    from gui.training.confusion import LOW, ConfusionMatrixView, cell_colour

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
