"""`check`, `train` and `export` each run one shape pass over the project's graph and hand
its facts (shapes, params, FLOPs, the units expanded) to everything after: the memory
check, the fit against the data, the model build, the generated code (issue 24, item 5).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

# Loaded before counting starts, so every module holding `analyze` is counted.
import engine.codegen.compiled
import engine.codegen.python_file
import engine.codegen.script
import engine.train.trainer  # noqa: F401
from engine.cli.main import parser, run
from engine.graph.shapes import analyze
from engine.project.project import load
from engine.project.templates import TEMPLATES_DIR
from tests.shape_passes import ShapePasses, count_shape_passes

parser()  # imports every command module


def tiny_unet(folder: Path) -> Path:
    """The U-Net template (two unit definitions, five instances) on 40 generated images."""
    doc = json.loads((TEMPLATES_DIR / "unet_segmentation.json").read_text(encoding="utf-8"))
    doc["training"]["dataset"]["params"]["samples"] = 40
    doc["training"]["epochs"] = 1
    path = folder / "unet.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return tiny_unet(tmp_path)


@pytest.fixture
def passes(project: Path, monkeypatch: pytest.MonkeyPatch) -> ShapePasses:
    """Counting, from after the project's file is read. The counter is first seen to count
    one real pass over a freshly loaded graph (one graph, its unit bodies opened)."""
    counted = count_shape_passes(monkeypatch)
    analyze(load(project).graph)
    assert counted.graphs == 1 and counted.unit_bodies > 0
    return counted


@pytest.fixture
def bodies_per_pass(passes: ShapePasses) -> int:
    """How many unit bodies one pass over a freshly loaded graph opens (a unit's library
    remembers a body's facts for the same params and input shapes, so a second pass over
    the same graph would open none): a command that loads the file once opens as many."""
    bodies = passes.unit_bodies
    passes.reset()
    return bodies


def assert_one_pass(passes: ShapePasses, bodies_per_pass: int) -> None:
    assert passes.graphs == 1, f"{passes.graphs} shape passes, from {passes.callers}"
    # Units are expanded once too: as many unit bodies as one pass opens, no more.
    assert passes.unit_bodies == bodies_per_pass


def test_train_analyses_the_graph_once(
    project: Path, passes: ShapePasses, bodies_per_pass: int, tmp_path: Path, capsys: Any
) -> None:
    assert run(["train", str(project), "--out", str(tmp_path / "run")]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("final: mean_iou=")
    assert_one_pass(passes, bodies_per_pass)


def test_check_analyses_the_graph_once(
    project: Path, passes: ShapePasses, bodies_per_pass: int, capsys: Any
) -> None:
    assert run(["check", str(project)]) == 0
    assert "OK: every wire fits" in capsys.readouterr().out
    assert_one_pass(passes, bodies_per_pass)


@pytest.mark.parametrize("target", ["python", "script", "torchscript"])
def test_export_analyses_the_graph_once(
    target: str,
    project: Path,
    passes: ShapePasses,
    bodies_per_pass: int,
    tmp_path: Path,
    capsys: Any,
) -> None:
    out = tmp_path / f"unet.{target}"
    assert run(["export", str(project), "--to", target, "-o", str(out)]) == 0
    assert capsys.readouterr().out.startswith(f"wrote {out} ({target}")
    assert out.stat().st_size > 0
    assert_one_pass(passes, bodies_per_pass)
