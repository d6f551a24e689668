"""Renaming a unit or one of its ports (engine.units.edits): every instance follows, at
any depth, and renaming back gives the same file."""

from __future__ import annotations

import pytest

from engine.codegen import to_python
from engine.graph.graph import Graph, GraphError
from engine.graph.shapes import analyze
from engine.project.project import Project, dumps, load, loads
from engine.units.edits import make_unit, rename_port, rename_unit
from tests.helpers import template

RESNET = template("resnet_digits")


def test_rename_unit_follows_nested_instances_and_back_is_exact():
    project = load(RESNET)
    graph = project.graph
    before = dumps(project)
    rename_unit(graph, "ConvBnReLU", "CBR")
    assert graph.node("stem").type == "CBR"
    body = graph.library.definition("ResidualBlock").graph
    assert body.node("cbr1").type == "CBR", "an instance inside another unit follows"
    assert not analyze(graph).problems
    rename_unit(graph, "CBR", "ConvBnReLU")
    assert dumps(project) == before


def test_rename_port_moves_the_wires_and_back_is_exact():
    project = load(RESNET)
    graph = project.graph
    before = dumps(project)
    rename_port(graph, "ResidualBlock", "x", "features")
    assert graph.incoming("block1") == {"features": "stem"}
    assert not analyze(graph).problems
    rename_port(graph, "ResidualBlock", "features", "x")
    assert dumps(project) == before


def test_rename_refusals_name_the_problem():
    graph = load(RESNET).graph
    with pytest.raises(GraphError, match="already used"):
        rename_unit(graph, "ConvBnReLU", "ResidualBlock")
    with pytest.raises(GraphError, match="no input or output port 'y'"):
        rename_port(graph, "ResidualBlock", "y", "z")
    with pytest.raises(GraphError, match="already has a block or port named 'add'"):
        rename_port(graph, "ResidualBlock", "x", "add")


def two_outputs_project() -> tuple[Project, str]:
    """image → Pair(c1 → r1 → c2) whose outputs r1_out and c2_out feed cat; a second
    Pair instance sits inside the unit Outer, next to a Concat it feeds."""
    graph = Graph()
    graph.add_node("Input", {"shape": [4, 8, 8]}, (0, 0), "image")
    graph.add_node("Conv2d", {"out_channels": 4}, (260, 0), "c1")
    graph.add_node("ReLU", {}, (520, 0), "r1")
    graph.add_node("Conv2d", {"out_channels": 6, "kernel_size": 1}, (780, 0), "c2")
    graph.add_node("Concat", {}, (1040, 0), "cat")
    graph.add_node("Concat", {}, (1040, 200), "cat2")
    graph.add_node("GlobalPool", {}, (1300, 0), "pool")
    graph.add_node("Output", {}, (1560, 0), "out")
    graph.add_node("Output", {}, (1560, 200), "out2")
    for source, target in (("image", "c1"), ("c1", "r1"), ("r1", "c2"), ("cat", "pool")):
        graph.connect(source, target)
    graph.connect("c2", "cat", "in1")
    graph.connect("r1", "cat", "in2")
    graph.connect("pool", "out")
    pair = make_unit(graph, ["c1", "r1", "c2"], "Pair").instance.id
    # A second instance, wired the other way round, inside another unit.
    twin = graph.add_node("Pair", {}, (520, 200)).id
    graph.connect("image", twin, "x")
    graph.connect(twin, "cat2", "in1", "r1_out")
    graph.connect(twin, "cat2", "in2", "c2_out")
    graph.connect("cat2", "out2")
    make_unit(graph, [twin, "cat2"], "Outer")
    return Project(graph, name="two outputs"), pair


def test_rename_output_port_moves_every_wire_at_any_depth_and_back_is_exact():
    project, pair = two_outputs_project()
    graph = project.graph
    before = dumps(project)
    rename_port(graph, "Pair", "c2_out", "features")
    definition = graph.library.definition("Pair")
    assert definition.outputs == ("r1_out", "features"), "same place among the outputs"
    assert graph.node(pair).outputs == ("r1_out", "features")
    assert {p: e.source_port for p, e in graph.incoming_edges("cat").items()} == {
        "in1": "features",
        "in2": "r1_out",
    }
    outer = graph.library.definition("Outer").graph
    assert {p: e.source_port for p, e in outer.incoming_edges("cat2").items()} == {
        "in1": "r1_out",
        "in2": "features",
    }, "an instance inside another unit follows"
    analysis = analyze(graph)
    assert not analysis.problems
    assert list(analysis.nodes[pair].outputs) == ["r1_out", "features"]
    assert analysis.nodes["cat"].shape.dims == (10, 8, 8)

    # The file says so, and reads back to the same wires.
    text = dumps(project)
    assert '"source_port": "features"' in text and "c2_out" not in text
    again = loads(text)
    assert dumps(again) == text
    assert again.graph.incoming_edges("cat")["in1"].source_port == "features"

    rename_port(graph, "Pair", "features", "c2_out")
    assert dumps(project) == before


