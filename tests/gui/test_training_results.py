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
