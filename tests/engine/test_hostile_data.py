"""Hostile files and settings: each ends in one line naming the place, never a traceback.

The reproducers of issue 10 item 4: a 57-byte PNG claiming 30,000×30,000 pixels, npz
labels of 10^9, a CSV header cell over 128 KiB, a seed of 2^64, and Adam at lr 1e6,
whose loss grows to ~1e12 while staying finite.
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from engine.cli.main import run
from engine.data import DataError, dataset_input_shape, load_dataset
from engine.data.arrays import MAX_CLASSES
from engine.project.project import load
from engine.train.config import TrainConfig
from engine.train.trainer import Trainer
from tests.helpers import ROOT, classifier_doc


def png_header(width: int, height: int) -> bytes:
    """A PNG with a header and no pixels: a few dozen bytes claiming any size."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


def image_folder(root: Path, odd_one: bytes | None = None) -> Path:
    """Two classes of 8×8 greyscale images; `odd_one` is written as cats/odd.png."""
    for kind in ("cats", "dogs"):
        (root / kind).mkdir(parents=True)
        for i in range(3):
            Image.new("L", (8, 8), 40 * i).save(root / kind / f"{i}.png")
    if odd_one is not None:
        (root / "cats" / "odd.png").write_bytes(odd_one)
    return root


def project_file(tmp_path: Path, dataset: dict[str, Any], shape: list[int], classes: int) -> Path:
    doc = classifier_doc(dataset, shape, classes)
    path = tmp_path / "project.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


# ------------------------------------------------------------------ images


def test_a_png_claiming_900_megapixels_is_refused_by_name(tmp_path: Path) -> None:
    bomb = png_header(30_000, 30_000)
    assert len(bomb) < 60
    folder = image_folder(tmp_path / "pets", bomb)
    params = {"path": str(folder)}
    for read in (dataset_input_shape, load_dataset):  # the picker's survey, then training
        with pytest.raises(DataError) as err:
            read("image_folder", params)
        assert str(err.value).startswith(f"{folder / 'cats' / 'odd.png'}: its header claims")
        assert "4096×4096" in str(err.value)


def test_an_image_over_the_size_limit_is_named_with_its_size(tmp_path: Path) -> None:
    folder = image_folder(tmp_path / "pets", png_header(5000, 5000))
    with pytest.raises(DataError, match=r"odd\.png: image is 5000×5000 pixels, more than the "):
        load_dataset("image_folder", {"path": str(folder)})


