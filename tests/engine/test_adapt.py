"""`adapt`: a shipped template pointed at a person's table, image folder or arrays trains
with no hand edits; each change is printed; bad data and unfit projects are one line."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.cli.main import run
from engine.data.adapt import adapt, place_data_path
from engine.graph.shapes import analyze
from engine.project.project import load, loads
from tests.engine.test_own_tables import write_messy_cancer
from tests.helpers import template, template_doc, write_project


def write_images(folder: Path, classes: tuple[str, ...] = ("cat", "dog", "fish")) -> Path:
    """Six 12×12 grey PNGs per class, each class a different brightness."""
    rng = np.random.default_rng(0)
    for level, name in enumerate(classes):
        (folder / name).mkdir(parents=True)
        for i in range(6):
            pixels = rng.random((12, 12)) * 60 + 80 * level
            Image.fromarray(pixels.astype(np.uint8)).save(folder / name / f"{i}.png")
    return folder


def adapted_shapes(project_file: Path) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(the Input's output dims, the dims reaching the Output) of a saved project."""
    project = load(project_file)
    analysis = analyze(project.graph)
    assert analysis.ok, analysis.problems
    graph = project.graph
    (input_id,), (output_id,) = graph.ids_of_role("input"), graph.ids_of_role("output")
    return analysis.nodes[input_id].shape.dims, analysis.nodes[output_id].shape.dims


def final_metric(out: str) -> float:
    match = re.search(r"^final: \w+=([\d.]+)", out, re.M)
    assert match, out
    return float(match.group(1))


@pytest.fixture(scope="module")
def cancer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("table") / "cancer.csv"
    write_messy_cancer(path)
    return path


