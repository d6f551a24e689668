"""`python main.py export`: what a user sees — files written, messages, exit codes."""

from __future__ import annotations

import ast
import json
import re
import runpy
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.cli.main import run
from engine.codegen import to_python
from engine.codegen.compiled import example_inputs
from engine.codegen.python_file import project_model
from engine.model.build import build_model
from engine.project.project import load, to_dict
from tests.engine.helpers import load_file
from tests.helpers import TEMPLATES, TINY_DIGITS, template

VIDEO = template("cnn_lstm_video")
TWO_INPUTS = Path(__file__).resolve().parent / "data" / "two_inputs.json"


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def exported_class(path: Path) -> type[torch.nn.Module]:
    """The model class an exported .py file defines: the last one (unit classes come first)."""
    module = load_file(path)
    classes = [
        v
        for v in vars(module).values()
        if isinstance(v, type)
        and issubclass(v, torch.nn.Module)
        and v.__module__ == module.__name__
    ]
    assert classes, "expected a model class"
    return classes[-1]


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
    runpy.run_path(str(out), run_name="__main__")  # as `python video_model.py` runs it
    assert capsys.readouterr().out.strip() == "(2, 4)"  # batch 2, four directions


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
    assert "ONNX export needs the package onnxruntime" in err
    # The exact command: this interpreter's pip, the checkout's pins, the missing package.
    assert f"Install with: {sys.executable} -m pip install -c " in err
    assert err.rstrip().endswith("constraints.txt onnxruntime")
    assert not out.exists()


def test_onnx_export_reports_its_check(tmp_path: Path, capsys) -> None:
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    out = tmp_path / "digits.onnx"
    assert run(["export", str(TINY_DIGITS), "--to", "onnx", "-o", str(out)]) == 0
    said = capsys.readouterr().out
    assert said.startswith(f"wrote {out} (onnx; checked against NetLoom at batch 2 and 3: ")
    assert out.stat().st_size > 1000


def test_weights_are_refused_for_source_targets(tmp_path: Path, capsys) -> None:
    weights = tmp_path / "model.pt"
    torch.save({"state_dict": build_model(load(VIDEO).graph).state_dict()}, weights)
    args = ["export", str(VIDEO), "--to", "python", "-o", str(tmp_path / "m.py")]
    assert run([*args, "--weights", str(weights)]) == 2
    assert "--weights is for torchscript/onnx" in capsys.readouterr().err


# ------------------------------------------------------------ training script

BATCH_LOSS = re.compile(r"^  epoch (\d+) batch (\d+)/(\d+)  loss ([\d.]+)$", re.MULTILINE)
EPOCH_LINE = re.compile(
    r"^epoch (\d+)/\d+  train loss ([\d.]+)  accuracy ([\d.]+)  \|  "
    r"val loss ([\d.]+)  accuracy ([\d.]+)",
    re.MULTILINE,
)


def export_script(tmp_path: Path, project: Path = TINY_DIGITS) -> Path:
    script = tmp_path / "train_digits.py"
    assert run(["export", str(project), "--to", "script", "-o", str(script)]) == 0
    return script


