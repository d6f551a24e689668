"""Look inside makes its model lazily: a project opened, edited or restored while the
dock is behind another tab is not converted for it (a 10,000-block project took
0.25-0.5 s of the GUI thread at every open), and a restored run's Look inside record is
read when its Training tab comes on screen; bringing a tab forward shows the current
project or run, never the one before."""

from __future__ import annotations

import pytest

import gui.training.ui as training_ui
from tests.gui.helpers import LEFT
from tests.gui.training import (
    RUN_TIMEOUT_MS,
    open_iris,
    run_to_end,
    set_training,
)
from tests.helpers import template

pytestmark = pytest.mark.usefixtures("spare_trainer")

DIGITS = template("cnn_digits")
LSTM = template("lstm_adding")


@pytest.fixture
def conversions(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the projects the training window converted to a dict."""
    made: list[str] = []
    to_dict = training_ui.to_dict

    def counted(project):
        made.append(project.name)
        return to_dict(project)

    monkeypatch.setattr(training_ui, "to_dict", counted)
    return made


def hide_look(qtbot, window) -> None:
    ui = window.training
    ui.results_dock.raise_()  # Look inside shares its place, behind this tab
    qtbot.waitUntil(lambda: not ui.look.visible, timeout=RUN_TIMEOUT_MS)


def show_look(qtbot, window, checkpoint: str, answered: bool = False) -> None:
    """Bring Look inside forward and wait until it asks about the model with
    `checkpoint` (and, if `answered`, until it shows the answer)."""
    ui = window.training
    ui.look_dock.raise_()
    qtbot.waitUntil(lambda: ui.look.visible, timeout=RUN_TIMEOUT_MS)
    asked = ui.look.thread_.request
    assert asked is not None and asked.checkpoint == checkpoint
    assert asked.project["name"] == window.project.name
    if answered:
        qtbot.waitUntil(lambda: ui.look.shown_request == asked, timeout=RUN_TIMEOUT_MS)


def test_a_hidden_look_inside_converts_nothing_until_its_tab_is_shown(qtbot, window, conversions):
    ui = window.training
    look = ui.look
    assert not look.visible  # behind Results, as the window starts
    assert window.open_template(DIGITS)
    set_training(window, epochs=3)  # an edit: Look inside's model is out of date again
    assert window.open_template(LSTM)  # another project replaces it
    set_training(window, epochs=7)
    assert conversions == []
    assert look.project is None  # nothing of an earlier project to ask about

    lstm = window.project.name
    show_look(qtbot, window, "")
    assert conversions == [lstm]  # once, for the project on screen
    assert look.project["name"] == window.project.name
    assert look.project["training"]["epochs"] == 7  # with the last edit

    hide_look(qtbot, window)
    assert window.open_template(DIGITS)
    assert len(conversions) == 1
    show_look(qtbot, window, "")
    assert window.project.name != lstm
    assert conversions[1:] == [window.project.name]


def test_runs_ended_and_restored_behind_the_tab_show_when_it_comes(
    qtbot, window, conversions, monkeypatch
):
    ui = window.training
    look = ui.look
    open_iris(window, epochs=2, lr=0.001)
    first = run_to_end(qtbot, window)
    live_flow = len(ui.inside.flow.series["grad_norm"]["dense1"])
    assert live_flow  # measured even with the tab closed, and kept beside the checkpoint
    reads: list[int] = []
    show_history = ui.inside.show_history
    monkeypatch.setattr(
        ui.inside,
        "show_history",
        lambda run_id, *a: (reads.append(run_id), show_history(run_id, *a)),
    )
    hide_look(qtbot, window)  # (a finished run raises Results over it anyway)
    show_look(qtbot, window, first.checkpoint, answered=True)  # the run's trained weights
    assert "trained weights" in look.title.text()

    hide_look(qtbot, window)
    assert window.open_template(DIGITS)  # its own initial weights, not the run's
    show_look(qtbot, window, "", answered=True)
    assert "initial (seeded) weights" in look.title.text()

    hide_look(qtbot, window)
    converted = len(conversions)
    ui.runs_dock.raise_()
    ui.runs.select_run(first.run_id)
    with qtbot.waitSignal(ui.current.ended, timeout=RUN_TIMEOUT_MS):
        qtbot.mouseClick(ui.runs.restore_button, LEFT)
    assert len(conversions) == converted  # the restore built nothing for a hidden view
    assert reads == []  # nor read the run's Look inside record
    show_look(qtbot, window, first.checkpoint, answered=True)
    assert "trained weights" in look.title.text()
    assert reads == []  # the Blocks tab is on screen, not Training

    ui.look_tabs.setCurrentWidget(ui.inside)  # read now, once, for the restored run
    assert reads == [first.run_id]
    assert len(ui.inside.flow.series["grad_norm"]["dense1"]) == live_flow
    assert ui.inside.status.text().startswith(f"Run {first.run_id} from the Runs history:")
