"""ONNX import of what the torchvision/timm zoo exports (issue 26): the new ops map.

From both torch exporters (the legacy one exported here, the dynamo one's files kept in
tests/engine/onnx_issue26): Clip → ReLU6 / Hardtanh / ReLU, HardSigmoid, Split into
three, Slice on channels, ReduceSum → Mean(reduce sum), AveragePool without counting
its padding, Concat of nine and of one, LayerNormalization with epsilon 1e-6, and a
Gather of the last step → Select. The forms one exporter does not write (Clip's bounds
as attributes before opset 11, Split's `num_outputs`, a Gelu with the tanh form …) are
small files made here with onnx.helper. Each import is proved by the importer against
ONNX Runtime, and checked here again on a new input.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper

from engine.importers.check import ImportResult, InputSpec, example_input
from engine.importers.from_onnx import import_onnx

from .onnx_checks import blocks, netloom, onnx_runtime
from .onnx_standins_issue26 import LAST_STEP_SHAPE, ZOO_SHAPE, dynamo_file, export

EXPORTERS = ["legacy", "dynamo"]


def standin_file(name: str, exporter: str, folder: Path) -> Path:
    if exporter == "dynamo":
        return dynamo_file(name)
    path = folder / f"{name}.onnx"
    export(name, path, dynamo=False)
    return path


@pytest.fixture(scope="module", params=EXPORTERS)
def zoo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    path = standin_file("zoo", request.param, tmp_path_factory.mktemp("zoo"))
    return path, import_onnx(path, None, False, None)


def test_the_zoo_standin_imports_and_matches_onnx_runtime(zoo: Any) -> None:
    path, result = zoo
    assert result.report.ok, result.report.text()
    assert "(allowed 0.0001 absolute)" in result.report.check
    x = example_input(InputSpec(ZOO_SHAPE), 4, 2, seed=7)
    assert np.abs(netloom(result, x) - onnx_runtime(path, x)).max() <= 1e-4


def test_clip_becomes_relu6_and_hardtanh_and_hardsigmoid_maps(zoo: Any) -> None:
    made = blocks(zoo[1])
    assert ("ReLU6", {}) in made
    assert ("Hardtanh", {"min_val": -2.0, "max_val": 2.0}) in made
    assert ("Hardsigmoid", {}) in made


def test_split_slice_sum_pool_concat_and_layernorm_eps_keep_their_settings(zoo: Any) -> None:
    made = blocks(zoo[1])
    assert ("Split", {"axis": 1, "sizes": [2, 3, 4], "squeeze": False}) in made
    assert ("Slice", {"axis": 1, "start": 2, "stop": 5, "step": 1}) in made
    assert ("Mean", {"axes": [1], "keepdim": True, "reduce": "sum"}) in made
    pools = [p for t, p in made if t == "AvgPool2d"]
    assert [p["count_include_pad"] for p in pools] == [False]
    assert [p["inputs"] for t, p in made if t == "Concat"] == [9]  # the join of one is gone
    assert [p["eps"] for t, p in made if t == "LayerNorm"] == [1e-6]


def test_each_part_of_a_split_feeds_its_own_consumer(zoo: Any) -> None:
    graph = zoo[1].project.graph
    (split,) = [n.id for n in graph.nodes if n.type == "Split"]
    (concat,) = [n.id for n in graph.nodes if n.type == "Concat"]
    edges = graph.incoming_edges(concat)
    assert [(edges[p].source, edges[p].source_port) for p in ("in1", "in2", "in3")] == [
        (split, "out1"),
        (split, "out2"),
        (split, "out3"),
    ]


@pytest.mark.parametrize("exporter", EXPORTERS)
def test_the_last_step_of_a_sequence_is_a_select(exporter: str, tmp_path: Path) -> None:
    path = standin_file("last_step", exporter, tmp_path)
    result = import_onnx(path, None, True, None)
    assert ("Select", {"axis": 1, "index": -1}) in blocks(result)
    x = example_input(InputSpec(LAST_STEP_SHAPE, sequence=True), 4, 2, seed=3)
    assert np.abs(netloom(result, x) - onnx_runtime(path, x)).max() <= 1e-5


# --------------------------------------------------------- files made with onnx.helper


def onnx_file(
    path: Path,
    nodes: list[Any],
    shape: list[int],
    opset: int,
    constants: dict[str, Any] | None = None,
    outputs: tuple[str, ...] = ("y",),
) -> Path:
    """A graph from input x (batch free, then `shape`) through `nodes` to `outputs`."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", *shape])
    ys = [helper.make_tensor_value_info(y, TensorProto.FLOAT, None) for y in outputs]
    weights = [numpy_helper.from_array(np.array(v), k) for k, v in (constants or {}).items()]
    graph = helper.make_graph(nodes, "g", [x], ys, initializer=weights)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8  # one every ONNX Runtime in use loads
    onnx.save(model, str(path))
    return path


