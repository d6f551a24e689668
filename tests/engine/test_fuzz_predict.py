"""Seeded mutations of the new data `predict` reads: a table's rows and an .npz.

Whatever the file holds, `predict` ends with exit 0 (a table of predictions written) or
2 (one error line starting with the file), never a traceback, and each case stays
quick (no read runs away on a header's claims). Families of damage:

  truncate / flip / splice   bytes cut, changed, inserted or deleted (byte_mutations.py)
  cells                      a cell replaced by text, a huge or non-finite number, a quote,
                             a separator, nothing; a row shortened; the header changed
  arrays                     X of another dtype, rank, length or content; y that does not fit
  images                     one image of a flat folder cut, flipped or spliced

Every case is derived from its seed, so a failure names a reproducible file.
"""

from __future__ import annotations

import io
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from engine.cli.main import run
from tests.engine.byte_mutations import flip, splice, truncate
from tests.engine.predict_runs import (
    dense_project,
    messy_rows,
    table_run,
    train_run,
    write_arrays,
    write_images,
)

SEEDS = range(8)
SECONDS_PER_CASE = 5.0  # generous on busy cores; a runaway read takes far longer

CELL_VALUES = ["abc", "1e999", "nan", "-inf", '"', ";", "", "9" * 400, "\x00", "ü" * 50]


def mutate_cells(rng: random.Random, text: str) -> str:
    lines = text.splitlines()
    row = rng.randrange(len(lines))
    cells = lines[row].split(";")
    choice = rng.randrange(4)
    if choice == 0:
        cells[rng.randrange(len(cells))] = rng.choice(CELL_VALUES)
    elif choice == 1:
        del cells[rng.randrange(len(cells)) :]
    elif choice == 2:
        cells.insert(rng.randrange(len(cells)), rng.choice(CELL_VALUES))
    else:
        lines.insert(rng.randrange(len(lines)), rng.choice(CELL_VALUES) * rng.randint(1, 3))
        return "\n".join(lines)
    lines[row] = ";".join(cells)
    return "\n".join(lines)


def hostile_arrays(rng: random.Random) -> dict[str, Any]:
    x = np.random.default_rng(rng.randrange(2**32)).normal(size=(12, 6)).astype(np.float32)
    choice = rng.randrange(8)
    if choice == 0:
        return {"X": x.astype(np.float64)[:, :, None]}  # another rank
    if choice == 1:
        x[rng.randrange(12), rng.randrange(6)] = rng.choice([np.nan, np.inf])
        return {"X": x}
    if choice == 2:
        return {"X": x, "y": np.arange(5)}  # y of another length
    if choice == 3:
        return {"X": np.zeros((0, 6), np.float32)}  # no samples
    if choice == 4:
        return {"X": np.array(["a", "b"])}  # text
    if choice == 5:
        return {"X": (x * 10).astype(np.int16), "y": np.full(12, 7)}  # labels it never knew
    if choice == 6:
        return {"X": x, "y": np.linspace(0, 1, 12)}  # float labels
    return {"X": x[:, :3]}


def judge(capsys: Any, argv: list[str], data: Path) -> None:
    start = time.perf_counter()
    code = run(argv)
    seconds = time.perf_counter() - start
    out, err = capsys.readouterr()
    assert seconds < SECONDS_PER_CASE, (data, seconds)
    assert code in (0, 2), (data, code, err)
    if code == 2:
        errors = [line for line in err.splitlines() if line.startswith("error: ")]
        assert len(errors) == 1 and errors[0].startswith(f"error: {data}"), (data, err)
        assert "Traceback" not in err


@pytest.fixture(scope="module")
def runs(
    tmp_path_factory: pytest.TempPathFactory, one_torch_thread_per_module: None
) -> dict[str, Any]:
    table_folder = tmp_path_factory.mktemp("fuzz_table")
    train, new = messy_rows(table_folder)
    table = table_run(table_folder, train, "diagnosis", "classification", 2)
    arrays_folder = tmp_path_factory.mktemp("fuzz_arrays")
    write_arrays(arrays_folder / "train.npz", 60, seed=0)
    dataset = {"name": "npz", "params": {"path": "train.npz"}}
    arrays = train_run(arrays_folder, dense_project([6], 2, "cross_entropy", dataset))
    images_folder = tmp_path_factory.mktemp("fuzz_images")
    write_images(images_folder / "train", 3, seed=0)
    dataset = {"name": "image_folder", "params": {"path": "train"}}
    doc = dense_project([1, 8, 8], 2, "cross_entropy", dataset, flatten=True)
    images = train_run(images_folder, doc)
    return {
        "table": (*table, new),
        "arrays": (*arrays, arrays_folder / "train.npz"),
        "images": (*images, images_folder / "train" / "dark" / "dark_0.png"),
    }


BYTE_MUTATIONS: dict[str, Callable[[random.Random, bytes], bytes]] = {
    "truncate": truncate,
    "flip": flip,
    "splice": splice,
}


@pytest.mark.parametrize("family", [*BYTE_MUTATIONS, "cells"])
def test_damaged_rows_never_traceback(
    runs: dict[str, Any], capsys: Any, tmp_path: Path, family: str
) -> None:
    project, weights, new = runs["table"]
    original = new.read_bytes()
    for seed in SEEDS:
        rng = random.Random(f"{family}-{seed}")
        if family == "cells":
            data = mutate_cells(rng, original.decode("utf-8")).encode("utf-8")
        else:
            data = BYTE_MUTATIONS[family](rng, original)
        path = tmp_path / f"{family}-{seed}.csv"
        path.write_bytes(data)
        out = tmp_path / f"{family}-{seed}-predictions.csv"
        judge(
            capsys,
            ["predict", str(project), "--weights", str(weights), str(path), "--out", str(out)],
            path,
        )


@pytest.mark.parametrize("family", [*BYTE_MUTATIONS, "arrays"])
def test_damaged_arrays_never_traceback(
    runs: dict[str, Any], capsys: Any, tmp_path: Path, family: str
) -> None:
    project, weights, original_path = runs["arrays"]
    original = io.BytesIO()
    with np.load(original_path) as archive:
        np.savez(original, X=archive["x"][:20], y=archive["y"][:20])
    for seed in SEEDS:
        rng = random.Random(f"{family}-{seed}")
        path = tmp_path / f"{family}-{seed}.npz"
        if family == "arrays":
            np.savez(path, **hostile_arrays(rng))
        else:
            path.write_bytes(BYTE_MUTATIONS[family](rng, original.getvalue()))
        out = tmp_path / f"{family}-{seed}-predictions.csv"
        judge(
            capsys,
            ["predict", str(project), "--weights", str(weights), str(path), "--out", str(out)],
            path,
        )


@pytest.mark.parametrize("family", [*BYTE_MUTATIONS])
def test_damaged_images_never_traceback(
    runs: dict[str, Any], capsys: Any, tmp_path: Path, family: str
) -> None:
    project, weights, image = runs["images"]
    original = image.read_bytes()
    for seed in SEEDS:
        rng = random.Random(f"{family}-{seed}")
        folder = tmp_path / f"{family}-{seed}"
        folder.mkdir()
        (folder / "a_good.png").write_bytes(original)
        (folder / "b_damaged.png").write_bytes(BYTE_MUTATIONS[family](rng, original))
        out = tmp_path / f"{family}-{seed}-predictions.csv"
        argv = ["predict", str(project), "--weights", str(weights), str(folder), "--out", str(out)]
        judge(capsys, argv, folder)
