"""The graph model: edits, their events, and the refusals a user sees."""

from __future__ import annotations

import pytest

from engine.graph.graph import Edge, Graph, GraphError, GraphEvent


def chain(*types: str) -> Graph:
    graph = Graph()
    ids = [graph.add_node(t).id for t in types]
    for source, target in zip(ids, ids[1:]):
        graph.connect(source, target, graph.node(target).ports[0])
    return graph


def test_ids_follow_the_block_prefix_and_stay_unique() -> None:
    graph = Graph()
    ids = [graph.add_node(t).id for t in ("Input", "Conv2d", "Conv2d", "LSTM", "Dense")]
    assert ids == ["input1", "conv1", "conv2", "lstm1", "dense1"]


def test_every_edit_emits_an_event() -> None:
    graph = Graph()
    seen: list[GraphEvent] = []
    graph.subscribe(seen.append)
    graph.add_node("Input", node_id="inp")
    graph.add_node("Dense", node_id="fc")
    graph.connect("inp", "fc")
    graph.set_params("fc", {"units": 3})
    graph.move("fc", (10, 20))
    graph.disconnect("fc", "x")
    graph.remove_node("fc")
    assert [e.kind for e in seen] == [
        "node_added",
        "node_added",
        "edge_added",
        "params_changed",
        "node_moved",
        "edge_removed",
        "node_removed",
    ]
    assert seen[2].edge == Edge("inp", "fc", "x")


def test_refusals_name_the_reason() -> None:
    graph = chain("Input", "Dense", "Output")
    with pytest.raises(GraphError, match="dense1.x is already wired from input1"):
        graph.connect("input1", "dense1", "x")
    with pytest.raises(GraphError, match="has no input port 'y'"):
        graph.connect("input1", "output1", "y")
    with pytest.raises(GraphError, match="add1 → add1 would close a cycle"):
        chain("Input", "Add").connect("add1", "add1", "in2")
    with pytest.raises(GraphError, match="no node 'ghost'"):
        graph.connect("ghost", "dense1", "x")
    with pytest.raises(GraphError, match="unknown block type 'Conv4d'"):
        graph.add_node("Conv4d")
    with pytest.raises(GraphError, match=r"dense1\.units: expected an integer ≥ 1, got 0"):
        graph.set_params("dense1", {"units": 0})
    with pytest.raises(GraphError, match="is an Output"):
        graph.connect("output1", "dense1", "x")


def test_a_longer_cycle_is_refused() -> None:
    graph = chain("Input", "Add", "Dense", "Dense")
    graph.disconnect("add1", "in1")
    graph.connect("input1", "add1", "in1")
    with pytest.raises(GraphError, match="dense2 → add1 would close a cycle"):
        graph.connect("dense2", "add1", "in2")


def test_remove_and_restore_round_trip() -> None:
    graph = chain("Input", "Dense", "Output")
    node, wires = graph.remove_node("dense1")
    assert "dense1" not in graph and graph.edges == []
    graph.restore_node(node)
    for wire in wires:
        graph.connect(wire.source, wire.target, wire.port)
    assert {str(e) for e in graph.edges} == {"input1 → dense1.x", "dense1 → output1.x"}


def test_fewer_merge_inputs_drop_the_wires_of_vanished_ports() -> None:
    graph = Graph()
    for node_id in ("a", "b", "c"):
        graph.add_node("Input", node_id=node_id)
    graph.add_node("Add", {"inputs": 3}, node_id="sum")
    for port, source in zip(("in1", "in2", "in3"), ("a", "b", "c")):
        graph.connect(source, "sum", port)
    dropped = graph.set_params("sum", {"inputs": 2})
    assert dropped == [Edge("c", "sum", "in3")]
    assert graph.incoming("sum") == {"in1": "a", "in2": "b"}


def test_structural_problems_point_at_nodes() -> None:
    graph = Graph()
    graph.add_node("Dense")
    messages = [p.message for p in graph.structural_problems()]
    assert "dense1: Dense input 'x' is not wired" in messages
    assert "the graph has no Input block" in messages
    assert "the graph has no Output block" in messages


def test_paste_copies_inner_wires_under_new_ids() -> None:
    graph = chain("Input", "Dense", "ReLU", "Output")
    nodes = [graph.node("dense1"), graph.node("relu1")]
    renamed = graph.add_subgraph(nodes, graph.edges, offset=(40, 40))
    assert renamed == {"dense1": "dense2", "relu1": "relu2"}
    assert graph.incoming("relu2") == {"x": "dense2"}
    assert graph.incoming("dense2") == {}  # the wire from outside the selection stays behind
    assert graph.node("dense2").pos == (40.0, 40.0)


def test_topological_order_is_stable_under_insertion_order() -> None:
    graph = Graph()
    graph.add_node("Input", node_id="b_in")
    graph.add_node("Input", node_id="a_in")
    graph.add_node("Concat", node_id="cat")
    graph.connect("a_in", "cat", "in1")
    graph.connect("b_in", "cat", "in2")
    assert graph.topological_order() == ["b_in", "a_in", "cat"]


def test_bad_node_ids_are_refused() -> None:
    graph = Graph()
    for bad in ("Conv1", "1conv", "forward", "class", "x y", ""):
        with pytest.raises(GraphError):
            graph.add_node("Dense", node_id=bad)


def test_wire_count_follows_every_change_of_the_wires() -> None:
    # The count the shape pass reads first is kept from the ports index, not networkx.
    graph = Graph()
    for node_id in ("a", "b", "c"):
        graph.add_node("Input", node_id=node_id)
    graph.add_node("Add", {"inputs": 3}, node_id="sum")
    graph.add_node("Output", node_id="out")
    for port, source in zip(("in1", "in2", "in3"), ("a", "b", "c")):
        graph.connect(source, "sum", port)
    graph.connect("sum", "out")
    counts = [graph.wire_count()]
    graph.set_params("sum", {"inputs": 2})  # drops c → sum.in3
    counts.append(graph.wire_count())
    node, wires = graph.remove_node("sum")
    counts.append(graph.wire_count())
    graph.restore_node(node)
    for wire in wires:
        graph.connect(wire.source, wire.target, wire.port)
    counts.append(graph.wire_count())
    graph.reorder([n.id for n in reversed(graph.nodes)], list(reversed(graph.edges)))
    counts.append(graph.wire_count())
    graph.add_subgraph([graph.node("a"), graph.node("sum")], graph.edges, offset=(40, 40))
    counts.append(graph.wire_count())
    assert counts == [4, 3, 0, 3, 3, 4]
    assert graph.wire_count() == len(graph.edges) == graph.copy().wire_count()
