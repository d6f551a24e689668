"""The blocks and params issue 26 adds for imported models (ReLU6, Hardtanh, Hardsigmoid,
GELU's approximate, the norms' eps, BatchNorm's track_running_stats, AvgPool's
count_include_pad, merges of up to 64 inputs).

Each one: the exported model computes bit for bit what NetLoom's model computes (eval
outputs and train-mode gradients), the export writes a kwarg only when it differs from
torch's default, the values are those of plain torch, and values that do not fit are
refused in one line naming the node and the param.
"""

from __future__ import annotations

import ast
import re
from typing import Any

import pytest
import torch
import torch.nn.functional as F  # noqa: N812 (torch's own spelling)

from engine.codegen import to_python
from engine.graph.graph import Graph
from engine.graph.shapes import analyze
from engine.model.build import build_model
from engine.project.project import Project
from tests.engine.test_codegen import equivalence_problems

pytestmark = pytest.mark.usefixtures("one_torch_thread_per_module")


def chain(block: str, shape: list[int], sequence: bool = False, **params: Any) -> Graph:
    """Input → block → Output, with ids `x`, `block` and `out`."""
    graph = Graph()
    graph.add_node("Input", {"shape": shape, "sequence": sequence}, node_id="x")
    graph.add_node(block, params, node_id="block")
    graph.add_node("Output", {"loss": "none"}, node_id="out")
    graph.connect("x", "block")
    graph.connect("block", "out")
    return graph


def merge(block: str, shapes: list[list[int]]) -> Graph:
    """One Input per branch → block (inputs = len(shapes)) → Output."""
    graph = Graph()
    graph.add_node(block, {"inputs": len(shapes)}, node_id="block")
    for i, shape in enumerate(shapes, start=1):
        graph.add_node("Input", {"shape": shape}, node_id=f"x{i}")
        graph.connect(f"x{i}", "block", f"in{i}")
    graph.add_node("Output", {"loss": "none"}, node_id="out")
    graph.connect("block", "out")
    return graph


# (graph, the torch module the export constructs, the keyword arguments it writes)
EXPORTED: dict[str, tuple[Graph, str, dict[str, Any]]] = {
    "relu6": (chain("ReLU6", [3, 5, 5]), "ReLU6", {}),
    "relu6-frames": (chain("ReLU6", [4, 3, 5, 5], sequence=True), "ReLU6", {}),
    "hardtanh-default": (chain("Hardtanh", [7]), "Hardtanh", {}),
    "hardtanh-0-6": (
        chain("Hardtanh", [3, 4, 4], min_val=0.0, max_val=6.0),
        "Hardtanh",
        {"min_val": 0.0, "max_val": 6.0},
    ),
    "hardtanh-max": (
        chain("Hardtanh", [5, 3], sequence=True, max_val=2.5),
        "Hardtanh",
        {"max_val": 2.5},
    ),
    "hardsigmoid": (chain("Hardsigmoid", [3, 5, 5]), "Hardsigmoid", {}),
    "gelu-none": (chain("GELU", [9]), "GELU", {}),
    "gelu-tanh": (
        chain("GELU", [5, 9], sequence=True, approximate="tanh"),
        "GELU",
        {"approximate": "tanh"},
    ),
    "batchnorm-eps": (
        chain("BatchNorm", [4, 5, 5], eps=1e-3),
        "BatchNorm2d",
        {"num_features": 4, "eps": 1e-3, "momentum": 0.1},
    ),
    "batchnorm-no-stats": (
        chain("BatchNorm", [4, 5], track_running_stats=False),
        "BatchNorm1d",
        {"num_features": 4, "momentum": 0.1, "track_running_stats": False},
    ),
    "batchnorm-frames": (
        chain("BatchNorm", [3, 4, 5, 5], sequence=True, eps=0.01, track_running_stats=False),
        "BatchNorm2d",
        {"num_features": 4, "eps": 0.01, "momentum": 0.1, "track_running_stats": False},
    ),
    "layernorm-eps": (
        chain("LayerNorm", [3, 4, 5], axes=3, eps=1e-6),
        "LayerNorm",
        {"normalized_shape": (3, 4, 5), "eps": 1e-6},
    ),
    "groupnorm-eps": (
        chain("GroupNorm", [6, 5, 5], num_groups=3, eps=1e-6),
        "GroupNorm",
        {"num_groups": 3, "num_channels": 6, "eps": 1e-6},
    ),
    "instancenorm-eps": (
        chain("InstanceNorm", [3, 8, 8], eps=0.001, affine=True),
        "InstanceNorm2d",
        {"num_features": 3, "eps": 0.001, "affine": True},
    ),
    **{
        f"avgpool{n}d-exclude-pad": (
            chain(
                f"AvgPool{n}d",
                [2, *(7,) * n],
                kernel_size=3,
                stride=2,
                padding=1,
                ceil_mode=True,
                count_include_pad=False,
            ),
            f"AvgPool{n}d",
            {
                "kernel_size": 3,
                "stride": 2,
                "padding": 1,
                "ceil_mode": True,
                "count_include_pad": False,
            },
        )
        for n in (1, 2, 3)
    },
}
# Merges have no module: the export joins the branches in forward.
MERGES: dict[str, Graph] = {
    "concat-25": merge("Concat", [[c, 3, 3] for c in range(1, 26)]),
    "add-64": merge("Add", [[2, 3]] * 64),
    "multiply-30": merge("Multiply", [[2, 3]] * 30),
}
EQUIVALENT = {**{k: graph for k, (graph, _, _) in EXPORTED.items()}, **MERGES}


