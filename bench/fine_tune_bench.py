"""Fine-tune an imported torchvision resnet18: body frozen, head replaced, on the digits.

torchvision's resnet18 (random weights, its BatchNorm statistics randomised as a trained
model's would be; nothing is downloaded) is imported with its weights
(engine.importers.from_torch), its classifier given 10 units, and trained through
`python main.py train --weights` on the digits scaled to 3 × 32 × 32 (an .npz). Two runs
per seed: the body frozen (only `fc` trains) and everything trained. Printed per run:
the frozen line the run prints, seconds per epoch, the validation accuracy, and whether
every frozen weight and BatchNorm statistic is bit for bit the imported one. The summary
gives the min and max over the seeds.

    .venv/bin/python bench/fine_tune_bench.py [--seeds 3] [--epochs 2]

torchvision is bench-only (see docs/import.md and FACTS.md on installing it). A few
minutes on two cores. The figures go in docs/import.md ("Fine-tune an imported model").
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import re
import sys
import tempfile
import types
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# torchvision's detection operators need a compiled library this install lacks; the
# classification models do not (FACTS.md).
sys.modules.setdefault(
    "torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations")
)

import torch  # noqa: E402

from engine.cli.main import run  # noqa: E402
from engine.graph.shapes import analyze  # noqa: E402
from engine.importers.check import InputSpec  # noqa: E402
from engine.importers.from_torch import import_module  # noqa: E402
from engine.project.project import to_dict  # noqa: E402
from engine.train.checkpoint import load_checkpoint, save_checkpoint  # noqa: E402


def digits_npz(folder: Path) -> Path:
    """The 1,797 digits as 3 × 32 × 32 images (each pixel a 4 × 4 square, grey in 3 channels)."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = np.kron(bunch.images / 16.0, np.ones((4, 4))).astype(np.float32)
    x = np.repeat(images[:, None], 3, axis=1)
    path = folder / "digits32.npz"
    np.savez(path, x=x, y=bunch.target.astype(np.int64))
    return path


def imported_resnet18() -> tuple[dict, dict[str, torch.Tensor]]:
    import torchvision

    torch.manual_seed(0)
    model = torchvision.models.resnet18()
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.2, 0.2)
            module.running_var.uniform_(0.5, 2.0)
    result = import_module(model.eval(), InputSpec((3, 32, 32)), "resnet18")
    if result.project is None:
        raise SystemExit(f"resnet18 does not import: {result.report}")
    return to_dict(result.project), result.state_dict


def fine_tune_doc(doc: dict, data: Path, seed: int, epochs: int, freeze: bool) -> dict:
    doc = json.loads(json.dumps(doc))
    from engine.project.project import from_dict

    facts = analyze(from_dict(doc).graph).nodes
    for node in doc["nodes"]:
        if freeze and facts[node["id"]].params and node["id"] != "fc":
            node["frozen"] = True
        if node["id"] == "fc":
            node["params"]["units"] = 10
    doc["training"] = {
        "dataset": {"name": "npz", "params": {"path": str(data), "task": "classification"}},
        "optimizer": "adam",
        "lr": 0.003,
        "batch_size": 64,
        "epochs": epochs,
        "val_split": 0.2,
        "seed": seed,
    }
    return doc


def one_run(folder: Path, doc: dict, weights: Path, imported: dict) -> dict:
    project = folder / "project.json"
    project.write_text(json.dumps(doc), encoding="utf-8")
    out = folder / "run"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = run(["train", str(project), "--weights", str(weights), "--out", str(out)])
    text = printed.getvalue()
    if code != 0:
        raise SystemExit(f"train exited {code}:\n{text}")
    frozen_line = next((line for line in text.splitlines() if "weights frozen" in line), "")
    seconds = [float(s) for s in re.findall(r"  (\d+\.\d)s$", text, re.MULTILINE)]
    accuracy = float(re.search(r"final: accuracy=([\d.]+)", text).group(1))
    trained = load_checkpoint(out / "model.pt").state_dict
    frozen_ids = {n["id"] for n in doc["nodes"] if n.get("frozen")}
    kept = "-"  # nothing frozen: nothing to keep
    if frozen_ids:
        kept = str(
            all(
                torch.equal(trained[key], imported[key])
                for key in imported
                if key.split(".", 1)[0] in frozen_ids
            )
        )
    return {
        "frozen": frozen_line.split(" (")[0] or "none frozen",
        "s/epoch": sum(seconds) / max(len(seconds), 1),
        "accuracy": accuracy,
        "kept": kept,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        data = digits_npz(folder)
        doc, state = imported_resnet18()
        weights = folder / "resnet18.pt"
        save_checkpoint(weights, state, doc, {}, {})
        rows = []
        for seed in range(args.seeds):
            for freeze in (True, False):
                result = one_run(
                    folder, fine_tune_doc(doc, data, seed, args.epochs, freeze), weights, state
                )
                rows.append((seed, "body frozen" if freeze else "all trained", result))
                print(
                    f"seed {seed}  {rows[-1][1]:<12} {result['frozen']:<40} "
                    f"{result['s/epoch']:6.1f} s/epoch  accuracy {result['accuracy']:.3f}  "
                    f"frozen weights kept: {result['kept']}",
                    flush=True,
                )
    for mode in ("body frozen", "all trained"):
        mine = [r for _, m, r in rows if m == mode]
        acc = [r["accuracy"] for r in mine]
        speed = [r["s/epoch"] for r in mine]
        print(
            f"{mode}: accuracy {min(acc):.3f}-{max(acc):.3f}, {min(speed):.1f}-{max(speed):.1f} "
            f"s/epoch over {len(mine)} seeds ({args.epochs} epochs each)"
        )


if __name__ == "__main__":
    main()
