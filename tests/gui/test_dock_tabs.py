"""Each dock group shows one tab bar: none left behind by Qt after the layout changes."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTabBar


def visible_tab_rows(window) -> list[tuple[str, ...]]:
    bars = window.findChildren(QTabBar, options=Qt.FindChildOption.FindDirectChildrenOnly)
    return sorted(
        tuple(bar.tabText(i) for i in range(bar.count())) for bar in bars if bar.isVisible()
    )


EXPECTED = [
    ("Inspector", "Training"),
    ("Results", "Runs", "Look inside"),
    ("Summary", "Curves"),
]


def test_one_tab_bar_per_dock_group_at_any_window_size(qtbot, qapp, make_window):
    window = make_window(size=(1440, 900))  # as the app opens: laid out, then shown
    qtbot.waitExposed(window)
    qapp.processEvents()  # what the first paint shows
    assert visible_tab_rows(window) == sorted(EXPECTED)
    window.resize(1600, 1000)  # laid out again: no bar stays where the docks were
    qapp.processEvents()
    assert visible_tab_rows(window) == sorted(EXPECTED)
    window.training.runs_dock.raise_()  # a tab switch keeps the group's own bar
    qapp.processEvents()
    assert visible_tab_rows(window) == sorted(EXPECTED)
