"""Datasets as the trainer and a user see them: shapes, tasks, seeds, and clear errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.data import (
    DATASETS,
    TASKS,
    ArrayDataset,
    DataError,
    check_fits,
    dataset_input_shape,
    dataset_task,
    load_dataset,
)
from tests.helpers import ROOT

# Small sizes of every dataset that needs no file, so the whole file stays quick.
SMALL = {
    "digits": {},
    "iris": {},
    "wine": {},
    "moving_shapes": {"samples": 40, "frames": 3, "size": 16},
    "adding_problem": {"samples": 50, "length": 20},
    "sine": {"length": 200, "window": 16},
    "shapes_segmentation": {"samples": 30, "size": 24},
}
FILE_DATASETS = {"image_folder", "csv", "npz", "series"}


def test_every_registered_dataset_is_covered_here() -> None:
    assert set(DATASETS) == set(SMALL) | FILE_DATASETS


@pytest.mark.parametrize("name", sorted(SMALL))
def test_dataset_feeds_the_shape_it_declares(name: str) -> None:
    spec = DATASETS[name]
    data = load_dataset(name, SMALL[name])
    assert data.task == spec.task and data.task in TASKS
    assert (data.sample_shape, data.sequence) == spec.input_shape(SMALL[name])
    assert data.x.shape == (len(data.y), *data.sample_shape)
    assert data.x.dtype == np.float32 and np.isfinite(data.x).all()
    if data.task == "regression":
        assert data.y.dtype == np.float32 and data.y.ndim == 2
    else:
        assert data.y.dtype == np.int64
        assert data.num_classes == len(data.class_names or [])
        assert 0 <= data.y.min() and data.y.max() < data.num_classes
    if data.task == "segmentation":
        assert data.y.shape == (len(data.x), *data.sample_shape[-2:])


@pytest.mark.parametrize("name", sorted(SMALL))
def test_same_seed_same_data_other_seed_other_data(name: str) -> None:
    first = load_dataset(name, {**SMALL[name], "seed": 3})
    again = load_dataset(name, {**SMALL[name], "seed": 3})
    other = load_dataset(name, {**SMALL[name], "seed": 4})
    assert np.array_equal(first.x, again.x) and np.array_equal(first.y, again.y)
    assert not np.array_equal(first.x, other.x)


def test_digits_are_real_8x8_images_in_unit_range() -> None:
    data = load_dataset("digits")
    assert data.x.shape == (1797, 1, 8, 8)
    assert data.x.min() == 0.0 and data.x.max() == 1.0
    assert sorted(np.unique(data.y)) == list(range(10))
    assert data.class_names == [str(d) for d in range(10)]


@pytest.mark.parametrize(("name", "samples", "features"), [("iris", 150, 4), ("wine", 178, 13)])
def test_tables_are_standardised_and_shuffled(name: str, samples: int, features: int) -> None:
    data = load_dataset(name)
    assert data.x.shape == (samples, features) and data.num_classes == 3
    assert np.allclose(data.x.mean(axis=0), 0, atol=1e-5)
    assert np.allclose(data.x.std(axis=0), 1, atol=1e-3)
    # The source files are sorted by class; shuffled, a tail split still holds every class.
    assert set(data.y[-len(data.y) // 5 :]) == {0, 1, 2}


# ------------------------------------------------------------ moving shapes


def centre_of_mass(frames: np.ndarray) -> np.ndarray:
    """(clips, 2) row and column of each frame's shape pixels (brighter than the noise)."""
    weights = (frames > 0.3).reshape(len(frames), -1).astype(np.float64)
    size = frames.shape[-1]
    rows, cols = np.divmod(np.arange(size * size), size)
    total = weights.sum(axis=1)
    return np.stack([weights @ rows / total, weights @ cols / total], axis=1)


@pytest.fixture(scope="module")
def clips() -> ArrayDataset:
    return load_dataset("moving_shapes", {"samples": 2000, "frames": 4, "size": 32})


