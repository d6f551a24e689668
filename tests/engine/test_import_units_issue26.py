"""Importing Python, units where they were lost: a unit's blocks named after its
forward's variables never take its Output's id (`out = torch.cat(...)` in a
ShuffleNet-style unit), and a grouping that fails says why the model stayed flat."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from engine.importers import from_torch
from engine.importers.check import InputSpec
from engine.importers.from_torch import import_module
from engine.model.build import build_model
from tests.engine.test_import_idioms_b2 import ShuffleUnit  # assigns `out` once


class ShuffleNetLike(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.stage = nn.Sequential(ShuffleUnit(8), ShuffleUnit(8), ShuffleUnit(8))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.pool(self.stage(self.stem(x))), 1))


@pytest.fixture(scope="module")
def shuffle_import():  # type: ignore[no-untyped-def]
    torch.manual_seed(0)
    model = ShuffleNetLike().eval()
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 1.5)
    return model, import_module(model, InputSpec((3, 8, 8)), "shuffle")


def test_a_variable_named_out_does_not_keep_a_shufflenet_unit_flat(shuffle_import) -> None:  # type: ignore[no-untyped-def]
    model, result = shuffle_import
    assert result.project is not None, result.report.text()
    graph = result.project.graph
    assert graph.library is not None and list(graph.library.definitions) == ["ShuffleUnit"]
    assert graph.node("stage").type == "ShuffleUnit"
    assert graph.node("stage").params["repeat"] == 3
    body = graph.library.definition("ShuffleUnit").graph
    layers = [n.id for n in body.nodes if n.spec.role == "layer"]
    outputs = body.ids_of_role("output")
    assert "out" in layers  # the forward's own name for the join
    assert len(outputs) == 1 and outputs[0] not in layers
    x = torch.randn(2, 3, 8, 8)
    built = build_model(graph)
    built.load_state_dict(result.state_dict, strict=True)
    with torch.no_grad():
        assert torch.equal(built.eval()(x), model(x))


def test_a_grouping_that_fails_says_why_the_model_stayed_flat(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise ValueError("node id 'x' is already used")

    monkeypatch.setattr(from_torch, "group_repeated", broken)
    result = import_module(ShuffleNetLike().eval(), InputSpec((3, 8, 8)), "shuffle")
    assert result.project is not None and result.project.graph.library is None
    (note,) = [n for n in result.report.notes if n.op == "units"]
    assert "stays flat blocks" in note.why and "node id 'x' is already used" in note.why


class Leaf(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.conv(x)) + x


class Tree(nn.Module):
    """DLA-style: a tree of trees, the same class nested in itself."""

    def __init__(self, levels: int, channels: int) -> None:
        super().__init__()
        child = (lambda: Leaf(channels)) if levels == 1 else (lambda: Tree(levels - 1, channels))
        self.tree1 = child()
        self.tree2 = child()
        self.root = nn.Conv2d(2 * channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x1 = self.tree1(x)
        x2 = self.tree2(x1)
        return self.root(torch.cat([x2, x1], dim=1))


def test_a_class_nested_in_itself_becomes_units_inside_its_unit() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 1), Tree(2, 4)).eval()
    result = import_module(model, InputSpec((3, 6, 6)), "tree")
    assert result.project is not None, result.report.text()
    graph = result.project.graph
    assert graph.library is not None
    outer = graph.node("n_1")  # the Sequential's child `1`
    inner_types = {n.id: n.type for n in graph.library.definition(outer.type).graph.nodes}
    assert inner_types["tree1"] == inner_types["tree2"] == "Tree"
    leaves = graph.library.definition("Tree").graph
    assert {n.type for n in leaves.nodes} >= {"Leaf"}
    x = torch.randn(2, 3, 6, 6)
    built = build_model(graph)
    built.load_state_dict(result.state_dict, strict=True)
    with torch.no_grad():
        assert torch.equal(built.eval()(x), model(x))


class FixedScale(nn.Module):
    """A factor the model holds as a buffer: it never learns it."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(4, 4, 1)
        self.register_buffer("scale", torch.rand(4, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x) * self.scale


def test_a_fixed_buffer_imports_as_a_frozen_layer_scale_also_inside_a_unit() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(FixedScale(), nn.ReLU(), FixedScale()).eval()
    result = import_module(model, InputSpec((4, 5, 5)), "fixed")
    assert result.project is not None, result.report.text()
    graph = result.project.graph
    assert graph.library is not None
    body = graph.library.definition("FixedScale").graph
    frozen = {n.id: n.frozen for n in body.nodes if n.spec.role == "layer"}
    assert frozen == {"conv": False, "scale": True}
    notes = [n.why for n in result.report.notes if n.op.endswith("scale")]
    assert notes and all("(LayerScale) frozen" in why for why in notes)

    single = import_module(FixedScale().eval(), InputSpec((4, 5, 5)), "one")
    assert single.project is not None
    assert [n.id for n in single.project.graph.nodes if n.frozen] == ["scale"]


class Pair(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Conv2d(4, 4, 1)
        self.b = nn.Conv2d(4, 4, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.a(x), self.b(x)


class TwoPairs(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.pair1 = Pair()
        self.pair2 = Pair()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, b = self.pair1(x)
        c, d = self.pair2(a * b)
        return c + d


def test_a_repeated_class_left_as_blocks_says_why() -> None:
    result = import_module(TwoPairs().eval(), InputSpec((4, 3, 3)), "pairs")
    assert result.project is not None, result.report.text()
    assert result.project.graph.library is None
    (note,) = [n.why for n in result.report.notes if n.op == "units"]
    assert note == (
        "Pair at pair1, pair2 stays blocks, not a unit: its result leaves from 2 places; "
        "a unit gives one"
    )


class CountsThreads(nn.Module):
    """Records the torch thread count each time it runs."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 64, 3, padding=1)  # ~6e7 multiply-adds at batch 3
        self.seen: list[int] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.seen.append(torch.get_num_threads())
        return self.conv(x)


@pytest.mark.parametrize(("busy", "threads"), [(2.0, 1), (0.0, 2)])
def test_an_import_runs_the_model_on_the_idle_cores_and_gives_them_back(
    monkeypatch: pytest.MonkeyPatch, busy: float, threads: int
) -> None:
    from engine.train import optim

    monkeypatch.setattr(optim.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(optim, "busy_cores", lambda: busy)  # cores busy elsewhere
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        model = CountsThreads().eval()
        result = import_module(model, InputSpec((3, 64, 64)), "threads")
        assert result.project is not None, result.report.text()
        assert model.seen and set(model.seen) == {threads}
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