def test_a_messy_table_adapts_an_mlp_template_that_then_checks_and_trains(
    cancer: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    new = cancer.parent / "cancer_mlp.json"
    assert run(["adapt", str(template("mlp_iris")), "--data", str(cancer), "-o", str(new)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[:3] == [
        "dataset: csv path=cancer.csv target='diagnosis' (classification, 2 classes)",
        "Input measurements: shape (4,) → (33,)",
        "Dense dense2: units 3 → 2",
    ]
    # 30 measurements and 3 one-hot clinics: the id and the mostly empty note are dropped.
    assert adapted_shapes(new) == ((33,), (2,))
    saved = json.loads(new.read_text())["training"]["dataset"]
    assert saved == {
        "name": "csv",
        "params": {"path": "cancer.csv", "target": "diagnosis", "task": "classification"},
    }
    assert run(["check", str(new)]) == 0
    capsys.readouterr()
    assert run(["train", str(new), "--epochs", "1", "--out", str(cancer.parent / "run")]) == 0
    assert final_metric(capsys.readouterr().out) > 0.85


def test_an_image_folder_adapts_the_cnn_template_that_then_trains(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pets = write_images(tmp_path / "pets")
    new = tmp_path / "pets.json"
    assert run(["adapt", str(template("cnn_digits")), "--data", str(pets), "-o", str(new)]) == 0
    assert capsys.readouterr().out.splitlines()[:3] == [
        "dataset: image_folder path=pets (classification, 3 classes)",
        "Input image: shape (1, 8, 8) → (1, 12, 12)",
        "Dense dense2: units 10 → 3",
    ]
    assert adapted_shapes(new) == ((1, 12, 12), (3,))
    assert run(["check", str(new)]) == 0
    assert run(["train", str(new), "--epochs", "1", "--out", str(tmp_path / "run")]) == 0


def test_npz_arrays_adapt_for_classes_or_numbers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 5)).astype(np.float32)
    np.savez(tmp_path / "classes.npz", x=x, y=(x[:, 0] > 0).astype(np.int64))
    np.savez(tmp_path / "numbers.npz", x=x, y=np.stack([x[:, 0] + x[:, 1], x[:, 2]], axis=1))
    iris = load(template("mlp_iris"))

    classes = adapt(iris, tmp_path / "classes.npz")
    assert classes.kind == "arrays"
    assert classes.changes[1:] == [
        "Input measurements: shape (4,) → (5,)",
        "Dense dense2: units 3 → 2",
    ]

    numbers = adapt(iris, tmp_path / "numbers.npz")
    assert numbers.changes[1:] == [
        "Input measurements: shape (4,) → (5,)",
        "Output species: loss cross_entropy → mse",
        "Dense dense2: units 3 → 2",
    ]
    assert numbers.changes[0].endswith("(regression)")
    new = tmp_path / "numbers.json"
    (tmp_path / "numbers.json").write_text("")  # overwritten by the command
    assert (
        run(
            [
                "adapt",
                str(template("mlp_iris")),
                "--data",
                str(tmp_path / "numbers.npz"),
                "-o",
                str(new),
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert run(["train", str(new), "--epochs", "1", "--out", str(tmp_path / "run")]) == 0
    assert "final: mse=" in capsys.readouterr().out


def test_the_project_given_is_left_as_it_was(cancer: Path) -> None:
    iris = load(template("mlp_iris"))
    adapt(iris, cancer)
    assert iris.graph.node("measurements").params["shape"] == [4]
    assert iris.graph.node("dense2").params["units"] == 3
    assert iris.training["dataset"] == {"name": "iris", "params": {}}


def test_data_outside_the_new_projects_folder_keeps_its_absolute_path(
    cancer: Path, tmp_path: Path
) -> None:
    adaptation = adapt(load(template("mlp_iris")), cancer)
    elsewhere = place_data_path(adaptation, tmp_path / "new.json")
    assert elsewhere.project.training["dataset"]["params"]["path"] == str(cancer)
    beside = place_data_path(adaptation, cancer.parent / "sub" / ".." / "new.json")
    assert beside.project.training["dataset"]["params"]["path"] in (str(cancer), "cancer.csv")
    inside = place_data_path(adaptation, cancer.parent / "new.json")
    assert inside.project.training["dataset"]["params"]["path"] == "cancer.csv"
    assert inside.changes[0].startswith("dataset: csv path=cancer.csv ")


def graph_doc(nodes: list[tuple[str, str, dict]], training: dict | None = None) -> str:
    """A chain of blocks, each wired into the next."""
    doc = {
        "format": "netloom",
        "version": 2,
        "nodes": [{"id": i, "type": t, "params": p} for i, t, p in nodes],
        "edges": [
            {"source": a[0], "target": b[0], "target_port": "x"} for a, b in zip(nodes, nodes[1:])
        ],
        "training": training or {"dataset": {"name": "iris"}},
    }
    return json.dumps(doc)


def test_the_layer_before_the_output_is_found_through_blocks_that_keep_its_width(
    cancer: Path,
) -> None:
    project = loads(
        graph_doc(
            [
                ("row", "Input", {"shape": [4]}),
                ("fc1", "Dense", {"units": 8}),
                ("relu1", "ReLU", {}),
                ("fc2", "Dense", {"units": 3}),
                ("drop1", "Dropout", {"p": 0.1}),
                ("flat1", "Flatten", {}),
                ("out", "Output", {"loss": "cross_entropy"}),
            ]
        )
    )
    changes = adapt(project, cancer).changes
    assert changes[2] == "Dense fc2: units 3 → 2 (feeds the Output through 'flat1')"
    assert "fc1" not in " ".join(changes)


def test_a_project_whose_output_is_fed_by_a_shape_changing_block_is_refused_by_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = template_doc("cnn_digits")
    # The digit is read straight off the flattened feature maps: no Dense to resize.
    doc["nodes"] = [
        n for n in doc["nodes"] if n["id"] not in ("dense1", "relu3", "dropout1", "dense2")
    ]
    doc["edges"] = [
        e
        for e in doc["edges"]
        if e["source"] in ("image", "conv1", "relu1", "pool1", "conv2", "relu2", "pool2")
    ]
    doc["edges"].append({"source": "flatten1", "target": "digit", "target_port": "x"})
    project = write_project(tmp_path, doc)
    pets = write_images(tmp_path / "pets")
    assert run(["adapt", str(project), "--data", str(pets), "-o", str(tmp_path / "new.json")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"error: {project}: the Output 'digit' needs (N, 3) for 3 classes, but Flatten "
        "'flatten1' before it gives (N, 576) and has no width to set; put a Dense layer on "
        "flat features before the Output, then adapt again"
    )
    assert not (tmp_path / "new.json").exists()


def test_two_classes_keep_a_bce_output_with_one_score(tmp_path: Path, cancer: Path) -> None:
    doc = template_doc("mlp_iris")
    doc["nodes"][-1]["params"]["loss"] = "bce"
    adaptation = adapt(loads(json.dumps(doc)), cancer)
    assert adaptation.changes[2] == "Dense dense2: units 3 → 1"


def test_settings_that_do_not_fit_the_new_task_are_reset(tmp_path: Path) -> None:
    table = tmp_path / "prices.csv"
    rng = np.random.default_rng(1)
    rows = [f"{a:.3f},{b:.3f},{a * 3 + b:.3f}" for a, b in rng.normal(size=(40, 2))]
    table.write_text("size,age,price\n" + "\n".join(rows) + "\n")
    doc = template_doc("mlp_iris")
    doc["training"].update(metric="accuracy", split="stratified")
    adaptation = adapt(loads(json.dumps(doc)), table)
    assert adaptation.changes == [
        f"dataset: csv path={table} target='price' (regression)",
        "Input measurements: shape (4,) → (2,)",
        "Output species: loss cross_entropy → mse",
        "Dense dense2: units 3 → 1",
        "training.metric: accuracy → auto (the regression task's own)",
        "training.split: stratified → auto (regression has no classes to stratify)",
    ]
    assert adaptation.project.training["dataset"]["params"]["task"] == "regression"


def test_a_target_of_few_whole_numbers_is_classes(tmp_path: Path) -> None:
    table = tmp_path / "wine.csv"
    rng = np.random.default_rng(2)
    rows = [f"{a:.2f};{int(q)}" for a, q in zip(rng.normal(size=60), rng.integers(3, 7, 60))]
    table.write_text("acidity;quality\n" + "\n".join(rows) + "\n")
    adaptation = adapt(load(template("mlp_iris")), table)
    assert adaptation.changes[0].endswith("target='quality' (classification, 4 classes)")


def no_input_project(tmp_path: Path) -> Path:
    doc = template_doc("mlp_iris")
    doc["nodes"] = doc["nodes"][1:]
    doc["edges"] = doc["edges"][1:]
    return write_project(tmp_path, doc, "no_input.json")


def no_output_project(tmp_path: Path) -> Path:
    doc = template_doc("mlp_iris")
    doc["nodes"] = doc["nodes"][:-1]
    doc["edges"] = doc["edges"][:-1]
    return write_project(tmp_path, doc, "no_output.json")


def bad_cases(tmp_path: Path, cancer: Path) -> dict[str, tuple[list[str], str]]:
    iris = str(template("mlp_iris"))
    (tmp_path / "sheet.xlsx").write_bytes(b"PK\x03\x04")
    (tmp_path / "flat").mkdir()
    (tmp_path / "flat" / "a.png").write_bytes(b"")
    short = tmp_path / "short.csv"
    short.write_text("date,value\n" + "".join(f"2024-01-{d:02d},{d}\n" for d in range(1, 11)))
    return {
        "missing path": (
            [iris, "--data", str(tmp_path / "absent.csv")],
            f"error: --data: no such file or folder: {tmp_path / 'absent.csv'}",
        ),
        "target not a column": (
            [iris, "--data", str(cancer), "--target", "outcome"],
            f"error: --target 'outcome': {cancer} has no such column (columns: patient_id, "
            "mean radius,",
        ),
        "unsupported file": (
            [iris, "--data", str(tmp_path / "sheet.xlsx")],
            f"error: {tmp_path / 'sheet.xlsx'}: a .xlsx file; adapt reads a CSV/TSV table",
        ),
        "folder without class folders": (
            [iris, "--data", str(tmp_path / "flat")],
            f"error: {tmp_path / 'flat'}: a folder with no class subfolders",
        ),
        "no input block": (
            [str(no_input_project(tmp_path)), "--data", str(cancer)],
            f"error: {tmp_path / 'no_input.json'}: adapt needs exactly one Input block; "
            "the project has none",
        ),
        "no output block": (
            [str(no_output_project(tmp_path)), "--data", str(cancer)],
            f"error: {tmp_path / 'no_output.json'}: adapt needs exactly one Output block; "
            "the project has none",
        ),
        "window longer than the series": (
            [iris, "--data", str(short), "--window", "10"],
            f"error: --window 10: {short} holds 10 time steps, fewer than a window of 10 "
            "plus the 1 to forecast; use a shorter --window",
        ),
        "a window for a table": (
            [iris, "--data", str(cancer), "--window", "5"],
            f"error: --window applies to a series (a CSV with a time column); {cancer} is "
            "read as a table",
        ),
        "a target for images": (
            [iris, "--data", str(write_images(tmp_path / "pets")), "--target", "x"],
            "error: --target applies to a table's or series' columns;",
        ),
    }


def test_bad_data_and_unfit_projects_are_one_line_and_exit_2(
    tmp_path: Path, cancer: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for case, (argv, start) in bad_cases(tmp_path, cancer).items():
        new = tmp_path / "new.json"
        assert run(["adapt", *argv, "-o", str(new)]) == 2, case
        out, err = capsys.readouterr()
        assert err.count("\n") == 1 and err.startswith(start), (case, err)
        assert "Traceback" not in out + err
        assert not new.exists(), case


def test_npz_masks_resize_the_convolution_that_makes_per_pixel_scores(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x = rng.random((12, 1, 16, 16)).astype(np.float32)
    np.savez(tmp_path / "masks.npz", x=x, y=(x[:, 0] * 3).astype(np.int64))
    adaptation = adapt(load(template("fcn_segmentation")), tmp_path / "masks.npz")
    assert adaptation.changes[1:] == [
        "Input image: shape (1, 32, 32) → (1, 16, 16)",
        "Conv2d classify: out_channels 4 → 3",
    ]
    analysis = analyze(adaptation.project.graph)
    (output_id,) = adaptation.project.graph.ids_of_role("output")
    assert analysis.nodes[output_id].shape.dims == (3, 16, 16)


def test_the_adapted_settings_share_nothing_with_the_project_given(cancer: Path) -> None:
    project = load(template("mlp_iris"))
    project.training["schedule"] = {"name": "step", "step_size": 5, "gamma": 0.5}
    adapted = adapt(project, cancer).project
    adapted.training["schedule"]["gamma"] = 0.1
    assert project.training["schedule"]["gamma"] == 0.5


def test_an_output_that_cannot_be_written_is_one_line_and_no_changes_shown(
    cancer: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    new = tmp_path / "no such folder" / "new.json"
    assert run(["adapt", str(template("mlp_iris")), "--data", str(cancer), "-o", str(new)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"error: {new}: cannot write: No such file or directory\n"