def test_the_png_bomb_through_train_and_export_is_one_line(tmp_path: Path, capsys: Any) -> None:
    folder = image_folder(tmp_path / "pets", png_header(30_000, 30_000))
    path = project_file(
        tmp_path, {"name": "image_folder", "params": {"path": str(folder)}}, [1, 8, 8], 2
    )
    assert run(["train", str(path), "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "odd.png: its header claims an image far larger" in err
    assert not (tmp_path / "run").exists()
    script = tmp_path / "train.py"
    assert run(["export", str(path), "--to", "script", "--out", str(script)]) != 0
    err = capsys.readouterr().err
    assert "odd.png: its header claims an image far larger" in err
    assert "training./" not in err  # a file's own path, not glued to a setting's
    assert not script.exists()


def test_the_exported_script_refuses_the_png_bomb_in_one_line(tmp_path: Path) -> None:
    good = image_folder(tmp_path / "good")
    path = project_file(
        tmp_path, {"name": "image_folder", "params": {"path": str(good)}}, [1, 8, 8], 2
    )
    script = tmp_path / "train_pets.py"
    assert run(["export", str(path), "--to", "script", "--out", str(script)]) == 0
    bad = image_folder(tmp_path / "bad", png_header(30_000, 30_000))
    done = subprocess.run(
        [
            sys.executable,
            str(script),
            "--data",
            str(bad),
            "--epochs",
            "1",
            "--out",
            str(tmp_path / "out"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.strip() == (
        f"error: {bad / 'cats' / 'odd.png'}: its header claims an image far larger than "
        "4096×4096 pixels (a decompression bomb?); not read"
    )


# ------------------------------------------------------------------ labels


@pytest.mark.parametrize(
    ("label", "message"),
    [
        (10**9, r"y holds the class 1000000000; classes are numbered 0…K−1 with at most 10,000"),
        (MAX_CLASSES, r"y holds the class 10000; classes are numbered 0…K−1 with at most"),
        (-3, r"y holds the class -3; classes are numbered 0, 1, 2, …"),
    ],
)
def test_npz_class_labels_must_run_from_0_to_a_bound(
    tmp_path: Path, label: int, message: str
) -> None:
    path = tmp_path / "labels.npz"
    np.savez(path, x=np.zeros((4, 3), np.float32), y=np.array([0, 1, 2, label]))
    with pytest.raises(DataError, match=message) as err:
        load_dataset("npz", {"path": str(path)})
    assert str(err.value).startswith(f"{path}: ") and "np.unique(y, return_inverse=True)" in str(
        err.value
    )


def test_npz_with_the_most_classes_allowed_loads(tmp_path: Path) -> None:
    path = tmp_path / "labels.npz"
    np.savez(path, x=np.zeros((2, 3), np.float32), y=np.array([0, MAX_CLASSES - 1]))
    data = load_dataset("npz", {"path": str(path)})
    assert data.num_classes == MAX_CLASSES and len(data.class_names or []) == MAX_CLASSES


def test_a_csv_target_with_too_many_labels_suggests_regression(tmp_path: Path) -> None:
    path = tmp_path / "prices.csv"
    rows = "\n".join(f"{i},{i * 1.5}" for i in range(MAX_CLASSES + 1))
    path.write_text("area,price\n" + rows + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"10,001 different labels.*set dataset.params.task"):
        load_dataset("csv", {"path": str(path), "target": "price"})


# --------------------------------------------------------------------- csv


def test_a_csv_header_cell_over_128_kib_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_text("a" * (130 * 1024) + ",target\n1,2\n", encoding="utf-8")
    params = {"path": str(path), "target": "target"}
    for read in (dataset_input_shape, load_dataset):
        with pytest.raises(DataError) as err:
            read("csv", params)
        assert str(err.value).startswith(f"{path} line 1: cannot read as CSV: field larger")


# ---------------------------------------------------------------- settings


def test_a_seed_of_2_to_the_64_is_refused_from_the_command_line(
    tmp_path: Path, capsys: Any
) -> None:
    path = ROOT / "templates" / "mlp_iris.json"
    assert run(["train", str(path), "--seed", str(2**64), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "training.seed: expected an integer in 0…4,294,967,295, got 1844674407" in err
    assert err.count("\n") == 1


def test_dataset_seeds_share_the_bound(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"dataset.params.seed: expected an integer in 0\.\."):
        load_dataset("iris", {"seed": 2**64})


# -------------------------------------------------------------- divergence


def adam_at_a_million() -> tuple[Any, TrainConfig]:
    project = load(ROOT / "templates" / "mlp_iris.json")
    project.training.update({"lr": 1e6, "epochs": 10})
    return project, TrainConfig.from_dict(project.training)


def test_a_finite_loss_that_grows_a_thousandfold_is_a_divergence() -> None:
    project, config = adam_at_a_million()
    data = load_dataset("iris", {})
    result = Trainer(project, data, config, threads=1).fit()
    assert result.status == "diverged"  # the window shows it as a failed run, with the reason
    assert result.reason.startswith("the loss diverged: the training loss grew from ")
    assert "try a lower learning rate (now 1e+06)" in result.reason
    assert len(result.history) < config.epochs


def test_train_says_the_loss_diverged_and_exits_1(tmp_path: Path, capsys: Any) -> None:
    project, _ = adam_at_a_million()
    path = tmp_path / "iris.json"
    doc = json.loads((ROOT / "templates" / "mlp_iris.json").read_text(encoding="utf-8"))
    doc["training"].update(project.training)
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert run(["train", str(path), "--out", str(tmp_path / "run")]) == 1
    captured = capsys.readouterr()
    assert "error: the loss diverged" in captured.err
    assert "final: accuracy" not in captured.out
