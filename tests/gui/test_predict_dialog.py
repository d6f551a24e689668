"""Predict… on a finished run: the window's run of a table adapted through "Use my
data…" answers new rows off the GUI thread — one row per input row, in order, with the
id column, the class name and each class's probability, the metric when the rows hold
the target — Save CSV writes the table, and a bad file is one line that leaves the
table shown."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from gui.data.ui import open_use_data
from tests.gui.test_use_my_data import write_patients
from tests.gui.training import RUN_TIMEOUT_MS, run_to_end, set_training

pytestmark = pytest.mark.usefixtures("spare_trainer")


def test_predict_on_a_finished_run_shows_and_saves_one_row_per_input(
    qtbot, open_template, tmp_path: Path
) -> None:
    window = open_template("mlp_iris")
    tools = window.data_tools
    assert not tools.predict_action.isEnabled()  # no run yet
    table = tmp_path / "patients.csv"
    write_patients(table, 60)
    use = open_use_data(window, table)
    qtbot.waitUntil(use.ok_button.isEnabled)  # adapt's verdict is in
    use.ok_button.click()
    set_training(window, epochs=2, batch_size=16)
    outcome = run_to_end(qtbot, window)
    assert outcome.status == "finished", outcome.reason
    qtbot.waitUntil(tools.predict_action.isEnabled)
    assert tools.predict_button.isEnabled()

    new_rows = tmp_path / "new_patients.csv"
    write_patients(new_rows, 7)
    dialog = tools.open_predict()
    with qtbot.waitSignal(dialog.finished_predicting, timeout=RUN_TIMEOUT_MS):
        dialog.predict([new_rows])
    assert dialog.error.text() == ""
    header = [
        dialog.table.horizontalHeaderItem(i).text() for i in range(dialog.table.columnCount())
    ]
    assert header[:2] == ["patient_id", "prediction"]
    assert set(header[2:]) == {"p_benign", "p_malignant"}
    assert dialog.table.rowCount() == 7
    assert [dialog.table.item(r, 0).text() for r in range(7)] == [str(1000 + r) for r in range(7)]
    assert {dialog.table.item(r, 1).text() for r in range(7)} <= {"benign", "malignant"}
    assert "accuracy" in dialog.metric_label.text()  # the rows hold the diagnosis

    out = tmp_path / "predictions.csv"
    assert dialog.save(out)
    with out.open(newline="", encoding="utf-8") as handle:
        written = list(csv.reader(handle))
    assert written[0] == header and len(written) == 1 + 7
    assert [row[0] for row in written[1:]] == [str(1000 + r) for r in range(7)]

    broken = tmp_path / "no_columns.csv"
    broken.write_text("colour;size\nred;3\n", encoding="utf-8")
    with qtbot.waitSignal(dialog.finished_predicting, timeout=RUN_TIMEOUT_MS):
        dialog.predict([broken])
    line = dialog.error.text()
    assert "no_columns.csv" in line and "\n" not in line and "Traceback" not in line
    assert dialog.table.rowCount() == 7  # what was shown stays
    dialog.close()
