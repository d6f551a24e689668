"""Split, Slice, Select and Mean's reduce: what plain torch computes, trained and exported.

Differential, as the rest of the suite: the in-app model's values against the torch
expression each block stands for (`torch.split`, `x[:, -1]`, `.sum(dim)`), and the
exported Python, TorchScript and ONNX models against the in-app model.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from engine.codegen import to_python
from engine.codegen.compiled import to_onnx, to_torchscript
from engine.graph.graph import Graph
from engine.graph.shapes import analyze
from engine.model.build import build_model
from engine.project.project import Project
from engine.units import edits as unit_edits
from tests.engine.test_codegen import equivalence_problems, exported_class, ruff

pytestmark = pytest.mark.usefixtures("one_torch_thread_per_module")


def three_way_split() -> Graph:
    """(N, 8, 5, 5) cut into 2 + 4 + 2 channels, each part through its own block, joined."""
    graph = Graph()
    graph.add_node("Input", {"shape": [8, 5, 5]}, node_id="image")
    graph.add_node("Split", {"sizes": [2, 4, 2]}, node_id="split1")
    graph.add_node("Conv2d", {"out_channels": 3}, node_id="conv1")
    graph.add_node("Conv2d", {"out_channels": 3, "kernel_size": 1}, node_id="conv2")
    graph.add_node("Conv2d", {"out_channels": 3}, node_id="conv3")
    graph.add_node("Add", {"inputs": 3}, node_id="add1")
    graph.add_node("GlobalPool", {}, node_id="pool1")
    graph.add_node("Output", {}, node_id="label")
    graph.connect("image", "split1")
    for i in (1, 2, 3):
        graph.connect("split1", f"conv{i}", source_port=f"out{i}")
        graph.connect(f"conv{i}", "add1", f"in{i}")
    graph.connect("add1", "pool1")
    graph.connect("pool1", "label")
    return graph


def chain(shape: list[int], sequence: bool, *blocks: tuple[str, dict]) -> Graph:
    graph = Graph()
    graph.add_node("Input", {"shape": shape, "sequence": sequence}, node_id="x")
    previous = "x"
    for i, (block, params) in enumerate(blocks):
        node = graph.add_node(block, params, node_id=f"b{i}")
        graph.connect(previous, node.id, source_port=graph.node(previous).outputs[0])
        previous = node.id
    graph.add_node("Output", {"loss": "none"}, node_id="out")
    graph.connect(previous, "out", source_port=graph.node(previous).outputs[0])
    return graph


def test_a_split_into_three_builds_trains_a_step_and_exports_bit_identical() -> None:
    graph = three_way_split()
    analysis = analyze(graph)
    assert analysis.ok, analysis.problems
    assert graph.node("split1").outputs == ("out1", "out2", "out3")
    assert [str(s) for s in analysis.nodes["split1"].outputs.values()] == [
        "(N, 2, 5, 5)",
        "(N, 4, 5, 5)",
        "(N, 2, 5, 5)",
    ]
    torch.manual_seed(0)
    model = build_model(graph, analysis)
    x, y = torch.randn(4, 8, 5, 5), torch.tensor([0, 1, 2, 1])
    # Each conv sees its own channels: the model equals the convs on torch.split's parts.
    parts = torch.split(x, [2, 4, 2], dim=1)
    expected = sum(model.get_submodule(f"conv{i}")(parts[i - 1]) for i in (1, 2, 3))
    assert torch.equal(model(x), expected.mean(dim=(2, 3)))

    before = {k: v.clone() for k, v in model.state_dict().items()}
    torch.nn.functional.cross_entropy(model(x), y).backward()
    with torch.no_grad():  # one plain gradient step
        for weight in model.parameters():
            weight -= 0.1 * weight.grad
    assert all(not torch.equal(before[k], v) for k, v in model.state_dict().items())

    assert equivalence_problems(graph, "split") == []
    code = to_python(Project(graph, name="split"))
    assert "split1_out1, split1_out2, split1_out3 = torch.split(image, [2, 4, 2], dim=1)" in code


def every_new_kind() -> Graph:
    """Split, LayerScale, DropPath, Slice, Select and Mean's max and sum in one graph."""
    graph = Graph()
    graph.add_node("Input", {"shape": [8, 6, 6]}, node_id="image")
    graph.add_node("Split", {"sizes": [4, 4]}, node_id="split1")
    graph.add_node("Conv2d", {"out_channels": 4}, node_id="conv1")
    graph.add_node("LayerScale", {"init": 0.1}, node_id="ls1")
    graph.add_node("DropPath", {"p": 0.2}, node_id="drop1")
    graph.add_node("Add", {}, node_id="add1")
    graph.add_node("Slice", {"axis": 3, "start": 1, "stop": -1}, node_id="slice1")
    graph.add_node("Select", {"axis": 2, "index": -1}, node_id="select1")
    graph.add_node("Mean", {"axes": [2], "reduce": "max"}, node_id="mean1")
    graph.add_node("Mean", {"reduce": "sum"}, node_id="mean2")
    graph.add_node("Output", {"loss": "none"}, node_id="last_row")
    graph.add_node("Output", {"loss": "none"}, node_id="pooled")
    graph.connect("image", "split1")
    graph.connect("split1", "conv1", source_port="out1")
    for source, target in (("conv1", "ls1"), ("ls1", "drop1"), ("add1", "slice1")):
        graph.connect(source, target)
    graph.connect("drop1", "add1", "in1")
    graph.connect("split1", "add1", "in2", source_port="out2")
    for source, target in (("slice1", "select1"), ("select1", "mean1"), ("mean1", "last_row")):
        graph.connect(source, target)
    graph.connect("add1", "mean2")
    graph.connect("mean2", "pooled")
    return graph