def test_rename_the_only_output_changes_no_wire_outside():
    project = load(RESNET)
    graph = project.graph
    before = dumps(project)
    definition = graph.library.definition("ResidualBlock")
    (old,) = definition.outputs
    wires = graph.edges
    rename_port(graph, "ResidualBlock", old, "y")
    assert definition.outputs == ("y",)
    assert graph.edges == wires, "a unit's one output is its plain output outside"
    assert not analyze(graph).problems
    rename_port(graph, "ResidualBlock", "y", old)
    assert dumps(project) == before


def test_rename_output_port_refusals_change_nothing():
    project, _ = two_outputs_project()
    graph = project.graph
    before = dumps(project)
    with pytest.raises(GraphError, match="Pair already has a block or port named 'r1_out'"):
        rename_port(graph, "Pair", "c2_out", "r1_out")
    with pytest.raises(GraphError, match="Pair already has a block or port named 'c1'"):
        rename_port(graph, "Pair", "c2_out", "c1")
    with pytest.raises(GraphError, match="Pair: node id 'Skip' must start with a lowercase"):
        rename_port(graph, "Pair", "c2_out", "Skip")
    with pytest.raises(GraphError, match="reserved name"):
        rename_port(graph, "Pair", "c2_out", "forward")
    with pytest.raises(GraphError, match=r"no input or output port 'c3_out' \(inputs: x; outputs"):
        rename_port(graph, "Pair", "c3_out", "y")
    assert dumps(project) == before


def test_export_names_the_value_after_the_renamed_output():
    from tests.engine.test_codegen import equivalence_problems

    project, pair = two_outputs_project()
    rename_port(project.graph, "Pair", "c2_out", "skip")
    code = to_python(project)
    assert f"{pair}_r1_out, {pair}_skip = self.{pair}(image)" in code
    assert f"torch.cat([{pair}_skip, {pair}_r1_out], dim=1)" in code
    assert "c2_out" not in code
    assert equivalence_problems(project.graph, project.name) == []


def test_an_output_named_like_a_block_gets_a_variable_of_its_own():
    """`<instance>_<port>` can be another block's id: the export must not let one
    value overwrite the other."""
    from tests.engine.test_codegen import equivalence_problems

    project, pair = two_outputs_project()
    graph = project.graph
    rename_port(graph, "Pair", "c2_out", "skip")
    # A block whose id is the output's natural variable: it feeds the unit, and is
    # read again after the unit's line.
    clash = graph.add_node("ReLU", {}, (260, 400), f"{pair}_skip").id
    graph.connect("image", clash)
    graph.disconnect(pair, "x")
    graph.connect(clash, pair, "x")
    graph.add_node("Add", {}, (780, 400), "mix")
    graph.connect(pair, "mix", "in1", "r1_out")
    graph.connect(clash, "mix", "in2")
    graph.add_node("Output", {}, (1040, 400), "out3")
    graph.connect("mix", "out3")
    assert not analyze(graph).problems
    code = to_python(project)
    assert f"{pair}_skip = self.{pair}_skip(image)" in code
    assert f"{pair}_r1_out, {pair}_skip_2 = self.{pair}({pair}_skip)" in code
    assert f"torch.cat([{pair}_skip_2, {pair}_r1_out], dim=1)" in code
    assert f"mix = {pair}_r1_out + {pair}_skip" in code
    assert equivalence_problems(graph, project.name) == []


def test_a_promoted_param_of_a_renamed_port_block_follows():
    project, _ = two_outputs_project()
    graph = project.graph
    definition = graph.library.definition("Pair")
    graph.library.set_promoted("Pair", {"shape": [("x", "shape")]})
    before = dumps(project)
    rename_port(graph, "Pair", "x", "image_in")
    assert definition.promoted == {"shape": [("image_in", "shape")]}
    assert definition.promotion_problems() == []
    assert '"image_in.shape"' in dumps(project)
    rename_port(graph, "Pair", "image_in", "x")
    assert dumps(project) == before