def test_script_trains_alone_and_its_loss_falls(tmp_path: Path, capsys) -> None:
    script = export_script(tmp_path)
    assert capsys.readouterr().out.startswith(f"wrote {script} (script, ")
    done = subprocess.run(
        [sys.executable, str(script), "--epochs", "1", "--out", str(tmp_path / "run")],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    losses = [float(m[3]) for m in BATCH_LOSS.findall(done.stdout)]
    assert len(losses) == 5 and losses[-1] < 0.8 * losses[0], done.stdout
    (epoch,) = EPOCH_LINE.findall(done.stdout)
    assert float(epoch[4]) > 0.5  # validation accuracy, chance is 0.1
    # The checkpoint loads strictly into NetLoom's own model.
    saved = torch.load(tmp_path / "run" / "model.pt", weights_only=True)
    build_model(load(TINY_DIGITS).graph).load_state_dict(saved["state_dict"], strict=True)


def test_script_trains_exactly_as_netloom_does(tmp_path: Path, capsys, monkeypatch) -> None:
    from engine.data import load_dataset
    from engine.train.trainer import Trainer

    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # the script leaves torch's threads alone
    module = load_file(export_script(tmp_path))
    capsys.readouterr()
    module.main(["--epochs", "2", "--out", str(tmp_path / "run")])
    printed = EPOCH_LINE.findall(capsys.readouterr().out)

    project = load(TINY_DIGITS)
    data = load_dataset("digits", {})
    history = Trainer(project, data, threads=1).fit().history
    expected = [
        (
            str(e.epoch),
            f"{e.train.loss:.4f}",
            f"{e.train.metrics['accuracy']:.4f}",
            f"{e.val.loss:.4f}",
            f"{e.val.metrics['accuracy']:.4f}",
        )
        for e in history
    ]
    assert printed == expected


def test_script_under_torchrun_keeps_both_processes_in_step(tmp_path: Path) -> None:
    script = export_script(tmp_path)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",  # a free port on this machine, no rendezvous server
            "--nproc_per_node=2",
            str(script),
            "--epochs",
            "1",
            "--out",
            str(tmp_path / "run"),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "2 process(es), batch 16 each" in done.stdout
    assert "2 processes in step: identical weights" in done.stdout
    losses = [float(m[3]) for m in BATCH_LOSS.findall(done.stdout)]
    assert losses[-1] < 0.8 * losses[0], done.stdout
    assert (tmp_path / "run" / "model.pt").is_file()


def test_script_takes_a_persons_own_data_path(tmp_path: Path, capsys, monkeypatch) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 4)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    (tmp_path / "data").mkdir()
    np.savez(tmp_path / "data" / "points.npz", x=x, y=y)
    doc = json.loads(TINY_DIGITS.read_text(encoding="utf-8"))
    doc["nodes"][0]["params"]["shape"] = [4]
    doc["nodes"][5]["params"]["units"] = 2
    doc["training"]["dataset"] = {"name": "npz", "params": {"path": "data/points.npz"}}
    project = tmp_path / "points.json"
    project.write_text(json.dumps(doc), encoding="utf-8")
    script = export_script(tmp_path, project)
    source = script.read_text(encoding="utf-8")
    # A relative path resolves against the project's folder, as NetLoom reads it.
    assert f'DATA_PATH = "{tmp_path / "data" / "points.npz"}"' in source

    moved = tmp_path / "elsewhere.npz"
    (tmp_path / "data" / "points.npz").rename(moved)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    module = load_file(script)
    capsys.readouterr()
    module.main(["--epochs", "1", "--data", str(moved), "--out", str(tmp_path / "run")])
    assert "48 training and 12 validation samples" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="no such file"):
        module.main(["--epochs", "1", "--out", str(tmp_path / "run")])


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda doc: None, "training needs exactly one Input block; this graph has 2"),
        (
            lambda doc: doc["training"].update(dataset={"name": "mnist"}),
            "training.dataset.name: unknown dataset 'mnist'",
        ),
    ],
    ids=["two inputs", "unknown dataset"],
)
def test_script_export_refuses_what_cannot_train(tmp_path: Path, capsys, change, reason) -> None:
    doc = json.loads(TWO_INPUTS.read_text(encoding="utf-8"))
    change(doc)
    project = tmp_path / "project.json"
    project.write_text(json.dumps(doc), encoding="utf-8")
    out = tmp_path / "train.py"
    assert run(["export", str(project), "--to", "script", "-o", str(out)]) == 1
    assert reason in capsys.readouterr().err
    assert not out.exists()


def test_script_export_names_an_output_that_does_not_fit(tmp_path: Path, capsys) -> None:
    doc = json.loads(TINY_DIGITS.read_text(encoding="utf-8"))
    doc["nodes"][5]["params"]["units"] = 7  # seven scores for ten digit classes
    project = tmp_path / "project.json"
    project.write_text(json.dumps(doc), encoding="utf-8")
    assert run(["export", str(project), "--to", "script", "-o", str(tmp_path / "t.py")]) == 1
    err = capsys.readouterr().err
    assert "digit: Output with loss cross_entropy needs one score per class, (N, 10)" in err


