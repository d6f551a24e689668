"""`export`: crafted checkpoints end in one line; exported files get the modes users expect.

Before: a checkpoint without state_dict, with integer keys or holding a list gave
KeyError/AttributeError tracebacks; torch's multi-line load errors were printed whole;
NaN weights were reported as "differs by up to nan". Exported files were 0600
whatever the umask.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch

from engine.cli.main import run
from engine.model.build import build_model
from engine.project.project import load, to_dict
from engine.train.checkpoint import FORMAT, VERSION, save_checkpoint
from tests.helpers import TINY_DIGITS

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def good_state() -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    return build_model(load(TINY_DIGITS).graph).state_dict()


def checkpoint_doc(**changes: Any) -> dict[str, Any]:
    doc = {
        "format": FORMAT,
        "version": VERSION,
        "state_dict": good_state(),
        "project": to_dict(load(TINY_DIGITS)),
        "config": {},
        "metrics": {},
    }
    doc.update(changes)
    return {k: v for k, v in doc.items() if v is not None}


def export_with(tmp_path: Path, saved: Any, capsys) -> tuple[int, str]:
    weights = tmp_path / "model.pt"
    torch.save(saved, weights)
    out = tmp_path / "m.pt"
    args = ["export", str(TINY_DIGITS), "--to", "torchscript", "-o", str(out)]
    code = run([*args, "--weights", str(weights)])
    err = capsys.readouterr().err
    assert not out.exists()
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return code, lines[0]


def shrunk(key: str) -> dict[str, torch.Tensor]:
    state = good_state()
    state[key] = state[key][:16]
    return state


CASES: dict[str, tuple[Any, str]] = {
    "no state_dict": (
        checkpoint_doc(state_dict=None),
        "state_dict: expected the weights by name, got no state_dict",
    ),
    "state_dict is a list": (
        checkpoint_doc(state_dict=[1, 2, 3]),
        "state_dict: expected the weights by name, got a list",
    ),
    "integer keys": (
        checkpoint_doc(state_dict={0: torch.zeros(1)}),
        "state_dict: expected weight names as keys, got 0 (int)",
    ),
    "a value that is no tensor": (
        checkpoint_doc(state_dict={**good_state(), "dense1.weight": [1.0]}),
        "state_dict.dense1.weight: expected a tensor, got a list",
    ),
    "the whole file is a list": ([1, 2, 3], "not a NetLoom checkpoint"),
    "project is a string": (
        checkpoint_doc(project="x"),
        "project: expected an object, got a str",
    ),
    "a missing key": (
        checkpoint_doc(state_dict={k: v for k, v in good_state().items() if k != "dense2.bias"}),
        "the weights do not fit the graph: dense2.bias is missing",
    ),
    "a wrong shape": (
        checkpoint_doc(state_dict=shrunk("dense1.weight")),
        "the weights do not fit the graph: dense1.weight has shape [16, 64]; "
        "the graph needs [32, 64]",
    ),
    "an extra key": (
        checkpoint_doc(state_dict={**good_state(), "dense1.scale": torch.ones(1)}),
        "the weights do not fit the graph: dense1.scale belongs to no weight of this graph",
    ),
    "nan weights": (
        checkpoint_doc(
            state_dict={**good_state(), "dense2.weight": torch.full((10, 32), float("nan"))}
        ),
        "NaN or infinite weights in dense2.weight (training diverged)",
    ),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_a_crafted_checkpoint_is_one_line_exit_2(tmp_path: Path, capsys, case: str) -> None:
    saved, message = CASES[case]
    code, line = export_with(tmp_path, saved, capsys)
    assert code == 2
    assert line.startswith(f"error: {tmp_path / 'model.pt'}: ")
    assert message in line


# ------------------------------------------------------------------ file modes

TARGETS = ["python", "script", "torchscript", "onnx"]


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.mark.parametrize("target", TARGETS)
def test_an_exported_file_gets_the_umask_mode(
    tmp_path: Path, capsys, umask_022: None, target: str
) -> None:
    out = tmp_path / f"m.{target}"
    assert run(["export", str(TINY_DIGITS), "--to", target, "-o", str(out)]) == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # no temporary file left


@pytest.mark.parametrize("target", ["python", "torchscript"])
def test_exporting_over_a_file_keeps_its_mode_and_follows_a_symlink(
    tmp_path: Path, capsys, umask_022: None, target: str
) -> None:
    real = tmp_path / "keep" / "model.out"
    real.parent.mkdir()
    real.write_text("old")
    real.chmod(0o600)
    link = tmp_path / "link.out"
    link.symlink_to(real)
    assert run(["export", str(TINY_DIGITS), "--to", target, "-o", str(link)]) == 0
    assert link.is_symlink()
    assert real.read_bytes() != b"old"
    assert stat.S_IMODE(real.stat().st_mode) == 0o600


def test_a_checkpoint_written_by_train_code_loads_for_export(tmp_path: Path, capsys) -> None:
    # The positive case beside the crafted ones: a real checkpoint exports.
    save_checkpoint(tmp_path / "ok.pt", good_state(), to_dict(load(TINY_DIGITS)), {}, {})
    out = tmp_path / "m.pt"
    args = ["export", str(TINY_DIGITS), "--to", "torchscript", "-o", str(out)]
    assert run([*args, "--weights", str(tmp_path / "ok.pt")]) == 0
    assert out.exists()


def test_the_windows_export_call_writes_with_the_umask_too(tmp_path: Path, umask_022: None) -> None:
    # The editor's File > Export runs export_project on the open project.
    from engine.codegen.command import export_project

    out = tmp_path / "model.py"
    export_project(load(TINY_DIGITS), "python", out)
    assert stat.S_IMODE(out.stat().st_mode) == 0o644