def test_one_frame_does_not_show_the_direction(clips: ArrayDataset) -> None:
    for t in range(4):
        centres = centre_of_mass(clips.x[:, t, 0])
        per_class = np.array([centres[clips.y == c].mean(axis=0) for c in range(4)])
        # Were clips kept inside the frame, a clip moving right would sit left of one
        # moving left by (frames - 1) · speed = 6 pixels in its first frame.
        assert np.ptp(per_class, axis=0).max() < 1.5, per_class

    # A nearest-class-mean classifier on one frame's pixels stays at chance.
    train, test = slice(0, 1500), slice(1500, 2000)
    frame = clips.x[:, 1, 0].reshape(len(clips.x), -1)
    means = np.stack([frame[train][clips.y[train] == c].mean(axis=0) for c in range(4)])
    guess = np.argmin(((frame[test][:, None, :] - means[None]) ** 2).sum(axis=2), axis=1)
    assert np.mean(guess == clips.y[test]) < 0.32


def test_two_frames_show_the_direction(clips: ArrayDataset) -> None:
    # Shift the first frame one step in each direction; the best match with the
    # second frame names the direction.
    first, second = clips.x[:, 0, 0], clips.x[:, 1, 0]
    speed = 2
    shifted = [
        np.roll(first, speed, axis=2),  # right
        np.roll(first, -speed, axis=2),  # left
        np.roll(first, speed, axis=1),  # down
        np.roll(first, -speed, axis=1),  # up
    ]
    errors = np.stack([((s - second) ** 2).sum(axis=(1, 2)) for s in shifted], axis=1)
    assert np.mean(errors.argmin(axis=1) == clips.y) > 0.95
    assert clips.class_names == ["right", "left", "down", "up"]


# ----------------------------------------------------------- adding problem


def test_adding_problem_marks_one_step_per_half_and_sums_them() -> None:
    data = load_dataset("adding_problem", {"samples": 4000, "length": 30})
    values, markers = data.x[..., 0], data.x[..., 1]
    assert data.x.shape == (4000, 30, 2) and data.sequence
    assert (markers[:, :15].sum(axis=1) == 1).all() and (markers[:, 15:].sum(axis=1) == 1).all()
    assert np.allclose((values * markers).sum(axis=1), data.y[:, 0], atol=1e-6)
    # Always predicting 1 scores the variance of a sum of two uniforms: 2/12.
    assert data.baselines["mse_predict_one"] == pytest.approx(1 / 6, abs=0.012)


def test_sine_targets_are_the_next_step_and_beat_the_noise_floor() -> None:
    data = load_dataset("sine", {"length": 500, "window": 24, "noise": 0.1})
    assert data.x.shape == (476, 24, 1) and data.y.shape == (476, 1) and data.ordered
    # Windows overlap in time order: sample i's target is sample i+1's last input.
    assert np.array_equal(data.y[:-1, 0], data.x[1:, -1, 0])
    # Room for a forecaster: halving the last-value MSE must stay above the noise floor.
    assert data.baselines["mse_last_value"] > 2.5 * data.baselines["mse_noise_floor"]


# ------------------------------------------------------------- segmentation


@pytest.mark.parametrize(("classes", "names"), [("kinds", 4), ("binary", 2)])
def test_segmentation_masks_mark_the_bright_shapes(classes: str, names: int) -> None:
    data = load_dataset("shapes_segmentation", {"samples": 60, "classes": classes})
    assert data.num_classes == names and data.class_names[0] == "background"
    assert set(np.unique(data.y)) == set(range(names))
    assert ((data.y > 0).reshape(60, -1).sum(axis=1) > 0).all()  # every image has a shape
    pixels = data.x[:, 0]
    assert pixels[data.y > 0].mean() > pixels[data.y == 0].mean() + 0.3


