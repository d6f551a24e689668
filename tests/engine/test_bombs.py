"""No project file can hang NetLoom: what would expand too far is refused before it expands.

Issue 23: a 2.8 KB file (five units each holding the next ×64) hung `check` forever;
so did nested fan-out, a chain of 10,000 nested units, and many instances of a large
unit in `train`. A small member of each family goes through every command in a child
process with a timeout, so a regression fails instead of hanging the suite; the CPU
time the child used (not wall time, which busy cores stretch) must stay under 2 s.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from engine.cli.main import run
from engine.common.limits import MAX_EXPANDED_BLOCKS, MAX_GENERATED_SAMPLES, MAX_UNIT_DEPTH
from engine.graph import memory
from engine.graph.expansion import ExpansionError, check_document
from engine.graph.shapes import analyze
from engine.project.project import ProjectError, from_dict, loads
from tests.engine import bombs
from tests.helpers import ROOT, TINY_DIGITS

CHILD_TIMEOUT = 60  # seconds: only a hang gets near it
CPU_BUDGET = 2.0  # seconds of CPU for a whole command, interpreter start included

FAMILIES = {
    # 64^4 blocks from a 2 KB file
    "nested_repeat": (
        bombs.nested_repeat(4, 64),
        "units expand to 1.7×10⁷ blocks, limit 100,000: "
        "node u (U4 ×64) → u (U3 ×64) → u (U2 ×64) → u (U1 ×64)",
    ),
    # 8^6 blocks, eight instances per level
    "nested_fan_out": (
        bombs.nested_fan_out(7, 8),
        "units expand to 262,146 blocks, limit 100,000: "
        "node u (U7) → u0 (U6) → u0 (U5) → u0 (U4) → u0 (U3) → …",
    ),
    # one block, a hundred units deep
    "deep_chain": (
        bombs.deep_chain(100),
        f"units nest {MAX_UNIT_DEPTH + 1} deep, limit {MAX_UNIT_DEPTH}: "
        "unit U17 → U16 → U15 → U14 → U13 → …",
    ),
    # 200 instances of a 1,000-block unit
    "many_instances": (
        bombs.many_instances(200, 1000),
        "units expand to 200,002 blocks, limit 100,000: node big0 (Big) and 199 more Big instances",
    ),
}

COMMANDS = {
    "check": [],
    "train": ["--epochs", "1"],
    "export": ["--to", "python", "-o", "{tmp}/model.py"],
    "inspect": ["--out", "{tmp}/inside"],
}


def write(tmp_path: Path, doc: dict[str, Any]) -> Path:
    path = tmp_path / "bomb.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def run_child(args: list[str]) -> tuple[subprocess.CompletedProcess[str], float]:
    """`python main.py ARGS` with a timeout; returns it and the CPU seconds it used."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT,
        cwd=ROOT,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return done, cpu


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("family", FAMILIES)
def test_every_command_refuses_a_bomb_in_one_line(
    tmp_path: Path, family: str, command: str
) -> None:
    doc, message = FAMILIES[family]
    path = write(tmp_path, doc)
    extra = [a.format(tmp=tmp_path) for a in COMMANDS[command]]
    done, cpu = run_child([command, str(path), *extra])
    assert done.returncode == 1, done.stderr
    assert done.stderr.splitlines() == [f"error: {path}: {message}"]
    assert done.stdout == ""
    assert cpu <= CPU_BUDGET, f"{command} of {family} took {cpu:.2f} s of CPU"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bomb.json"]  # nothing written


def test_a_chain_of_ten_thousand_units_is_counted_without_recursion() -> None:
    doc = bombs.deep_chain(10_000)
    # reversed, the loader's own cycle check would recurse 10,000 deep
    doc["units"] = dict(reversed(list(doc["units"].items())))
    started = time.perf_counter()
    with pytest.raises(ExpansionError, match=f"units nest {MAX_UNIT_DEPTH + 1} deep"):
        check_document(doc)
    with pytest.raises(ProjectError, match=f"units nest {MAX_UNIT_DEPTH + 1} deep"):
        from_dict(doc)
    assert time.perf_counter() - started < 10  # linear: well under a second when idle


