"""`python main.py export`: what a user sees — files written, messages, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import torch

from engine.build import build_model
from engine.cli import run
from engine.codegen import to_python
from engine.codegen.compiled import example_inputs
from engine.codegen.python_file import project_model
from engine.project import load

ROOT = Path(__file__).resolve().parents[2]
VIDEO = ROOT / "templates" / "cnn_lstm_video.json"
TWO_INPUTS = Path(__file__).resolve().parent / "data" / "two_inputs.json"


@pytest.fixture(autouse=True)
def one_torch_thread() -> None:
    torch.set_num_threads(1)


def broken_project(tmp_path: Path) -> Path:
    """The two-input project with a Reshape whose target cannot hold its input."""
    doc = json.loads(TWO_INPUTS.read_text(encoding="utf-8"))
    for node in doc["nodes"]:
        if node["id"] == "reshape1":
            node["params"]["shape"] = [5, -1]
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_python_export_writes_a_runnable_module(tmp_path: Path, capsys) -> None:
    out = tmp_path / "video_model.py"
    assert run(["export", str(VIDEO), "--to", "python", "-o", str(out)]) == 0
    assert capsys.readouterr().out.startswith(f"wrote {out} (python, ")
    assert out.read_text(encoding="utf-8") == to_python(load(VIDEO))
    done = subprocess.run(
        [sys.executable, str(out)], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "(2, 4)"  # batch 2, four directions


def test_a_project_with_errors_is_refused_and_nothing_is_written(tmp_path: Path, capsys) -> None:
    out = tmp_path / "model.py"
    for target in ("python", "torchscript"):
        code = run(["export", str(broken_project(tmp_path)), "--to", target, "-o", str(out)])
        assert code == 1
        err = capsys.readouterr().err
        assert f"cannot export {tmp_path / 'broken.json'} --to {target}:" in err
        assert "reshape1: Reshape cannot fit 24 values per sample into (5, -1)" in err
        assert not out.exists()
    assert list(tmp_path.iterdir()) == [tmp_path / "broken.json"]  # no temporary left over


def test_unreadable_project_exits_2_naming_the_file(tmp_path: Path, capsys) -> None:
    missing = tmp_path / "nope.json"
    assert run(["export", str(missing), "--to", "python", "-o", str(tmp_path / "m.py")]) == 2
    assert f"{missing}: no such file" in capsys.readouterr().err


def test_output_in_a_missing_folder_exits_2(tmp_path: Path, capsys) -> None:
    out = tmp_path / "no_such_folder" / "m.py"
    assert run(["export", str(VIDEO), "--to", "python", "-o", str(out)]) == 2
    assert f"the folder {out.parent} does not exist" in capsys.readouterr().err


def test_unknown_target_is_a_usage_error(tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        run(["export", str(VIDEO), "--to", "keras", "-o", str(tmp_path / "m")])
    assert exit_info.value.code == 2
    assert "invalid choice: 'keras'" in capsys.readouterr().err


def test_torchscript_export_is_checked_and_loads_without_the_source(tmp_path: Path, capsys) -> None:
    out = tmp_path / "video.pt"
    assert run(["export", str(VIDEO), "--to", "torchscript", "-o", str(out)]) == 0
    said = capsys.readouterr().out
    assert "checked against NetLoom at batch 2 and 3: identical" in said
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        scripted = torch.jit.load(str(out))
    (frames,) = example_inputs(project_model(load(VIDEO)).inputs, batch=4)
    assert tuple(scripted(frames).shape) == (4, 4)


def test_missing_onnx_packages_give_the_install_command(
    tmp_path: Path, capsys, monkeypatch
) -> None:
    # None in sys.modules makes `import onnxruntime` raise ImportError, as if absent.
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    out = tmp_path / "model.onnx"
    assert run(["export", str(VIDEO), "--to", "onnx", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "ONNX export needs the optional package(s) onnxruntime" in err
    assert "pip install onnx onnxscript onnxruntime" in err
    assert not out.exists()


def test_onnx_export_reports_its_check(tmp_path: Path, capsys) -> None:
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    out = tmp_path / "two.onnx"
    assert run(["export", str(TWO_INPUTS), "--to", "onnx", "-o", str(out)]) == 0
    said = capsys.readouterr().out
    assert said.startswith(f"wrote {out} (onnx; checked against NetLoom at batch 2 and 3: ")
    assert out.stat().st_size > 1000


def test_weights_are_refused_for_source_targets(tmp_path: Path, capsys) -> None:
    weights = tmp_path / "model.pt"
    torch.save({"state_dict": build_model(load(VIDEO).graph).state_dict()}, weights)
    args = ["export", str(VIDEO), "--to", "python", "-o", str(tmp_path / "m.py")]
    assert run([*args, "--weights", str(weights)]) == 2
    assert "--weights is for torchscript/onnx" in capsys.readouterr().err
