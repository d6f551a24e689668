"""A person's image folder read as it is (issue 25 item 2): mixed modes, sizes, formats
and system files train, each choice announced, and `load_image` with the run's stored
record reads a new file into the very tensor training saw."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from engine.cli.main import run
from engine.data import DataError, dataset_input_shape, load_dataset
from engine.data.as_trained import as_trained
from engine.data.image_folder import list_folder, load_image
from engine.train.checkpoint import load_checkpoint


def save(path: Path, image: Image.Image, **options: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, **options)
    return path


def grey(value: int, size: tuple[int, int] = (8, 8)) -> Image.Image:
    """A grey image; size is (width, height) as Pillow takes it."""
    return Image.new("L", size, value)


def messy_folder(root: Path) -> Path:
    """Two classes of 8×8 grey PNGs with an RGBA, an RGB JPEG and a 12×10 stray, system
    files and a text file. cats are dark on the left, dogs on the right."""
    for label, side in (("cats", 0), ("dogs", 4)):
        for i in range(5):
            pixels = np.full((8, 8), 30 + 5 * i, np.uint8)
            pixels[:, side : side + 4] = 220
            save(root / label / f"{i}.png", Image.fromarray(pixels))
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[:, :4] = (255, 255, 255, 255)  # left opaque white, right fully transparent black
    save(root / "cats" / "see_through.png", Image.fromarray(rgba, "RGBA"))
    colour = np.zeros((8, 8, 3), np.uint8)
    colour[:, 4:] = (250, 250, 250)
    save(root / "dogs" / "photo.jpg", Image.fromarray(colour), quality=95)
    save(root / "dogs" / "big.png", grey(90, (10, 12)))
    (root / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (root / "cats" / "._0.png").write_bytes(b"\x00\x05\x16\x07 resource fork")
    (root / "cats" / "Thumbs.db").write_bytes(b"\xd0\xcf\x11\xe0")
    (root / "dogs" / "desktop.ini").write_text("[.ShellClassInfo]\n")
    save(root / "__MACOSX" / "cats" / "._1.png", grey(0))  # a zip's shadow folder
    (root / "dogs" / "notes.txt").write_text("taken in 2024\n")
    return root


def project_file(tmp_path: Path, folder: Path, shape: list[int]) -> Path:
    doc = {
        "format": "netloom",
        "version": 1,
        "name": "pets",
        "nodes": [
            {"id": "x", "type": "Input", "params": {"shape": shape}},
            {"id": "flat", "type": "Flatten", "params": {}},
            {"id": "dense1", "type": "Dense", "params": {"units": 2}},
            {"id": "label", "type": "Output", "params": {"loss": "cross_entropy"}},
        ],
        "edges": [
            {"source": "x", "target": "flat"},
            {"source": "flat", "target": "dense1"},
            {"source": "dense1", "target": "label"},
        ],
        "training": {
            "dataset": {"name": "image_folder", "params": {"path": str(folder)}},
            "epochs": 2,
            "batch_size": 4,
        },
    }
    path = tmp_path / "pets.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_a_messy_folder_trains_and_new_files_read_as_training_saw_them(
    tmp_path: Path, capsys: Any
) -> None:
    folder = messy_folder(tmp_path / "pets")
    project = project_file(tmp_path, folder, [1, 8, 8])
    assert run(["train", str(project), "--out", str(tmp_path / "run")]) == 0
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert (
        "note: 2 of 13 images are RGB/RGBA where most are grey — converted to grey: "
        "cats/see_through.png, dogs/photo.jpg" in err
    )
    assert "note: 1 of 13 images has transparency — composited on white" in err
    assert "note: 1 of 13 images is resized to 8×8" in err and "dogs/big.png" in err
    assert "note: 1 entry that is no image, ignored: dogs/notes.txt" in err
    for system_file in ("DS_Store", "._0.png", "Thumbs.db", "desktop.ini", "MACOSX"):
        assert system_file not in err

    stored = load_checkpoint(tmp_path / "run" / "model.pt").preprocessing
    assert stored is not None
    assert stored["kind"] == "images" and stored["classes"] == ["cats", "dogs"]
    assert stored["images"]["mode"] == "L" and stored["images"]["size"] == [8, 8]

    # A flat folder of new files, two of them copies of training images.
    new = tmp_path / "new"
    new.mkdir()
    for name in ("cats/see_through.png", "dogs/big.png"):
        shutil.copy(folder / name, new / Path(name).name)
    save(new / "unseen.webp", grey(200), lossless=True)
    (new / ".DS_Store").write_bytes(b"\x00")
    assert [p.name for p in list_folder(new).images] == [
        "big.png",
        "see_through.png",
        "unseen.webp",
    ]

    trained = load_dataset("image_folder", {"path": str(folder), "shuffle": False})
    order = sorted((folder / "cats").glob("[!.]*.png")) + sorted(
        p for p in (folder / "dogs").iterdir() if p.suffix in (".png", ".jpg")
    )
    for name in ("see_through.png", "big.png"):
        index = [p.name for p in order].index(name)
        seen = load_image(new / name, stored["images"])
        assert seen.shape == (1, 8, 8) and seen.dtype == np.float32
        assert np.array_equal(seen, trained.x[index])
    # The RGBA stray: its opaque white half stays white and its transparent half, black
    # underneath, is white too (laid on white), not black (alpha dropped).
    assert np.allclose(load_image(new / "see_through.png", stored["images"]), 1.0)

    # predict reads the flat folder the same way: one row per image, by name.
    out = tmp_path / "predictions.csv"
    weights = str(tmp_path / "run" / "model.pt")
    assert run(["predict", str(project), "--weights", weights, str(new), "--out", str(out)]) == 0
    rows = list(csv.reader(out.open(encoding="utf-8")))
    assert rows[0] == ["file", "prediction", "p_cats", "p_dogs"]
    assert [row[0] for row in rows[1:]] == ["big.png", "see_through.png", "unseen.webp"]
    assert all(row[1] in ("cats", "dogs") for row in rows[1:])


def test_a_folder_mostly_in_colour_reads_its_grey_strays_as_rgb(tmp_path: Path) -> None:
    for label in ("a", "b"):
        for i in range(3):
            save(tmp_path / label / f"{i}.png", Image.new("RGB", (6, 4), (255, 0, 40 * i)))
    save(tmp_path / "b" / "z_grey.bmp", grey(51, (6, 4)))
    data = load_dataset("image_folder", {"path": str(tmp_path), "shuffle": False})
    assert data.sample_shape == (3, 4, 6)
    assert np.allclose(data.x[-1], 0.2)  # the grey one, in all three channels
    assert data.notes == [
        "1 of 7 images is L where most are colour — read as RGB (the grey in all three): "
        "b/z_grey.bmp"
    ]
    grey_now = load_dataset("image_folder", {"path": str(tmp_path), "colour": "grey"})
    assert grey_now.sample_shape == (1, 4, 6)
    assert grey_now.notes[0].startswith("6 of 7 images are RGB where colour is grey")


def test_sizes_follow_the_most_common_or_image_size(tmp_path: Path) -> None:
    for label in ("a", "b"):
        for i in range(2):
            save(tmp_path / label / f"{i}.png", grey(100, (8, 6)))
    save(tmp_path / "b" / "wide.png", grey(100, (16, 6)))
    path = str(tmp_path)
    assert dataset_input_shape("image_folder", {"path": path}) == ((1, 6, 8), False)
    data = load_dataset("image_folder", {"path": path})
    assert data.notes == [
        "1 of 5 images is resized to 6×8 (height×width; the most common size; set image_size "
        "to choose) — sizes found: 6×8 (4), 6×16 (1); resized: b/wide.png"
    ]
    assert np.allclose(data.x, 100 / 255)  # a flat image stays flat when stretched
    assert dataset_input_shape("image_folder", {"path": path, "image_size": 4}) == (
        (1, 4, 4),
        False,
    )
    data = load_dataset("image_folder", {"path": path, "image_size": [3, 5]})
    assert data.x.shape == (5, 1, 3, 5) and data.notes[0].startswith("5 of 5 images are resized")
    with pytest.raises(DataError, match=r"^dataset\.params\.image_size: expected"):
        load_dataset("image_folder", {"path": path, "image_size": [0, 5]})


def test_every_format_pillow_reads(tmp_path: Path) -> None:
    save(tmp_path / "a" / "one.bmp", grey(10))
    save(tmp_path / "a" / "two.webp", grey(20), lossless=True)
    save(tmp_path / "a" / "three.tiff", grey(30))
    sixteen = Image.fromarray(np.full((8, 8), 65535 // 5, np.uint16))
    save(tmp_path / "b" / "deep.png", sixteen)
    frames = [grey(40).convert("P"), grey(250).convert("P")]
    frames[0].save(tmp_path / "b" / "moving.gif", save_all=True, append_images=frames[1:])
    save(tmp_path / "b" / "photo.JPEG", grey(60), quality=100)
    data = load_dataset("image_folder", {"path": str(tmp_path), "shuffle": False})
    # A grey GIF counts as grey; WebP has no grey mode, so Pillow saved it as RGB.
    assert data.sample_shape == (1, 8, 8)
    assert data.notes == [
        "1 of 6 images is RGB where most are grey — converted to grey: a/two.webp"
    ]
    firsts = data.x[:, 0, 0, 0] * 255
    # one.bmp, three.tiff, two.webp | deep.png, moving.gif (first frame), photo.JPEG
    assert np.allclose(firsts, [10, 30, 20, 51, 40, 60], atol=1)


def test_what_stands_in_the_way_is_one_line_naming_the_file(tmp_path: Path) -> None:
    noise = np.random.default_rng(0).integers(0, 256, (32, 32), dtype=np.uint8)
    for label in ("a", "b"):
        save(tmp_path / label / "0.png", Image.fromarray(noise))
    whole = (tmp_path / "a" / "0.png").read_bytes()
    (tmp_path / "b" / "cut.png").write_bytes(whole[: len(whole) // 2])  # the header reads
    with pytest.raises(DataError) as caught:
        load_dataset("image_folder", {"path": str(tmp_path)})
    assert str(caught.value).startswith(f"{tmp_path / 'b' / 'cut.png'}: cannot read as an image")
    assert "\n" not in str(caught.value)

    with pytest.raises(DataError, match=r"^preprocessing\.images\.mode: expected 'L' or 'RGB'"):
        load_image(tmp_path / "a" / "0.png", {"mode": "CMYK", "size": [32, 32]})
    with pytest.raises(DataError, match=r"^preprocessing\.images\.size: expected \[height, width"):
        load_image(tmp_path / "a" / "0.png", {"mode": "L", "size": [32, 10**9]})


def test_a_run_restored_on_a_folder_that_now_reads_otherwise_is_told_how(tmp_path: Path) -> None:
    for label in ("a", "b"):
        for i in range(2):
            save(tmp_path / label / f"{i}.png", grey(10 * i))
    params = {"path": str(tmp_path)}
    data = load_dataset("image_folder", params)
    stored = data.prepare(np.arange(2)).preprocessing  # type: ignore[misc]
    again = as_trained(load_dataset("image_folder", params), stored)
    assert np.array_equal(again.prepare(np.arange(2)).x, data.x)  # type: ignore[misc]

    for i in range(5):  # now mostly colour and larger
        save(tmp_path / "b" / f"c{i}.png", Image.new("RGB", (9, 9), (200, 0, 0)))
    with pytest.raises(DataError) as caught:
        as_trained(load_dataset("image_folder", params), stored)
    assert str(caught.value) == (
        f"{tmp_path}: its images now read as colour 9×9; the model was trained on grey 8×8 — "
        "set colour: grey and image_size: [8, 8]"
    )