# --------------------------------------------------------- params and fit


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        (
            "moving_shapes",
            {"frames": 0},
            "dataset.params.frames: expected an integer in 1..64, got 0",
        ),
        ("moving_shapes", {"size": "big"}, "dataset.params.size: expected an integer in 12..128"),
        ("adding_problem", {"steps": 5}, "dataset.params.steps: adding_problem has no such"),
        ("csv", {}, "dataset.params.path: csv needs a file or folder path"),
        ("npz", {"path": "a.npz", "task": "guess"}, "dataset.params.task: expected one of 'auto'"),
        ("sine", {"length": 100, "window": 96}, "dataset.params.window"),
        ("nope", {}, "dataset.name: unknown dataset 'nope' (known: adding_problem, csv"),
    ],
)
def test_bad_params_name_the_param(name: str, params: dict, message: str) -> None:
    with pytest.raises(DataError, match="^" + message.replace("(", r"\(").replace(".", r"\.")):
        load_dataset(name, params)


def test_a_dataset_too_large_for_memory_is_refused_before_generating() -> None:
    with pytest.raises(DataError, match="samples × frames × size²"):
        load_dataset("moving_shapes", {"samples": 200_000, "frames": 64, "size": 128})


def test_check_fits_names_the_input_and_both_shapes() -> None:
    data = load_dataset("moving_shapes", {"samples": 8, "size": 16})
    assert check_fits([8, 1, 16, 16], True, data, "frames") is None
    assert (
        check_fits((8, 1, 32, 32), True, data, "frames")
        == "input 'frames' expects (N, T, 1, 32, 32) but dataset moving_shapes gives "
        "(N, T, 1, 16, 16)"
    )
    # Only the length of T differs: the message shows it.
    message = check_fits((16, 1, 16, 16), True, data, "frames")
    assert message is not None and "T=16" in message and "T=8" in message
    message = check_fits((8, 256), False, ((8, 256), True), "series", dataset_name="npz")
    assert message is not None and "tick 'sequence' on the Input block" in message


# ------------------------------------------------------------ image folder


def write_image(path: Path, size: tuple[int, int], mode: str = "L", value: int = 128) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    colour = value if mode == "L" else (value, 0, 255)
    Image.new(mode, size, colour).save(path)


def test_image_folder_reads_one_class_per_subfolder(tmp_path: Path) -> None:
    for i in range(3):
        write_image(tmp_path / "pets" / "cat" / f"{i}.png", (12, 10), value=51)
        write_image(tmp_path / "pets" / "dog" / f"{i}.jpg", (12, 10), value=204)
    params = {"path": "pets", "shuffle": False}
    assert dataset_input_shape("image_folder", params, base_dir=tmp_path) == ((1, 10, 12), False)
    data = load_dataset("image_folder", params, base_dir=tmp_path)
    assert data.x.shape == (6, 1, 10, 12) and data.x.dtype == np.float32
    assert data.class_names == ["cat", "dog"] and list(data.y) == [0, 0, 0, 1, 1, 1]
    assert np.allclose(data.x[:3], 0.2) and np.allclose(data.x[3:], 0.8, atol=0.02)  # JPEG


def test_one_colour_image_makes_the_folder_rgb(tmp_path: Path) -> None:
    write_image(tmp_path / "a" / "grey.png", (8, 8), "L", 255)
    write_image(tmp_path / "b" / "colour.png", (8, 8), "RGB", 255)
    data = load_dataset("image_folder", {"path": str(tmp_path), "shuffle": False})
    assert data.sample_shape == (3, 8, 8)
    assert np.allclose(data.x[0], 1.0)  # grey white is white in every channel
    assert np.allclose(data.x[1, :, 0, 0], [1.0, 0.0, 1.0])


def test_image_folder_errors_name_the_place(tmp_path: Path) -> None:
    def error(path: Path) -> str:
        with pytest.raises(DataError) as caught:
            load_dataset("image_folder", {"path": str(path)})
        return str(caught.value)

    assert (
        error(tmp_path / "missing")
        == f"dataset.params.path: no such folder: {tmp_path / 'missing'}"
    )
    (tmp_path / "empty").mkdir()
    assert error(tmp_path / "empty").startswith(f"{tmp_path / 'empty'}: no class subfolders")

    write_image(tmp_path / "one" / "cat" / "a.png", (8, 8))
    assert "only one class subfolder ('cat')" in error(tmp_path / "one")

    write_image(tmp_path / "hollow" / "cat" / "a.png", (8, 8))
    (tmp_path / "hollow" / "dog").mkdir()
    (tmp_path / "hollow" / "dog" / "notes.txt").write_text("no images here")
    assert error(tmp_path / "hollow") == (
        f"{tmp_path / 'hollow' / 'dog'}: class folder 'dog' has no images (PNG, JPEG, BMP, "
        "GIF, WebP or TIFF); add some or remove the folder"
    )
    # Images of mixed sizes are resized, not refused: tests/engine/test_image_folder.py.

    write_image(tmp_path / "broken" / "cat" / "a.png", (8, 8))
    (tmp_path / "broken" / "dog").mkdir()
    (tmp_path / "broken" / "dog" / "b.png").write_bytes(b"not a png")
    assert error(tmp_path / "broken").startswith(
        f"{tmp_path / 'broken' / 'dog' / 'b.png'}: cannot read as an image"
    )


