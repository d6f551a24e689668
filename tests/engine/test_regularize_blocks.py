"""DropPath and LayerScale: stochastic depth as torchvision computes it, a learned
per-channel factor named by its node id, both the same in the exported model."""

from __future__ import annotations

import pytest
import torch

from engine.codegen import to_python
from engine.graph.graph import Graph
from engine.graph.shapes import analyze
from engine.model.build import build_model
from engine.project.project import Project
from engine.units import edits as unit_edits
from tests.engine.test_codegen import equivalence_problems, exported_class

pytestmark = pytest.mark.usefixtures("one_torch_thread_per_module")


def residual(shape: list[int], branch: list[tuple[str, dict]]) -> Graph:
    """x + branch(x): the place DropPath and LayerScale sit in convnext and efficientnet."""
    graph = Graph()
    graph.add_node("Input", {"shape": shape}, node_id="x")
    previous = "x"
    for block, params in branch:
        node = graph.add_node(block, params)
        graph.connect(previous, node.id)
        previous = node.id
    graph.add_node("Add", {}, node_id="add1")
    graph.connect("x", "add1", "in1")
    graph.connect(previous, "add1", "in2")
    graph.add_node("Output", {"loss": "none"}, node_id="out")
    graph.connect("add1", "out")
    return graph


def stochastic_depth(x: torch.Tensor, p: float, mode: str) -> torch.Tensor:
    """torchvision.ops.stochastic_depth in training, written out (the suite has no
    torchvision): one Bernoulli draw per sample (or per batch), kept ones scaled."""
    survival = 1.0 - p
    size = [x.shape[0]] + [1] * (x.ndim - 1) if mode == "row" else [1] * x.ndim
    noise = torch.empty(size, dtype=x.dtype, device=x.device).bernoulli_(survival)
    return x * noise.div_(survival)


@pytest.fixture(scope="module")
def drop_path() -> torch.nn.Module:
    graph = residual([6], [("DropPath", {"p": 0.25})])
    return build_model(graph)


def test_drop_path_is_the_identity_in_eval(drop_path: torch.nn.Module) -> None:
    x = torch.randn(64, 6)
    assert torch.equal(drop_path.eval()(x), x + x)


def test_drop_path_drops_whole_samples_at_its_rate_and_scales_the_rest(
    drop_path: torch.nn.Module,
) -> None:
    x = torch.randn(4000, 6)
    torch.manual_seed(7)
    branch = drop_path.train()(x) - x
    dropped = (branch == 0).all(dim=1)
    kept = ~dropped
    # A sample is dropped whole or kept whole, scaled by 1 / (1 - p).
    assert torch.equal(dropped | kept, torch.ones_like(dropped))
    assert torch.allclose(branch[kept], x[kept] / 0.75)
    assert 0.22 < dropped.float().mean().item() < 0.28
    # The very draws torchvision makes under the same seed.
    torch.manual_seed(7)
    assert torch.equal(branch + x, x + stochastic_depth(x, 0.25, "row"))


def test_drop_path_in_batch_mode_drops_the_whole_batch_or_none() -> None:
    model = build_model(residual([3, 2, 2], [("DropPath", {"p": 0.5, "mode": "batch"})])).train()
    x = torch.randn(5, 3, 2, 2)
    outcomes = set()
    torch.manual_seed(0)
    for _ in range(20):
        branch = model(x) - x
        assert torch.equal(branch, torch.zeros_like(x)) or torch.allclose(branch, 2 * x)
        outcomes.add(bool(branch.any()))
    assert outcomes == {True, False}


@pytest.mark.parametrize("mode", ["row", "batch"])
def test_exported_drop_path_draws_what_the_in_app_model_draws(mode: str) -> None:
    graph = residual(
        [4, 3, 3], [("Conv2d", {"out_channels": 4}), ("DropPath", {"p": 0.4, "mode": mode})]
    )
    source = to_python(Project(graph, name="drop"))
    assert "torchvision" not in source and "bernoulli_(0.6)" in source
    torch.manual_seed(0)
    built = build_model(graph)
    exported = exported_class(source)()
    exported.load_state_dict(built.state_dict(), strict=True)
    x = torch.randn(16, 4, 3, 3)
    for seed in range(3):
        torch.manual_seed(seed)
        ours = built.train()(x)
        torch.manual_seed(seed)
        assert torch.equal(ours, exported.train()(x))
    # Eval, and train-mode gradients with the same seed, over the whole registry harness.
    assert equivalence_problems(graph, "drop") == []


def test_layer_scale_is_a_parameter_named_by_its_node_and_it_trains() -> None:
    graph = residual([6, 3, 3], [("Conv2d", {"out_channels": 6}), ("LayerScale", {"init": 0.5})])
    assert analyze(graph).nodes["ls1"].params == 6
    torch.manual_seed(0)
    model = build_model(graph)
    state = model.state_dict()
    assert "ls1" in state and not any(k.startswith("ls1.") for k in state)
    assert torch.equal(state["ls1"], torch.full((6, 1, 1), 0.5))
    x = torch.randn(4, 6, 3, 3)
    # The branch is the conv's output scaled per channel.
    assert torch.equal(model(x) - x, (model.conv1(x) * 0.5) + x - x)
    model(x).pow(2).mean().backward()
    with torch.no_grad():  # one plain gradient step
        for weight in model.parameters():
            weight -= 0.1 * weight.grad
    assert not torch.equal(model.state_dict()["ls1"], torch.full((6, 1, 1), 0.5))

    source = to_python(Project(graph, name="scale"))
    assert "self.ls1 = nn.Parameter(torch.full((6, 1, 1), 0.5))" in source
    assert "ls1 = conv1 * self.ls1  # (N, 6, 3, 3)" in source
    assert equivalence_problems(graph, "scale") == []


def test_layer_scale_over_the_last_axis_has_one_factor_per_feature() -> None:
    graph = residual([5, 8], [("Dense", {"units": 8}), ("LayerScale", {"axis": "last"})])
    model = build_model(graph)
    assert tuple(model.state_dict()["ls1"].shape) == (8,)
    assert "nn.Parameter(torch.full((8,), 1e-06))" in to_python(Project(graph, name="last"))


def test_layer_scale_and_drop_path_work_inside_a_unit() -> None:
    graph = residual(
        [6, 3, 3], [("Conv2d", {"out_channels": 6}), ("LayerScale", {}), ("DropPath", {})]
    )
    before = analyze(graph)
    block = unit_edits.make_unit(graph, ["conv1", "ls1", "droppath1", "add1"], "Block", before)
    after = analyze(graph)
    assert after.ok, after.problems
    assert after.total_params == before.total_params
    model = build_model(graph, after)
    unit = block.instance.id
    assert f"{unit}.ls1" in model.state_dict()
    source = to_python(Project(graph, name="unit"))
    assert "self.ls1 = nn.Parameter(torch.full((6, 1, 1), 1e-06))" in source
    assert equivalence_problems(graph, "unit") == []