def imported(path: Path) -> ImportResult:
    return import_onnx(path, None, False, None)


F32 = np.float32


@pytest.mark.parametrize(
    ("opset", "inputs", "attrs", "constants", "want"),
    [
        (10, ["x"], {"min": 0.0, "max": 6.0}, {}, ("ReLU6", {})),
        (13, ["x", "lo", "hi"], {}, {"lo": F32(0), "hi": F32(6)}, ("ReLU6", {})),
        (13, ["x", "lo"], {}, {"lo": F32(0)}, ("ReLU", {})),
        (
            13,
            ["x", "lo", "hi"],
            {},
            {"lo": F32(-0.5), "hi": F32(0.25)},
            ("Hardtanh", {"min_val": -0.5, "max_val": 0.25}),
        ),
    ],
    ids=["attributes-opset10", "inputs", "min-only", "hardtanh"],
)
def test_clip_in_each_form_maps_by_its_bounds(
    opset: int, inputs: list[str], attrs: dict, constants: dict, want: tuple, tmp_path: Path
) -> None:
    node = helper.make_node("Clip", inputs, ["y"], name="clip", **attrs)
    result = imported(onnx_file(tmp_path / "clip.onnx", [node], [4], opset, constants))
    assert result.report.ok, result.report.text()
    assert want in blocks(result)


def test_a_clip_of_one_side_other_than_relu_is_reported_with_the_alternatives(
    tmp_path: Path,
) -> None:
    node = helper.make_node("Clip", ["x", "", "hi"], ["y"], name="cap")
    path = onnx_file(tmp_path / "cap.onnx", [node], [4], 13, {"hi": F32(6)})
    (issue,) = imported(path).report.errors
    assert issue.place == "node cap"
    assert "clamps one side only (max=6): Hardtanh clamps both, ReLU is clamp(min=0)" in issue.why


def test_a_hardsigmoid_that_is_not_torchs_is_reported_with_its_slope(tmp_path: Path) -> None:
    node = helper.make_node("HardSigmoid", ["x"], ["y"], name="hs", alpha=0.2, beta=0.5)
    (issue,) = imported(onnx_file(tmp_path / "hs.onnx", [node], [4], 17)).report.errors
    assert "alpha 0.2, beta 0.5: NetLoom's Hardsigmoid is torch's" in issue.why


def test_gelu_keeps_its_tanh_approximation(tmp_path: Path) -> None:
    node = helper.make_node("Gelu", ["x"], ["y"], name="gelu", approximate="tanh")
    result = imported(onnx_file(tmp_path / "gelu.onnx", [node], [4], 20))
    assert ("GELU", {"approximate": "tanh"}) in blocks(result)


@pytest.mark.parametrize(
    ("opset", "inputs", "attrs", "constants", "sizes"),
    [
        (11, ["x"], {"split": [1, 2, 3]}, {}, [1, 2, 3]),
        (13, ["x", "s"], {}, {"s": np.array([3, 1, 2])}, [3, 1, 2]),
        (13, ["x"], {}, {}, [2, 2, 2]),
        (18, ["x"], {"num_outputs": 3}, {}, [2, 2, 2]),
    ],
    ids=["attribute", "input", "equal", "num-outputs"],
)
def test_split_in_each_form_reads_its_sizes(
    opset: int, inputs: list[str], attrs: dict, constants: dict, sizes: list[int], tmp_path: Path
) -> None:
    parts = ["a", "b", "c"]
    nodes = [
        helper.make_node("Split", inputs, parts, name="split", axis=1, **attrs),
        helper.make_node("Concat", ["c", "a", "b"], ["y"], name="join", axis=1),
    ]
    path = onnx_file(tmp_path / "split.onnx", nodes, [6, 2], opset, constants)
    result = imported(path)
    assert ("Split", {"axis": 1, "sizes": sizes, "squeeze": False}) in blocks(result)
    x = torch.randn(4, 6, 2)
    assert np.array_equal(netloom(result, x), onnx_runtime(path, x))