def test_the_file_of_the_issue_is_refused_with_its_path() -> None:
    # five units each holding the next ×64, used once at the top ×64: 64^5 blocks
    with pytest.raises(ExpansionError) as caught:
        check_document(bombs.nested_repeat(5, 64))
    assert str(caught.value) == (
        "units expand to 1.1×10⁹ blocks, limit 100,000: node u (U5 ×64) → u (U4 ×64) → "
        "u (U3 ×64) → u (U2 ×64) → u (U1 ×64)"
    )
    assert caught.value.node == "u"


def test_a_project_at_the_limit_loads_and_checks(tmp_path: Path) -> None:
    # 99 instances of a 1,000-block unit: just under the limit
    doc = bombs.many_instances(99, 1000)
    size = check_document(doc)
    assert size is not None and size.blocks == 99 * 1000 + 2 <= MAX_EXPANDED_BLOCKS
    assert loads(json.dumps(doc)).graph is not None


def test_an_edit_that_makes_a_bomb_is_one_problem_and_nothing_expands() -> None:
    """The window's path: the shape pass counts first, so no edit can make it expand."""
    project = from_dict(bombs.nested_repeat(4, 2))
    graph = project.graph
    assert analyze(graph).ok
    library = graph.library
    for level in (2, 3, 4):
        library.definition(f"U{level}").graph.set_params("u", {"repeat": 64})
    graph.set_params("u", {"repeat": 64})
    started = time.process_time()
    analysis = analyze(graph)
    assert time.process_time() - started < CPU_BUDGET
    assert [(p.node, p.message) for p in analysis.problems] == [("u", FAMILIES["nested_repeat"][1])]
    assert all(info.op is None for info in analysis.nodes.values())  # nothing was walked


def test_train_refuses_a_step_larger_than_free_memory_with_the_figures(capsys, monkeypatch) -> None:
    monkeypatch.setattr(memory, "available_bytes", lambda: 50_000)
    assert run(["train", str(TINY_DIGITS)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.splitlines()
    assert line.startswith(f"error: {TINY_DIGITS}: the model needs about ")
    assert line.endswith(
        "for a training step at batch 32; this machine has 48.8 KB available — "
        "make the blocks or the input smaller"
    )


def test_train_refuses_a_model_no_machine_holds_before_making_any_data(tmp_path: Path) -> None:
    doc = bombs.project({}, [])
    doc["nodes"][0]["params"]["shape"] = [100_000, 100_000]  # 37 GB a sample
    path = write(tmp_path, doc)
    done, cpu = run_child(["train", str(path), "--out", str(tmp_path / "run")])
    assert done.returncode == 1, done.stderr
    (line,) = done.stderr.splitlines()
    assert "the model needs about" in line and "for a training step at batch 32" in line
    assert not (tmp_path / "run").exists()


def test_train_refuses_a_dataset_setting_over_the_sample_limit(tmp_path: Path) -> None:
    doc = json.loads((ROOT / "templates" / "lstm_adding.json").read_text(encoding="utf-8"))
    too_many = MAX_GENERATED_SAMPLES + 1
    doc["training"]["dataset"]["params"]["samples"] = too_many
    path = write(tmp_path, doc)
    done, cpu = run_child(["train", str(path), "--out", str(tmp_path / "run")])
    assert done.returncode == 1, done.stderr
    assert done.stderr.splitlines() == [
        f"error: {path}: training.dataset.params.samples: adding_problem would generate "
        f"{too_many:,} samples; at most {MAX_GENERATED_SAMPLES:,} — lower samples"
    ]
    assert cpu <= CPU_BUDGET
    assert not (tmp_path / "run").exists()


def test_wires_listed_backwards_load_as_fast_as_in_order() -> None:
    """Each wire's cycle check walked everything downstream of its target: a chain whose
    wires the file lists last to first cost n² to load."""

    def load_seconds(reverse: bool) -> float:
        doc = bombs.many_instances(1, 5000)
        if reverse:
            doc["units"]["Big"]["edges"].reverse()
        started = time.process_time()
        from_dict(doc)
        return time.process_time() - started

    forwards, backwards = load_seconds(False), load_seconds(True)
    assert backwards <= 3 * forwards + 0.5, (forwards, backwards)
