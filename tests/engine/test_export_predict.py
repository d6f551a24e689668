"""The exported script predicts: `export --to script --weights RUN/model.pt` carries the
run's fitted preprocessing as plain data, and `python script.py predict DATA --out
predictions.csv` reads new rows, arrays and images as NetLoom does — the same classes
and probabilities as the in-app model, the same CSV as NetLoom's `predict`."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from engine.cli.main import run
from engine.data import load_dataset
from engine.data.as_trained import as_trained, prepared_samples
from engine.data.preprocess import apply_standardiser
from engine.train.checkpoint import cpu_state, save_checkpoint
from tests.engine.helpers import load_file
from tests.engine.test_codegen import script_ruff_failures
from tests.engine.test_own_tables import linear_project, write_messy_cancer
from tests.engine.test_preprocessing_travels import arrays_project, trained, write_measurements
from tests.gui.test_results_units import price_project, write_prices

pytestmark = pytest.mark.usefixtures("one_torch_thread_per_module")

TRAINING_ROWS = 500  # of the table's 569: the rest are new rows to predict


def export_with_weights(folder: Path, doc: dict[str, Any], trainer: Any) -> Path:
    """The project saved, its run's model.pt written, the script exported with it."""
    (folder / "project.json").write_text(json.dumps(doc), encoding="utf-8")
    trainer.save(folder / "run" / "model.pt")
    script = folder / "predict_it.py"
    args = ["export", str(folder / "project.json"), "--to", "script", "-o", str(script)]
    assert run([*args, "--weights", str(folder / "run" / "model.pt")]) == 0
    return script


# Runs each exported script as `python SCRIPT predict DATA --out CSV` would, one after
# the other in one process (torch is imported once), printing each one's exit.
DRIVER = """
import json, runpy, sys
for script, data, out in json.loads(sys.argv[1]):
    sys.argv = [script, "predict", data, "--out", out]
    try:
        runpy.run_path(script, run_name="__main__")
        print("exit 0", flush=True)
    except SystemExit as exit:
        print(exit, file=sys.stderr, flush=True)
        print("exit 1", flush=True)
"""


def scripts_predict(jobs: list[tuple[Path, Path, Path]]) -> subprocess.CompletedProcess:
    """Each (script, data, out) run as `python script predict data --out out`, in one
    subprocess."""
    plan = json.dumps([[str(s), str(d), str(o)] for s, d, o in jobs])
    return subprocess.run(
        [sys.executable, "-c", DRIVER, plan],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )


def in_process(script: Path, data: Path, out: Path) -> str:
    """The one line a script's predict stops with, run in this process."""
    module = load_file(script)
    with pytest.raises(SystemExit) as stopped:
        module.main(["predict", str(data), "--out", str(out)])
    return str(stopped.value)


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def in_app_chances(trainer: Any, x: np.ndarray) -> np.ndarray:
    model = trainer.model.eval()
    with torch.no_grad():
        return torch.softmax(model(torch.as_tensor(x)).double(), dim=1).numpy()


def assert_same_predictions(rows: list[dict[str, str]], chances: np.ndarray, classes: list[str]):
    got = np.array([[float(row[f"p_{name}"]) for name in classes] for row in rows])
    assert got.shape == chances.shape
    assert np.allclose(got, chances, atol=1e-5, rtol=0)
    assert [row["prediction"] for row in rows] == [classes[i] for i in chances.argmax(axis=1)]


# ----------------------------------------------------------- three trained runs


def table_run(folder: Path) -> dict[str, Any]:
    """The messy breast-cancer table (`;`, decimal commas, an id, a text column, empty
    cells): a model trained in the app on its first 500 rows; the other 69 are new."""
    write_messy_cancer(folder / "all.csv")
    lines = (folder / "all.csv").read_text(encoding="utf-8-sig").splitlines(keepends=True)
    (folder / "cancer.csv").write_text("".join(lines[: TRAINING_ROWS + 1]), encoding="utf-8")
    (folder / "new.csv").write_text("".join(lines[:1] + lines[TRAINING_ROWS + 1 :]), "utf-8")
    doc = linear_project(33, folder / "cancer.csv", epochs=2)
    trainer, _ = trained(doc, folder)
    return {"trainer": trainer, "script": export_with_weights(folder, doc, trainer)}