def test_every_new_kind_exports_to_torchscript_and_onnx_with_the_in_app_outputs(
    tmp_path: Path,
) -> None:
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    project = Project(every_new_kind(), name="kinds")
    assert analyze(project.graph).ok
    assert equivalence_problems(project.graph, "kinds") == []
    # TorchScript compiles DropPath's training branch too; ONNX exports in eval mode.
    assert to_torchscript(project, tmp_path / "kinds.pt").max_abs_diff == 0.0
    assert to_onnx(project, tmp_path / "kinds.onnx").max_abs_diff < 1e-4
    assert (tmp_path / "kinds.pt").is_file() and (tmp_path / "kinds.onnx").is_file()


@pytest.mark.parametrize(
    ("shape", "sequence", "blocks", "torch_expression"),
    [
        ([4, 6], True, [("Select", {})], lambda x: x[:, -1]),  # an RNN's last step
        ([4, 6], True, [("Select", {"axis": 2, "index": 2})], lambda x: x.select(2, 2)),
        ([8, 3, 3], False, [("Slice", {"stop": 4})], lambda x: x[:, :4]),
        ([7, 9], False, [("Slice", {"axis": 2, "start": -5, "step": 2})], lambda x: x[..., -5::2]),
        (
            [3, 6],
            False,
            [("Slice", {"axis": 2, "start": 1, "stop": -1})],
            lambda x: x.narrow(2, 1, 4),
        ),
        (
            [3, 4],
            False,
            [("Split", {"axis": 2, "sizes": [1, 1, 1, 1], "squeeze": True})],
            lambda x: torch.unbind(x, dim=2)[0],
        ),
        ([6, 4, 4], False, [("Mean", {"reduce": "sum"})], lambda x: x.sum(dim=(2, 3))),
        (
            [6, 4, 4],
            False,
            [("Mean", {"reduce": "max", "keepdim": True})],
            lambda x: x.amax((2, 3), True),
        ),
        ([5, 3], True, [("Mean", {"axes": [1], "reduce": "sum"})], lambda x: x.sum(1)),
    ],
)
def test_each_block_computes_what_its_torch_expression_does(
    shape: list[int], sequence: bool, blocks: list, torch_expression: object
) -> None:
    graph = chain(shape, sequence, *blocks)
    analysis = analyze(graph)
    assert analysis.ok, analysis.problems
    x = torch.randn(3, *shape)
    got = build_model(graph, analysis)(x)
    want = torch_expression(x)  # type: ignore[operator]
    assert torch.equal(got, want)
    assert tuple(got.shape) == (3, *analysis.nodes["out"].shape.dims)
    assert equivalence_problems(graph, "chain") == []


