"""File → "Use my data…": a table shows its columns with their roles and its classes,
changing the target changes the verdict, OK adapts the open project (the canvas's
Input takes the table's width) as one edit that Ctrl+Z takes back, graph and settings;
an image folder shows its classes; bad data is one line in the dialog."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from gui.data.reading import FEATURE, IGNORED, TARGET, TIME
from gui.data.ui import open_use_data
from gui.data.views import ImageGrid, RolesTable, SeriesPlot


def write_patients(path: Path, rows: int = 60) -> None:
    """';'-separated with decimal commas, an id column, a text category and text labels."""
    rng = np.random.default_rng(0)
    lines = ["patient_id;age;weight;clinic;stage;diagnosis"]
    for i in range(rows):
        age, weight = rng.integers(20, 80), rng.normal(70, 9)
        clinic = "North South East".split()[i % 3]
        lines.append(
            f"{1000 + i};{age};{weight:.1f}".replace(".", ",")
            + f";{clinic};{i % 4};{'malignant' if age > 50 else 'benign'}"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture
def patients(tmp_path: Path) -> Path:
    path = tmp_path / "patients.csv"
    write_patients(path)
    return path


def answered(qtbot, dialog):
    """The dialog once adapt's verdict (worked out off the GUI thread) is in."""
    qtbot.waitUntil(lambda: not dialog.pending)
    return dialog


def use_data(qtbot, window, path: Path):
    """File → Use my data… on `path`, its verdict in."""
    return answered(qtbot, open_use_data(window, path))


def input_shape(window) -> list[int]:
    (input_id,) = window.project.graph.ids_of_role("input")
    return list(window.project.graph.node(input_id).params["shape"])


def roles(dialog) -> dict[str, str]:
    table = dialog.findChild(RolesTable)
    return {name: table.role_of(name) for name in table.combos}


def test_a_table_shows_its_columns_roles_and_classes(qtbot, open_template, patients: Path) -> None:
    window = open_template("mlp_iris")
    dialog = use_data(qtbot, window, patients)
    table = dialog.findChild(RolesTable)
    assert table.isVisible()
    assert [table.horizontalHeaderItem(i).text() for i in range(table.columnCount())] == [
        "patient_id",
        "age",
        "weight",
        "clinic",
        "stage",
        "diagnosis",
    ]
    assert table.item(1, 2).text() == "70,0" or "," in table.item(1, 2).text()  # as saved
    assert roles(dialog) == {
        "patient_id": IGNORED,
        "age": FEATURE,
        "weight": FEATURE,
        "clinic": FEATURE,
        "stage": FEATURE,
        "diagnosis": TARGET,
    }
    assert dialog.target_box.currentText() == "diagnosis"
    classes = dialog.classes.text()
    assert "2 classes" in classes and "benign" in classes and "malignant" in classes
    assert "dataset: csv" in dialog.verdict.text()
    assert dialog.ok_button.isEnabled() and not dialog.error.text()


def test_changing_the_target_changes_the_verdict(qtbot, open_template, patients: Path) -> None:
    window = open_template("mlp_iris")
    dialog = use_data(qtbot, window, patients)
    before = dialog.verdict.text()
    assert "diagnosis" in before and "classification" in before
    dialog.target_box.setCurrentText("weight")
    dialog.target_box.activated.emit(dialog.target_box.currentIndex())
    answered(qtbot, dialog)
    after = dialog.verdict.text()
    assert "'weight'" in after and "regression" in after and after != before
    assert roles(dialog)["weight"] == TARGET and roles(dialog)["diagnosis"] == FEATURE


def canvas_input_dims(window) -> tuple[int, ...]:
    """The Input's shape as the canvas's last analysis has it."""
    (input_id,) = window.scene.graph.ids_of_role("input")
    shape = window.scene.analysis.nodes[input_id].shape
    return tuple(shape.dims) if shape is not None else ()


