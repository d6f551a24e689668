"""Tiny trained runs for the predict tests (no tests here): a messy table, a regression
table, arrays and an image folder, each trained once with the `train` command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from engine.cli.main import run
from engine.data import dataset_input_shape
from tests.engine.test_own_tables import write_messy_cancer

TRAIN_ROWS = 100


def messy_rows(folder: Path) -> tuple[Path, Path]:
    """The messy breast-cancer table split by lines: (first TRAIN_ROWS rows to train on,
    the next 60 rows as new data), both with the header and the maker's mess."""
    whole = folder / "whole.csv"
    write_messy_cancer(whole)
    lines = whole.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    train, new = folder / "train.csv", folder / "new.csv"
    train.write_text("".join(lines[: 1 + TRAIN_ROWS]), encoding="utf-8-sig")
    new.write_text(lines[0] + "".join(lines[1 + TRAIN_ROWS : 1 + TRAIN_ROWS + 60]), "utf-8")
    return train, new


def dense_project(
    shape: list[int], units: int, loss: str, dataset: dict[str, Any], flatten: bool = False
) -> dict[str, Any]:
    nodes: list[dict[str, Any]] = [{"id": "x", "type": "Input", "params": {"shape": shape}}]
    if flatten:
        nodes.append({"id": "flat", "type": "Flatten", "params": {}})
    nodes += [
        {"id": "dense1", "type": "Dense", "params": {"units": units}},
        {"id": "out", "type": "Output", "params": {"loss": loss}},
    ]
    ids = [n["id"] for n in nodes]
    return {
        "format": "netloom",
        "version": 1,
        "name": "predict test",
        "nodes": nodes,
        "edges": [{"source": a, "target": b} for a, b in zip(ids, ids[1:])],
        "training": {"dataset": dataset, "lr": 0.05, "batch_size": 16, "epochs": 2},
    }


def train_run(folder: Path, doc: dict[str, Any]) -> tuple[Path, Path]:
    """(project file, model.pt) of `doc` trained by the train command in `folder`."""
    project = folder / "project.json"
    project.write_text(json.dumps(doc), encoding="utf-8")
    out = folder / "run"
    assert run(["train", str(project), "--out", str(out), "--threads", "1"]) == 0
    return project, out / "model.pt"


def table_run(folder: Path, table: Path, target: str, task: str, classes: int) -> tuple[Path, Path]:
    params = {"path": table.name, "target": target, "task": task}
    (width,), _ = dataset_input_shape("csv", params, folder)
    loss = "cross_entropy" if task == "classification" else "mse"
    return train_run(
        folder, dense_project([width], classes, loss, {"name": "csv", "params": params})
    )


def write_prices(path: Path, rows: int, seed: int) -> np.ndarray:
    """A regression table: a price in euros (thousands) from two measurements."""
    rng = np.random.default_rng(seed)
    size, rooms = rng.uniform(30, 150, rows), rng.integers(1, 6, rows)
    price = 50_000 + 2_000 * size + 10_000 * rooms + rng.normal(0, 5_000, rows)
    lines = ["house,size,rooms,price"]
    lines += [f"h{i},{s:.1f},{r},{p:.0f}" for i, (s, r, p) in enumerate(zip(size, rooms, price))]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return np.round(price)


def write_arrays(path: Path, rows: int, seed: int, with_y: bool = True, key: str = "x") -> None:
    """Two classes of 6 raw features (one on a scale of thousands)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, rows)
    x = rng.normal(0, 1, (rows, 6)) + y[:, None]
    x[:, 0] = x[:, 0] * 1000 + 5000
    arrays = {key: x.astype(np.float32)}
    if with_y:
        arrays["y"] = y.astype(np.int64)
    np.savez(path, **arrays)


def write_images(folder: Path, per_class: int, seed: int, flat: bool = False) -> list[Path]:
    """Grey 8×8 PNGs: 'dark' and 'light' class folders, or one flat folder."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    written = []
    for name, level in (("dark", 40), ("light", 210)):
        where = folder if flat else folder / name
        where.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            pixels = np.clip(rng.normal(level, 20, (8, 8)), 0, 255).astype(np.uint8)
            path = where / f"{name}_{i}.png"
            Image.fromarray(pixels, mode="L").save(path)
            written.append(path)
    return written
