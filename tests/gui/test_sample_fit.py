"""Try a sample in little room: its chart in words, feature names within their bars."""

from __future__ import annotations

import numpy as np

from gui.results.sample_fit import likeliest

NAMES = ["right", "left", "down", "up"]


def test_the_likeliest_classes_come_first_with_their_chances():
    scores = np.array([0.23, 0.2, 0.35, 0.22])
    line = likeliest(scores, NAMES.__getitem__, lambda text: True)
    assert line == "down 35% · right 23% · up 22%"


def test_the_line_keeps_to_its_width_but_always_names_the_first():
    scores = np.array([0.23, 0.2, 0.35, 0.22])
    assert likeliest(scores, NAMES.__getitem__, lambda text: len(text) <= 20) == (
        "down 35% · right 23%"
    )
    assert likeliest(scores, NAMES.__getitem__, lambda text: False) == "down 35%"


def test_feature_names_shorten_to_their_share_of_the_axis(qapp):
    from PySide6.QtGui import QFont, QFontMetrics

    from gui.results.sample_view import shortened

    metrics = QFontMetrics(QFont())
    name = "sepal length (cm)"
    assert shortened(name, metrics, metrics.horizontalAdvance(name)) == name
    assert shortened(name, metrics, metrics.horizontalAdvance("sepal length")) == "sepal length"
    assert shortened(name, metrics, metrics.horizontalAdvance("s. length")) == "s. length"
    tiny = shortened(name, metrics, 24)
    assert tiny.endswith("…") and metrics.horizontalAdvance(tiny) <= 24
