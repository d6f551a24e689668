"""Param editors take every param the specs and datasets declare, however wide its bounds."""

from __future__ import annotations

from engine.data.registry import seed_param
from gui.editor.param_widgets import INT_LIMIT, make_editor


def test_a_seed_up_to_2_to_the_32_gets_a_spin_box_and_keeps_its_own_check(qtbot):
    seen: list[int] = []
    editor = make_editor(seed_param(), seen.append)
    qtbot.addWidget(editor.widget)
    # A QSpinBox holds a signed 32-bit int: the editor shows as much of the range as fits.
    assert editor.box.maximum() == INT_LIMIT
    editor.box.setValue(1234)
    assert seen == [1234]
    assert editor.check(2**32) is None  # beyond the seed's own bound: refused, with a reason
