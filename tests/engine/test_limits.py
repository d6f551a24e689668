"""What `check` accepts, torch builds and runs; what cannot fit is refused first, in one line.

Seen before: Softmax over the channels of a sequence (N, T) passed check and failed
in torch; Dense with 10^12 units and an Input of [100000, 100000] passed check and
crashed in torch's allocator; `export --to torchscript` then blamed weights that
were never given.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch

from engine.cli.main import run
from engine.graph import memory
from engine.graph.graph import Graph
from engine.graph.shapes import analyze
from engine.model import build as build_module
from engine.model.build import BuildError, build_model
from engine.project.project import load
from tests.helpers import TINY_DIGITS


def project_file(tmp_path: Path, nodes: list[dict[str, Any]], training: bool = True) -> Path:
    """A chain of blocks wired in order, as a project file."""
    doc: dict[str, Any] = {
        "format": "netloom",
        "version": 1,
        "name": "limits",
        "nodes": [{"pos": [i * 200, 0], "params": {}, **n} for i, n in enumerate(nodes)],
        "edges": [
            {"source": a["id"], "target": b["id"], "target_port": "x"}
            for a, b in zip(nodes, nodes[1:])
        ],
    }
    if training:
        doc["training"] = {"dataset": {"name": "digits"}, "batch_size": 32}
    path = tmp_path / "p.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def softmax_graph(shape: list[int], sequence: bool, axis: str) -> Graph:
    graph = Graph()
    graph.add_node("Input", {"shape": shape, "sequence": sequence}, node_id="inp")
    graph.add_node("Softmax", {"axis": axis}, node_id="soft")
    graph.add_node("Output", {"loss": "none"}, node_id="out")
    graph.connect("inp", "soft")
    graph.connect("soft", "out")
    return graph


def test_softmax_over_channels_of_a_plain_sequence_is_refused_by_check(
    tmp_path: Path, capsys
) -> None:
    path = project_file(
        tmp_path,
        [
            {"id": "inp", "type": "Input", "params": {"shape": [8], "sequence": True}},
            {"id": "soft", "type": "Softmax", "params": {"axis": "channels"}},
            {"id": "out", "type": "Output", "params": {"loss": "none"}},
        ],
    )
    assert run(["check", str(path)]) == 1
    assert (
        "soft: Softmax with axis 'channels' needs a channels axis, (N, C, …) or (N, T, C, …); "
        "got (N, T) from inp — use axis 'last'"
    ) in capsys.readouterr().err


@pytest.mark.parametrize(
    ("shape", "sequence", "axis", "dim"),
    [([8], True, "last", 1), ([8, 5], True, "channels", 2), ([8], False, "channels", 1)],
)
def test_softmax_that_check_accepts_sums_to_one_along_its_axis(
    shape: list[int], sequence: bool, axis: str, dim: int
) -> None:
    graph = softmax_graph(shape, sequence, axis)
    analysis = analyze(graph)
    assert analysis.ok, analysis.problems
    y = build_model(graph, analysis)(torch.randn(3, *shape))
    assert torch.allclose(y.sum(dim=dim), torch.ones(()))


def test_a_dense_of_a_trillion_units_is_refused_at_its_param(tmp_path: Path, capsys) -> None:
    path = project_file(
        tmp_path,
        [
            {"id": "inp", "type": "Input", "params": {"shape": [4]}},
            {"id": "dense1", "type": "Dense", "params": {"units": 10**12}},
            {"id": "out", "type": "Output", "params": {"loss": "mse"}},
        ],
    )
    assert run(["check", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"error: {path}: nodes[1].params.units: "
        "expected an integer ≤ 65536 (NetLoom's size limit), got 1000000000000"
    )


def test_an_input_too_large_for_this_machine_is_refused_by_check_with_its_size(
    tmp_path: Path, capsys
) -> None:
    path = project_file(
        tmp_path,
        [
            {"id": "inp", "type": "Input", "params": {"shape": [100000, 100000]}},
            {"id": "out", "type": "Output", "params": {"loss": "mse"}},
        ],
    )
    assert run(["check", str(path)]) == 1
    captured = capsys.readouterr()
    assert "37.3 GB" in captured.out  # 10^10 floats of 4 bytes, per sample, in the table
    (line,) = captured.err.strip().splitlines()[1:]
    assert "the model needs about" in line and "to train at batch 32; this machine has" in line


def test_check_shows_weights_and_output_memory_per_block(capsys) -> None:
    assert run(["check", str(TINY_DIGITS)]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line for line in out.splitlines() if line.strip()}
    # dense1: (64 inputs × 32 + 32 biases) × 4 bytes; its output 32 floats per sample.
    assert rows["dense1"].split()[-4:] == ["8.12", "KB", "128", "B"]
    assert "at batch 32" in out and "a training step needs about" in out


def test_memory_per_block_follows_shapes_and_counts() -> None:
    analysis = analyze(load(TINY_DIGITS).graph)
    blocks = memory.block_memory(analysis)
    assert blocks["dense1"] == memory.BlockMemory(weights=(64 * 32 + 32) * 4, activation=32 * 4)
    assert blocks["image"] == memory.BlockMemory(weights=0, activation=64 * 4)
    total = memory.estimate(analysis, 32)
    assert total.weights == analysis.total_params * 4
    assert total.activations_at_batch == total.activations * 32
    assert total.training == 4 * total.weights + 2 * total.activations_at_batch


def test_token_ids_take_eight_bytes() -> None:
    graph = Graph()
    graph.add_node("Input", {"shape": [10], "dtype": "int64", "sequence": True}, node_id="ids")
    assert memory.block_memory(analyze(graph))["ids"].activation == 10 * 8


def test_build_refuses_weights_that_cannot_fit_before_allocating(monkeypatch) -> None:
    monkeypatch.setattr(build_module, "available_bytes", lambda: 5_000)
    with pytest.raises(BuildError) as caught:
        build_model(load(TINY_DIGITS).graph)
    weights = analyze(load(TINY_DIGITS).graph).total_params * 4
    assert caught.value.problems == [
        f"the model needs about {memory.human_bytes(weights)} for its weights; this machine "
        "has 4.88 KB available — make the blocks or the input smaller"
    ]


def test_a_failed_allocation_in_build_is_one_line(monkeypatch) -> None:
    def boom(*args: Any) -> None:
        raise RuntimeError("[enforce fail at alloc_cpu.cpp:117] can't allocate memory\nmore")

    monkeypatch.setattr(build_module, "NetLoomModel", boom)
    with pytest.raises(BuildError) as caught:
        build_model(load(TINY_DIGITS).graph)
    assert caught.value.problems == [
        "the model cannot be built: [enforce fail at alloc_cpu.cpp:117] can't allocate memory"
    ]


def test_training_refuses_a_model_too_large_for_its_batch(monkeypatch) -> None:
    from engine.data import load_dataset
    from engine.train import fit
    from engine.train.config import TrainConfig

    project = load(TINY_DIGITS)
    config = TrainConfig.from_dict(project.training)
    monkeypatch.setattr(fit, "available_bytes", lambda: 50_000)
    with pytest.raises(fit.FitError) as caught:
        fit.plan_objective(project.graph, load_dataset("digits"), config)
    (problem,) = caught.value.problems
    assert "to train at batch 32; this machine has 48.8 KB available" in problem


def huge_dense(tmp_path: Path) -> Path:
    # 10^9 features into 100 units: 400 GB of weights, more than any test machine has.
    return project_file(
        tmp_path,
        [
            {"id": "inp", "type": "Input", "params": {"shape": [1000000, 1000]}},
            {"id": "flatten1", "type": "Flatten"},
            {"id": "dense1", "type": "Dense", "params": {"units": 100}},
            {"id": "out", "type": "Output", "params": {"loss": "mse"}},
        ],
    )


@pytest.mark.parametrize("target", ["torchscript", "onnx"])
def test_export_of_a_model_too_large_says_so_and_does_not_blame_weights(
    tmp_path: Path, capsys, target: str
) -> None:
    out = tmp_path / "m.bin"
    assert run(["export", str(huge_dense(tmp_path)), "--to", target, "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert "the model needs about" in err and "to build and check" in err
    assert "weights do not fit" not in err and "Traceback" not in err
    assert not out.exists()


def test_export_without_weights_names_a_build_failure_not_the_weights(
    tmp_path: Path, capsys, monkeypatch
) -> None:
    def boom(*args: Any) -> None:
        raise RuntimeError("can't allocate memory: you tried to allocate 16000000000000 bytes")

    monkeypatch.setattr(build_module, "NetLoomModel", boom)
    out = tmp_path / "m.pt"
    assert run(["export", str(TINY_DIGITS), "--to", "torchscript", "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert "the model cannot be built: can't allocate memory" in err
    assert "weights" not in err.replace("16000000000000 bytes", "")
    assert not out.exists()


def test_every_size_param_of_every_block_has_an_upper_bound() -> None:
    from engine.blocks.spec import all_specs

    unbounded = [
        f"{spec.name}.{p.name}"
        for spec in all_specs()
        for p in spec.params
        if p.kind in ("int", "int_or_choice", "ints", "per_axis")
        and p.maximum is None
        and p.limit is None
    ]
    assert unbounded == []