@pytest.mark.parametrize("case", EQUIVALENT, ids=list(EQUIVALENT))
def test_export_computes_bit_for_bit_what_netloom_computes(case: str) -> None:
    graph = EQUIVALENT[case]
    assert analyze(graph).ok, analyze(graph).problems
    assert equivalence_problems(graph, case) == []


def constructed(source: str, node: str = "block") -> tuple[str, dict[str, Any]]:
    """The nn class and keyword arguments of `self.<node> = nn.X(...)` in exported code."""
    for statement in ast.walk(ast.parse(source)):
        if (
            isinstance(statement, ast.Assign)
            and ast.unparse(statement.targets[0]) == f"self.{node}"
            and isinstance(statement.value, ast.Call)
        ):
            call = statement.value
            assert not call.args, ast.unparse(call)
            kwargs = {k.arg: ast.literal_eval(k.value) for k in call.keywords if k.arg}
            return ast.unparse(call.func).removeprefix("nn."), kwargs
    raise AssertionError(f"no self.{node} = nn.…(…) in the export")


@pytest.mark.parametrize("case", EXPORTED, ids=list(EXPORTED))
def test_export_writes_a_kwarg_only_when_not_torchs_default(case: str) -> None:
    graph, module, kwargs = EXPORTED[case]
    assert constructed(to_python(Project(graph, name=case))) == (module, kwargs)


def test_defaults_write_no_new_kwarg() -> None:
    """A project saved before these params existed exports as it did."""
    graphs = [
        chain("BatchNorm", [4, 5, 5]),
        chain("LayerNorm", [6]),
        chain("GroupNorm", [4, 3], num_groups=2),
        chain("InstanceNorm", [3, 5, 5]),
        chain("AvgPool2d", [3, 6, 6], ceil_mode=True),
        chain("GELU", [6]),
    ]
    for graph in graphs:
        source = to_python(Project(graph, name="old"))
        for kwarg in ("eps=", "track_running_stats", "count_include_pad", "approximate"):
            assert kwarg not in source, source


def run(graph: Graph, *inputs: torch.Tensor, train: bool = False) -> torch.Tensor:
    torch.manual_seed(0)
    model = build_model(graph).train(train)
    with torch.no_grad():
        output: torch.Tensor = model(*inputs)
    return output


