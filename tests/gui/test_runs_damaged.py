"""A damaged runs history in the window: one line in the Runs tab, never a traceback;
training still runs (unrecorded); a damaged run among sound ones is listed as damaged
and can be deleted."""

from __future__ import annotations

import contextlib
import json
import sqlite3

import pytest

from engine.history.runs import RunStore
from gui.run.paths import runs_db
from tests.gui.helpers import LEFT
from tests.gui.training import (
    IRIS,
    open_iris,
    run_to_end,
)

pytestmark = pytest.mark.usefixtures("spare_trainer")


def test_a_damaged_history_is_one_line_and_a_run_still_trains(qtbot, window, data_dir):
    path = runs_db(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    damaged = b"not a database, whatever its name says\n" * 200
    path.write_bytes(damaged)
    ui = window.training
    ui.runs_dock.raise_()
    runs = ui.runs
    qtbot.waitUntil(lambda: runs.problem.isVisible())
    said = runs.problem.text()
    assert said == (
        f"The runs history could not be read: {path}: the file is not a runs database or is "
        "damaged (file is not a database); new runs are not recorded until it is moved away."
    )
    assert runs.tree.topLevelItemCount() == 0

    open_iris(window, epochs=2)
    outcome = run_to_end(qtbot, window)
    assert outcome.status == "finished", outcome.reason
    assert "Validation accuracy" in ui.panel.status.text()
    ui.runs_dock.raise_()
    qtbot.waitUntil(lambda: not runs._stale)
    assert not runs.problem.isHidden() and runs.problem.text() == said
    assert path.read_bytes() == damaged  # nothing written into someone else's file

    path.unlink()  # moved away: the next run is recorded and listed
    second = run_to_end(qtbot, window)
    assert second.status == "finished" and second.run_id == 1
    ui.runs_dock.raise_()  # the Runs tab, looked at again, lists it and says nothing more
    qtbot.waitUntil(lambda: runs.tree.topLevelItemCount() == 1)
    assert runs.problem.isHidden()


def test_a_damaged_run_is_listed_among_the_others_and_can_be_deleted(qtbot, window, data_dir):
    project = json.loads(IRIS.read_text())
    store = RunStore(runs_db(data_dir))
    for _ in range(3):
        run_id = store.start_run(project, {**project["training"], "epochs": 1})
        store.add_epoch(run_id, 1, "val", {"loss": 0.5, "accuracy": 0.9})
        store.finish_run(run_id, "finished", "", str(data_dir / f"run-{run_id}.pt"))
    store.close()
    with contextlib.closing(sqlite3.connect(runs_db(data_dir))) as db, db:
        db.execute("UPDATE epochs SET metrics_json = '{\"loss\": ' WHERE run_id = 2")
    ui = window.training
    ui.runs_dock.raise_()
    runs = ui.runs
    qtbot.waitUntil(lambda: runs.tree.topLevelItemCount() == 3)
    listed = {runs.tree.topLevelItem(i).text(0): runs.tree.topLevelItem(i) for i in range(3)}
    assert [listed[i].text(2) for i in "123"] == ["finished", "damaged", "finished"]
    assert (
        listed["2"]
        .toolTip(2)
        .endswith(
            "run 2's metrics of epoch 1 (val) is damaged (not JSON: "
            "Expecting value: line 1 column 10 (char 9))"
        )
    )
    assert not runs.problem.isVisible()
    assert listed["1"].text(3) == "0.9000"

    runs.select_run(2)
    assert not runs.restore_button.isEnabled() and runs.delete_button.isEnabled()
    assert runs.hint.text() == "Run 2's record is damaged: it can only be deleted."
    qtbot.mouseClick(runs.delete_button, LEFT)
    remaining = [runs.tree.topLevelItem(i).text(0) for i in range(runs.tree.topLevelItemCount())]
    assert remaining == ["3", "1"]