# --------------------------------------------------------------------- csv

CSV = "height,weight,kind\n1.0,10,small\n2.0,20,large\n\n3.0,30,large\n1.5,12,small\n"


def test_csv_classification_and_regression(tmp_path: Path) -> None:
    (tmp_path / "animals.csv").write_text(CSV)
    params = {"path": "animals.csv", "target": "kind", "shuffle": False, "standardise": False}
    data = load_dataset("csv", params, base_dir=tmp_path)
    assert data.task == "classification" and data.class_names == ["large", "small"]
    assert data.x.tolist() == [[1.0, 10.0], [2.0, 20.0], [3.0, 30.0], [1.5, 12.0]]
    assert data.y.tolist() == [1, 0, 0, 1] and data.feature_names == ["height", "weight"]
    assert dataset_input_shape("csv", params, base_dir=tmp_path) == ((2,), False)

    params = {"path": str(tmp_path / "animals.csv"), "target": "weight", "task": "regression"}
    assert dataset_task("csv", params) == "regression"
    with pytest.raises(DataError, match="column 'kind': expected a number, got 'small'"):
        load_dataset("csv", params)  # the non-target column kind holds words
    (tmp_path / "numbers.csv").write_text("a,b,y\n1,2,0.5\n3,4,1.5\n5,6,2.5\n")
    data = load_dataset("csv", {**params, "path": str(tmp_path / "numbers.csv"), "target": "y"})
    assert data.task == "regression" and data.y.shape == (3, 1)
    assert sorted(data.y[:, 0]) == [0.5, 1.5, 2.5]
    assert np.allclose(data.x.mean(axis=0), 0, atol=1e-6)  # standardised by default


@pytest.mark.parametrize(
    ("text", "target", "message"),
    [
        ("a,b,y\n1,2,0\n3,x7,1\n", "y", "{path} line 3, column 'b': expected a number, got 'x7'"),
        ("a,b,y\n1,,0\n", "y", "{path} line 2, column 'b': expected a number, got an empty cell"),
        (
            "a,b,y\n1,2,0\n",
            "label",
            "dataset.params.target: {path} has no column 'label' (columns: a, b, y)",
        ),
        ("a,b,y\n1,2,0\n3,4\n", "y", "{path} line 3: expected 3 values (one per column), got 2"),
        ("", "y", "{path}: the file is empty; expected a CSV file with a header row"),
        ("a,b,y\n", "y", "{path}: the header row is followed by no data rows"),
        ("a,b,y\n1,2,0\n3,4,0\n", "y", "{path}, column 'y': every row has the label '0'"),
    ],
)
def test_csv_errors_name_file_line_and_column(
    tmp_path: Path, text: str, target: str, message: str
) -> None:
    path = tmp_path / "table.csv"
    path.write_text(text)
    with pytest.raises(DataError) as caught:
        load_dataset("csv", {"path": str(path), "target": target})
    assert str(caught.value).startswith(message.format(path=path))


def test_csv_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="dataset.params.path: no such file: .*absent.csv"):
        load_dataset("csv", {"path": "absent.csv", "target": "y"}, base_dir=tmp_path)


# --------------------------------------------------------------------- npz