def test_ok_adapts_the_project_and_ctrl_z_restores_it(qtbot, open_template, patients: Path) -> None:
    window = open_template("mlp_iris")
    training_before = dict(window.project.training)
    assert input_shape(window) == [4]
    edits = window.undo_stack.count()
    dialog = use_data(qtbot, window, patients)
    dialog.ok_button.click()
    assert not dialog.isVisible()
    assert window.undo_stack.count() == edits + 1  # one edit, one Ctrl+Z
    assert window.undo_stack.undoText() == "Use data patients.csv"
    # age, weight, stage + clinic one-hot (3): six inputs; the id column is not one.
    assert input_shape(window) == [6]
    qtbot.waitUntil(lambda: canvas_input_dims(window) == (6,))
    assert window.scene.analysis.ok  # the layer feeding the Output has 2 units now
    dataset = window.project.training["dataset"]
    assert dataset["name"] == "csv" and dataset["params"]["target"] == "diagnosis"
    window.activateWindow()
    window.actions_["undo"].trigger()  # Ctrl+Z
    assert input_shape(window) == [4]
    qtbot.waitUntil(lambda: canvas_input_dims(window) == (4,))
    assert window.project.training == training_before
    window.actions_["redo"].trigger()
    assert input_shape(window) == [6]


def test_a_column_set_to_ignored_leaves_the_input(qtbot, open_template, patients: Path) -> None:
    window = open_template("mlp_iris")
    dialog = use_data(qtbot, window, patients)
    dialog.findChild(RolesTable).set_role("stage", IGNORED)
    answered(qtbot, dialog)
    assert "features: age, weight, clinic" in dialog.verdict.text()
    dialog.ok_button.click()
    assert input_shape(window) == [5]
    assert window.project.training["dataset"]["params"]["features"] == ["age", "weight", "clinic"]


def test_an_image_folder_shows_its_classes(qtbot, open_template, tmp_path: Path) -> None:
    folder = tmp_path / "pets"
    for name, count in (("cat", 3), ("dog", 5)):
        (folder / name).mkdir(parents=True)
        for i in range(count):  # grey 12×12, the folder's most common mode and size
            Image.new("L", (12, 12), 40 * i).save(folder / name / f"{i}.png")
    (folder / "cat" / ".DS_Store").write_bytes(b"\0\1")
    (folder / "cat" / "notes.txt").write_text("not an image", encoding="utf-8")
    Image.new("RGBA", (20, 16)).save(folder / "dog" / "stray.png")  # another mode and size
    window = open_template("cnn_digits")
    dialog = use_data(qtbot, window, folder)
    grid = dialog.findChild(ImageGrid)
    assert grid.isVisible() and grid.names == ["cat", "dog"]
    pictures = [w for w in grid.findChildren(QLabel) if w.pixmap() and not w.pixmap().isNull()]
    assert len(pictures) == 3 + 4  # a few of each class
    assert "3 images" in dialog.classes.text().replace(" (", " ") or "3" in dialog.classes.text()
    assert "2 classes" in dialog.kind_label.text() and "9 images" in dialog.kind_label.text()
    assert "cat/notes.txt" in dialog.hint.text() and "DS_Store" not in dialog.hint.text()
    assert "converted to grey: dog/stray.png" in dialog.hint.text()  # training's own note
    dialog.ok_button.click()
    assert input_shape(window) == [1, 12, 12]


def test_bad_data_is_one_line_and_nothing_changes(qtbot, open_template, tmp_path: Path) -> None:
    window = open_template("mlp_iris")
    broken = tmp_path / "broken.csv"
    broken.write_text("a;b\n1;2;3\n", encoding="utf-8")
    dialog = use_data(qtbot, window, broken)
    line = dialog.error.text()
    assert "broken.csv" in line and "\n" not in line and "Traceback" not in line
    assert not dialog.ok_button.isEnabled()
    dialog.ok_button.click()
    assert input_shape(window) == [4] and window.undo_stack.count() == 0
    assert dialog.isVisible()
    dialog.close()