# ------------------------------------------------------ NetLoom's checkpoints


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.stem)
def test_python_export_loads_netlooms_checkpoint_strictly(path: Path, tmp_path: Path) -> None:
    from engine.train.checkpoint import save_checkpoint

    project = load(path)
    torch.manual_seed(7)
    built = build_model(project.graph)
    save_checkpoint(tmp_path / "model.pt", built.state_dict(), to_dict(project), {}, {})
    out = tmp_path / "model.py"
    assert run(["export", str(path), "--to", "python", "-o", str(out)]) == 0
    exported = exported_class(out)()
    saved = torch.load(tmp_path / "model.pt", weights_only=True)
    exported.load_state_dict(saved["state_dict"], strict=True)
    inputs = example_inputs(project_model(project).inputs, batch=2)
    with torch.no_grad():
        assert torch.equal(built.eval()(*inputs), exported.eval()(*inputs))


def test_torchscript_export_carries_the_checkpoints_weights(tmp_path: Path, capsys) -> None:
    from engine.train.checkpoint import save_checkpoint

    project = load(TINY_DIGITS)
    torch.manual_seed(11)
    trained = build_model(project.graph)
    save_checkpoint(tmp_path / "model.pt", trained.state_dict(), to_dict(project), {}, {})
    out = tmp_path / "digits.pt"
    args = ["export", str(TINY_DIGITS), "--to", "torchscript", "-o", str(out)]
    assert run([*args, "--weights", str(tmp_path / "model.pt")]) == 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        scripted = torch.jit.load(str(out))
    (images,) = example_inputs(project_model(project).inputs, batch=3)
    with torch.no_grad():
        assert torch.equal(scripted(images), trained.eval()(images))

    # A checkpoint of another graph is refused, naming what does not fit.
    other = load(VIDEO)
    save_checkpoint(
        tmp_path / "video.pt", build_model(other.graph).state_dict(), to_dict(other), {}, {}
    )
    capsys.readouterr()
    assert run([*args, "--weights", str(tmp_path / "video.pt")]) == 2
    assert (
        "the weights are for another graph (blocks conv1, conv2, lstm1" in capsys.readouterr().err
    )


def test_hostile_text_in_a_script_stays_data(tmp_path: Path) -> None:
    """A column name and a file name from the project reach the script as string literals."""
    column = 'y"); import os; os.system("echo pwned")#'
    folder = tmp_path / "odd \"name\"\n'''"
    folder.mkdir()
    table = folder / "points.csv"
    rows = [f"{i},{i % 3},{i % 2}" for i in range(20)]
    header = '"y""); import os; os.system(""echo pwned"")#"'  # the column, CSV-quoted
    table.write_text(f"a,b,{header}\n" + "\n".join(rows) + "\n", encoding="utf-8")
    doc = json.loads(TINY_DIGITS.read_text(encoding="utf-8"))
    doc["name"] = 'Evil """\nimport os'
    doc["nodes"][0]["params"]["shape"] = [2]
    doc["nodes"][5]["params"]["units"] = 2
    doc["training"]["dataset"] = {"name": "csv", "params": {"path": str(table), "target": column}}
    project = tmp_path / "evil.json"
    project.write_text(json.dumps(doc), encoding="utf-8")
    script = export_script(tmp_path, project)
    tree = ast.parse(script.read_text(encoding="utf-8"))
    constants = {
        node.targets[0].id: ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.targets[0], ast.Name)
        and node.targets[0].id in ("DATA_PARAMS", "DATA_PATH")
    }
    assert constants["DATA_PARAMS"]["target"] == column
    assert constants["DATA_PATH"] == str(table)
    called = {ast.unparse(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    assert not any("system" in name for name in called)
    module = load_file(script)
    x, y = module.load_data(module.DATA_PARAMS, module.DATA_PATH)
    assert x.shape == (20, 2) and sorted(set(y.tolist())) == [0, 1]
