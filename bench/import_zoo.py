"""Import the models people already have: the torchvision and timm zoos and text idioms.

    .venv/bin/python bench/import_zoo.py                    # the default list (~15 min, 2 cores)
    .venv/bin/python bench/import_zoo.py --all              # with the heavy variants
    .venv/bin/python bench/import_zoo.py --models resnet18,timm:dla34,text_cnn
    .venv/bin/python bench/import_zoo.py --markdown zoo.md  # the table as Markdown too

torchvision and timm are a bench corpus, never NetLoom dependencies (the `bench` extra
names them). PyPI's torchvision 0.28.0 is a CUDA build: install it without its
dependencies, so that pip keeps the CPU torch, then timm's small ones:

    .venv/bin/pip install --no-deps torchvision==0.28.0 timm==1.0.31
    .venv/bin/pip install pyyaml huggingface_hub safetensors

(bench/zoo_models.py puts an empty `torchvision._meta_registrations` in place before the
first import: that module loads torchvision's CUDA extension; the classifiers need none.)

Each model in bench/zoo_models.py is built with ten classes and no pretrained weights,
its BatchNorm running statistics randomised (a fresh norm, mean 0 and variance 1, hides
a norm the import skipped or folded wrongly), and put in eval mode. It is then imported
three ways:

- `py`: in-process by `engine.importers.from_torch.import_module`;
- `onnx`: from the file `torch.onnx.export(dynamo=False)` writes, batch axis dynamic;
- `onnx-dynamo`: from the file the torch.export-based exporter writes; when it refuses a
  dynamic batch the export is retried with a static one (the row says so).

The importers prove their own result (the report's check line). The bench checks it again
from the outside: the imported project is built with `engine.model.build` and the
imported weights, fed a batch the importer did not probe with, and compared with the
original torch model. A row passes when the import succeeded and that difference is
within 1e-4 absolute or 1e-5 relative to the output's largest magnitude. Printed: one row
per model and source (blocks on the canvas, blocks with the units' insides, units, import
seconds, max abs diff, the first reason of a failure), the pass rate per source, the time
to import resnet18 from Python in-process (the bar is 3 s) and the bench's own run time.
An export the exporter itself refuses is listed but is no import failure.

Each project imported from Python is exported by `export --to python` and imported back,
compared as the round-trip identity test compares (tests/engine/roundtrip_checks.py): the
column "round trip" says `same` or the first difference. `--no-round-trip` skips it.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import io
import logging
import os
import re
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
from torch import nn  # noqa: E402

from bench.zoo_models import VOCABULARY, ZOO, ZooModel, default_models, short_name  # noqa: E402
from engine.graph.shapes import analyze  # noqa: E402
from engine.importers.check import ImportResult, example_input  # noqa: E402
from engine.importers.from_onnx import import_onnx  # noqa: E402
from engine.importers.from_torch import import_module  # noqa: E402
from engine.model.build import build_model  # noqa: E402
from engine.project.project import Project  # noqa: E402
from engine.units.units import walk  # noqa: E402
from tests.engine.roundtrip_checks import first_difference  # noqa: E402

SOURCES = ("py", "onnx", "onnx-dynamo")
ABSOLUTE, RELATIVE = 1e-4, 1e-5  # the tolerance of the issue: absolute OR relative
SPEED_MODEL, SPEED_BAR = "tv:resnet18", 3.0  # seconds
CHECK_BATCH, CHECK_SEED = 2, 7  # not the importers' probe batch (3) or seed (0)
REASON_WIDTH = 110
INSTALLED = re.compile(r"\S*site-packages/")  # timm/layers/norm.py:132 reads better bare


@dataclass
class Row:
    model: str
    source: str
    result: str  # "pass", "FAIL" or "no file" (the exporter refused the model)
    reason: str = ""
    blocks: int | None = None  # on the canvas
    inside: int | None = None  # with the units' insides
    units: int | None = None  # distinct unit definitions
    seconds: float | None = None  # the import, the importer's own check included
    export_seconds: float | None = None  # writing the ONNX file (retries included)
    check: str = ""  # the importer's own comparison, shortened: "bit-identical", "2e-06 vs ORT"
    diff: float | None = None
    round_trip: str = ""  # "same", the first difference, or "" when not round-tripped


class ExportRefused(Exception):
    """The ONNX exporter could not write the model: no file to import."""


# ------------------------------------------------------------------ preparing a model


def batch_norms(model: nn.Module) -> list[nn.modules.batchnorm._BatchNorm]:
    return [
        m
        for m in model.modules()
        if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats
    ]


def randomise_norm_statistics(model: nn.Module, seed: int = 0) -> nn.Module:
    """BatchNorm running means around 0 (sd 0.1) and variances in 0.5..1.5; eval mode.

    A fresh norm (mean 0, variance 1) hides a norm the import skipped or folded wrongly.
    Statistics measured on a random batch instead were tried: in train mode EfficientNet's
    stochastic depth and the small late feature maps gave statistics under which torch and
    ONNX Runtime themselves differ by 5% of the output, so the rows judged float32, not the
    import. Drawn like this, a deep net's outputs can grow large (Inception v3's reach 1e12):
    such a row passes on the relative rule only, and says so."""
    generator = torch.Generator().manual_seed(seed)
    for norm in batch_norms(model):
        mean, var = norm.running_mean, norm.running_var
        mean.copy_(torch.randn(mean.shape, generator=generator) * 0.1)
        var.copy_(torch.rand(var.shape, generator=generator) + 0.5)
    return model.eval()


def build(entry: ZooModel) -> nn.Module:
    torch.manual_seed(0)
    return randomise_norm_statistics(entry.make())


def first_line(err: BaseException) -> str:
    text = str(err).strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return f"{type(err).__name__}: {lines[0] if lines else ''}"


@contextlib.contextmanager
def quiet() -> Iterable[None]:
    """The exporters and tracers print progress and warnings: keep the table readable."""
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield


# ------------------------------------------------------------------ judging an import


def importer_check(check: str) -> str:
    """The importer's own comparison (the report's check line) in a few characters."""
    if "bit-identical" in check:
        return "bit-identical"
    if found := re.search(r"within ([\d.e+-]+) of ONNX Runtime", check):
        return f"{found[1]} vs ORT"
    if found := re.search(r"differ.* up to ([\d.e+-]+)", check):
        return f"differs {found[1]}"
    return ""


def within(diff: float, scale: float) -> bool:
    return diff <= ABSOLUTE or diff <= RELATIVE * scale


def outside_difference(
    result: ImportResult, model: nn.Module, entry: ZooModel
) -> tuple[float, float]:
    """Max abs difference between the original and the imported project built afresh
    with the imported weights, and the original output's largest magnitude."""
    assert result.project is not None
    imported = build_model(result.project.graph)
    imported.load_state_dict(result.state_dict, strict=True)
    imported.eval()
    x = example_input(entry.spec, CHECK_BATCH, VOCABULARY, seed=CHECK_SEED)
    with torch.no_grad():
        want, got = model(x), imported(x)
    if want.shape != got.shape:
        raise ValueError(f"NetLoom gives {tuple(got.shape)}, the model {tuple(want.shape)}")
    return float((want.double() - got.double()).abs().max()), float(want.abs().max())


