"""Malformed and hostile project files: one line naming the place, exit 2, no traceback.

Each case here was seen to crash `python main.py check FILE` (or `train`) before:
json raising more than JSONDecodeError, a lone surrogate failing at print or save,
an id colliding after being made safe, /dev/zero read without end, a FIFO blocking.
Also: saving keeps a file's mode, writes through symlinks and sweeps up the
temporary files of a save that was killed.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from engine.cli.main import run
from engine.common.atomic import remove_stale_temps
from engine.project import project as proj
from engine.project.project import MAX_FILE_BYTES, ProjectError
from tests.helpers import ROOT, TEMPLATE_DIR, template_doc

DIGITS = TEMPLATE_DIR / "cnn_digits.json"


def template() -> dict[str, Any]:
    return template_doc("cnn_digits")


def write(tmp_path: Path, text: str, name: str = "p.json") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def check(path: Path | str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """`check` in-process: the exit code and the error lines."""
    code = run(["check", str(path)])
    return code, capsys.readouterr().err


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_an_integer_over_4300_digits_is_one_line(tmp_path: Path, capsys) -> None:
    text = DIGITS.read_text(encoding="utf-8").replace('"version": 1', '"version": ' + "1" * 5000)
    code, err = check(write(tmp_path, text), capsys)
    assert code == 2
    assert "line 3 column 14: invalid JSON: a number of 5,000 digits (at most 4,300)" in one_line(
        err
    )


def test_a_huge_but_parseable_version_is_shown_short(tmp_path: Path, capsys) -> None:
    text = DIGITS.read_text(encoding="utf-8").replace('"version": 1', '"version": ' + "9" * 4000)
    code, err = check(write(tmp_path, text), capsys)
    assert code == 2
    line = one_line(err)
    assert "version: this file is version 999999999…" in line and len(line) < 300


def test_deep_nesting_is_one_line(tmp_path: Path, capsys) -> None:
    code, err = check(write(tmp_path, "[" * 100_000), capsys)
    assert code == 2
    assert "invalid JSON: nested too deeply" in one_line(err)


def test_nesting_that_json_accepts_is_refused_at_its_path(tmp_path: Path, capsys) -> None:
    doc = template()
    doc["notes"] = json.loads("[" * 200 + "]" * 200)
    code, err = check(write(tmp_path, json.dumps(doc)), capsys)
    assert code == 2
    assert "notes" in one_line(err) and "nested deeper than 32 levels" in err


@pytest.mark.parametrize("escape", ["\\ud800", "\\udc80"])
def test_a_lone_surrogate_in_the_name_is_refused_at_load(
    tmp_path: Path, capsys, escape: str
) -> None:
    doc = template()
    text = json.dumps(doc).replace('"CNN digits"', f'"bad {escape} name"')
    code, err = check(write(tmp_path, text), capsys)
    assert code == 2
    assert "name: holds a lone surrogate" in one_line(err)


def test_a_lone_surrogate_in_a_key_or_param_is_refused(tmp_path: Path) -> None:
    doc = template()
    doc["nodes"][1]["params"]["\udc80"] = 1
    with pytest.raises(ProjectError, match=r"nodes\[1\]\.params \(a key\): holds a lone"):
        proj.from_dict(doc)


def test_the_command_line_prints_a_surrogate_file_name_as_an_escape(tmp_path: Path) -> None:
    # A file name with a byte that is not UTF-8 reaches Python as a lone surrogate.
    name = os.fsdecode(b"p\xff.json")
    result = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "check", str(tmp_path / name)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "p\\udcff.json: no such file" in one_line(result.stderr)


def test_an_id_made_safe_never_collides_with_a_later_id(tmp_path: Path, capsys) -> None:
    doc = template()
    first = doc["nodes"][8]  # dense1
    assert first["id"] == "dense1"
    first["id"] = "Dense1"
    doc["edges"] = [
        {**e, **{k: "Dense1" for k in ("source", "target") if e[k] == "dense1"}}
        for e in doc["edges"]
    ]
    doc["nodes"].append({"id": "dense1", "type": "ReLU", "params": {}, "pos": [0, 0]})
    project = proj.from_dict(doc)
    ids = [n.id for n in project.graph.nodes]
    assert "dense1" in ids and "dense1_2" in ids  # the file's own dense1 keeps its id
    assert project.graph.incoming("relu3") == {"x": "dense1_2"}
    code, err = check(write(tmp_path, json.dumps(doc)), capsys)
    assert code == 1  # the extra ReLU is not wired: a graph problem, not a crash
    assert "dense1: ReLU input 'x' is not wired" in err


def test_dev_zero_is_refused_before_reading(capsys) -> None:
    code, err = check("/dev/zero", capsys)
    assert code == 2
    assert "/dev/zero: not a regular file" in one_line(err)


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    result = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "check", str(fifo)],
        capture_output=True,
        text=True,
        timeout=60,  # before, this blocked for ever: a hang fails the test
        cwd=ROOT,
    )
    assert result.returncode == 2
    assert "pipe.json: not a regular file" in one_line(result.stderr)


def test_a_folder_is_refused(tmp_path: Path, capsys) -> None:
    code, err = check(tmp_path, capsys)
    assert code == 2
    assert "a folder" in one_line(err)


def test_a_file_over_the_size_limit_is_refused_before_reading(tmp_path: Path, capsys) -> None:
    path = tmp_path / "big.json"
    with open(path, "wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)  # sparse: no disk used, nothing to parse
    code, err = check(path, capsys)
    assert code == 2
    assert f"{MAX_FILE_BYTES + 1:,} bytes; a project file is at most" in one_line(err)


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_non_finite_positions_are_refused_at_their_path(tmp_path: Path, capsys, value: str) -> None:
    text = json.dumps(template()).replace('"pos": [0, 0]', f'"pos": [{value}, 0]', 1)
    assert value in text
    code, err = check(write(tmp_path, text), capsys)
    assert code == 2
    assert "nodes[0].pos[0]: expected a finite number" in one_line(err)


def test_a_position_far_off_the_canvas_is_refused(tmp_path: Path) -> None:
    doc = template()
    doc["nodes"][0]["pos"] = [10**400, 0]
    with pytest.raises(ProjectError, match=r"nodes\[0\]\.pos: expected coordinates within"):
        proj.from_dict(doc)


def test_a_nan_position_made_in_the_editor_is_never_saved_as_nan(tmp_path: Path) -> None:
    project = proj.from_dict(template())
    project.graph.move("conv1", (float("nan"), float("inf")))
    path = tmp_path / "p.json"
    proj.save(project, path)
    text = path.read_text(encoding="utf-8")
    assert "NaN" not in text and "Infinity" not in text
    assert proj.load(path).graph.node("conv1").pos == (0.0, 0.0)


@pytest.mark.parametrize(
    ("change", "place"),
    [
        ({"lr": "abc"}, 'training.lr: expected a number, got the string "abc"'),
        ({"batch_size": 0}, "training.batch_size: expected an integer ≥ 1, got 0"),
        ({"optimizer": "adamm"}, "training.optimizer: expected one of"),
        ({"dataset": {"name": "nope"}}, "training.dataset.name: unknown dataset"),
        (
            {"dataset": {"name": "digits", "params": {"colour": 1}}},
            "training.dataset.params.colour: digits has no such parameter",
        ),
    ],
)
def test_check_validates_the_training_settings_as_train_does(
    tmp_path: Path, capsys, change: dict[str, Any], place: str
) -> None:
    doc = template()
    doc["training"].update(change)
    code, err = check(write(tmp_path, json.dumps(doc)), capsys)
    assert code == 2
    assert place in one_line(err)


def test_check_accepts_a_graph_without_training_settings(tmp_path: Path, capsys) -> None:
    doc = template()
    del doc["training"]
    assert run(["check", str(write(tmp_path, json.dumps(doc)))]) == 0
    assert "at batch 32" in capsys.readouterr().out


# ------------------------------------------------------------------ saving


def small_project() -> proj.Project:
    return proj.from_dict(template())


def test_saving_over_a_private_project_keeps_it_private(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    proj.save(small_project(), path)
    path.chmod(0o600)
    proj.save(small_project(), path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.chmod(0o640)
    proj.save(small_project(), path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_a_new_project_gets_the_umask_mode(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        proj.save(small_project(), tmp_path / "p.json")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "p.json").stat().st_mode) == 0o640


def test_saving_through_a_symlink_writes_its_target(tmp_path: Path) -> None:
    real = tmp_path / "store" / "real.json"
    real.parent.mkdir()
    proj.save(small_project(), real)
    link = tmp_path / "link.json"
    link.symlink_to(real)
    project = small_project()
    project.name = "through the link"
    proj.save(project, link)
    assert link.is_symlink()
    assert json.loads(real.read_text(encoding="utf-8"))["name"] == "through the link"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.json", "store"]
    assert [p.name for p in real.parent.iterdir()] == ["real.json"]


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_killed_saves_temp_file_is_removed_on_the_next_save(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    proj.save(small_project(), path)
    stale = tmp_path / f".p.json.{dead_pid()}.abc123xy.tmp"
    stale.write_bytes(b"")  # what kill -9 during a save leaves
    proj.save(small_project(), path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.json"]


def test_a_killed_saves_temp_file_is_removed_on_open(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    proj.save(small_project(), path)
    stale = tmp_path / f".p.json.{dead_pid()}.zz9_abcd.tmp"
    stale.write_bytes(b"")
    old_style = tmp_path / ".p.json.k3j4h5g6.tmp"  # no process id: judged by its age
    old_style.write_bytes(b"")
    os.utime(old_style, (1, 1))
    proj.load(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.json"]


def test_temp_files_of_a_live_save_and_other_files_are_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    proj.save(small_project(), path)
    live = tmp_path / f".p.json.{os.getppid()}.abcdefgh.tmp"  # a running process
    fresh = tmp_path / ".p.json.abcdefgh.tmp"  # no pid, but written just now
    other = tmp_path / ".q.json.1.abcdefgh.tmp"  # another project's
    for extra in (live, fresh, other):
        extra.write_bytes(b"")
    assert remove_stale_temps(path) == []
    proj.save(small_project(), path)
    assert live.exists() and fresh.exists() and other.exists()


def test_train_refuses_a_surrogate_name_before_training(tmp_path: Path, capsys) -> None:
    # Before, train ran, wrote metrics.csv and model.pt, then crashed saving project.json.
    text = json.dumps(template()).replace('"CNN digits"', '"bad \\udc80 name"')
    out = tmp_path / "run"
    assert run(["train", str(write(tmp_path, text)), "--out", str(out)]) == 2
    assert "name: holds a lone surrogate" in one_line(capsys.readouterr().err)
    assert not out.exists()


@pytest.mark.parametrize(
    ("where", "place"),
    [
        (("nodes", 10, "params", "p"), "nodes[10].params.p: expected a number in [0, 0.99]"),
        (("training", "lr"), "training.lr: expected a number > 0"),
    ],
)
def test_an_integer_too_large_for_a_float_is_refused_where_a_number_is_expected(
    tmp_path: Path, capsys, where: tuple[Any, ...], place: str
) -> None:
    # math.isfinite(10**400) raises OverflowError; found by fuzzing with more seeds.
    doc = template()
    target = doc
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = 10**400
    code, err = check(write(tmp_path, json.dumps(doc)), capsys)
    assert code == 2
    assert place in one_line(err)


def test_a_batch_size_of_400_digits_is_estimated_without_overflow(tmp_path: Path, capsys) -> None:
    doc = template()
    doc["training"]["batch_size"] = 10**400
    code = run(["check", str(write(tmp_path, json.dumps(doc)))])
    captured = capsys.readouterr()
    if code == 2:  # should the settings come to bound the batch size, they name it
        assert "training.batch_size" in one_line(captured.err)
        return
    assert code == 1
    assert "over 10^40" in captured.out  # the memory line, in powers of ten
    assert "the model needs about over 10^" in captured.err