def test_the_file_menu_has_use_my_data(window) -> None:
    texts = [a.text() for a in window.menuBar().actions()[0].menu().actions()]
    assert "Use my &data…" in texts
    assert window.actions_["use_data"].isEnabled()
    _ = Qt  # the dialog opens from the action (tested above through open_use_data)


def write_series(path: Path) -> None:
    rows = [
        f"{1990 + i // 12}-{i % 12 + 1:02d}-01,{10 + 8 * np.sin(i / 6):.2f},{340 + 0.1 * i:.2f}"
        for i in range(120)
    ]
    path.write_text("month,temperature,co2\n" + "\n".join(rows) + "\n", encoding="utf-8")


def test_a_series_shows_its_target_over_time(qtbot, open_template, tmp_path: Path) -> None:
    series = tmp_path / "co2.csv"
    write_series(series)
    window = open_template("lstm_forecast")
    dialog = use_data(qtbot, window, series)
    assert roles(dialog) == {"month": TIME, "temperature": FEATURE, "co2": TARGET}
    plot = dialog.findChild(SeriesPlot)
    assert plot.isVisible() and plot.points == 120
    assert "Series" in dialog.kind_label.text()
    assert dialog.window_box.isVisible() and dialog.window_box.value() == 48  # the template's
    dialog.horizon_box.setValue(3)
    dialog.horizon_box.editingFinished.emit()
    answered(qtbot, dialog)
    assert "horizon=3" in dialog.verdict.text()
    dialog.ok_button.click()
    (input_id,) = window.project.graph.ids_of_role("input")
    params = window.project.graph.node(input_id).params
    assert params["shape"] == [48, 2] and params["sequence"]
    assert window.project.training["dataset"]["name"] == "series"


