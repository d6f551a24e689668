"""Images as they are (issue 25, item 2): a messy image folder against a clean one.

    .venv/bin/python bench/image_folder_bench.py              # seeds 0-2, 30 epochs
    .venv/bin/python bench/image_folder_bench.py --seeds 0-4 --epochs 10

scikit-learn's 1,797 handwritten digits (8×8, grey) are written as a person's folder,
one subfolder per digit, twice:

- clean: every image an 8-bit grey PNG;
- messy: the same pixels, but 15 % saved as RGBA PNGs, 10 % as RGB JPEGs (quality 95),
  10 % enlarged to 24×24 (NetLoom resizes them back), with .DS_Store, Thumbs.db,
  ._ resource forks, a __MACOSX/ folder and a notes.txt among them.

A fifth of each digit's files is kept out of both folders: the "new files", a flat
folder in the messy mix. The digits template (templates/cnn_digits.json) trains on each
folder through the image_folder dataset and the trainer exactly as `train` does; the
new files are read with `load_image` and the run's stored `images` record, as predict
reads them. Printed per folder, min / mean / max over seeds: validation accuracy, the
accuracy on the new files, and scikit-learn's LogisticRegression on the same training
and validation split (the pixels as the net saw them).
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.data import load_dataset  # noqa: E402
from engine.data.image_folder import list_folder, load_image  # noqa: E402
from engine.project.project import from_dict  # noqa: E402
from engine.train.config import TrainConfig  # noqa: E402
from engine.train.trainer import Trainer  # noqa: E402

SYSTEM_FILES = {".DS_Store": b"Bud1", "Thumbs.db": b"\xd0\xcf\x11\xe0", "notes.txt": b"digits"}


def digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    pixels = np.round(bunch.images * 255 / 16).astype(np.uint8)  # 0…16 → 0…255
    return pixels, bunch.target


def save(path: Path, pixels: np.ndarray, style: str) -> None:
    from PIL import Image

    image = Image.fromarray(pixels)
    if style == "rgba":
        image.convert("RGBA").save(path.with_suffix(".png"))
    elif style == "jpeg":
        image.convert("RGB").save(path.with_suffix(".jpg"), quality=95)
    elif style == "large":
        image.resize((24, 24), Image.Resampling.BILINEAR).save(path.with_suffix(".png"))
    else:
        image.save(path.with_suffix(".png"))


def styles(count: int, messy: bool, rng: np.random.Generator) -> list[str]:
    if not messy:
        return ["grey"] * count
    return list(rng.choice(["grey", "rgba", "jpeg", "large"], count, p=[0.65, 0.15, 0.1, 0.1]))


def write_folders(root: Path, seed: int) -> tuple[Path, Path, Path, np.ndarray]:
    """The clean and messy class folders and the flat folder of new files (with their
    labels by file name order); a fifth of each digit held out as new files."""
    pixels, labels = digits()
    rng = np.random.default_rng(seed)
    clean, messy, new = root / "clean", root / "messy", root / "new"
    new_labels = {}
    for digit in range(10):
        rows = rng.permutation(np.flatnonzero(labels == digit))
        held = len(rows) // 5
        for folder, mess in ((clean, False), (messy, True)):
            (folder / str(digit)).mkdir(parents=True)
            for row, style in zip(rows[held:], styles(len(rows) - held, mess, rng), strict=True):
                save(folder / str(digit) / f"{row:04d}", pixels[row], str(style))
        new.mkdir(exist_ok=True)
        for row, style in zip(rows[:held], styles(held, True, rng), strict=True):
            save(new / f"{row:04d}", pixels[row], str(style))
            new_labels[f"{row:04d}"] = digit
    for name, content in SYSTEM_FILES.items():
        (messy / name).write_bytes(content)
        (messy / "3" / name).write_bytes(content)
    (messy / "3" / "._0001.png").write_bytes(b"\x00\x05\x16\x07")
    (messy / "__MACOSX" / "3").mkdir(parents=True)
    (messy / "__MACOSX" / "3" / "._0001.png").write_bytes(b"\x00\x05\x16\x07")
    (new / ".DS_Store").write_bytes(b"Bud1")
    order = [new_labels[p.stem] for p in list_folder(new).images]
    return clean, messy, new, np.array(order)


def logistic_regression(trainer: Trainer) -> float:
    from sklearn.linear_model import LogisticRegression

    def flat(split) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
        return split.x.reshape(len(split), -1).cpu().numpy(), split.y.cpu().numpy()

    model = LogisticRegression(max_iter=5000).fit(*flat(trainer.train_split))
    x, y = flat(trainer.val_split)
    return float((model.predict(x) == y).mean())


def one_run(folder: Path, new: Path, new_labels: np.ndarray, seed: int, epochs: int) -> dict:
    import torch

    doc = json.loads((ROOT / "templates" / "cnn_digits.json").read_text(encoding="utf-8"))
    doc = copy.deepcopy(doc)
    doc["training"].update(
        dataset={"name": "image_folder", "params": {"path": str(folder)}},
        epochs=epochs,
        seed=seed,
    )
    project = from_dict(doc)
    config = TrainConfig.from_dict(project.training)
    data = load_dataset(config.dataset.name, config.dataset.params)
    trainer = Trainer(project, data, config, threads=1)
    trainer.fit()
    true, predicted = trainer.class_predictions(trainer.val_split)
    assert trainer.preprocessing is not None
    record = trainer.preprocessing["images"]
    x = np.stack([load_image(path, record) for path in list_folder(new).images])
    trainer.model.eval()
    with torch.no_grad():
        scores = trainer.model(torch.from_numpy(x).to(trainer.device))
    new_predicted = scores.argmax(dim=1).cpu().numpy()
    return {
        "notes": len(data.notes),
        "val": float((true == predicted).mean()),
        "new": float((new_predicted == new_labels).mean()),
        "logreg": logistic_regression(trainer),
    }


def spread(values: list[float]) -> str:
    return f"{min(values):.3f} / {statistics.mean(values):.3f} / {max(values):.3f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0-2", help="a range like 0-4")
    parser.add_argument("--epochs", type=int, default=30)
    args = parser.parse_args()
    low, _, high = args.seeds.partition("-")
    seeds = list(range(int(low), int(high or low) + 1))
    print(f"seeds {seeds[0]}-{seeds[-1]}, {args.epochs} epochs; figures min / mean / max")
    print("| folder | validation accuracy | new files | LogisticRegression (same split) |")
    print("|---|---|---|---|")
    figures: dict[str, list[dict]] = {"clean": [], "messy": []}
    with tempfile.TemporaryDirectory() as tmp:
        for seed in seeds:
            clean, messy, new, new_labels = write_folders(Path(tmp) / str(seed), seed)
            for name, folder in (("clean", clean), ("messy", messy)):
                figures[name].append(one_run(folder, new, new_labels, seed, args.epochs))
    summary = {}
    for name, runs in figures.items():
        column = {key: [run[key] for run in runs] for key in ("val", "new", "logreg")}
        print(
            f"| {name} | {spread(column['val'])} | {spread(column['new'])} | "
            f"{spread(column['logreg'])} |"
        )
        summary[name] = {f"{key}_min": min(values) for key, values in column.items()}
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