def test_a_slice_of_two_axes_is_a_slice_block_per_axis(tmp_path: Path) -> None:
    # x[:, 1:, :-1:2] as the dynamo exporter writes it: the batch axis sliced whole too
    big = np.iinfo(np.int64).max
    constants = {
        "starts": np.array([0, 1, 0]),
        "ends": np.array([big, big, -1]),
        "axes": np.array([0, 1, 2]),
        "steps": np.array([1, 1, 2]),
    }
    node = helper.make_node("Slice", ["x", "starts", "ends", "axes", "steps"], ["y"], name="s")
    path = onnx_file(tmp_path / "slice.onnx", [node], [3, 6], 13, constants)
    result = imported(path)
    made = [(t, p) for t, p in blocks(result) if t == "Slice"]
    assert made == [
        ("Slice", {"axis": 1, "start": 1, "stop": "end", "step": 1}),
        ("Slice", {"axis": 2, "start": 0, "stop": -1, "step": 2}),
    ]
    x = torch.randn(2, 3, 6)
    assert np.array_equal(netloom(result, x), onnx_runtime(path, x))


def test_a_gather_of_a_run_of_positions_is_a_slice(tmp_path: Path) -> None:
    node = helper.make_node("Gather", ["x", "i"], ["y"], name="g", axis=2)
    path = onnx_file(tmp_path / "g.onnx", [node], [3, 6], 13, {"i": np.array([2, 3, 4])})
    assert ("Slice", {"axis": 2, "start": 2, "stop": 5, "step": 1}) in blocks(imported(path))


def test_reduce_max_is_mean_with_reduce_max(tmp_path: Path) -> None:
    node = helper.make_node("ReduceMax", ["x"], ["y"], name="m", axes=[2], keepdims=0)
    path = onnx_file(tmp_path / "max.onnx", [node], [3, 6], 17)
    assert ("Mean", {"axes": [2], "keepdim": False, "reduce": "max"}) in blocks(imported(path))


def test_batchnorm_keeps_its_epsilon(tmp_path: Path) -> None:
    stats = {n: np.full(3, v, dtype=F32) for n, v in zip("sbmv", (1.5, 0.1, 0.2, 0.9))}
    node = helper.make_node(
        "BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], name="bn", epsilon=1e-3
    )
    path = onnx_file(tmp_path / "bn.onnx", [node], [3, 2, 2], 15, stats)
    result = imported(path)
    assert [p["eps"] for t, p in blocks(result) if t == "BatchNorm"] == [1e-3]
    x = torch.randn(2, 3, 2, 2)
    assert np.abs(netloom(result, x) - onnx_runtime(path, x)).max() <= 1e-5


def test_gathernd_of_an_adaptive_pool_says_which_input_size_imports(tmp_path: Path) -> None:
    # the dynamo exporter's adaptive pool 2×2 → 7×7: the map's axes moved before N, then
    # GatherND picks each window's positions (then Where, Gather, Add and Div average them)
    nodes = [
        helper.make_node("Transpose", ["x"], ["t"], name="node_Transpose_46", perm=[2, 3, 0, 1]),
        helper.make_node("GatherND", ["t", "i"], ["g"], name="node_GatherND_104"),
        helper.make_node("Transpose", ["g"], ["y"], name="node_index", perm=[2, 3, 0, 1]),
    ]
    index = {"i": np.zeros((2, 1), dtype=np.int64)}
    path = onnx_file(tmp_path / "gnd.onnx", nodes, [3, 2, 2], 13, index)
    issue = imported(path).report.errors[0]
    assert issue.place == "node node_GatherND_104"
    assert "export with an input size the adaptive pool divides" in issue.why


def test_another_gathernd_is_reported_as_a_gather(tmp_path: Path) -> None:
    node = helper.make_node("GatherND", ["x", "i"], ["y"], name="gnd")
    index = {"i": np.zeros((1, 1), dtype=np.int64)}  # x[0]
    path = onnx_file(tmp_path / "gnd.onnx", [node], [2, 2], 13, index)
    (issue,) = imported(path).report.errors
    assert "gathers the positions an index tensor lists: no block gathers" in issue.why


