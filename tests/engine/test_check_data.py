"""`check` looks at a person's data: each mistake is one line naming the file and the fix.

The command runs in this process (engine.cli.main.run) on small files made here; one
subprocess checks that `check` on a table loads neither torch nor Pillow.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from engine.cli.main import run
from engine.data.arrays import MAX_CLASSES
from engine.data.peek import WHOLE_BYTES, peek
from tests.engine.test_own_tables import linear_project, write_messy_cancer
from tests.helpers import ROOT, write_project


def check(project: Path, capsys: pytest.CaptureFixture[str], *options: str) -> tuple[int, str]:
    """`check PROJECT` run here: its exit code and everything it printed."""
    code = run(["check", str(project), *options])
    out = capsys.readouterr()
    return code, out.out + out.err


def error_lines(output: str) -> list[str]:
    """The `error:` line, or the lines listed under "N error(s):"."""
    lines = output.splitlines()
    listed = [i for i, line in enumerate(lines) if line.endswith("error(s):")]
    if listed:
        return [line.strip() for line in lines[listed[0] + 1 :] if line.startswith("  ")]
    return [line for line in lines if line.startswith("error:")]


def table_project(folder: Path, features: int, classes: int = 2, **params: Any) -> Path:
    """A one-Dense classifier over `features` inputs with `classes` scores, on t.csv."""
    doc = linear_project(features, folder / "t.csv")
    doc["nodes"][1]["params"]["units"] = classes
    doc["training"]["dataset"]["params"].update(params)
    return write_project(folder, doc)


def write_table(path: Path, rows: int = 40, features: int = 4, classes: int = 2) -> None:
    rng = np.random.default_rng(0)
    names = [f"f{i}" for i in range(features)]
    lines = [";".join([*names, "diagnosis"])]
    for i in range(rows):
        values = [f"{v:.4f}".replace(".", ",") for v in rng.normal(size=features)]
        lines.append(";".join([*values, f"class{i % classes}"]))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def messy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The messy breast-cancer table (569 rows: `check` reads its first 200)."""
    folder = tmp_path_factory.mktemp("messy")
    write_messy_cancer(folder / "cancer.csv")
    return folder / "cancer.csv"