def test_selecting_the_last_step_leaves_no_time_axis() -> None:
    graph = chain([6, 4], True, ("LSTM", {"output": "sequence", "hidden_size": 5}), ("Select", {}))
    shape = analyze(graph).nodes["b1"].shape
    assert shape is not None and str(shape) == "(N, 5)" and not shape.time
    assert "b1 = b0[:, -1]  # (N, 5)" in to_python(Project(graph, name="last"))


def test_slice_and_select_write_plain_indexing() -> None:
    graph = chain(
        [8, 6, 6], False, ("Slice", {"axis": 3, "stop": 4}), ("Select", {"axis": 2, "index": 0})
    )
    code = to_python(Project(graph, name="idx"))
    assert "b0 = x[:, :, :, :4]  # (N, 8, 6, 4)" in code
    assert "b1 = b0[:, :, 0]  # (N, 8, 4)" in code


def test_refusals_name_the_param_and_the_fix() -> None:
    graph = chain([6, 4], False, ("Split", {"sizes": [2, 3]}))
    assert analyze(graph).errors_of("b0") == [
        "b0: Split sizes (2, 3) add up to 5, but axis 1 has 6; got (N, 6, 4) from x"
    ]
    graph = chain([6, 4], False, ("Select", {"axis": 2, "index": -5}))
    assert analyze(graph).errors_of("b0") == [
        "b0: Select index -5 is out of range for axis 2 of size 4 (use -4..3); got (N, 6, 4) from x"
    ]


def test_a_split_works_inside_a_unit() -> None:
    graph = three_way_split()
    before = analyze(graph)
    torch.manual_seed(0)
    plain = build_model(graph, before)
    inner = ["split1", "conv1", "conv2", "conv3", "add1"]
    stem = unit_edits.make_unit(graph, inner, "Shuffle", before).instance.id
    after = analyze(graph)
    assert after.ok, after.problems
    assert after.total_params == before.total_params
    grouped = build_model(graph, after)
    grouped.load_state_dict(
        {(f"{stem}.{k}" if k.startswith("conv") else k): v for k, v in plain.state_dict().items()}
    )
    x = torch.randn(2, 8, 5, 5)
    assert torch.equal(grouped(x), plain(x))
    assert equivalence_problems(graph, "unit") == []
    exported = exported_class(to_python(Project(graph, name="unit")))()
    assert [k for k in exported.state_dict()] == [k for k in grouped.state_dict()]


@pytest.mark.parametrize("squeeze", [False, True])
def test_a_split_into_many_parts_exports_as_ruff_lays_it_out(squeeze: bool, tmp_path: Path) -> None:
    """30 parts with long ids, 10 of them model outputs: targets, sizes and the return
    annotation one a line where they do not fit, as ruff format writes them."""
    graph = Graph()
    graph.add_node("Input", {"shape": [30, 4]}, node_id="a_rather_long_input_name")
    graph.add_node("Split", {"sizes": [1] * 30, "squeeze": squeeze}, node_id="a_long_split_id")
    graph.connect("a_rather_long_input_name", "a_long_split_id")
    for i in range(0, 30, 3):
        graph.add_node("Output", {"loss": "none"}, node_id=f"part{i + 1}")
        graph.connect("a_long_split_id", f"part{i + 1}", source_port=f"out{i + 1}")
    source = to_python(Project(graph, name="many"))
    assert ruff("format", "--check", source=source, tmp_path=tmp_path).returncode == 0
    assert ruff("check", source=source, tmp_path=tmp_path).returncode == 0
    assert equivalence_problems(graph, "many") == []
