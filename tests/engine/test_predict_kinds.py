"""`predict` on arrays and images: tiny runs trained once per module, new files predicted,
and data of the wrong kind for a model refused in one line."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from engine.cli.main import run
from engine.data.image_folder import load_image
from engine.data.preprocess import apply_standardiser, target_units
from engine.predict import predict
from engine.project.project import load
from engine.train.checkpoint import load_checkpoint
from tests.engine.predict_runs import dense_project, train_run, write_arrays, write_images


def refusal(capsys: Any, argv: list[str]) -> str:
    assert run(argv) == 2
    _, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


def model_probabilities(weights: Path, x: np.ndarray) -> np.ndarray:
    checkpoint = load_checkpoint(weights)
    with torch.no_grad():
        scores = checkpoint.build().eval()(torch.as_tensor(x, dtype=torch.float32))
    return torch.softmax(scores, dim=1).numpy()


# ------------------------------------------------------------ arrays


@pytest.fixture(scope="module")
def arrays(
    tmp_path_factory: pytest.TempPathFactory, one_torch_thread_per_module: None
) -> tuple[Path, Path, Path]:
    """(folder, project, model.pt) of a run on 100 samples of an .npz."""
    folder = tmp_path_factory.mktemp("arrays")
    write_arrays(folder / "train.npz", 100, seed=0)
    dataset = {"name": "npz", "params": {"path": "train.npz"}}
    project, weights = train_run(folder, dense_project([6], 2, "cross_entropy", dataset))
    return folder, project, weights


def test_new_arrays_are_scaled_as_trained_and_predicted_row_by_row(
    arrays: tuple[Path, Path, Path], capsys: Any
) -> None:
    folder, project, weights = arrays
    new = folder / "new.npz"
    write_arrays(new, 30, seed=1, key="X")
    out_file = folder / "predictions.csv"
    assert (
        run(["predict", str(project), "--weights", str(weights), str(new), "--out", str(out_file)])
        == 0
    )
    out, _ = capsys.readouterr()
    assert re.search(r"^accuracy=0\.\d{4}$", out, re.M)  # y is in the file

    predictions = predict(load(project), weights, new)
    assert predictions.header == ["row", "prediction", "p_0", "p_1"]
    assert [row[0] for row in predictions.rows] == [str(i) for i in range(1, 31)]
    with np.load(new) as archive:
        raw, y = archive["X"], archive["y"]
    # Raw features near 5,000 in column 0: scaled with the training samples' statistics.
    x = apply_standardiser(load_checkpoint(weights).preprocessing["features"], raw)
    got = np.array([row[2:] for row in predictions.rows], dtype=np.float64)
    assert np.allclose(got, model_probabilities(weights, x), atol=1e-6)
    chosen = got.argmax(axis=1)
    assert [row[1] for row in predictions.rows] == [str(c) for c in chosen]
    assert predictions.metric == ("accuracy", pytest.approx(float((chosen == y).mean())))

    unlabelled = folder / "unlabelled.npz"
    write_arrays(unlabelled, 30, seed=1, with_y=False)
    assert predict(load(project), weights, unlabelled).metric is None


def test_arrays_that_do_not_fit_are_one_line(arrays: tuple[Path, Path, Path], capsys: Any) -> None:
    folder, project, weights = arrays
    args = ["predict", str(project), "--weights", str(weights)]
    narrow = folder / "narrow.npz"
    np.savez(narrow, X=np.zeros((4, 5), np.float32))
    assert "samples of shape (5,)" in refusal(capsys, [*args, str(narrow)])
    other = folder / "other.npz"
    np.savez(other, z=np.zeros((4, 6), np.float32))
    assert f"error: {other}: no array 'X' (arrays: z)" in refusal(capsys, [*args, str(other)])
    table = folder / "rows.csv"
    table.write_text("a,b\n1,2\n", encoding="utf-8")
    line = refusal(capsys, [*args, str(table)])
    assert line == (
        f"error: {table}: a table of rows, but the model was trained on arrays; give it an "
        ".npz file with an array X (samples, …)"
    )


# ------------------------------------------------------------ images


@pytest.fixture(scope="module")
def images(
    tmp_path_factory: pytest.TempPathFactory, one_torch_thread_per_module: None
) -> tuple[Path, Path, Path]:
    """(folder, project, model.pt) of a run on 8×8 grey 'dark' and 'light' images."""
    folder = tmp_path_factory.mktemp("images")
    write_images(folder / "train", 6, seed=0)
    dataset = {"name": "image_folder", "params": {"path": "train"}}
    doc = dense_project([1, 8, 8], 2, "cross_entropy", dataset, flatten=True)
    project, weights = train_run(folder, doc)
    return folder, project, weights


def test_a_flat_folder_of_new_images_is_predicted_file_by_file(
    images: tuple[Path, Path, Path],
) -> None:
    folder, project, weights = images
    new = folder / "new"
    files = write_images(new, 3, seed=1, flat=True)
    (new / ".DS_Store").write_bytes(b"\x00\x01")
    (new / "._dark_0.png").write_bytes(b"\x00\x05\x16\x07")  # a macOS resource fork
    predictions = predict(load(project), weights, new)
    assert predictions.header == ["file", "prediction", "p_dark", "p_light"]
    names = sorted(path.name for path in files)
    assert [row[0] for row in predictions.rows] == names
    stored = load_checkpoint(weights).preprocessing["images"]
    x = np.stack([load_image(new / name, stored) for name in names])
    got = np.array([row[2:] for row in predictions.rows], dtype=np.float64)
    assert np.allclose(got, model_probabilities(weights, x), atol=1e-6)
    assert predictions.metric is None

    one = predict(load(project), weights, files[0])
    assert one.rows == [predictions.rows[names.index(files[0].name)]]


def test_data_of_another_kind_for_an_image_model_is_one_line(
    images: tuple[Path, Path, Path], capsys: Any
) -> None:
    folder, project, weights = images
    args = ["predict", str(project), "--weights", str(weights)]
    arrays = folder / "pixels.npz"
    np.savez(arrays, X=np.zeros((2, 1, 8, 8), np.float32))
    assert refusal(capsys, [*args, str(arrays)]) == (
        f"error: {arrays}: arrays (.npz), but the model was trained on images; give it an "
        "image file or a folder of images"
    )
    empty = folder / "empty"
    empty.mkdir()
    (empty / "readme.txt").write_text("no images here", encoding="utf-8")
    assert "no image files" in refusal(capsys, [*args, str(empty)])


def test_an_image_whose_name_is_not_utf8_is_named_in_the_table(
    images: tuple[Path, Path, Path], capsys: Any
) -> None:
    folder, project, weights = images
    new = folder / "latin1"
    new.mkdir()
    (source,) = write_images(folder / "one", 1, seed=2, flat=True)[:1]
    name = os.fsdecode(b"caf\xe9.png")  # saved by a system that wrote Latin-1 names
    source.rename(new / name)
    args = ["predict", str(project), "--weights", str(weights), str(new)]
    out_file = folder / "latin1.csv"
    assert run([*args, "--out", str(out_file)]) == 0
    assert out_file.read_bytes().splitlines()[1].startswith(b"caf\xe9.png,")
    assert run(args) == 0  # printed: the name's odd byte shown as an escape
    out, _ = capsys.readouterr()
    assert out.splitlines()[-1].startswith("caf\\udce9.png,")


def test_the_model_predicts_in_eval_mode(tmp_path: Path, one_torch_thread: None) -> None:
    """Dropout off and batch norm on its running statistics: the same file twice gives
    the same numbers, those of the model in eval mode."""
    write_arrays(tmp_path / "train.npz", 60, seed=0)
    doc = dense_project([6], 2, "cross_entropy", {"name": "npz", "params": {"path": "train.npz"}})
    doc["nodes"][1:1] = [
        {"id": "norm1", "type": "BatchNorm", "params": {}},
        {"id": "drop1", "type": "Dropout", "params": {"p": 0.5}},
    ]
    ids = [n["id"] for n in doc["nodes"]]
    doc["edges"] = [{"source": a, "target": b} for a, b in zip(ids, ids[1:])]
    project, weights = train_run(tmp_path, doc)
    new = tmp_path / "new.npz"
    write_arrays(new, 40, seed=1, with_y=False)
    first = predict(load(project), weights, new)
    assert predict(load(project), weights, new).rows == first.rows
    with np.load(new) as archive:
        x = apply_standardiser(load_checkpoint(weights).preprocessing["features"], archive["x"])
    got = np.array([row[2:] for row in first.rows], dtype=np.float64)
    assert np.allclose(got, model_probabilities(weights, x), atol=1e-6)


def test_a_folder_of_class_folders_is_scored_against_the_folder_names(
    images: tuple[Path, Path, Path], capsys: Any
) -> None:
    folder, project, weights = images
    held_out = folder / "held_out"
    write_images(held_out, 2, seed=3)
    write_images(held_out / "grey", 1, seed=4, flat=True)  # no class the model knows
    predictions = predict(load(project), weights, held_out)
    names = [row[0] for row in predictions.rows]
    assert names == [
        "dark/dark_0.png", "dark/dark_1.png", "grey/dark_0.png", "grey/light_0.png",
        "light/light_0.png", "light/light_1.png",
    ]  # fmt: skip
    right = [row[1] == name.split("/")[0] for row, name in zip(predictions.rows, names)]
    assert predictions.metric == ("accuracy", pytest.approx(sum(right) / 6))
    assert "folder 'grey' is no class the model knows: counted as wrong" in predictions.notes
    args = ["predict", str(project), "--weights", str(weights), str(held_out)]
    assert run([*args, "--out", str(folder / "held_out.csv")]) == 0
    assert re.search(r"^accuracy=0\.\d{4}$", capsys.readouterr().out, re.M)


def test_several_values_are_predicted_in_their_own_units(
    tmp_path: Path, one_torch_thread: None
) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 3)).astype(np.float32)
    y = np.stack([1000 + 300 * x[:, 0], -5 + 0.1 * x[:, 1]], axis=1).astype(np.float32)
    np.savez(tmp_path / "train.npz", x=x[:60], y=y[:60])
    np.savez(tmp_path / "new.npz", X=x[60:], y=y[60:])
    dataset = {"name": "npz", "params": {"path": "train.npz"}}
    project, weights = train_run(tmp_path, dense_project([3], 2, "mse", dataset))
    predictions = predict(load(project), weights, tmp_path / "new.npz")
    assert predictions.header == ["row", "prediction_1", "prediction_2"]
    values = np.array([row[1:] for row in predictions.rows], dtype=np.float64)
    stored = load_checkpoint(weights).preprocessing
    with torch.no_grad():
        model = load_checkpoint(weights).build().eval()
        outputs = model(torch.as_tensor(apply_standardiser(stored["features"], x[60:]))).numpy()
    assert np.allclose(values, target_units(stored["target"], outputs), rtol=1e-5)
    assert 500 < values[:, 0].mean() < 1500 and -6 < values[:, 1].mean() < -4
    assert predictions.metric == ("mse", pytest.approx(((values - y[60:]) ** 2).mean(), rel=1e-5))


def test_a_yes_no_output_gives_both_classes_probabilities(
    tmp_path: Path, one_torch_thread: None
) -> None:
    write_arrays(tmp_path / "train.npz", 60, seed=0)
    write_arrays(tmp_path / "new.npz", 20, seed=1)
    dataset = {"name": "npz", "params": {"path": "train.npz"}}
    project, weights = train_run(tmp_path, dense_project([6], 1, "bce", dataset))
    predictions = predict(load(project), weights, tmp_path / "new.npz")
    assert predictions.header == ["row", "prediction", "p_0", "p_1"]
    with np.load(tmp_path / "new.npz") as archive:
        raw, y = archive["x"], archive["y"]
    x = apply_standardiser(load_checkpoint(weights).preprocessing["features"], raw)
    with torch.no_grad():
        scores = load_checkpoint(weights).build().eval()(torch.as_tensor(x))[:, 0]
    yes = torch.sigmoid(scores).numpy()
    got = np.array([row[2:] for row in predictions.rows], dtype=np.float64)
    assert np.allclose(got[:, 1], yes, atol=1e-6) and np.allclose(got.sum(axis=1), 1.0)
    chosen = (scores > 0).numpy().astype(int)  # as the trainer's accuracy counts it
    assert [row[1] for row in predictions.rows] == [str(c) for c in chosen]
    assert predictions.metric == ("accuracy", pytest.approx(float((chosen == y).mean())))