class GroupNormNet(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 8, 1)
        self.norm = torch.nn.GroupNorm(2, 8, eps=1e-3)
        self.gamma = torch.nn.Parameter(torch.linspace(0.5, 1.5, 8).reshape(8, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.gamma * self.norm(self.conv(x))  # convnext's layer scale after it


def test_the_legacy_group_norm_pattern_is_one_groupnorm_and_a_layer_scale_follows(
    tmp_path: Path,
) -> None:
    import warnings

    path = tmp_path / "gn.onnx"
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            GroupNormNet().eval(), (torch.randn(2, 3, 4, 4),), str(path), dynamo=False,
            input_names=["x"], dynamic_axes={"x": {0: "N"}}, do_constant_folding=False,
        )  # fmt: skip
    result = imported(path)
    made = [t for t, _ in blocks(result)]
    assert made == ["Input", "Conv2d", "GroupNorm", "LayerScale", "Output"], made
    graph = result.project.graph
    norm = next(n for n in graph.nodes if n.type == "GroupNorm")
    assert norm.params == {"num_groups": 2, "affine": True, "eps": 1e-3}
    scale = next(n.id for n in graph.nodes if n.type == "LayerScale")
    assert torch.allclose(result.state_dict[scale].flatten(), torch.linspace(0.5, 1.5, 8))
    x = torch.randn(5, 3, 4, 4)
    assert np.abs(netloom(result, x) - onnx_runtime(path, x)).max() <= 1e-5


def test_a_sum_of_three_is_one_add(tmp_path: Path) -> None:
    nodes = [
        helper.make_node("Relu", ["x"], ["a"], name="a"),
        helper.make_node("Sigmoid", ["x"], ["b"], name="b"),
        helper.make_node("Sum", ["a", "b", "x"], ["y"], name="sum"),
    ]
    path = onnx_file(tmp_path / "sum.onnx", nodes, [4], 13)
    result = imported(path)
    assert ("Add", {"inputs": 3}) in blocks(result)
    x = torch.randn(3, 4)
    assert np.abs(netloom(result, x) - onnx_runtime(path, x)).max() <= 1e-6


@pytest.mark.parametrize("table", ["onnx_pointwise", "onnx_parts", "onnx_norms", "onnx_foreign"])
def test_the_new_onnx_tables_never_import_their_importer(table: str) -> None:
    from .test_importer_tables import imported_modules

    assert "engine.importers.from_onnx" not in imported_modules(f"engine.importers.{table}")


@pytest.mark.parametrize("opset", [18, 21])
def test_onnx_group_normalization_is_a_groupnorm(opset: int, tmp_path: Path) -> None:
    size = 2 if opset == 18 else 6  # a scale per group before opset 21, per channel after
    constants = {"s": np.linspace(0.5, 1.5, size, dtype=F32), "b": np.full(size, 0.1, F32)}
    node = helper.make_node(
        "GroupNormalization", ["x", "s", "b"], ["y"], name="gn", num_groups=2, epsilon=1e-6
    )
    path = onnx_file(tmp_path / "gn.onnx", [node], [6, 3, 3], opset, constants)
    result = imported(path)
    assert ("GroupNorm", {"num_groups": 2, "affine": True, "eps": 1e-6}) in blocks(result)
    x = torch.randn(4, 6, 3, 3)
    assert np.abs(netloom(result, x) - onnx_runtime(path, x)).max() <= 1e-5


class ChannelsLastLinear(torch.nn.Module):
    """convnext's block: a Linear over the channels of a permuted (N, H, W, C) map."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.fc = torch.nn.Linear(8, 16)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.conv(x).permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


def test_a_linear_over_channels_last_is_a_dense_over_the_last_axis(tmp_path: Path) -> None:
    import warnings

    path = tmp_path / "cl.onnx"
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            ChannelsLastLinear().eval(), (torch.randn(2, 3, 4, 4),), str(path), dynamo=False,
            input_names=["x"], dynamic_axes={"x": {0: "N"}},
        )  # fmt: skip
    result = imported(path)
    made = [(t, p.get("dims"), p.get("over")) for t, p in blocks(result)]
    assert made[2:5] == [
        ("Permute", [2, 3, 1], None),
        ("Dense", None, "last axis"),
        ("Permute", [3, 1, 2], None),
    ], made
    x = torch.randn(3, 3, 4, 4)
    assert np.abs(netloom(result, x) - onnx_runtime(path, x)).max() <= 1e-5