def test_a_project_that_fits_its_messy_table_is_ok(
    messy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 30 measurements + 3 clinics one-hot; the id and the mostly empty column dropped.
    project = write_project(tmp_path, linear_project(33, messy))
    (tmp_path / "cancer.csv").symlink_to(messy)
    code, output = check(project, capsys)
    assert code == 0, output
    assert "OK: every wire fits" in output
    assert (
        f"Data: csv {tmp_path / 'cancer.csv'} feeds (N, 33); classification, 2 classes "
        "(read: the whole file)"
    ) in output
    assert "note: column 'patient_id' is unique per row" in output


def test_features_that_do_not_fit_the_input_name_the_file_and_adapt(
    messy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "cancer.csv").symlink_to(messy)
    project = write_project(tmp_path, linear_project(4, messy))
    code, output = check(project, capsys)
    assert code == 1
    (line,) = error_lines(output)
    assert "input 'row' expects (N, 4) but dataset csv gives (N, 33)" in line
    assert line.startswith(f"{tmp_path / 'cancer.csv'}: ")
    assert f"python main.py adapt {project} --data" in line
    assert "Use my data…" in line


def test_more_classes_than_the_output_has(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    write_table(tmp_path / "t.csv", classes=3)
    code, output = check(table_project(tmp_path, 4, classes=2), capsys)
    assert code == 1
    (line,) = error_lines(output)
    assert "needs one score per class, (N, 3) for the 3 classes of csv; got (N, 2)" in line
    assert line.startswith(f"{tmp_path / 't.csv'}: ") and "adapt" in line


def test_a_target_that_is_no_column_lists_the_columns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_table(tmp_path / "t.csv")
    code, output = check(table_project(tmp_path, 4, target="label"), capsys)
    assert code == 2
    (line,) = error_lines(output)
    assert "training.dataset.params.target:" in line
    assert "has no column 'label' (columns: f0, f1, f2, f3, diagnosis)" in line
    assert "--target COLUMN" in line
    assert "Traceback" not in output


def test_a_missing_file_is_named_with_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, output = check(table_project(tmp_path, 4), capsys)
    assert code == 2
    (line,) = error_lines(output)
    assert f"training.dataset.params.path: no such file: {tmp_path / 't.csv'}" in line
    assert "adapt" in line and "--data YOUR_DATA" in line


def test_no_data_skips_the_look(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = table_project(tmp_path, 4)  # its t.csv does not exist
    code, output = check(project, capsys, "--no-data")
    assert code == 0, output
    assert "OK: every wire fits" in output and "Data:" not in output


def test_an_unreadable_table_exits_2_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "t.csv").write_bytes(b"f0,diagnosis\n\x00\x01\x02\xff\xfe garbage\n")
    code, output = check(table_project(tmp_path, 1), capsys)
    assert code == 2
    (line,) = error_lines(output)
    assert "t.csv: not a UTF-8 text file" in line


def test_a_built_in_dataset_is_not_looked_at(capsys: pytest.CaptureFixture[str]) -> None:
    code, output = check(ROOT / "templates" / "mlp_iris.json", capsys)
    assert code == 0, output
    assert "Data:" not in output


def test_a_50_mb_table_is_checked_from_its_start_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The last row holds words in the number columns and a third label: a read of the
    # whole file would fail the project (one-hot text columns, 3 classes against 2
    # scores), so an OK proves the read stopped near the start.
    row = ",".join(["1.25"] * 30) + ",yes\n"
    with (tmp_path / "t.csv").open("w") as handle:
        handle.write(",".join(f"f{i}" for i in range(30)) + ",diagnosis\n")
        handle.write((row + row.replace("yes", "no")) * (51_000_000 // (2 * len(row))))
        handle.write(",".join(["oops"] * 30) + ",maybe\n")
    assert (tmp_path / "t.csv").stat().st_size > 50_000_000
    code, output = check(table_project(tmp_path, 30), capsys)
    assert code == 0, output
    assert "the header and first 200 rows" in output
    assert "oops" not in output and "maybe" not in output


def test_check_of_a_table_loads_neither_torch_nor_pillow(tmp_path: Path) -> None:
    write_table(tmp_path / "t.csv")
    project = table_project(tmp_path, 4)
    code = (
        "import sys; from engine.cli.main import run; "
        f"code = run(['check', {str(project)!r}]); "
        "print(code, sorted(m for m in ('torch', 'PIL') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert done.stdout.strip().splitlines()[-1] == "0 []", done.stderr


def test_check_of_a_built_in_dataset_loads_no_table_reader() -> None:
    # pandas takes most of a second to import: `check` pays it only for a table or series.
    code = (
        "import sys; from engine.cli.main import run; "
        f"code = run(['check', {str(ROOT / 'templates' / 'mlp_iris.json')!r}]); "
        "print(code, sorted(m for m in ('torch', 'PIL', 'pandas') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert done.stdout.strip().splitlines()[-1] == "0 []", done.stderr


# ------------------------------------------------------------------------ arrays


def npz_project(folder: Path, features: int, units: int, **params: Any) -> Path:
    doc = linear_project(features, folder / "a.npz")
    doc["nodes"][1]["params"]["units"] = units
    doc["training"]["dataset"] = {"name": "npz", "params": {"path": "a.npz", **params}}
    return write_project(folder, doc)


def test_arrays_are_checked_from_their_headers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "a.npz", x=rng.normal(size=(50, 30)), y=np.arange(50) % 3)
    code, output = check(npz_project(tmp_path, 30, 3), capsys)
    assert code == 0, output
    assert f"Data: npz {tmp_path / 'a.npz'} feeds (N, 30); classification, 3 classes" in output
    code, output = check(npz_project(tmp_path, 4, 2), capsys)
    assert code == 1
    lines = error_lines(output)
    assert len(lines) == 2
    assert "input 'row' expects (N, 4) but dataset npz gives (N, 30)" in lines[0]
    assert "(N, 3) for the 3 classes of npz; got (N, 2)" in lines[1]
    assert all(line.startswith(f"{tmp_path / 'a.npz'}: ") and "adapt" in line for line in lines)


def test_a_damaged_npz_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.npz").write_bytes(b"PK\x03\x04 not really a zip")
    code, output = check(npz_project(tmp_path, 4, 2), capsys)
    assert code == 2
    (line,) = error_lines(output)
    assert "a.npz: cannot read as .npz" in line


# ------------------------------------------------------------------------ images


def image_project(folder: Path, shape: list[int], classes: int) -> Path:
    """Input (C, H, W) → Flatten → Dense(classes) → Output, on the folder pics/."""
    doc = linear_project(1, folder)
    doc["nodes"][0]["params"]["shape"] = shape
    doc["nodes"][1:1] = [{"id": "flat", "type": "Flatten", "params": {}}]
    doc["nodes"][2]["params"]["units"] = classes
    doc["edges"] = [
        {"source": "row", "target": "flat"},
        {"source": "flat", "target": "dense1"},
        {"source": "dense1", "target": "diagnosis"},
    ]
    doc["training"]["dataset"] = {"name": "image_folder", "params": {"path": "pics"}}
    return write_project(folder, doc)


def write_images(root: Path, mode: str, size: int, classes: tuple[str, ...]) -> None:
    for name in classes:
        (root / name).mkdir(parents=True)
        for i in range(3):
            Image.new(mode, (size, size), color=40 * i).save(root / name / f"{i}.png")


def test_images_that_do_not_fit_the_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_images(tmp_path / "pics", "RGB", 32, ("cat", "dog"))
    code, output = check(image_project(tmp_path, [1, 28, 28], 10), capsys)
    assert code == 1
    lines = error_lines(output)
    assert "expects (N, 1, 28, 28) but dataset image_folder gives (N, 3, 32, 32)" in lines[0]
    assert lines[0].startswith(f"{tmp_path / 'pics'}: ") and "adapt" in lines[0]
    assert "for the 2 classes of image_folder" in lines[1]


def test_a_corrupt_image_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_images(tmp_path / "pics", "L", 8, ("cat", "dog"))
    good = (tmp_path / "pics" / "dog" / "0.png").read_bytes()
    (tmp_path / "pics" / "dog" / "0.png").write_bytes(good[: len(good) // 2])
    code, output = check(image_project(tmp_path, [1, 8, 8], 2), capsys)
    assert code == 2
    (line,) = error_lines(output)
    assert f"{tmp_path / 'pics' / 'dog' / '0.png'}: cannot read as an image" in line


def test_the_adapt_command_printed_makes_the_project_fit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_table(tmp_path / "t.csv", features=6, classes=3)
    project = table_project(tmp_path, 4, classes=2)  # target 'diagnosis', not adapt's guess
    code, output = check(project, capsys)
    assert code == 1
    command = error_lines(output)[0].split(" — ")[1].split(" fits the project")[0]
    assert command.startswith("python main.py adapt ") and "--target diagnosis" in command
    assert run(shlex.split(command)[2:]) == 0
    capsys.readouterr()
    code, output = check(project, capsys)
    assert code == 0, output
    assert "feeds (N, 6); classification, 3 classes" in output


def test_a_small_table_is_read_whole_so_its_classes_are_exact(
    messy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "cancer.csv").symlink_to(messy)
    doc = linear_project(33, messy)
    doc["nodes"][1]["params"]["units"] = 3  # the table holds 2 labels
    code, output = check(write_project(tmp_path, doc), capsys)
    assert code == 1
    (line,) = error_lines(output)
    assert "(N, 2) for the 2 classes of csv; got (N, 3)" in line


def test_what_a_longer_read_could_add_is_taken_as_at_least(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Over WHOLE_BYTES: only the first 200 rows are read. The clinic 'west' and the
    # label 'c' first appear in the last rows.
    rows = WHOLE_BYTES // 10
    lines = ["size;clinic;diagnosis"]
    for i in range(rows):
        late = i >= rows - 50
        clinic = "west" if late else ("north", "south")[i % 2]
        lines.append(f"{i % 7},5;{clinic};{'c' if late else 'ab'[i % 2]}")
    (tmp_path / "t.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert (tmp_path / "t.csv").stat().st_size > WHOLE_BYTES
    # What training sees: 1 number + 3 clinics, 3 classes. The first rows show 1 + 2, and 2.
    code, output = check(table_project(tmp_path, 4, classes=3), capsys)
    assert code == 0, output
    assert "feeds (N, 3); classification, 2 classes or more" in output
    code, output = check(table_project(tmp_path, 2, classes=1), capsys)
    assert code == 1
    lines = error_lines(output)
    assert "expects (N, 2) but dataset csv gives (N, 3)" in lines[0]
    assert "(N, 2) for the 2 classes of csv; got (N, 1)" in lines[1]


def test_the_mode_and_size_most_images_have(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_images(tmp_path / "pics", "L", 8, ("cat", "dog"))
    # The first of each class is a stray: colour with transparency, another size.
    Image.new("RGBA", (16, 16)).save(tmp_path / "pics" / "cat" / "0.png")
    Image.new("RGB", (16, 16)).save(tmp_path / "pics" / "dog" / "0.png")
    code, output = check(image_project(tmp_path, [1, 8, 8], 2), capsys)
    assert code == 0, output
    assert "feeds (N, 1, 8, 8); classification, 2 classes" in output


def test_arrays_of_different_lengths_are_refused_from_their_headers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    np.savez(tmp_path / "a.npz", x=np.zeros((50, 4), np.float32), y=np.arange(40) % 2)
    code, output = check(npz_project(tmp_path, 4, 2), capsys)
    assert code == 2
    (line,) = error_lines(output)
    assert "a.npz: x has 50 samples but y has shape (40,); they must match" in line


def test_a_set_image_size_is_what_the_images_feed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_images(tmp_path / "pics", "RGB", 8, ("cat", "dog"))
    project = image_project(tmp_path, [3, 16, 16], 2)
    doc = json.loads(project.read_text())
    doc["training"]["dataset"]["params"]["image_size"] = 16
    project.write_text(json.dumps(doc))
    code, output = check(project, capsys)
    assert code == 0, output
    assert "feeds (N, 3, 16, 16); classification, 2 classes" in output


def test_a_table_of_more_labels_than_a_classifier_may_have(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = "\n".join(f"{i},{i * 1.5}" for i in range(MAX_CLASSES + 1))
    (tmp_path / "t.csv").write_text("f0,diagnosis\n" + rows + "\n")
    code, output = check(table_project(tmp_path, 1), capsys)
    assert code == 2
    (line,) = error_lines(output)
    assert "10,001 different labels" in line and "set dataset.params.task to regression" in line


def test_a_persons_dataset_without_its_own_look_uses_its_shape_rule() -> None:
    from engine.data.registry import DATASETS, path_param, register

    def load(params: dict[str, Any]) -> Any:
        raise AssertionError("check must not load the data")

    register(
        "peek_test_file",
        "A test file",
        "Only its shape rule is known.",
        "classification",
        (path_param("The file."),),
        load,
        lambda params: ((7,), False),
        category="your data",
    )
    try:
        look = peek("peek_test_file", {"path": "anything"})
    finally:
        del DATASETS["peek_test_file"]
    assert look is not None
    assert look.data.sample_shape == (7,) and look.more_classes