def counts(project: Project) -> tuple[int, int, int]:
    """Blocks on the canvas, blocks with every unit opened, distinct units."""
    units: set[str] = set()
    inside = 0
    for _, info in walk(project.graph, analyze(project.graph)):
        if info.op is not None and info.op.kind == "unit":
            units.add(info.op.target)
        else:
            inside += 1
    return len(project.graph), inside, len(units)


def judge(entry: ZooModel, source: str, model: nn.Module, run: Callable[[], ImportResult]) -> Row:
    row = Row(entry.name, source, "FAIL")
    start = time.perf_counter()
    try:
        with quiet():
            result = run()
    except Exception as err:  # a crash is a finding: one line in the table, go on
        row.seconds = time.perf_counter() - start
        row.reason = f"crash: {first_line(err)}"
        return row
    row.seconds = time.perf_counter() - start
    row.check = importer_check(result.report.check)
    if result.project is None:
        errors = result.report.errors
        first = INSTALLED.sub("", str(errors[0])) if errors else ""
        row.reason = f"{len(errors)} unsupported; first: {first}" if errors else "no project"
        return row
    row.blocks, row.inside, row.units = counts(result.project)
    try:
        row.diff, scale = outside_difference(result, model, entry)
    except Exception as err:  # the project the importer accepted does not build or run
        row.reason = f"rebuilt project: {first_line(err)}"
        return row
    if not within(row.diff, scale):
        row.reason = f"differs by {row.diff:.3g} (largest output {scale:.3g})"
        return row
    row.result = "pass"
    if row.diff > ABSOLUTE:  # passed on the relative rule: say by how much
        row.reason = f"{row.diff / scale:.1g} of the largest output {scale:.3g}"
    return row


# ------------------------------------------------------------------ the three sources


def round_trip(project: Project) -> str:
    """`same` when importing the project's Python export gives the project back, else the
    first difference (or the crash) in one line."""
    with tempfile.TemporaryDirectory() as folder:
        try:
            with quiet():
                found = first_difference(project, Path(folder) / "exported.py")
        except Exception as err:  # a crash is a finding: one line in the table, go on
            return f"crash: {first_line(err)}"
    return "same" if found is None else INSTALLED.sub("", found)