def arrays_run(folder: Path) -> dict[str, Any]:
    """Measurements on very different scales (.npz); 20 new samples saved as X alone."""
    write_measurements(folder / "measurements.npz")
    doc = arrays_project(folder / "measurements.npz")
    doc["training"]["epochs"] = 1
    trainer, _ = trained(doc, folder)
    write_measurements(folder / "more.npz", rows=20, seed=7)
    with np.load(folder / "more.npz") as archive:
        np.savez(folder / "new.npz", X=archive["x"])
    return {"trainer": trainer, "script": export_with_weights(folder, doc, trainer)}


def write_images(folder: Path, count: int, seed: int, stray: bool) -> None:
    """Grey 8×8 images, bright ones in day/ and dark ones in night/; one see-through
    RGBA stray among them when asked."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    for label, base in (("day", 180), ("night", 60)):
        (folder / label).mkdir(parents=True)
        for i in range(count):
            pixels = np.clip(rng.normal(base, 40, (8, 8)), 0, 255).astype(np.uint8)
            Image.fromarray(pixels, "L").save(folder / label / f"{i}.png")
    if stray:
        rgba = np.full((8, 8, 4), 200, dtype=np.uint8)
        rgba[..., 3] = 128
        Image.fromarray(rgba, "RGBA").save(folder / "day" / "stray.png")


def image_project(folder: Path) -> dict[str, Any]:
    return {
        "format": "netloom",
        "version": 1,
        "name": "day or night",
        "nodes": [
            {"id": "image", "type": "Input", "params": {"shape": [1, 8, 8]}},
            {"id": "flatten1", "type": "Flatten", "params": {}},
            {"id": "dense1", "type": "Dense", "params": {"units": 2}},
            {"id": "time", "type": "Output", "params": {"loss": "cross_entropy"}},
        ],
        "edges": [
            {"source": "image", "target": "flatten1"},
            {"source": "flatten1", "target": "dense1"},
            {"source": "dense1", "target": "time"},
        ],
        "training": {
            "dataset": {"name": "image_folder", "params": {"path": str(folder)}},
            "epochs": 1,
            "batch_size": 8,
        },
    }


def images_run(folder: Path) -> dict[str, Any]:
    """Grey images with an RGBA stray; new ones in a flat folder beside a colour JPEG of
    another size, a system file and a text file."""
    from PIL import Image

    write_images(folder / "photos", 6, seed=0, stray=True)
    doc = image_project(folder / "photos")
    trainer, _ = trained(doc, folder)
    write_images(folder / "more", 2, seed=1, stray=False)
    flat = folder / "new"
    flat.mkdir()
    for image in sorted((folder / "more").glob("*/*.png")):
        image.rename(flat / f"{image.parent.name}_{image.name}")
    Image.new("RGB", (12, 10), (250, 250, 250)).save(flat / "big_colour.jpg")
    (flat / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (flat / "notes.txt").write_text("not an image", encoding="utf-8")
    return {"trainer": trainer, "script": export_with_weights(folder, doc, trainer)}


def prices_run(folder: Path) -> dict[str, Any]:
    """House prices in euros (`;`, decimal commas): a regression; new rows with prices."""
    write_prices(folder / "prices.csv")
    doc = price_project(folder / "prices.csv")
    doc["training"]["epochs"] = 1
    trainer, _ = trained(doc, folder)
    write_prices(folder / "new.csv", rows=12)
    return {"trainer": trainer, "script": export_with_weights(folder, doc, trainer)}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """A table, an NPZ, an image and a regression run trained in the app, each exported
    with its model.pt; their scripts predict the new data in one subprocess."""
    made = {}
    for kind, make, new in (
        ("table", table_run, "new.csv"),
        ("arrays", arrays_run, "new.npz"),
        ("images", images_run, "new"),
        ("prices", prices_run, "new.csv"),
    ):
        folder = tmp_path_factory.mktemp(kind)
        made[kind] = {**make(folder), "folder": folder, "new": folder / new}
        made[kind]["out"] = folder / "script.csv"
    jobs = [(r["script"], r["new"], r["out"]) for r in made.values()]
    images, arrays = made["images"], made["arrays"]
    jobs.append((images["script"], images["new"] / "night_1.png", images["folder"] / "one.csv"))
    # Data that holds its targets: the metric is printed too.
    jobs.append((arrays["script"], arrays["folder"] / "more.npz", arrays["folder"] / "y.csv"))
    labelled = images["folder"] / "labelled"
    write_images(labelled, 2, seed=2, stray=False)
    jobs.append((images["script"], labelled, images["folder"] / "labelled.csv"))
    done = scripts_predict(jobs)
    said = done.stdout.split("exit 0\n")  # what each job printed, then its exit
    assert len(said) == len(jobs) + 1 and not said[-1], done.stdout + done.stderr
    for run_made, printed in zip(made.values(), said[:4], strict=True):
        run_made["printed"] = printed
    arrays["printed_with_y"] = said[5]
    images["printed_labelled"] = said[6]
    return made


# --------------------------------------------------------------------- a table


def test_the_script_predicts_new_rows_of_a_messy_table_as_the_in_app_model(
    runs: dict[str, dict[str, Any]],
) -> None:
    folder, trainer = runs["table"]["folder"], runs["table"]["trainer"]
    rows = read_rows(folder / "script.csv")
    classes = ["benign", "malignant"]
    assert list(rows[0]) == ["patient_id", "prediction", "p_benign", "p_malignant"]
    # The same new rows as NetLoom prepares them with the run's stored transforms.
    every_row = load_dataset(
        "csv", {"path": str(folder / "all.csv"), "target": "diagnosis", "shuffle": False}
    )
    x, _ = prepared_samples(as_trained(every_row, trainer.preprocessing), trainer.preprocessing)
    assert_same_predictions(rows, in_app_chances(trainer, x[TRAINING_ROWS:]), classes)
    with (folder / "all.csv").open(encoding="utf-8-sig") as handle:
        ids = [line.split(";", 1)[0] for line in handle][TRAINING_ROWS + 1 :]
    assert [row["patient_id"] for row in rows] == ids


# kind, the data predicted, the script's CSV, what the script printed
SAME_AS_NETLOOM = [
    ("table", "new.csv", "script.csv", "printed"),  # the target column is there
    ("arrays", "new.npz", "script.csv", "printed"),  # X only
    ("arrays", "more.npz", "y.csv", "printed_with_y"),
    ("images", "new", "script.csv", "printed"),  # a flat folder
    ("images", "labelled", "labelled.csv", "printed_labelled"),  # class folders
    ("prices", "new.csv", "script.csv", "printed"),  # a regression in euros, with mse
]


@pytest.mark.parametrize(("kind", "data", "written", "printed"), SAME_AS_NETLOOM)
def test_the_scripts_csv_and_metric_are_netlooms_predict(
    runs: dict[str, dict[str, Any]], capsys: Any, kind: str, data: str, written: str, printed: str
) -> None:
    folder = runs[kind]["folder"]
    args = ["predict", str(folder / "project.json"), "--weights", str(folder / "run/model.pt")]
    capsys.readouterr()
    assert run([*args, str(folder / data), "--out", str(folder / "netloom.csv")]) == 0
    netloom_metric = capsys.readouterr().out.splitlines()[1:]  # after "wrote …"
    assert (folder / written).read_bytes() == (folder / "netloom.csv").read_bytes()
    script_metric = runs[kind][printed].strip().splitlines()[1:]
    assert script_metric == netloom_metric
    assert bool(script_metric) == (data not in ("new.npz", "new"))


def test_the_script_carries_the_preprocessing_as_plain_data_and_passes_ruff(
    runs: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    folder, trainer = runs["table"]["folder"], runs["table"]["trainer"]
    source = runs["table"]["script"].read_text(encoding="utf-8")
    assert "PREPROCESSING = {" in source and "pickle" not in source
    namespace: dict[str, Any] = {}
    start = source.index("PREPROCESSING = {")
    end = source.index("\n}\n", start) + 3
    exec(source[start:end], namespace)  # a literal: no call, no name
    assert namespace["PREPROCESSING"] == trainer.preprocessing
    assert f'WEIGHTS = "{(folder / "run" / "model.pt").resolve()}"' in source
    # pytest's folder makes the lines naming the data longer than a user's path would.
    assert script_ruff_failures(source.replace(str(folder), "data"), tmp_path) == {}


def test_a_table_missing_a_column_the_model_needs_is_named_in_one_line(
    runs: dict[str, dict[str, Any]],
) -> None:
    folder = runs["table"]["folder"]
    with (folder / "new.csv").open(encoding="utf-8") as handle:
        rows = [line.rstrip("\n").split(";") for line in handle]
    gone = rows[0].index("mean texture")
    (folder / "short.csv").write_text(
        "\n".join(";".join(c for i, c in enumerate(row) if i != gone) for row in rows),
        encoding="utf-8",
    )
    said = in_process(runs["table"]["script"], folder / "short.csv", folder / "out.csv")
    assert said.startswith(
        f"error: {folder / 'short.csv'} has no column 'mean texture', which the model was "
        "trained on"
    )
    assert "\n" not in said and not (folder / "out.csv").exists()


# ---------------------------------------------------------------------- arrays


def test_the_script_predicts_an_npz_of_new_samples_as_the_in_app_model(
    runs: dict[str, dict[str, Any]],
) -> None:
    folder, trainer = runs["arrays"]["folder"], runs["arrays"]["trainer"]
    rows = read_rows(folder / "script.csv")
    assert list(rows[0]) == ["row", "prediction", "p_0", "p_1", "p_2"]
    assert [row["row"] for row in rows] == [str(i) for i in range(1, 21)]
    with np.load(folder / "new.npz") as archive:
        x = apply_standardiser(trainer.preprocessing["features"], archive["X"])
    assert_same_predictions(rows, in_app_chances(trainer, x), ["0", "1", "2"])


# ---------------------------------------------------------------------- images


def test_the_script_predicts_a_flat_folder_of_images_as_the_in_app_model(
    runs: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    from engine.data.image_reading import load_image

    folder, trainer = runs["images"]["folder"], runs["images"]["trainer"]
    rows = read_rows(folder / "script.csv")
    names = ["big_colour.jpg", "day_0.png", "day_1.png", "night_0.png", "night_1.png"]
    assert [row["file"] for row in rows] == names  # hidden and text files left out
    images = trainer.preprocessing["images"]
    x = np.stack([load_image(folder / "new" / name, images) for name in names])
    assert_same_predictions(rows, in_app_chances(trainer, x), ["day", "night"])
    # One image file predicts too.
    assert read_rows(folder / "one.csv") == rows[-1:]
    source = runs["images"]["script"].read_text(encoding="utf-8").replace(str(folder), "data")
    assert script_ruff_failures(source, tmp_path) == {}


# ------------------------------------------------------------ no preprocessing


def test_a_model_without_stored_preprocessing_exports_a_predict_that_says_so(
    tmp_path: Path,
) -> None:
    write_measurements(tmp_path / "measurements.npz")
    doc = arrays_project(tmp_path / "measurements.npz")
    doc["training"]["epochs"] = 1
    trainer, _ = trained(doc, tmp_path)
    # What a run wrote before the preprocessing was stored: no "preprocessing" at all.
    (tmp_path / "run").mkdir()
    save_checkpoint(tmp_path / "run" / "model.pt", cpu_state(trainer.model), doc, {}, {})
    (tmp_path / "project.json").write_text(json.dumps(doc), encoding="utf-8")
    script = tmp_path / "old.py"
    args = ["export", str(tmp_path / "project.json"), "--to", "script", "-o", str(script)]
    assert run([*args, "--weights", str(tmp_path / "run" / "model.pt")]) == 0
    assert "PREPROCESSING = None" in script.read_text(encoding="utf-8")

    said = in_process(script, tmp_path / "measurements.npz", tmp_path / "out.csv")
    assert said == (
        f"error: {(tmp_path / 'run' / 'model.pt').resolve()} holds no fitted "
        "preprocessing, so new data cannot be prepared as training prepared it: train the "
        "model with this NetLoom on your own data, then export with --weights "
        "RUN/model.pt"
    )
    assert not (tmp_path / "out.csv").exists()


def test_bad_inputs_to_the_scripts_predict_are_one_line_each(
    runs: dict[str, dict[str, Any]],
) -> None:
    folder, script = runs["table"]["folder"], runs["table"]["script"]
    (folder / "texty.csv").write_text(
        (folder / "new.csv").read_text(encoding="utf-8").replace(";13,", ";thirteen,", 1),
        encoding="utf-8",
    )
    (folder / "broken.pt").write_bytes(b"PK\x03\x04 not a zip")
    cases = {
        "texty.csv": f"error: {folder / 'texty.csv'} row ",
        "photos": f"error: {folder / 'photos'}: a folder; the model reads a table of rows",
    }
    (folder / "photos").mkdir()
    for data, start in cases.items():
        said = in_process(script, folder / data, folder / "out.csv")
        assert said.startswith(start) and "\n" not in said, said
    module = load_file(script)
    for weights, start in (
        ("missing.pt", f"error: no such file: {folder / 'missing.pt'}"),
        ("broken.pt", f"error: {folder / 'broken.pt'}: not a readable model.pt ("),
    ):
        with pytest.raises(SystemExit) as stopped:
            module.main(["predict", str(folder / "new.csv"), "--weights", str(folder / weights)])
        assert str(stopped.value).startswith(start) and "\n" not in str(stopped.value)
    assert not (folder / "out.csv").exists()