def test_the_gallery_opens_a_template_with_my_data(
    qtbot, window, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gui.data.use_data import UseDataDialog
    from gui.gallery import TemplateGallery

    def choose_with_my_data(gallery: TemplateGallery) -> int:
        names = [gallery.list.item(i).text() for i in range(gallery.list.count())]
        gallery.list.setCurrentRow(names.index("MLP iris"))
        gallery.use_data_button.click()
        return gallery.result()

    monkeypatch.setattr(TemplateGallery, "exec", choose_with_my_data)
    window.new_from_template()
    assert window.project.name == "MLP iris"
    dialogs = [d for d in window.findChildren(UseDataDialog) if d.isVisible()]
    assert len(dialogs) == 1  # ready to pick the file
    dialogs[0].close()


def test_data_beside_a_saved_project_is_named_relative_to_it(
    qtbot, open_template, patients: Path
) -> None:
    window = open_template("mlp_iris")
    assert window.write_to(patients.parent / "project.json")
    dialog = use_data(qtbot, window, patients)
    assert "path=patients.csv " in dialog.verdict.text()
    dialog.ok_button.click()
    assert window.project.training["dataset"]["params"]["path"] == "patients.csv"


def test_an_npz_shows_its_arrays_and_classes(qtbot, open_template, tmp_path: Path) -> None:
    arrays = tmp_path / "arrays.npz"
    rng = np.random.default_rng(0)
    np.savez(arrays, x=rng.normal(size=(40, 7)).astype(np.float32), y=np.arange(40) % 4)
    window = open_template("mlp_iris")
    dialog = use_data(qtbot, window, arrays)
    assert "x: (40, 7) float32" in dialog.arrays.text() and dialog.arrays.isVisible()
    assert "4 classes" in dialog.classes.text()
    assert not dialog.target_box.isVisible()  # arrays have no columns to choose from
    dialog.ok_button.click()
    assert input_shape(window) == [7]
    damaged = tmp_path / "damaged.npz"
    damaged.write_bytes(arrays.read_bytes()[:100])
    dialog = use_data(qtbot, window, damaged)
    assert "damaged.npz" in dialog.error.text() and not dialog.ok_button.isEnabled()
    dialog.close()


def test_the_target_cannot_be_unset_by_its_role(qtbot, open_template, patients: Path) -> None:
    window = open_template("mlp_iris")
    dialog = use_data(qtbot, window, patients)
    verdict = dialog.verdict.text()
    dialog.findChild(RolesTable).set_role("diagnosis", FEATURE)
    assert "'diagnosis' is the target" in dialog.error.text()
    assert roles(dialog)["diagnosis"] == TARGET  # the choice goes back
    assert dialog.verdict.text() == verdict and dialog.ok_button.isEnabled()
    dialog.findChild(RolesTable).set_role("age", TARGET)  # choose another target instead
    answered(qtbot, dialog)
    assert dialog.target_box.currentText() == "age" and not dialog.error.text()
    assert "target='age'" in dialog.verdict.text()


def test_a_series_column_set_to_ignored_leaves_the_input(
    qtbot, open_template, tmp_path: Path
) -> None:
    series = tmp_path / "co2.csv"
    write_series(series)
    window = open_template("lstm_forecast")
    dialog = use_data(qtbot, window, series)
    assert "Input history: shape (48, 1) → (48, 2)" in dialog.verdict.text()
    dialog.findChild(RolesTable).set_role("temperature", IGNORED)
    answered(qtbot, dialog)
    verdict = dialog.verdict.text()
    assert "features: co2" in verdict and "Input history" not in verdict  # stays (48, 1)
    dialog.ok_button.click()
    assert input_shape(window) == [48, 1]
    assert window.project.training["dataset"]["params"]["features"] == ["co2"]


def test_ignoring_every_feature_is_refused(qtbot, open_template, patients: Path) -> None:
    window = open_template("mlp_iris")
    dialog = use_data(qtbot, window, patients)
    for column in ("age", "weight", "clinic", "stage"):
        dialog.findChild(RolesTable).set_role(column, IGNORED)
    answered(qtbot, dialog)
    assert dialog.error.text() == "no feature columns: set at least one column to feature"
    assert not dialog.ok_button.isEnabled()
    dialog.findChild(RolesTable).set_role("age", FEATURE)
    answered(qtbot, dialog)
    assert dialog.ok_button.isEnabled() and "features: age" in dialog.verdict.text()


def test_a_network_the_data_cannot_fit_is_one_line(qtbot, open_template, patients: Path) -> None:
    window = open_template("cnn_digits")  # a CNN: a table's rows are no images
    before = input_shape(window)
    dialog = use_data(qtbot, window, patients)
    line = dialog.error.text()
    assert "start from a project made for a table" in line and "\n" not in line
    assert not dialog.ok_button.isEnabled() and dialog.findChild(RolesTable).isVisible()
    assert input_shape(window) == before
    dialog.close()


def test_the_verdict_is_worked_out_off_the_gui_thread(
    qtbot, open_template, patients: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from gui.data import verdict

    release = threading.Event()
    real = verdict.adapt_to

    def slow_adapt(project, path, **choices):
        release.wait(60)  # as a folder of many images would take
        return real(project, path, **choices)

    monkeypatch.setattr(verdict, "adapt_to", slow_adapt)
    window = open_template("mlp_iris")
    dialog = open_use_data(window, patients)  # returns while adapt still works
    assert dialog.pending and "Reading the data" in dialog.verdict.text()
    assert not dialog.ok_button.isEnabled()
    dialog.target_box.setCurrentText("weight")  # a second question before the first answer
    dialog.target_box.activated.emit(dialog.target_box.currentIndex())
    release.set()
    answered(qtbot, dialog)
    assert "target='weight'" in dialog.verdict.text()  # the last question's answer
    assert dialog.ok_button.isEnabled()