def from_python(entry: ZooModel, model: nn.Module, check_round_trip: bool = True) -> Row:
    results: list[ImportResult] = []

    def run() -> ImportResult:
        results.append(import_module(model, entry.spec, entry.name))
        return results[-1]

    row = judge(entry, "py", model, run)
    if check_round_trip and results and results[0].project is not None:
        row.round_trip = round_trip(results[0].project)
    return row


def export_onnx(entry: ZooModel, model: nn.Module, path: Path, dynamo: bool) -> str:
    """Write the model's ONNX file; returns a note for the table ("static batch")."""
    x = example_input(entry.spec, CHECK_BATCH, VOCABULARY)
    if not dynamo:
        axes = {"x": {0: "N"}, "y": {0: "N"}}
        with quiet():
            try:
                torch.onnx.export(
                    model, (x,), str(path), dynamo=False, input_names=["x"],
                    output_names=["y"], dynamic_axes=axes,
                )  # fmt: skip
            except Exception as err:
                raise ExportRefused(first_line(err)) from None
        return ""
    batch = torch.export.Dim("N")
    try:
        with quiet():
            torch.onnx.export(
                model, (x,), str(path), dynamo=True, input_names=["x"],
                dynamic_shapes=({0: batch},), verbose=False,
            )  # fmt: skip
        return ""
    except Exception:
        pass  # the exporter specialised the batch: a static one is what it can write
    try:
        with quiet():
            torch.onnx.export(model, (x,), str(path), dynamo=True, input_names=["x"], verbose=False)
    except Exception as err:
        raise ExportRefused(first_line(err)) from None
    return f"static batch {CHECK_BATCH}"


def from_onnx(entry: ZooModel, model: nn.Module, folder: Path, dynamo: bool) -> Row:
    source = "onnx-dynamo" if dynamo else "onnx"
    path = folder / f"{short_name(entry)}_{source}.onnx"
    start = time.perf_counter()
    try:
        note = export_onnx(entry, model, path, dynamo)
    except ExportRefused as err:
        row = Row(entry.name, source, "no file", f"export refused: {err}")
        row.export_seconds = time.perf_counter() - start
        return row
    exported = time.perf_counter() - start
    spec = entry.spec
    row = judge(
        entry, source, model, lambda: import_onnx(path, spec.dims, spec.sequence, spec.dtype)
    )
    row.export_seconds = exported
    if note:
        row.reason = f"{note}; {row.reason}" if row.reason else note
    path.unlink(missing_ok=True)
    return row


def import_speed(entry: ZooModel, repeats: int = 5) -> list[float]:
    """Seconds to import the model from Python in-process, each of `repeats` times; the
    first includes the one-off costs of a process (torch.fx's first trace, lazy imports)."""
    model = build(entry)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        with quiet():
            result = import_module(model, entry.spec, entry.name)
        times.append(time.perf_counter() - start)
        if result.project is None:
            break
    return times


# ------------------------------------------------------------------ the table


def cell(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.2g}" if value and value < 0.01 else f"{value:.2f}"
    return str(value)


HEADERS = (
    "model", "source", "blocks", "inside", "units", "import s", "export s",
    "importer's check", "max abs diff", "round trip", "result",
)  # fmt: skip
WIDTHS = (28, 11, 6, 6, 5, 8, 8, 16, 12, 10)


def table_cells(row: Row) -> list[str]:
    seconds = None if row.seconds is None else f"{row.seconds:.1f}"
    export = None if row.export_seconds is None else f"{row.export_seconds:.1f}"
    diff = None if row.diff is None else f"{row.diff:.2g}"
    verdict = row.result + (f": {row.reason}" if row.reason else "")
    return [
        row.model, row.source, cell(row.blocks), cell(row.inside), cell(row.units),
        cell(seconds), cell(export), row.check or "–", cell(diff), row.round_trip or "–",
        verdict,
    ]  # fmt: skip


def print_row(row: Row) -> None:
    cells = table_cells(row)
    cells[-1] = cells[-1][:REASON_WIDTH]
    if len(row.round_trip) > WIDTHS[-1]:  # the difference goes on a line of its own
        cells[-2] = "crash" if row.round_trip.startswith("crash") else "differs"
    print("  ".join(c.ljust(w) for c, w in zip(cells, WIDTHS)) + "  " + cells[-1], flush=True)
    if len(row.round_trip) > WIDTHS[-1]:
        print(f"    round trip of {row.model}: {row.round_trip[:REASON_WIDTH]}", flush=True)


