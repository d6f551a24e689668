"""What the graph and the shape pass keep between edits because it depends only on the
structure (the topological order and its index, the structural problems): a structural
edit makes it stale, a parameter edit that changes ports or outputs does too, and the
facts after every edit equal those of a fresh pass over a copy of the graph."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from engine.graph.graph import Graph
from engine.graph.shapes import Analysis, analyze
from engine.project import project
from tests.helpers import TEMPLATES


def residual(blocks: int = 4) -> Graph:
    """Input → [Dense → ReLU → Add(skip)] × blocks → Output."""
    graph = Graph()
    x = graph.add_node("Input", {"shape": [16]}).id
    for _ in range(blocks):
        dense = graph.add_node("Dense", {"units": 16}).id
        relu = graph.add_node("ReLU").id
        add = graph.add_node("Add").id
        graph.connect(x, dense)
        graph.connect(dense, relu)
        graph.connect(x, add, "in1")
        graph.connect(relu, add, "in2")
        x = add
    graph.connect(x, graph.add_node("Output", {"loss": "mse"}).id)
    return graph


def fresh(graph: Graph) -> Analysis:
    """A whole pass, in the order a copy of the graph (no caches) sorts its nodes. (The
    pass runs on the graph itself: a unit's facts hold its body graph, which a copy
    would not equal.)"""
    analysis = analyze(graph)
    assert list(analysis.nodes) == copy.deepcopy(graph).topological_order()
    return analysis


def assert_index_fresh(graph: Graph) -> None:
    order = copy.deepcopy(graph).topological_order()
    assert graph.topological_order() == order
    assert dict(graph.topological_index()) == {node_id: i for i, node_id in enumerate(order)}


def test_the_topological_index_follows_every_structural_edit() -> None:
    graph = residual(2)
    assert_index_fresh(graph)
    late = graph.add_node("Dense", {"units": 16}).id  # a node added last, sorted first...
    assert_index_fresh(graph)
    graph.disconnect("add2", "in2")
    graph.connect("input1", late)
    assert_index_fresh(graph)
    graph.connect(late, "add2", "in2")  # ...now wired into the middle
    assert_index_fresh(graph)
    graph.remove_node("relu1")
    assert_index_fresh(graph)
    graph.reorder(list(reversed([n.id for n in graph.nodes])), graph.edges)
    assert_index_fresh(graph)
    graph.set_params(late, {"units": 8})  # no structural change: the index stands
    assert_index_fresh(graph)


def test_a_param_edit_reuses_the_structural_problems_it_cannot_change(monkeypatch) -> None:
    graph = residual(3)
    graph.disconnect("add3", "in2")  # one structural problem, kept across param edits
    previous = analyze(graph)
    looked: list[int] = []
    whole = Graph.structural_problems
    monkeypatch.setattr(Graph, "structural_problems", lambda self: looked.append(1) or whole(self))
    graph.set_params("dense2", {"units": 8})
    again = analyze(graph, previous, changed={"dense2"})
    assert looked == []
    assert again == fresh(graph)
    assert [p.message for p in again.problems if p.node == "add3"][0].endswith("is not wired")


def test_a_param_edit_that_adds_a_port_finds_its_new_problem() -> None:
    graph = residual(2)
    previous = analyze(graph)
    assert previous.ok
    graph.set_params("add1", {"inputs": 3})  # a third branch, not wired yet
    again = analyze(graph, previous, changed={"add1"})
    assert again == fresh(graph)
    assert any("add1: Add input 'in3' is not wired" in p.message for p in again.problems)
    graph.set_params("add1", {"inputs": 2})
    assert analyze(graph, again, changed={"add1"}) == fresh(graph)
    assert analyze(graph, again, changed={"add1"}).ok


def test_a_param_edit_visits_only_what_follows_the_edited_block(monkeypatch) -> None:
    graph = residual(30)
    previous = analyze(graph)
    seen: list[str] = []
    real = Graph.incoming
    monkeypatch.setattr(Graph, "incoming", lambda self, n: seen.append(n) or real(self, n))
    last_dense = [n.id for n in graph.nodes if n.type == "Dense"][-1]
    graph.set_params(last_dense, {"units": 8})
    again = analyze(graph, previous, changed={last_dense})
    monkeypatch.undo()
    assert again == fresh(graph)
    # The edited block, its ReLU, the Add it breaks, and the Output it blocks: not 122.
    assert set(seen) == {last_dense, "relu30", "add30", "output1"}


def with_a_dense() -> list[Path]:
    return [p for p in TEMPLATES if '"Dense"' in p.read_text()]


@pytest.mark.parametrize("path", with_a_dense(), ids=lambda p: p.stem)
def test_facts_after_each_edit_equal_a_fresh_pass(path: Path) -> None:
    """A chain of edits as the editor makes them (param edits passed on incrementally,
    structural edits with a whole pass) never leaves stale facts behind."""
    graph = project.load(path).graph
    analysis = analyze(graph)
    dense = next(n.id for n in graph.nodes if n.type == "Dense")
    port, source = next(iter(graph.incoming(dense).items()))
    added: list[str] = []
    steps = [
        ("param", lambda: graph.set_params(dense, {"units": 3})),
        ("structure", lambda: graph.disconnect(dense, port)),
        ("param", lambda: graph.set_params(dense, {"units": 5})),
        ("structure", lambda: graph.connect(source, dense, port)),
        ("param", lambda: graph.set_params(dense, {"units": 7})),
        ("structure", lambda: added.append(graph.add_node("Dense", {"units": 2}).id)),
        ("param", lambda: graph.set_params(dense, {"units": 9})),
        ("structure", lambda: graph.remove_node(added[0])),
        ("param", lambda: graph.set_params(dense, {"units": 4})),
    ]
    for kind, step in steps:
        step()
        if kind == "param":
            analysis = analyze(graph, analysis, changed={dense})
        else:
            analysis = analyze(graph)
        expected = fresh(graph)
        assert analysis == expected, kind
        assert list(analysis.nodes) == list(expected.nodes)