def test_npz_infers_the_task_from_y(tmp_path: Path) -> None:
    x = np.arange(40, dtype=np.float64).reshape(10, 4)
    np.savez(tmp_path / "classes.npz", x=x, y=np.array([0, 1, 2, 1, 0, 2, 1, 0, 2, 1]))
    np.savez(tmp_path / "numbers.npz", x=x, y=np.linspace(0, 1, 10))
    images = np.zeros((6, 1, 5, 7), dtype=np.uint8)
    np.savez_compressed(tmp_path / "masks.npz", x=images, y=np.ones((6, 5, 7), dtype=np.int32))

    data = load_dataset("npz", {"path": "classes.npz", "shuffle": False}, base_dir=tmp_path)
    assert (data.task, data.num_classes, data.x.dtype) == ("classification", 3, np.float32)
    assert np.array_equal(data.x, x) and data.y.tolist()[:3] == [0, 1, 2]
    data = load_dataset("npz", {"path": str(tmp_path / "numbers.npz")})
    assert data.task == "regression" and data.y.shape == (10, 1) and data.y.dtype == np.float32
    params = {"path": str(tmp_path / "masks.npz")}
    assert dataset_task("npz", params) == "segmentation"
    assert dataset_input_shape("npz", params) == ((1, 5, 7), False)
    data = load_dataset("npz", params)
    assert data.task == "segmentation" and data.y.shape == (6, 5, 7)


def test_npz_sequence_and_token_ids(tmp_path: Path) -> None:
    tokens = np.random.default_rng(0).integers(0, 50, (12, 9, 1))
    np.savez(tmp_path / "tokens.npz", x=tokens, y=np.arange(12) % 2)
    params = {"path": str(tmp_path / "tokens.npz"), "sequence": True, "dtype": "int64"}
    data = load_dataset("npz", params)
    assert data.sequence and data.sample_shape == (9, 1) and data.input_dtype == "int64"
    assert check_fits([9, 1], True, data, "words") is None


@pytest.mark.parametrize(
    ("arrays", "params", "message"),
    [
        ({"x": np.zeros((5, 2))}, {}, "{path}: no array 'y' (arrays: x); expected a .npz file"),
        (
            {"features": np.zeros((5, 2)), "y": np.zeros(5)},
            {},
            "{path}: no array 'x' (arrays: features, y)",
        ),
        ({"x": np.zeros((5, 2)), "y": np.zeros(4)}, {}, "{path}: x has 5 samples but y has 4"),
        (
            {"x": np.zeros((5, 2)), "y": np.zeros(5)},
            {"sequence": True},
            "dataset.params.sequence: x of {path} has shape (5, 2)",
        ),
        (
            {"x": np.zeros((5, 2)), "y": np.zeros(5)},
            {"task": "classification"},
            "dataset.params.task: classification needs integer class labels",
        ),
        (
            {"x": np.full((5, 2), np.nan), "y": np.zeros(5)},
            {},
            "{path}: x holds NaN or infinite values (first at sample 0)",
        ),
        (
            {"x": np.zeros((5, 2)), "y": np.array([0, 1, -1, 0, 1])},
            {},
            "{path}: y holds the class -1",
        ),
    ],
)
def test_npz_errors_name_the_file_and_array(
    tmp_path: Path, arrays: dict, params: dict, message: str
) -> None:
    path = tmp_path / "data.npz"
    np.savez(path, **arrays)
    with pytest.raises(DataError) as caught:
        load_dataset("npz", {"path": str(path), **params})
    assert str(caught.value).startswith(message.format(path=path))


def test_npz_that_is_no_archive_is_named(tmp_path: Path) -> None:
    (tmp_path / "fake.npz").write_text("hello")
    with pytest.raises(DataError, match=r"fake\.npz: cannot read as \.npz"):
        load_dataset("npz", {"path": str(tmp_path / "fake.npz")})
    with pytest.raises(DataError, match="dataset.params.path: no such file"):
        load_dataset("npz", {"path": str(tmp_path / "gone.npz")})


def test_importing_engine_data_pulls_in_neither_torch_qt_nor_lazy_libraries() -> None:
    code = (
        "import sys, engine.data; "
        "print(sorted(m for m in ('torch', 'PySide6', 'sklearn', 'PIL') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
