"""Export, measured on every template: what the unit tests keep too small to show.

    .venv/bin/python bench/export_check.py                  # everything below
    .venv/bin/python bench/export_check.py --only cnn_lstm_video --torchrun-runs 10

1. python / torchscript / onnx export of each template: seconds, and how far the
   compiled model's outputs are from the in-app model's.
2. The exported training script against NetLoom's own `train`, one epoch each, run
   as a user would (separate processes): are the printed numbers the same, and how
   do the wall times compare?
3. The script under `torchrun --standalone --nproc_per_node=2`, several times: does
   every run finish with both processes in step?

Prints a markdown table per part.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.codegen import compiled  # noqa: E402
from engine.codegen.python_file import to_python  # noqa: E402
from engine.project.project import load  # noqa: E402

PYTHON = sys.executable
# "train loss 1.3888 accuracy 0.2456 | val loss 1.3926 accuracy 0.2475" from either tool.
NUMBERS = re.compile(r"train loss ([\d.]+).*?val loss ([\d.]+)")


def timed(command: list[str], cwd: Path) -> tuple[float, subprocess.CompletedProcess[str]]:
    began = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=3600)
    return time.perf_counter() - began, done


def export_row(path: Path, folder: Path) -> str:
    project = load(path)
    began = time.perf_counter()
    to_python(project)
    python_s = time.perf_counter() - began
    cells = [path.stem, f"{python_s * 1000:.0f} ms"]
    for target, convert in (("pt", compiled.to_torchscript), ("onnx", compiled.to_onnx)):
        began = time.perf_counter()
        try:
            result = convert(project, folder / f"{path.stem}.{target}")
            cells.append(f"{time.perf_counter() - began:.1f} s, max diff {result.max_abs_diff:.1g}")
        except Exception as err:  # noqa: BLE001  a bench reports every outcome
            cells.append(f"failed: {str(err)[:60]}")
    return "| " + " | ".join(cells) + " |"


def training_row(path: Path, folder: Path) -> str:
    script = folder / f"train_{path.stem}.py"
    subprocess.run(
        [PYTHON, str(ROOT / "main.py"), "export", str(path), "--to", "script", "-o", str(script)],
        check=True,
        capture_output=True,
    )
    script_s, ours = timed([PYTHON, str(script), "--epochs", "1", "--out", "s"], folder)
    netloom_s, theirs = timed(
        [PYTHON, str(ROOT / "main.py"), "train", str(path), "--epochs", "1", "--out", "n"],
        folder,
    )
    if ours.returncode or theirs.returncode:
        return f"| {path.stem} | failed: {(ours.stderr or theirs.stderr)[-120:]!r} | | | |"
    mine, netloom = NUMBERS.search(ours.stdout), NUMBERS.search(theirs.stdout)
    same = "yes" if mine and netloom and mine.groups() == netloom.groups() else "NO"
    shown = f"train {mine[1]}, val {mine[2]}" if mine else "?"
    return f"| {path.stem} | {shown} | {same} | {script_s:.1f} s | {netloom_s:.1f} s |"


def torchrun_rows(path: Path, folder: Path, runs: int) -> list[str]:
    script = folder / f"train_{path.stem}.py"
    if not script.exists():
        subprocess.run(
            [
                PYTHON,
                str(ROOT / "main.py"),
                "export",
                str(path),
                "--to",
                "script",
                "-o",
                str(script),
            ],
            check=True,
            capture_output=True,
        )
    command = [
        PYTHON,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        str(script),
        "--epochs",
        "1",
        "--out",
        "t",
    ]
    rows = []
    for run in range(1, runs + 1):
        seconds, done = timed(command, folder)
        in_step = "2 processes in step: identical weights" in done.stdout
        found = NUMBERS.search(done.stdout)
        shown = f"train {found[1]}, val {found[2]}" if found else "-"
        verdict = "yes" if in_step else "NO"
        rows.append(f"| {run} | {done.returncode} | {verdict} | {shown} | {seconds:.1f} s |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="template names (default: all)")
    parser.add_argument("--torchrun-runs", type=int, default=5)
    parser.add_argument("--torchrun-template", default="cnn_lstm_video")
    parser.add_argument("--skip-training", action="store_true")
    args = parser.parse_args()
    templates = sorted((ROOT / "templates").glob("*.json"))
    if args.only:
        templates = [t for t in templates if t.stem in args.only]
    with tempfile.TemporaryDirectory(prefix="netloom-bench-") as tmp:
        folder = Path(tmp)
        print("| template | python | torchscript (export + check) | onnx (export + check) |")
        print("|---|---|---|---|")
        for path in templates:
            print(export_row(path, folder), flush=True)
        if not args.skip_training:
            print("\n| template | script, 1 epoch | same as `train` | script | netloom train |")
            print("|---|---|---|---|---|")
            for path in templates:
                print(training_row(path, folder), flush=True)
        target = ROOT / "templates" / f"{args.torchrun_template}.json"
        print(f"\ntorchrun --standalone --nproc_per_node=2, {target.stem}, 1 epoch")
        print("| run | exit | in step | numbers | wall |")
        print("|---|---|---|---|---|")
        for row in torchrun_rows(target, folder, args.torchrun_runs):
            print(row, flush=True)


if __name__ == "__main__":
    main()
