"""A checkpoint's stored preprocessing reaches the exported script only as a literal:
text that looks like code (quotes, line breaks, a closing brace) stays text, and a
preprocessing that cannot be written as a literal is refused naming the file."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import pytest

from engine.cli.main import run
from engine.model.build import build_model
from engine.project.project import from_dict
from engine.train.checkpoint import cpu_state, save_checkpoint
from tests.engine.test_codegen import script_ruff_failures
from tests.engine.test_preprocessing_travels import arrays_project, write_measurements

HOSTILE = 'x"}\nimport os; os.system("echo pwned")  # \'\'\' """ \\ \u202e\x00'


def export_with(tmp_path: Path, preprocessing: Any) -> tuple[int, Path]:
    write_measurements(tmp_path / "measurements.npz")
    doc = arrays_project(tmp_path / "measurements.npz")
    model = build_model(from_dict(doc).graph)
    save_checkpoint(tmp_path / "model.pt", cpu_state(model), doc, {}, {}, preprocessing)
    (tmp_path / "project.json").write_text(json.dumps(doc), encoding="utf-8")
    script = tmp_path / "script.py"
    args = ["export", str(tmp_path / "project.json"), "--to", "script", "-o", str(script)]
    return run([*args, "--weights", str(tmp_path / "model.pt")]), script


def test_text_that_looks_like_code_stays_text(tmp_path: Path) -> None:
    stored = {
        "kind": "arrays",
        "features": None,
        "target": None,
        HOSTILE: [HOSTILE, {"nested": HOSTILE}],
        "classes": ["a", "b", HOSTILE],
    }
    code, script = export_with(tmp_path, stored)
    assert code == 0
    source = script.read_text(encoding="utf-8")
    tree = ast.parse(source)
    calls = [n.func for n in ast.walk(tree) if isinstance(n, ast.Call)]
    assert not [f for f in calls if isinstance(f, ast.Attribute) and f.attr == "system"]
    (assignment,) = [
        n
        for n in tree.body
        if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "PREPROCESSING"
    ]
    assert ast.literal_eval(assignment.value) == stored  # a literal: the text stays text
    assert script_ruff_failures(source.replace(str(tmp_path), "data"), tmp_path) == {}


def test_weights_that_are_no_checkpoint_are_one_line(tmp_path: Path, capsys: Any) -> None:
    write_measurements(tmp_path / "measurements.npz")
    (tmp_path / "project.json").write_text(
        json.dumps(arrays_project(tmp_path / "measurements.npz")), encoding="utf-8"
    )
    (tmp_path / "model.pt").write_bytes(b"not a checkpoint")
    args = ["export", str(tmp_path / "project.json"), "--to", "script", "-o", "s.py"]
    assert run([*args, "--weights", str(tmp_path / "model.pt")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {tmp_path / 'model.pt'}: ") and err.count("\n") == 1
    assert not Path("s.py").exists()


@pytest.mark.parametrize("number", [float("nan"), float("inf")])
def test_a_number_no_literal_holds_is_refused_naming_the_file(
    tmp_path: Path, capsys: Any, number: float
) -> None:
    code, script = export_with(tmp_path, {"kind": "arrays", "features": {"mean": [number]}})
    assert code == 1
    err = capsys.readouterr().err
    assert f"{tmp_path / 'model.pt'}: its stored preprocessing: cannot write the number" in err
    assert not script.exists()
