"""Units: definitions and instances in the file, the shape pass, the editor's operations,
the built model and the exported code, all seen as a user would see them."""

from __future__ import annotations

import copy
import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch

from engine.codegen import to_python
from engine.graph.graph import Graph, GraphError
from engine.graph.shapes import analyze
from engine.model.build import build_model
from engine.project import project as proj
from engine.project.project import Project, ProjectError, from_dict, load, loads, to_dict
from engine.units import edits as unit_edits
from engine.units import units
from tests.helpers import ROOT

DATA = Path(__file__).resolve().parent / "data"
V1_FILES = [
    path
    for path in sorted((ROOT / "templates").glob("*.json")) + sorted(DATA.glob("*.json"))
    if json.loads(path.read_text(encoding="utf-8")).get("version") == 1
]


def node(id: str, type: str, **params: Any) -> dict[str, Any]:
    return {"id": id, "type": type, "params": params, "pos": [0, 0]}


def wire(source: str, target: str, port: str = "x") -> dict[str, str]:
    return {"source": source, "target": target, "target_port": port}


def nested_doc() -> dict[str, Any]:
    """Three levels: Stage holds ResidualBlock (×2) holds ConvBnReLU."""
    return {
        "format": "netloom",
        "version": 2,
        "name": "Nested",
        "units": {
            "ConvBnReLU": {
                "description": "Convolution, batch norm, ReLU.",
                "nodes": [
                    node("x", "Input", shape=[8, 8, 8]),
                    node("conv", "Conv2d", out_channels=8, kernel_size=3, padding=1),
                    node("bn", "BatchNorm"),
                    node("relu", "ReLU"),
                    node("out", "Output", loss="none"),
                ],
                "edges": [
                    wire("x", "conv"),
                    wire("conv", "bn"),
                    wire("bn", "relu"),
                    wire("relu", "out"),
                ],
                "promoted": {"channels": ["conv.out_channels"]},
            },
            "ResidualBlock": {
                "description": "",
                "nodes": [
                    node("x", "Input", shape=[8, 8, 8]),
                    node("cbr1", "ConvBnReLU"),
                    node("conv2", "Conv2d", out_channels=8, kernel_size=3, padding=1),
                    node("add", "Add"),
                    node("relu", "ReLU"),
                    node("out", "Output", loss="none"),
                ],
                "edges": [
                    wire("x", "cbr1"),
                    wire("cbr1", "conv2"),
                    wire("conv2", "add", "in1"),
                    wire("x", "add", "in2"),
                    wire("add", "relu"),
                    wire("relu", "out"),
                ],
                "promoted": {"channels": ["cbr1.channels", "conv2.out_channels"]},
            },
            "Stage": {
                "description": "Halve the size, then residual blocks.",
                "nodes": [
                    node("x", "Input", shape=[8, 8, 8]),
                    node("down", "Conv2d", out_channels=8, kernel_size=3, stride=2, padding=1),
                    node("res1", "ResidualBlock", repeat=2),
                    node("out", "Output", loss="none"),
                ],
                "edges": [wire("x", "down"), wire("down", "res1"), wire("res1", "out")],
                "promoted": {"channels": ["down.out_channels", "res1.channels"]},
            },
        },
        "nodes": [
            node("image", "Input", shape=[1, 16, 16]),
            node("stem", "Conv2d", out_channels=8, kernel_size=3, padding=1),
            node("stage1", "Stage", channels=8),
            node("stage2", "Stage", channels=16),
            node("pool", "GlobalPool"),
            node("dense", "Dense", units=10),
            node("digit", "Output"),
        ],
        "edges": [
            wire("image", "stem"),
            wire("stem", "stage1"),
            wire("stage1", "stage2"),
            wire("stage2", "pool"),
            wire("pool", "dense"),
            wire("dense", "digit"),
        ],
        "training": {},
    }


def nested() -> Project:
    return from_dict(nested_doc())


def broken(mutate: Any) -> str:
    doc = nested_doc()
    mutate(doc)
    with pytest.raises(ProjectError) as caught:
        from_dict(doc)
    message = str(caught.value)
    assert "\n" not in message
    return message


# ------------------------------------------------------------------ the file


@pytest.mark.parametrize("path", V1_FILES, ids=lambda p: p.stem)
def test_every_v1_file_opens_unchanged(path: Path) -> None:
    assert len(V1_FILES) >= 10  # every shipped template but the two unit ones, and test data
    original = json.loads(path.read_text(encoding="utf-8"))
    project = load(path)
    graph = project.graph
    assert [n.id for n in graph.nodes] == [n["id"] for n in original["nodes"]]
    for raw in original["nodes"]:
        block = graph.node(raw["id"])
        assert block.type == raw["type"]
        assert block.params == block.spec.resolve_params(raw.get("params", {}))
        assert list(block.pos) == raw.get("pos", [0, 0])
    assert sorted((e.source, e.target, e.port) for e in graph.edges) == sorted(
        (e["source"], e["target"], e.get("target_port", "x")) for e in original["edges"]
    )
    assert (project.name, project.training) == (original["name"], original.get("training", {}))
    saved = to_dict(project)
    assert (saved["version"], saved["units"]) == (2, {})
    assert proj.dumps(loads(proj.dumps(project))) == proj.dumps(project)


