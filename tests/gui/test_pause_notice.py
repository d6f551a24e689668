"""A paused run says so: the Pause button, the status bar and the curves' title read
"Paused" and how to resume (the action's real shortcut); resuming clears all three."""

from __future__ import annotations

import pytest

from gui.run.worker import State
from tests.gui.helpers import LEFT
from tests.gui.training import (
    RUN_TIMEOUT_MS,
    start_long_run,
)

pytestmark = pytest.mark.usefixtures("spare_trainer")


def said(window) -> dict[str, str]:
    ui = window.training
    ui.curves.ensure_plots()
    button = ui.panel.pause_button
    return {
        "button": f"{button.text()} | {button.toolTip()}",
        "status bar": window.statusBar().currentMessage(),
        "curves": ui.curves.loss_plot.getPlotItem().titleLabel.text,
    }


def test_pause_is_said_on_the_button_the_status_bar_and_the_curves(qtbot, window):
    start_long_run(qtbot, window)
    ui = window.training
    keys = ui.pause_action.shortcut().toString()
    assert keys  # the hint names a real way to resume
    with qtbot.waitSignal(ui.controller.paused, timeout=RUN_TIMEOUT_MS):
        qtbot.mouseClick(ui.panel.pause_button, LEFT)
    assert ui.controller.state == State.PAUSED
    shown = said(window)
    for where, text in shown.items():
        assert "Paused" in text, f"the {where} says {text!r}"
        assert f"Resume ({keys})" in text, f"the {where} says {text!r}"
    assert "continue" in shown["status bar"] and "continue" in shown["curves"]
    assert ui.panel.pause_button.text() == "Paused · Resume"

    paused_at = ui.curves.batch_count
    ui.pause_action.trigger()  # resumed the way the hint says
    assert ui.controller.state == State.RUNNING
    for where, text in said(window).items():
        assert "Paused" not in text, f"the {where} still says {text!r}"
    assert ui.panel.pause_button.text() == "Pause"
    # Training again before the next pause (the trainer reports each pause it sees).
    qtbot.waitUntil(lambda: ui.curves.batch_count > paused_at, timeout=RUN_TIMEOUT_MS)

    with qtbot.waitSignal(ui.controller.paused, timeout=RUN_TIMEOUT_MS):
        qtbot.mouseClick(ui.panel.pause_button, LEFT)
    with qtbot.waitSignal(ui.controller.run_ended, timeout=RUN_TIMEOUT_MS):
        qtbot.mouseClick(ui.panel.stop_button, LEFT)  # stopped while paused: cleared too
    for where, text in said(window).items():
        assert "Paused" not in text, f"the {where} still says {text!r}"