def test_values_are_those_of_plain_torch() -> None:
    x = torch.linspace(-9, 9, 2 * 3 * 4 * 4).reshape(2, 3, 4, 4)
    assert torch.equal(run(chain("ReLU6", [3, 4, 4]), x), x.clamp(0, 6))
    clamp = chain("Hardtanh", [3, 4, 4], min_val=-0.5, max_val=2.0)
    assert torch.equal(run(clamp, x), torch.clamp(x, -0.5, 2.0))
    assert torch.equal(run(chain("Hardsigmoid", [3, 4, 4]), x), F.hardsigmoid(x))
    gelu = run(chain("GELU", [3, 4, 4], approximate="tanh"), x)
    assert torch.equal(gelu, F.gelu(x, approximate="tanh"))
    assert not torch.equal(gelu, F.gelu(x))

    wide = torch.rand(2, 3, 7, 7)
    pooled = run(
        chain(
            "AvgPool2d", [3, 7, 7], kernel_size=2, stride=2, ceil_mode=True, count_include_pad=False
        ),
        wide,
    )
    expected = F.avg_pool2d(wide, 2, 2, ceil_mode=True, count_include_pad=False)
    assert torch.equal(pooled, expected)
    # the last, partial window averages its own 1 value: the input's corner
    assert torch.equal(pooled[:, :, -1, -1], wide[:, :, -1, -1])


def test_eps_is_the_one_the_norm_divides_with() -> None:
    x = torch.randn(2, 4, 3, 3) * 0.01  # a spread small enough for eps to matter
    for block, params, reference in [
        ("LayerNorm", {"axes": 3}, lambda v, e: F.layer_norm(v, v.shape[1:], eps=e)),
        ("GroupNorm", {"num_groups": 2}, lambda v, e: F.group_norm(v, 2, eps=e)),
        ("InstanceNorm", {}, lambda v, e: F.instance_norm(v, eps=e)),
        ("BatchNorm", {}, lambda v, e: F.batch_norm(v, None, None, training=True, eps=e)),
    ]:
        ours = run(chain(block, [4, 3, 3], eps=0.5, **params), x, train=True)
        assert torch.allclose(ours, reference(x, 0.5), atol=1e-6), block
        assert not torch.allclose(ours, reference(x, 1e-5), atol=1e-3), block


def test_batchnorm_without_running_stats_normalises_each_batch_in_eval() -> None:
    graph = chain("BatchNorm", [4, 3, 3], track_running_stats=False)
    model = build_model(graph)
    assert not any("running" in key for key in model.state_dict())
    x = torch.randn(5, 4, 3, 3) * 3 + 2
    with torch.no_grad():
        out = model.eval()(x)
    assert torch.allclose(out.mean(dim=(0, 2, 3)), torch.zeros(4), atol=1e-5)
    kept = build_model(chain("BatchNorm", [4, 3, 3])).eval()
    with torch.no_grad():
        assert not torch.allclose(kept(x), out, atol=1e-2)


def test_densenet_sized_concat_joins_its_branches_in_port_order() -> None:
    branches = [torch.full((2, 1, 3, 3), float(i)) for i in range(25)]
    out = run(merge("Concat", [[1, 3, 3]] * 25), *branches)
    assert out.shape == (2, 25, 3, 3)
    assert torch.equal(out[0, :, 0, 0], torch.arange(25.0))


@pytest.mark.parametrize(
    ("graph", "message"),
    [
        (
            chain("Hardtanh", [5], min_val=2.0, max_val=1.0),
            "block: Hardtanh needs min_val below max_val; got min_val 2 and max_val 1 "
            "— lower min_val or raise max_val",
        ),
        (
            chain("Hardtanh", [5], min_val=1.0),
            "block: Hardtanh needs min_val below max_val; got min_val 1 and max_val 1 "
            "— lower min_val or raise max_val",
        ),
        *[
            (
                chain(block, [4, 3, 3], eps=0.0, **extra),
                f"block: {block} needs eps above 0; got eps 0 — use 1e-5",
            )
            for block, extra in [
                ("BatchNorm", {}),
                ("LayerNorm", {}),
                ("GroupNorm", {"num_groups": 2}),
                ("InstanceNorm", {}),
            ]
        ],
    ],
    ids=["hardtanh-reversed", "hardtanh-equal", "bn-eps0", "ln-eps0", "gn-eps0", "in-eps0"],
)
def test_params_that_do_not_fit_are_refused_in_one_line(graph: Graph, message: str) -> None:
    analysis = analyze(graph)
    assert analysis.errors_of("block") == [message]
    assert re.search(r"\b(min_val|eps)\b", message)
