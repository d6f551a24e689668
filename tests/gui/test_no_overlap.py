"""The window never draws widgets over each other: after a real run, at the sizes people
use, every dock and every tab is walked for visible siblings that intersect
(tests.gui.overlap); and Try a sample stays readable at 1440 × 900."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication, QDockWidget, QTabWidget

from gui.results.sample_trial import CHART_MIN_PX
from tests.gui.overlap import Overlap, overlaps
from tests.gui.training import (
    RUN_TIMEOUT_MS,
    load_template,
    run_to_end,
)

pytestmark = pytest.mark.usefixtures("spare_trainer")

SIZES = ((1280, 800), (1440, 900), (1920, 1080))
# Tiny runs: one epoch; the video clips fewer than the template's.
RUNS = {
    "cnn_lstm_video": {"dataset": {"name": "moving_shapes", "params": {"samples": 64}}},
    "cnn_digits": {},
}


def settle() -> None:
    """Let posted layout requests and resizes run (no waiting: they are queued)."""
    for _ in range(3):
        QApplication.processEvents()


def finished_run(qtbot, window, template: str):
    """`template` trained for an epoch, its results and where it looks on screen."""
    load_template(window, template, epochs=1, **RUNS[template])
    outcome = run_to_end(qtbot, window)
    assert outcome.status == "finished", outcome.reason
    trial = window.training.results.trial
    qtbot.waitUntil(lambda: trial.saliency.view.kind == "saliency", timeout=RUN_TIMEOUT_MS)
    return outcome


def overlaps_in_every_tab(window) -> list[Overlap]:
    """Bring each dock to the front in turn, and each tab of a tab widget in it, and
    walk the whole window each time."""
    found: dict[str, Overlap] = {}
    for dock in window.findChildren(QDockWidget):
        if dock.isHidden():
            continue  # closed by the user's layout: nothing of it is drawn
        dock.raise_()
        settle()
        tabs = [t for t in dock.findChildren(QTabWidget) if t.isVisible()]
        pages = [(t, k) for t in tabs for k in range(t.count())] or [(None, 0)]
        for tab_widget, index in pages:
            if tab_widget is not None:
                tab_widget.setCurrentIndex(index)
                settle()
            found.update((str(o), o) for o in overlaps(window))
    return list(found.values())


def show_results(window) -> None:
    window.training.results_dock.raise_()
    settle()


def assert_try_a_sample_reads(window) -> None:
    """The sample, where it looks, the answer and the classes' chances are all there,
    each at least as large as the sample's own pixels (not a sliver)."""
    results = window.training.results
    trial = results.trial
    evaluation = results.evaluation
    native = evaluation.inputs.shape[-2]  # the sample's own height in pixels
    for view in (trial.input_view, trial.saliency.view):
        assert view.picture.isVisible()
        shown = view.picture.pixmap().height()
        assert shown >= max(native, 28), f"{view.kind} is {shown} px high"
    assert not results.body.verticalScrollBar().isVisible()  # all of it in view
    assert not results.body.horizontalScrollBar().isVisible()
    answer = trial.answer
    assert answer.isVisible() and answer.text().startswith(("✓", "✗"))
    assert answer.geometry().bottom() < trial.height()
    likeliest = evaluation.class_name(int(evaluation.scores[0].argmax()))
    if trial.answer_area.isVisible():  # the chart, not squeezed
        assert trial.answer_area.height() >= CHART_MIN_PX
    else:  # its gist, in words under the answer
        assert f"<br>{likeliest} " in answer.text()
    saliency = trial.saliency
    said = saliency.caption if saliency.caption.isVisible() else saliency.brief
    assert said.isVisible() and said.width() > 0
    assert "for <b>" in said.text()
    assert saliency.method.isVisible() and saliency.method.currentText() == "Grad-CAM"


@pytest.mark.parametrize("template", sorted(RUNS))
def test_no_two_widgets_overlap_after_a_run(qtbot, themed, make_window, template):
    window = make_window()
    window.resize(*SIZES[0])
    finished_run(qtbot, window, template)
    found = {}
    for width, height in SIZES:
        window.resize(width, height)
        qtbot.waitUntil(lambda w=width, h=height: window.size().toTuple() == (w, h))
        settle()
        found[(width, height)] = overlaps_in_every_tab(window)
        if (width, height) == (1440, 900):
            show_results(window)
            assert_try_a_sample_reads(window)
    lines = [f"{w}×{h}: {o}" for (w, h), found_at in found.items() for o in found_at]
    assert not lines, "widgets drawn over each other:\n" + "\n".join(lines)