def test_a_project_with_units_saves_as_it_was_read() -> None:
    text = proj.dumps(nested())
    assert proj.dumps(loads(text)) == text
    assert json.loads(text)["units"]["Stage"]["promoted"] == {
        "channels": ["down.out_channels", "res1.channels"]
    }


def test_a_unit_containing_itself_is_refused_naming_the_place() -> None:
    def direct(doc: dict[str, Any]) -> None:
        doc["units"]["ConvBnReLU"]["nodes"][2] = node("bn", "ConvBnReLU")

    def through_others(doc: dict[str, Any]) -> None:
        doc["units"]["ConvBnReLU"]["nodes"][2] = node("bn", "Stage")

    assert broken(direct) == (
        "units.ConvBnReLU.nodes[2].type: a unit cannot contain itself (ConvBnReLU → ConvBnReLU)"
    )
    message = broken(through_others)
    assert message.startswith("units.") and "cannot contain itself" in message
    assert "ConvBnReLU" in message and "Stage" in message and "ResidualBlock" in message


def test_missing_definitions_and_ports_to_nothing_are_refused_naming_the_place() -> None:
    def missing(doc: dict[str, Any]) -> None:
        doc["nodes"][2]["type"] = "Stag"

    def input_to_nothing(doc: dict[str, Any]) -> None:
        doc["units"]["Stage"]["nodes"].insert(1, node("skip", "Input", shape=[8, 8, 8]))

    def output_to_nothing(doc: dict[str, Any]) -> None:
        doc["units"]["Stage"]["edges"].pop()

    def promoted_to_nothing(doc: dict[str, Any]) -> None:
        doc["units"]["Stage"]["promoted"]["channels"].append("conv9.out_channels")

    assert broken(missing) == (
        "nodes[2].type: unknown block type 'Stag' (and no unit of that name)"
    )
    assert broken(input_to_nothing) == "units.Stage.nodes[1]: input port 'skip' feeds nothing"
    assert broken(output_to_nothing) == (
        "units.Stage.nodes[3]: output port 'out' is wired to nothing"
    )
    assert broken(promoted_to_nothing) == (
        "units.Stage.promoted.channels[2]: Stage has no block 'conv9'"
    )


def test_cli_check_exits_2_with_one_line_for_a_self_containing_unit(tmp_path: Path) -> None:
    doc = nested_doc()
    doc["units"]["ConvBnReLU"]["nodes"][2] = node("bn", "Stage")
    path = tmp_path / "loop.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "check", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "cannot contain itself" in lines[0], result.stderr


