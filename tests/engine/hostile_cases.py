"""One hostile ONNX file or checkpoint through the command that reads it, judged.

Shared by tests/engine/test_fuzz_onnx.py (a few hundred cases) and
bench/fuzz_inputs.py (tens of thousands). A case is named by its kind, seed and index:
`Case("onnx", 0, 17)` is always the same file through the same command.

What every case must give, whatever the file holds: exit 0 (the mutation did no harm:
the outputs are written), 1 (an import report whose every unsupported operation names
its node) or 2 (one line, `error: <the file>: …`); no traceback; and after a failure
none of the outputs (the project, --weights-out, the exported file, the views).
"""

from __future__ import annotations

import contextlib
import io
import random
import re
import shutil
import traceback
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from tests.engine import hostile_checkpoints, hostile_onnx
from tests.helpers import ROOT

CORPUS = ROOT / "tests" / "engine" / "import_corpus"
# The ONNX files the tests keep, with the import arguments each needs when its own
# declared input is not used.
ONNX_TEMPLATES: dict[str, list[str]] = {
    "text_lstm_dynamo.onnx": ["--input-shape", "12", "--dtype", "int64"],
    "residual_concat_dynamo.onnx": ["--input-shape", "3,16,16"],
}
KINDS = ("onnx", "checkpoint")
# A listed problem names its place first: "node conv1: Conv — why" in an import
# report, "digit: the TorchScript model differs …" in export's check.
ISSUE = re.compile(r"^\S.*?: .+")


@dataclass(frozen=True)
class Case:
    kind: str
    seed: int
    index: int

    def __str__(self) -> str:
        return f"{self.kind}:{self.index} (seed {self.seed})"

    def rng(self) -> random.Random:
        return random.Random(f"{self.kind}/{self.seed}/{self.index}")

    def family(self) -> str:
        families = hostile_onnx.FAMILIES if self.kind == "onnx" else hostile_checkpoints.FAMILIES
        return families[self.index % len(families)]


@dataclass(frozen=True)
class Outcome:
    case: Case
    family: str
    code: int | None
    problem: str | None  # None: the case was answered as it must be
    traceback: bool = False
    first_line: str = ""


@cache
def onnx_templates(extra: tuple[Path, ...] = ()) -> dict[str, tuple[bytes, list[str]]]:
    found = {name: ((CORPUS / name).read_bytes(), args) for name, args in ONNX_TEMPLATES.items()}
    for path in extra:  # e.g. a template exported by `export --to onnx`: its input is fixed
        found[path.name] = (path.read_bytes(), [])
    return found


@cache
def good_checkpoint() -> tuple[dict[str, Any], bytes]:
    document = hostile_checkpoints.good_document()
    return document, hostile_checkpoints.saved(document)


def command(
    case: Case, folder: Path, extra: tuple[Path, ...] = ()
) -> tuple[list[str], Path, list[Path]]:
    """The hostile file written into `folder`, the command line that reads it, and the
    outputs that must not exist if it fails."""
    rng = case.rng()
    family = case.family()
    if case.kind == "onnx":
        name = rng.choice(sorted(onnx_templates(extra)))
        template, args = onnx_templates(extra)[name]
        path = hostile_onnx.write_case(rng, template, folder / "in", family)
        if rng.random() < 0.3:
            args = []  # the file's own declared input
        project, weights = folder / "out" / "p.json", folder / "out" / "w.pt"
        argv = ["import", str(path), *args, "-o", str(project), "--weights-out", str(weights)]
        return argv, path, [project, weights]
    document, saved = good_checkpoint()
    path = hostile_checkpoints.write_case(rng, document, saved, folder / "in", family)
    project = str(hostile_checkpoints.DATA)
    how = rng.choice(["export", "inspect"])
    if how == "export":
        out = folder / "out" / "m.pt"
        argv = ["export", project, "--to", "torchscript", "-o", str(out), "--weights", str(path)]
    else:
        out = folder / "out" / "views"
        argv = ["inspect", project, "--weights", str(path), "--out", str(out)]
    return argv, path, [out]


def judge(code: int | None, err: str, path: Path, leftovers: list[Path]) -> str | None:
    """What is wrong with how a command answered a hostile file, or None."""
    lines = [line for line in err.strip().splitlines() if line.strip()]
    if code not in (0, 1, 2):
        return f"exit {code}"
    if "Traceback" in err:
        return "a traceback on stderr"
    if code == 0:
        return None
    if left := [p.name for p in leftovers if p.exists()]:
        return f"exit {code} but left {', '.join(left)}"
    if code == 2:
        if len(lines) != 1:
            return f"exit 2 with {len(lines)} lines"
        if not lines[0].startswith("error: ") or path.name not in lines[0]:
            return f"exit 2 without naming the file: {lines[0][:200]}"
        return None
    # Indented lines list the problems; a heading of a list ("unsupported:") is no problem.
    issues = [line.strip() for line in lines if line.startswith("  ")]
    issues = [line for line in issues if not line.endswith(":")]
    if not issues or not all(ISSUE.match(line) for line in issues):
        return "exit 1 without naming each place"
    return None


def run_case(case: Case, root: Path, extra: tuple[Path, ...] = ()) -> Outcome:
    """Write the case into root/<kind>-<index>, run its command in this process, judge."""
    from engine.cli.main import run

    folder = root / f"{case.kind}-{case.index}"
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "out").mkdir(parents=True)
    argv, path, outputs = command(case, folder, extra)
    err, out = io.StringIO(), io.StringIO()
    code: int | None = None
    escaped = ""
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            code = run(argv)
    except SystemExit as exit_:  # argparse, or a command that exits
        code = exit_.code if isinstance(exit_.code, int) else 2
    except Exception as error:  # what the fuzz is for: an exception that escaped
        escaped = "".join(traceback.format_exception(error)[-4:])
    text = err.getvalue()
    first = next((line for line in text.splitlines() if line.strip()), "")
    if escaped:
        problem: str | None = f"traceback: {escaped}"
    else:
        problem = judge(code, text, path, outputs)
    outcome = Outcome(
        case, case.family(), code, problem, bool(escaped) or "Traceback" in text, first
    )
    shutil.rmtree(folder, ignore_errors=True)
    return outcome
