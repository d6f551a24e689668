"""The confusion matrix names every class on both axes: whole where the name fits,
upright columns when they do not fit across, shortened with "…" only when the name is
longer than the labels' room, and then whole on hover."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF
from PySide6.QtGui import QFontMetrics

from gui.results.confusion import ConfusionMatrixView

LONG_NAMES = [
    "T-shirt or top",
    "Trousers and pants",
    "Pullover sweater",
    "Dress (full length)",
    "Coat with a hood",
    "Sandal, open toed",
    "Shirt with collar",
    "Sneaker for running",
    "Bag with two handles",
    "Ankle boot, leather",
    "Hat",
    "Scarf woven from wool",
]


def show_matrix(qtbot, names: list[str], width: int, height: int) -> ConfusionMatrixView:
    view = ConfusionMatrixView()
    qtbot.addWidget(view)
    view.resize(width, height)
    rng = np.random.default_rng(0)
    classes = len(names)
    matrix = rng.integers(0, 5, (classes, classes)) + np.eye(classes, dtype=int) * 40
    view.set_matrix(matrix, names)
    view.show()
    qtbot.waitExposed(view)
    view.grab()  # painted once, as on screen
    return view


def assert_readable(view: ConfusionMatrixView) -> None:
    """Every label's text fits its place, no two labels of an axis overlap, all lie in
    the widget, and a shortened one tells its whole name on hover."""
    metrics = QFontMetrics(view.label_font())
    bounds = view.rect().toRectF()
    for labels in (view.row_labels, view.column_labels):
        assert labels, "an axis without class names"
        for label in labels:
            assert bounds.contains(label.rect), (label.name, label.rect, bounds)
            room = label.rect.height() if label.upright else label.rect.width()
            assert metrics.horizontalAdvance(label.text) <= room + 0.5, label
            if label.text != label.name:
                assert label.text.endswith("…"), f"{label.name!r} cut to {label.text!r}"
                assert view.tooltip_at(label.rect.center()) == label.name
        for a, b in zip(labels, labels[1:]):
            overlap = a.rect.intersected(b.rect)
            assert min(overlap.width(), overlap.height()) < 0.01, (a, b)


def test_long_class_names_show_whole_when_there_is_room(qtbot):
    view = show_matrix(qtbot, LONG_NAMES[:10], 1100, 700)
    assert_readable(view)
    assert [label.text for label in view.row_labels] == LONG_NAMES[:10]
    # Wider than their columns, the predicted names stand upright and whole.
    assert all(label.upright for label in view.column_labels)
    assert [label.text for label in view.column_labels] == LONG_NAMES[:10]


@pytest.mark.parametrize("size", [(360, 300), (560, 380), (240, 200)])
def test_many_long_class_names_in_a_small_dock_stay_readable(qtbot, size):
    view = show_matrix(qtbot, LONG_NAMES, *size)
    assert_readable(view)
    named = {label.index for label in view.row_labels}
    # Every row tells its class on hover over its name, named on the axis or not.
    for i, name in enumerate(LONG_NAMES):
        y = view.row_band.top() + (i + 0.5) * view.side
        x = view.row_band.center().x()
        assert view.tooltip_at(QPointF(x, y)) == name, (i, named)


def test_short_names_read_across_the_columns(qtbot):
    digits = [str(d) for d in range(10)]
    view = show_matrix(qtbot, digits, 360, 300)
    assert_readable(view)
    assert not any(label.upright for label in view.column_labels)
    assert [label.text for label in view.column_labels] == digits


def test_many_classes_name_every_kth_and_tell_the_rest_on_hover(qtbot):
    names = [f"class number {k}" for k in range(60)]
    view = show_matrix(qtbot, names, 360, 300)
    assert_readable(view)
    assert len(view.row_labels) < 60  # lines do not fit one per row at this size
    assert view.row_labels[0].index == 0


def test_a_few_classes_in_a_small_pane_keep_their_names_whole(qtbot):
    # Results beside "try a sample" at 1280 x 800: the square grid is bound by the
    # height, and the width it leaves goes to the names.
    names = ["setosa", "versicolor", "virginica"]
    view = show_matrix(qtbot, names, 250, 200)
    assert_readable(view)
    assert [label.text for label in view.row_labels] == names
    assert [label.text for label in view.column_labels] == names
    assert view.side >= 30  # the cells still hold their counts