def pass_rates(rows: list[Row]) -> list[str]:
    lines = []
    for source in SOURCES:
        mine = [r for r in rows if r.source == source]
        files = [r for r in mine if r.result != "no file"]
        passed = sum(r.result == "pass" for r in files)
        if not mine:
            continue
        share = 100 * passed / len(files) if files else 0.0
        refused = len(mine) - len(files)
        extra = f" ({refused} the exporter could not write)" if refused else ""
        lines.append(f"{source}: {passed}/{len(files)} pass = {share:.0f}%{extra}")
    if tripped := [r for r in rows if r.round_trip]:
        same = sum(r.round_trip == "same" for r in tripped)
        lines.append(f"round trip (py): {same}/{len(tripped)} the same project")
    return lines


def markdown(rows: list[Row], summary: list[str]) -> str:
    def line(cells: Iterable[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    lines = [line(HEADERS), line("---" for _ in HEADERS)]
    lines += [line(table_cells(r)) for r in rows]
    return "\n".join(lines + [""] + [f"- {s}" for s in summary]) + "\n"


# ------------------------------------------------------------------ main


def chosen(names: str | None, everything: bool = False) -> list[ZooModel]:
    """The models `--models` names, full (`timm:efficientnet_b0`) or short (`resnet18`: a
    short name found in both zoos picks both); without names the default list, or with
    `everything` the heavy variants too."""
    if not names:
        return list(ZOO) if everything else default_models()
    picked: list[ZooModel] = []
    for name in (n.strip() for n in names.split(",") if n.strip()):
        found = [m for m in ZOO if name in (m.name, short_name(m))]
        if not found:
            raise SystemExit(
                f"--models: no model {name!r} in bench/zoo_models.py; "
                f"choose from {', '.join(m.name for m in ZOO)}"
            )
        picked += [m for m in found if m not in picked]
    return picked


def run_model(entry: ZooModel, sources: tuple[str, ...], folder: Path, trip: bool) -> list[Row]:
    try:
        with quiet():
            model = build(entry)
    except Exception as err:  # a zoo that cannot build its own model is named, not hidden
        rows = [Row(entry.name, s, "no file", f"cannot build: {first_line(err)}") for s in sources]
        for row in rows:
            print_row(row)
        return rows
    rows = []
    for source in sources:
        if source == "py":
            rows.append(from_python(entry, model, trip))
        else:
            rows.append(from_onnx(entry, model, folder, dynamo=source == "onnx-dynamo"))
        print_row(rows[-1])
    return rows


def versions() -> str:
    """When, and with which exporters and runtimes: the table depends on all of them."""
    names = ("torch", "torchvision", "timm", "onnx", "onnxscript", "onnxruntime")
    found = []
    for name in names:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name} (not installed)")
    day = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return f"run {day}; {', '.join(found)}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", help="a comma-separated subset (resnet18,timm:dla34,…)")
    parser.add_argument("--all", action="store_true", help="the heavy variants too")
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    parser.add_argument("--sources", default=",".join(SOURCES), help="py,onnx,onnx-dynamo")
    parser.add_argument("--no-round-trip", action="store_true", help="skip export+import back")
    # One thread: on two shared, busy cores two torch threads wait on each other (resnet50
    # from Python took 22 s with two, 3.4 s with one, measured under load).
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = parser.parse_args(argv)
    sources = tuple(s.strip() for s in args.sources.split(",") if s.strip())
    if bad := [s for s in sources if s not in SOURCES]:
        parser.error(f"--sources: no source {', '.join(bad)}; choose from {', '.join(SOURCES)}")
    entries = chosen(args.models, args.all)
    torch.set_num_threads(args.threads)
    logging.disable(logging.WARNING)
    began = time.perf_counter()
    summary = []
    speed = next((m for m in ZOO if m.name == SPEED_MODEL), None)
    if speed is not None and (not args.models or speed in entries):
        times = import_speed(speed)
        verdict = "within" if min(times) <= SPEED_BAR else "OVER"
        summary.append(
            f"import speed: {SPEED_MODEL} from Python in-process (interpreter and torch "
            f"start-up excluded): min {min(times):.2f} s over {len(times)} imports, "
            f"the first in the process {times[0]:.2f} s ({verdict} the {SPEED_BAR:g} s bar)"
        )
        print(summary[-1], flush=True)
    print("  ".join(h.ljust(w) for h, w in zip(HEADERS, (*WIDTHS, 0))))
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as folder:
        for entry in entries:
            rows += run_model(entry, sources, Path(folder), not args.no_round_trip)
    summary += pass_rates(rows)
    summary.append(versions())
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    summary.append(
        f"bench run time {time.perf_counter() - began:.0f} s with {args.threads} torch "
        f"thread(s); load average at the end {load} on {os.cpu_count()} cores"
    )
    print("\n".join(summary))
    if args.markdown:
        args.markdown.write_text(markdown(rows, summary), encoding="utf-8")
        print(f"wrote {args.markdown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