def test_cli_check_lists_unit_instances_with_repeats_port_shapes_and_totals(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from engine.cli.main import run

    assert run(["check", str(ROOT / "templates" / "resnet_digits.json")]) == 0
    out = capsys.readouterr().out
    table = out.split("Unit instances")[1].split("Memory:")[0]
    rows = {line.split()[0]: line for line in table.splitlines()[3:] if line.strip()}
    # block1 is ResidualBlock ×2: the main table says so, and its row sums both copies.
    assert "ResidualBlock ×2" in next(
        line for line in out.splitlines() if line.startswith("block1 ")
    )
    assert "x (N, 16, 8, 8) → (N, 16, 8, 8)" in rows["block1"]
    assert rows["block1"].split()[-3:] == ["14", "9,344", "596k"]
    assert "block1/0/cbr1" in rows and "block1/1/cbr1" in rows
    project = load(ROOT / "templates" / "resnet_digits.json")
    analysis = analyze(project.graph)
    assert f"{analysis.nodes['down'].params:,}" in rows["down"]
    assert "x (N, 16, 8, 8) → (N, 32, 4, 4)" in rows["down"]


def test_a_unit_name_that_is_a_block_type_is_refused() -> None:
    def clash(doc: dict[str, Any]) -> None:
        doc["units"]["Conv2d"] = doc["units"].pop("ConvBnReLU")

    assert broken(clash) == "units.Conv2d: unit name 'Conv2d' is the name of a block type"


# ------------------------------------------------------------------- shapes


def test_shapes_weights_and_flops_go_through_three_levels() -> None:
    graph = nested().graph
    analysis = analyze(graph)
    assert analysis.ok, analysis.problems
    assert str(analysis.nodes["stage1"].shape) == "(N, 8, 8, 8)"
    assert str(analysis.nodes["stage2"].shape) == "(N, 16, 4, 4)"
    paths = dict(units.walk(graph, analysis))
    assert str(paths["stage2/res1/1/cbr1/conv"].shape) == "(N, 16, 4, 4)"
    # The instance's totals are the sums of the blocks inside, at every depth.
    inner = [info for path, info in paths.items() if path.startswith("stage2/")]
    assert analysis.nodes["stage2"].params == sum(i.params for i in inner if i.op.kind != "unit")
    assert analysis.nodes["stage2"].flops == sum(i.flops for i in inner if i.op.kind != "unit")
    conv = 16 * 16 * 9 + 16
    assert paths["stage2/res1/0/cbr1/conv"].params == conv
    assert analysis.total_params == sum(i.params for p, i in paths.items() if "/" not in p)


def test_every_place_a_unit_is_used_is_found_with_the_values_seen_there() -> None:
    graph = nested().graph
    analysis = analyze(graph)
    places = units.usages(graph, analysis, "ConvBnReLU")
    paths = [path for path, _ in places]
    assert paths == [f"stage{s}/res1/{k}/cbr1" for s in (1, 2) for k in (0, 1)]
    walked = dict(units.walk(graph, analysis))
    for path, inner in places:
        assert inner.nodes["conv"].shape == walked[f"{path}/conv"].shape
    # The copies of one repeated instance see the same input; the two stages do not.
    first = places[0][1]
    assert [units.same_facts(first, inner) for _, inner in places] == [True, True, False, False]


def test_an_error_three_levels_down_names_its_path() -> None:
    project = nested()
    body = project.graph.library.definition("ConvBnReLU").graph
    body.set_params("conv", {"kernel_size": 7, "padding": 0})
    analysis = analyze(project.graph)
    messages = [p.message for p in analysis.problems]
    # stage1 gets 8×8 maps after its stride-2 conv; a 7×7 kernel without padding leaves
    # 2×2, and the Add then meets 8×8 from the skip: the first error inside is named.
    assert len(messages) == 1
    assert messages[0].startswith("stage1/res1/0/add: Add "), messages
    body.set_params("conv", {"kernel_size": 11, "padding": 0})
    messages = [p.message for p in analyze(project.graph).problems]
    assert messages[0].startswith("stage1/res1/0/cbr1/conv: Conv2d "), messages
    assert [p.node for p in analyze(project.graph).problems] == ["stage1"]


def test_an_edit_inside_a_definition_changes_every_instance() -> None:
    graph = nested().graph
    before = analyze(graph)
    body = graph.library.definition("ConvBnReLU").graph
    body.set_params("conv", {"kernel_size": 5, "padding": 2})
    after = analyze(graph)
    for instance in ("stage1", "stage2"):
        assert after.nodes[instance].params > before.nodes[instance].params
        assert after.nodes[instance].shape == before.nodes[instance].shape


def test_promoted_params_have_the_inner_bounds_and_reach_the_inner_blocks() -> None:
    graph = nested().graph
    spec = graph.node("stage1").spec
    channels = spec.param("channels")
    assert (channels.kind, channels.minimum, channels.default) == ("int", 1, 8)
    with pytest.raises(GraphError, match="channels: expected an integer ≥ 1, got 0"):
        graph.set_params("stage1", {"channels": 0})
    graph.set_params("stage1", {"channels": 12})
    analysis = analyze(graph)
    assert str(analysis.nodes["stage1"].shape) == "(N, 12, 8, 8)"


def test_repeat_stacks_copies_and_says_when_the_output_does_not_fit() -> None:
    graph = nested().graph
    one = analyze(graph).nodes["stage2"].params
    unit_edits.set_repeat(graph, "stage2", 3)
    analysis = analyze(graph)
    assert analysis.ok
    assert str(analysis.nodes["stage2"].shape) == "(N, 16, 1, 1)"  # halved three times
    assert analysis.nodes["stage2"].params > one
    unit_edits.set_repeat(graph, "stage2", 5)  # 4×4 → 2 → 1 → 1 → 1: still fits (stride 2, pad 1)
    assert analyze(graph).ok
    body = graph.library.definition("Stage").graph
    body.set_params("down", {"padding": 0})
    messages = [p.message for p in analyze(graph).problems]
    assert len(messages) == 1 and messages[0].startswith("stage2/"), messages
    assert "/down: Conv2d" in messages[0]


def test_repeat_needs_a_unit_with_one_input() -> None:
    graph = Graph()
    image = graph.add_node("Input", {"shape": [4, 8, 8]}, node_id="image")
    a = graph.add_node("ReLU")
    b = graph.add_node("Tanh")
    add = graph.add_node("Add")
    out = graph.add_node("Output", {"loss": "none"})
    for src, dst, port in [
        (image.id, a.id, "x"),
        (image.id, b.id, "x"),
        (a.id, add.id, "in1"),
        (b.id, add.id, "in2"),
        (add.id, out.id, "x"),
    ]:
        graph.connect(src, dst, port)
    grouping = unit_edits.make_unit(graph, [add.id], "Join")
    assert graph.node(grouping.instance.id).ports == ("in1", "in2")
    unit_edits.set_repeat(graph, grouping.instance.id, 2)
    messages = [p.message for p in analyze(graph).problems]
    assert messages == [
        "join1: Join repeats ×2 only with one input and one output port; it has 2 inputs "
        "and 1 output"
    ]


# ----------------------------------------------------------- editor operations


def chain() -> Graph:
    graph = Graph()
    graph.add_node("Input", {"shape": [3, 8, 8]}, (0, 0), "image")
    previous = "image"
    for i, (kind, params) in enumerate(
        [
            ("Conv2d", {"out_channels": 4, "padding": 1}),
            ("ReLU", {}),
            ("Conv2d", {"out_channels": 4, "padding": 1}),
            ("Add", {}),
            ("Flatten", {}),
            ("Dense", {"units": 3}),
        ]
    ):
        block = graph.add_node(kind, params, (100.0 * (i + 1), 10.0 * i))
        if kind == "Add":
            graph.connect(previous, block.id, "in1")
            graph.connect("relu1", block.id, "in2")
        else:
            graph.connect(previous, block.id)
        previous = block.id
    graph.connect(previous, graph.add_node("Output", {}, (800, 0)).id)
    return graph


def snapshot(graph: Graph) -> tuple[Any, ...]:
    nodes = {n.id: (n.type, n.params, n.pos) for n in graph.nodes}
    return nodes, sorted((e.source, e.target, e.port) for e in graph.edges)


def test_make_unit_then_ungroup_restores_blocks_ids_positions_and_wires() -> None:
    graph = chain()
    start = snapshot(graph)
    before = analyze(graph)
    grouping = unit_edits.make_unit(graph, ["conv2", "add1"], "ResidualBlock", before)
    instance = grouping.instance.id
    assert {n.id for n in graph.nodes} == {
        "image",
        "conv1",
        "relu1",
        instance,
        "flatten1",
        "dense1",
        "output1",
    }
    # One port for relu1, which fed both conv2 and the Add, named after the inner port.
    assert graph.incoming(instance) == {"x": "relu1"}
    after = analyze(graph)
    assert after.ok and after.total_params == before.total_params
    assert after.nodes["output1"].shape == before.nodes["output1"].shape
    definition = graph.library.definition("ResidualBlock")
    assert definition.graph.node("x").params["shape"] == [4, 8, 8]  # the shape arriving
    unit_edits.ungroup(graph, instance)
    assert snapshot(graph) == start


def test_make_unit_refuses_input_and_output_blocks_saying_why() -> None:
    graph = chain()
    with pytest.raises(GraphError, match="Input and Output blocks stay outside a unit"):
        unit_edits.make_unit(graph, ["image", "conv1"])


def test_several_values_leaving_a_selection_make_a_unit_with_several_outputs() -> None:
    from tests.engine.test_codegen import equivalence_problems

    graph = chain()
    start = snapshot(graph)
    saved = proj.dumps(Project(graph, name="chain"))
    before = analyze(graph)
    torch.manual_seed(0)
    plain = build_model(graph)
    # relu1 feeds conv2 and the Add; conv2 feeds the Add: two values leave the selection.
    grouping = unit_edits.make_unit(graph, ["conv1", "relu1", "conv2"], "Stem", before)
    stem = grouping.instance.id
    assert graph.node(stem).outputs == ("relu1_out", "conv2_out")
    leaving = {(e.target, e.port): e.source_port for e in graph.outgoing(stem)}
    assert leaving == {("add1", "in1"): "conv2_out", ("add1", "in2"): "relu1_out"}
    after = analyze(graph)
    assert after.ok, after.problems
    assert after.nodes[stem].outputs == {
        "relu1_out": before.nodes["relu1"].shape,
        "conv2_out": before.nodes["conv2"].shape,
    }
    assert after.total_params == before.total_params
    assert after.nodes["output1"].shape == before.nodes["output1"].shape

    # The same network: the plain model's weights, under the instance, give its outputs.
    grouped = build_model(graph)
    weights = {
        (f"{stem}.{k}" if k.split(".")[0] in {"conv1", "conv2"} else k): v
        for k, v in plain.state_dict().items()
    }
    grouped.load_state_dict(weights, strict=True)
    x = torch.randn(2, 3, 8, 8)
    assert torch.equal(grouped(x), plain(x))
    # Exported: the unit's class returns both values; the model unpacks them.
    assert equivalence_problems(graph, "chain") == []
    code = to_python(Project(graph, name="chain"))
    assert f"{stem}_relu1_out, {stem}_conv2_out = self.{stem}(image)" in code

    # The file names the output each wire leaves from, and reads back the same.
    text = proj.dumps(Project(graph, name="chain"))
    assert '"source_port": "conv2_out"' in text
    assert proj.dumps(loads(text)) == text
    # Repeat needs one output.
    unit_edits.set_repeat(graph, stem, 2)
    assert "it has 1 input and 2 outputs" in analyze(graph).problems[0].message
    unit_edits.set_repeat(graph, stem, 1)

    ungrouping = unit_edits.ungroup(graph, stem)
    assert snapshot(graph) == start
    unit_edits.undo_ungroup(graph, ungrouping)
    unit_edits.undo_make_unit(graph, grouping)
    assert proj.dumps(Project(graph, name="chain")) == saved


def test_a_unit_with_several_outputs_nests_inside_another() -> None:
    from tests.engine.test_codegen import equivalence_problems

    graph = chain()
    stem = unit_edits.make_unit(graph, ["conv1", "relu1", "conv2"], "Stem").instance.id
    block = unit_edits.make_unit(graph, [stem, "add1"], "Block", analyze(graph)).instance.id
    analysis = analyze(graph)
    assert analysis.ok, analysis.problems
    assert graph.node(block).outputs == ("",), "one value leaves: a plain output"
    inner = graph.library.definition("Block").graph
    assert {e.source_port for e in inner.outgoing(stem)} == {"relu1_out", "conv2_out"}
    assert equivalence_problems(graph, "nested") == []
    unit_edits.ungroup(graph, block)
    assert analyze(graph).ok


def test_an_edit_inside_that_drops_an_output_names_the_wire_it_fed() -> None:
    graph = chain()
    stem = unit_edits.make_unit(graph, ["conv1", "relu1", "conv2"], "Stem").instance.id
    body = graph.library.definition("Stem").graph
    body.remove_node("relu1_out")
    messages = [p.message for p in analyze(graph).problems]
    assert sorted(messages) == [
        f"{stem}: Stem has one output now, not 'conv2_out'; rewire add1.in1 from it",
        f"{stem}: Stem has one output now, not 'relu1_out'; rewire add1.in2 from it",
    ]
    body.add_node("Output", {"loss": "none"}, (0, 0), "relu1_out")
    body.connect("relu1", "relu1_out")
    assert analyze(graph).ok, "the output back: the wires fit again"


def test_ungroup_of_a_repeated_instance_lays_out_every_copy() -> None:
    graph = chain()
    grouping = unit_edits.make_unit(graph, ["conv2", "add1"], "Res")
    unit_edits.set_repeat(graph, grouping.instance.id, 3)
    before = analyze(graph)
    unit_edits.ungroup(graph, grouping.instance.id)
    after = analyze(graph)
    assert after.ok and after.total_params == before.total_params
    assert len([n for n in graph.nodes if n.type == "Add"]) == 3


def test_independent_copy_unlinks_one_instance() -> None:
    graph = nested().graph
    library = graph.library
    name = unit_edits.make_independent_copy(graph, "stage2")
    assert graph.node("stage2").type == name != "Stage"
    assert graph.incoming("stage2") == {"x": "stage1"} and graph.incoming("pool") == {"x": "stage2"}
    library.definition(name).graph.set_params("down", {"kernel_size": 1, "padding": 0})
    analysis = analyze(graph)
    assert analysis.ok
    paths = dict(units.walk(graph, analysis))
    assert paths["stage2/down"].params == 16 * 8 + 16
    assert paths["stage1/down"].params == 8 * 8 * 9 + 8


def test_an_instance_cannot_go_inside_its_own_definition() -> None:
    graph = nested().graph
    body = graph.library.definition("ConvBnReLU").graph
    with pytest.raises(GraphError, match="cannot contain itself: Stage contains ConvBnReLU"):
        body.add_node("Stage")
    with pytest.raises(GraphError, match="cannot contain itself"):
        body.add_node("ConvBnReLU")


# ------------------------------------------------------------- build, export


def test_state_dict_keys_follow_the_nesting() -> None:
    model = build_model(nested().graph)
    keys = list(model.state_dict())
    assert "stage2.res1.1.cbr1.conv.weight" in keys
    assert "stage2.down.weight" in keys
    assert "stage1.res1.0.conv2.bias" in keys
    assert model(torch.randn(2, 1, 16, 16)).shape == (2, 10)


def test_export_writes_one_class_per_definition_with_promoted_params() -> None:
    source = to_python(nested())
    assert source.count("class ConvBnReLU(nn.Module):") == 1
    assert source.count("class ResidualBlock(nn.Module):") == 1
    assert source.count("class Stage(nn.Module):") == 1
    assert "self.stage2 = Stage(channels=16" in source
    assert "def __init__(self, " in source and "channels: int = 8" in source


def test_export_is_the_same_network_with_nesting_and_repeats() -> None:
    from tests.engine.test_codegen import equivalence_problems

    project = nested()
    assert equivalence_problems(project.graph, project.name) == []
    unit_edits.set_repeat(project.graph, "stage1", 2)
    project.graph.set_params("stage2", {"channels": 12})
    assert equivalence_problems(project.graph, project.name) == []


def grouped_random_graph(seed: int) -> Graph | None:
    """A random graph with some of its blocks made into units (None if none could be)."""
    from tests.engine.test_codegen import random_graph

    graph = random_graph(seed)
    rng = random.Random(seed)
    made = 0
    for _ in range(3):
        layers = [n.id for n in graph.nodes if n.spec.role == "layer"]
        if not layers:
            break
        order = graph.topological_order()
        start = rng.choice(layers)
        run = [n for n in order[order.index(start) :] if n in layers][: rng.randint(1, 4)]
        for size in range(len(run), 0, -1):
            try:
                unit_edits.make_unit(graph, run[:size], "Part", analyze(graph))
            except GraphError:
                continue
            made += 1
            break
    return graph if made else None


def test_random_graphs_with_units_export_as_the_same_network() -> None:
    from tests.engine.test_codegen import equivalence_problems

    failures, grouped, several_outputs = {}, 0, 0
    for seed in range(60):
        graph = grouped_random_graph(seed)
        if graph is None:
            continue
        grouped += 1
        definitions = graph.library.definitions.values()
        several_outputs += any(len(d.outputs) > 1 for d in definitions)
        assert analyze(graph).ok, (seed, analyze(graph).problems)
        if problems := equivalence_problems(graph, f"random {seed}"):
            failures[seed] = problems
    assert grouped >= 40
    assert several_outputs >= 20, "random selections often let several values out"
    assert failures == {}


# ------------------------------------------------------- shipped units, templates


def shipped_into(graph: Graph, name: str, shape: list[int], sequence: bool = False) -> str:
    from engine.project.units_section import import_unit, shipped_units

    import_unit(units.library_of(graph), shipped_units(), name)
    graph.add_node("Input", {"shape": shape, "sequence": sequence}, node_id="data")
    instance = graph.add_node(name)
    graph.connect("data", instance.id)
    graph.connect(instance.id, graph.add_node("Output", {"loss": "none"}).id)
    return instance.id


def test_shipped_units_load_and_bring_the_units_they_use() -> None:
    from engine.project.units_section import shipped_units

    shipped = shipped_units()
    assert {
        "ConvBnReLU",
        "ResidualBlock",
        "ResidualProjectionBlock",
        "DoubleConv",
        "LSTMEncoder",
    } <= set(shipped.definitions)
    graph = Graph()
    instance = shipped_into(graph, "DoubleConv", [3, 16, 16])
    assert set(graph.library.definitions) == {"DoubleConv", "ConvBnReLU"}
    graph.set_params(instance, {"channels": 24})
    assert str(analyze(graph).nodes[instance].shape) == "(N, 24, 16, 16)"


def test_units_brought_from_another_project_are_reused_added_or_renamed() -> None:
    from engine.project.units_section import bring_units, take_back

    source = nested().graph.library  # Stage uses ResidualBlock, which uses ConvBnReLU
    here = nested().graph.library
    # The same units here: nothing is added.
    brought = bring_units(here, source, {"Stage"})
    assert brought.added == () and brought.renamed["Stage"] == "Stage"
    # Here, ConvBnReLU computes something else: it comes in renamed, and the units
    # using it follow, their inner instances pointing at the renamed copy.
    here.definition("ConvBnReLU").graph.set_params("conv", {"kernel_size": 5})
    brought = bring_units(here, source, {"Stage", "Dense"})
    assert [d.name for d in brought.added] == ["ConvBnReLU2", "ResidualBlock2", "Stage2"]
    assert brought.renamed["Stage"] == "Stage2"
    res = here.definition("ResidualBlock2").graph
    assert "ConvBnReLU2" in {n.type for n in res.nodes}
    assert here.definition("ConvBnReLU2").graph.node("conv").params["kernel_size"] == 3
    take_back(here, brought)
    assert set(here.definitions) == set(source.definitions)


def test_a_residual_block_repeats_and_a_projection_block_halves() -> None:
    graph = Graph()
    block = shipped_into(graph, "ResidualBlock", [16, 8, 8])
    unit_edits.set_repeat(graph, block, 3)
    analysis = analyze(graph)
    assert analysis.ok and str(analysis.nodes[block].shape) == "(N, 16, 8, 8)"
    graph = Graph()
    down = shipped_into(graph, "ResidualProjectionBlock", [16, 8, 8])
    graph.set_params(down, {"channels": 48, "stride": 2})
    assert str(analyze(graph).nodes[down].shape) == "(N, 48, 4, 4)"


def test_the_lstm_encoder_summarises_a_sequence() -> None:
    graph = Graph()
    encoder = shipped_into(graph, "LSTMEncoder", [30, 5], sequence=True)
    graph.set_params(encoder, {"hidden_size": 20})
    assert str(analyze(graph).nodes[encoder].shape) == "(N, 20)"


@pytest.mark.parametrize("stem", ["resnet_digits", "unet_segmentation"])
def test_unit_templates_export_one_class_per_definition(stem: str) -> None:
    project = load(ROOT / "templates" / f"{stem}.json")
    analysis = analyze(project.graph)
    assert analysis.ok, analysis.problems
    source = to_python(project)
    for name in project.graph.library.definitions:
        assert source.count(f"class {name}(nn.Module):") == 1, name
    used = {p.split("/")[-1] for p, _ in units.walk(project.graph, analysis)}
    if stem == "resnet_digits":
        assert "add" in used and "proj" in used  # Add skips, a projection shortcut
    else:
        types = {n.type for n in project.graph.nodes}
        assert {"DoubleConv", "Concat", "ConvTranspose2d", "Upsample"} <= types


def test_a_deep_copy_of_a_project_has_its_own_units() -> None:
    project = nested()
    twin = copy.deepcopy(project)
    twin.graph.library.definition("ConvBnReLU").graph.set_params(
        "conv", {"kernel_size": 1, "padding": 0}
    )
    assert twin.graph.node("stage1").library is twin.graph.library
    assert analyze(twin.graph).total_params < analyze(project.graph).total_params
    assert proj.dumps(project) == proj.dumps(nested())


def test_make_edit_repeat_ungroup_then_undo_all_gives_the_file_back_byte_for_byte() -> None:
    graph = chain()
    project = Project(graph, name="Chain")
    start = proj.dumps(project)
    grouping = unit_edits.make_unit(graph, ["conv2", "add1"], "Res", analyze(graph))
    body = graph.library.definition("Res").graph
    old = dict(body.node("conv2").params)
    body.set_params("conv2", {"kernel_size": 5, "padding": 2})  # an edit inside
    assert unit_edits.set_repeat(graph, grouping.instance.id, 3) == 1
    assert analyze(graph).ok
    ungrouping = unit_edits.ungroup(graph, grouping.instance.id)
    assert analyze(graph).ok and len([n for n in graph.nodes if n.type == "Add"]) == 3
    # Undo, newest first.
    unit_edits.undo_ungroup(graph, ungrouping)
    unit_edits.set_repeat(graph, grouping.instance.id, 1)
    body.set_params("conv2", old)
    unit_edits.undo_make_unit(graph, grouping)
    assert proj.dumps(project) == start


def test_the_editor_learns_which_instances_an_edit_inside_changes() -> None:
    graph = nested().graph
    library = graph.library
    assert library.affected("ConvBnReLU", graph) == ["stage1", "stage2"]
    assert library.count_uses("ResidualBlock", graph) == 2
    assert library.count_uses("Stage", graph) == 2
    before = analyze(graph)
    library.definition("ConvBnReLU").graph.set_params("conv", {"kernel_size": 1, "padding": 0})
    incremental = analyze(graph, before, library.affected("ConvBnReLU", graph))
    assert incremental.nodes == analyze(graph).nodes


def test_the_training_script_with_nested_units_trains_exactly_as_netloom_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from engine.cli.main import run
    from engine.data import load_dataset
    from engine.train.trainer import Trainer
    from tests.engine.helpers import load_file
    from tests.engine.test_export_cli import EPOCH_LINE, TINY_DIGITS

    project = load(TINY_DIGITS)
    graph = project.graph
    inner = unit_edits.make_unit(graph, ["dense1", "relu1"], "Hidden", analyze(graph))
    unit_edits.make_unit(graph, [inner.instance.id, "dropout1"], "Block", analyze(graph))
    path = tmp_path / "tiny_units.json"
    proj.save(project, path)
    script = tmp_path / "train_units.py"
    assert run(["export", str(path), "--to", "script", "-o", str(script)]) == 0
    module = load_file(script)
    capsys.readouterr()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the Trainer below: sums in the same order
    try:
        module.main(["--epochs", "2", "--out", str(tmp_path / "run")])
    finally:
        torch.set_num_threads(threads)
    printed = EPOCH_LINE.findall(capsys.readouterr().out)

    project = load(path)
    history = Trainer(project, load_dataset("digits", {}), threads=1).fit().history
    expected = [
        (
            str(e.epoch),
            f"{e.train.loss:.4f}",
            f"{e.train.metrics['accuracy']:.4f}",
            f"{e.val.loss:.4f}",
            f"{e.val.metrics['accuracy']:.4f}",
        )
        for e in history
    ]
    assert len(printed) == 2 and printed == expected
    saved = torch.load(tmp_path / "run" / "model.pt", weights_only=True)
    build_model(project.graph).load_state_dict(saved["state_dict"], strict=True)
    assert "block1.hidden1.dense1.weight" in saved["state_dict"]


def test_torchscript_and_onnx_exports_work_with_units(tmp_path: Path) -> None:
    from engine.codegen.compiled import to_onnx, to_torchscript

    project = nested()
    unit_edits.set_repeat(project.graph, "stage2", 2)
    torch.manual_seed(3)
    weights = build_model(project.graph).state_dict()
    assert to_torchscript(project, tmp_path / "m.pt", weights).max_abs_diff == 0.0
    pytest.importorskip("onnxscript")
    assert to_onnx(project, tmp_path / "m.onnx", weights).max_abs_diff < 1e-4


def test_a_unit_with_several_outputs_checks_and_exports_everywhere(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from engine.cli.main import run
    from engine.codegen.compiled import to_onnx, to_torchscript

    graph = chain()
    stem = unit_edits.make_unit(graph, ["conv1", "relu1", "conv2"], "Stem").instance.id
    project = Project(graph, name="multi")
    path = tmp_path / "multi.json"
    proj.save(project, path)
    assert run(["check", str(path)]) == 0
    table, units_table = capsys.readouterr().out.split("Unit instances")
    assert f"{stem}     Stem     (N, 4, 8, 8), (N, 4, 8, 8)" in table
    row = next(line for line in units_table.splitlines() if line.startswith(f"{stem} "))
    assert "x (N, 3, 8, 8) → relu1_out (N, 4, 8, 8), conv2_out (N, 4, 8, 8)" in row
    torch.manual_seed(3)
    weights = build_model(graph).state_dict()
    assert to_torchscript(project, tmp_path / "m.pt", weights).max_abs_diff == 0.0
    pytest.importorskip("onnxscript")
    assert to_onnx(project, tmp_path / "m.onnx", weights).max_abs_diff < 1e-4


def test_a_wire_naming_an_output_that_is_not_there_is_refused_naming_the_place() -> None:
    graph = chain()
    unit_edits.make_unit(graph, ["conv1", "relu1", "conv2"], "Stem")
    doc = to_dict(Project(graph, name="multi"))
    wire_at = next(i for i, e in enumerate(doc["edges"]) if e.get("source_port") == "conv2_out")
    bad = copy.deepcopy(doc)
    bad["edges"][wire_at]["source_port"] = "conv9_out"
    with pytest.raises(ProjectError) as err:
        from_dict(bad)
    assert str(err.value).startswith(f"edges[{wire_at}]: stem1 has no output port 'conv9_out'")
    bad["edges"][wire_at]["source_port"] = 3
    with pytest.raises(ProjectError, match=rf"edges\[{wire_at}\].source_port: expected"):
        from_dict(bad)
    del bad["edges"][wire_at]["source_port"]
    with pytest.raises(ProjectError, match="stem1 has several outputs"):
        from_dict(bad)
    plain = next(i for i, e in enumerate(doc["edges"]) if e["source"] == "image")
    bad = copy.deepcopy(doc)
    bad["edges"][plain]["source_port"] = "x"
    with pytest.raises(ProjectError, match="image has no output port 'x' .it has one plain output"):
        from_dict(bad)


def test_the_incremental_pass_follows_a_change_to_a_second_output() -> None:
    graph = Graph()
    graph.add_node("Input", {"shape": [4, 8, 8]}, (0, 0), "image")
    graph.add_node("Conv2d", {"out_channels": 4}, (100, 0), "c1")
    graph.add_node("ReLU", {}, (200, 0), "r1")
    graph.add_node("Conv2d", {"out_channels": 6, "kernel_size": 1}, (300, 0), "c2")
    graph.add_node("Concat", {}, (400, 0), "cat")
    graph.add_node("Output", {"loss": "none"}, (500, 0), "out")
    for source, target in (("image", "c1"), ("c1", "r1"), ("r1", "c2"), ("cat", "out")):
        graph.connect(source, target)
    graph.connect("c2", "cat", "in1")
    graph.connect("r1", "cat", "in2")
    stem = unit_edits.make_unit(graph, ["c1", "r1", "c2"], "Stem").instance.id
    assert graph.node(stem).outputs == ("r1_out", "c2_out")
    graph.library.set_promoted("Stem", {"width": [("c2", "out_channels")]})
    before = analyze(graph)
    assert str(before.nodes["cat"].shape) == "(N, 10, 8, 8)"
    # Only the second output changes: the Concat after it must see that.
    graph.set_params(stem, {"width": 8})
    incremental = analyze(graph, before, {stem})
    assert str(incremental.nodes["cat"].shape) == "(N, 12, 8, 8)"
    assert incremental.nodes == analyze(graph).nodes
