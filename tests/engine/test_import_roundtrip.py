"""Round trip: `export --to python`, then `import` of the written file gives the project back.

For every template and for random graphs: the imported graph has the same blocks (type
and resolved params), the same wiring, and ids that follow the exported module names
(so a layer keeps its id); the exported class's own `state_dict` loads strictly into the
imported graph's model, and both give bit-identical outputs in eval mode.

Templates built from units come back with units, as far as Python can tell them: the
export writes one class per definition, its docstring saying it is a unit, and the
importer makes a unit of each (a unit used once too, resnet_digits' `down`; not one
with several outputs, which comes back as its blocks, also inside another unit's
class); a unit repeated ×N is written as nn.Sequential of N instances and comes back
as one instance ×N. Compared: each definition that comes back (its input ports, its
blocks and wiring, its promoted params: those that vary between instances are all Python can
tell, named after the class's constructor arguments), the instances (type, repeat,
wiring, ids), and every instance opened (`ungroup`, to any depth) block for block with
its own params. A definition's Input shape (taken from its first instance) and the
values at its promoted places are not compared within the definition: only per instance.
Where the export writes one definition as several classes (its usages give an inner
layer different constructor arguments, BatchNorm2d(2) beside BatchNorm2d(3)), Python
sees classes the project does not have: such a graph is compared with every unit
opened on both sides.

Recurrent state comes back as the exported code writes it: output 'state' is
`h_n.transpose(0, 1)` (an LSTM's `torch.cat((h_n, c_n), dim=0).transpose(0, 1)`), a state
input `s.transpose(0, 1).contiguous()` (an LSTM's `.chunk(2)` into (h_0, c_0)). Random
graphs with two inputs are left out: `import` takes one input.
"""

from __future__ import annotations

import copy
import re
import uuid
from collections import Counter
from collections.abc import Collection, Iterator
from itertools import product
from pathlib import Path

import pytest
import torch
from torch import nn

from engine.cli.main import run
from engine.codegen import to_python
from engine.codegen.problems import ExportError
from engine.codegen.text import class_name
from engine.graph.graph import Graph
from engine.graph.names import safe_id
from engine.graph.shapes import analyze
from engine.importers.check import InputSpec, example_input
from engine.importers.from_torch import import_python
from engine.model.build import build_model
from engine.project.project import Project, load
from engine.train.checkpoint import load_checkpoint
from engine.units.edits import set_repeat, ungroup
from tests.engine.helpers import load_file
from tests.engine.test_codegen import TEMPLATES, random_graph

RANDOM_GRAPHS = 30  # bench/import_roundtrip.py runs many more


pytestmark = pytest.mark.usefixtures("one_torch_thread")


# ------------------------------------------------------------------ helpers


def input_spec(graph: Graph) -> InputSpec:
    (input_id,) = graph.ids_of_role("input")
    params = graph.node(input_id).params
    return InputSpec(
        tuple(params["shape"]), params.get("sequence", False), params.get("dtype", "float32")
    )


def expanded(graph: Graph) -> Graph:
    """The graph with every unit instance opened, to any depth."""
    graph = copy.deepcopy(graph)
    while units := [n.id for n in graph.nodes if n.library is not None]:
        ungroup(graph, units[0])
    return graph


def canonical(graph: Graph, node_id: str, ignore: Collection[str] = ()) -> tuple[str, dict]:
    """A block's type and resolved params, with settings that Python code cannot tell
    apart written one way: the exported code of both sides of each pair is the same.

    - a per-axis size with every axis equal is one number ([2, 2] is 2);
    - a pool's stride "kernel" is the kernel size (torch stores it so);
    - Softmax (or LayerScale) over the channels of (N, C) or (N, T, C) is over the last
      axis;
    - Dense over the last axis of (N, F) or (N, T, F) is Dense over the features;
    - LayerNorm's bias without affine, a one-layer recurrent block's dropout, Upsample's
      align_corners in mode nearest: no effect, and not written;
    - Mean over every axis after the channels, not kept, is GlobalPool avg: both are
      `x.mean(dim=…)` (with reduce max, GlobalPool max: `x.amax(dim=…)`).
    An Output's loss is training data, not in the code. A unit instance is its class and
    repeat (its params are compared block by block, opened). Params named in `ignore`
    are left out.
    """
    node = graph.node(node_id)
    if node.spec.role == "output":
        return node.type, {}
    if node.library is not None:
        return class_name(node.type, fallback="Unit"), {"repeat": node.params.get("repeat", 1)}
    params = node.spec.resolve_params(node.params)
    for name in ignore:
        params.pop(name, None)
    for p in node.spec.params:
        value = params.get(p.name)
        if p.kind == "per_axis" and isinstance(value, list) and len(set(value)) == 1:
            params[p.name] = value[0]
    # (a param left out by `ignore` is left out of these rules too)
    if params.get("stride") == "kernel" and "kernel_size" in params:
        params["stride"] = params["kernel_size"]
    if node.type == "LayerNorm" and params.get("affine") is False:
        params.pop("bias", None)
    if node.spec.category == "Recurrent" and params.get("num_layers") == 1:
        params.pop("dropout", None)
    if node.type in ("Softmax", "LogSoftmax", "LayerScale") and params.get("axis") == "channels":
        shape = analyze(graph).nodes[graph.incoming(node_id)["x"]].shape
        if len(shape.features) == 1:  # the channel axis is the last one
            params["axis"] = "last"
    if node.type == "PReLU" and params.get("slopes") == "channels":
        shape = analyze(graph).nodes[graph.incoming(node_id)["x"]].shape
        if shape.features[0] == 1:
            params["slopes"] = "one"  # one channel: one slope, a weight of shape (1,)
    if params.get("mode") == "nearest":
        params.pop("align_corners", None)
    if node.type == "Dense" and params.get("over") == "last axis":
        shape = analyze(graph).nodes[graph.incoming(node_id)["x"]].shape
        if len(shape.dims) <= 2:  # within (N, F) and (N, T, F) both are nn.Linear
            params["over"] = "features"
    pools = {"mean": "avg", "max": "max"}  # a Mean's reduce → GlobalPool's mode
    if (
        node.type == "Mean"
        and params.get("keepdim") is False
        and params.get("reduce", "mean") in pools
    ):
        shape = analyze(graph).nodes[graph.incoming(node_id)["x"]].shape
        first = 3 if shape.time else 2
        if params.get("axes") == list(range(first, shape.rank)):
            return "GlobalPool", {"mode": pools[params.get("reduce", "mean")]}
    return node.type, params


def blocks(graph: Graph, ignore: dict[str, set[str]] | None = None) -> dict[str, tuple[str, dict]]:
    ignore = ignore or {}
    return {node.id: canonical(graph, node.id, ignore.get(node.id, ())) for node in graph.nodes}


def matching(
    original: Graph, imported: Graph, ignore: dict[str, set[str]] | None = None
) -> tuple[dict[str, str], list[str]]:
    """Imported id for each original node, matched by type, params (but those in
    `ignore`, by block id) and wiring; and the differences (unmatched nodes on either
    side). Twins (two blocks alike on the same inputs) are tried both ways, the same id
    first, until everything after them matches too."""
    want, have = blocks(original, ignore), blocks(imported, ignore)
    order, theirs = original.topological_order(), imported.topological_order()
    budget = [10_000]  # tries before settling for the first way found

    def match(i: int, found: dict[str, str]) -> tuple[dict[str, str], list[str]]:
        if i == len(order):
            extra = sorted(set(have) - set(found.values()))
            return found, [
                f"{other} {have[other]}: imported, not in the original" for other in extra
            ]
        node_id = order[i]
        sources = {port: found.get(src) for port, src in original.incoming(node_id).items()}
        candidates = [
            other
            for other in theirs
            if other not in found.values()
            and have[other] == want[node_id]
            and imported.incoming(other) == sources
        ]
        if not candidates:
            found, problems = match(i + 1, found)
            return found, [
                f"{node_id} {want[node_id]} fed by {sources}: not in the import",
                *problems,
            ]
        candidates.sort(key=lambda other: other != node_id)
        best: tuple[dict[str, str], list[str]] | None = None
        for other in candidates:
            budget[0] -= 1
            result = match(i + 1, {**found, node_id: other})
            if best is None or len(result[1]) < len(best[1]):
                best = result
            if not best[1] or budget[0] <= 0:
                break
        assert best is not None
        return best

    return match(0, {})


def built(graph: Graph) -> Counter[str]:
    """How many times each unit definition is built: instances × repeats, to any depth."""
    counts: Counter[str] = Counter()

    def walk(body: Graph, times: int) -> None:
        for node in body.nodes:
            if node.library is not None:
                copies = times * node.params.get("repeat", 1)
                counts[node.type] += copies
                walk(node.library.definition(node.type).graph, copies)

    walk(graph, 1)
    return counts


def as_python_tells(
    graph: Graph,
) -> tuple[Graph, dict[str, tuple[str, str]], dict[str, dict[str, str]]]:
    """The graph with each unit built only once opened: its class is built once, which
    the importer leaves as blocks (a class of one's own used once is no repetition).
    Also, for each opened block, the id it takes from its module path (`down.cbr1` →
    down_cbr1) and its id inside the unit (cbr1); and, per definition, the ids that the
    blocks of a unit of several outputs opened in its body take (`part1.up1` → part1_up1)."""
    graph = copy.deepcopy(graph)
    counts = built(graph)
    paths: dict[str, tuple[str, str]] = {}
    # The export marks a unit's class as one (its docstring), which the importer reads:
    # a unit built once comes back as a unit too (tests/engine/test_import_roundtrip_identity),
    # but for one with several outputs, which an import cannot make.
    library = graph.library
    counts = Counter({n: 1 if len(library.definition(n).outputs) > 1 else 2 for n in counts})
    while once := [n.id for n in graph.nodes if n.library is not None and counts[n.type] == 1]:
        outer = paths.pop(once[0], (once[0], once[0]))[0]
        for inner, new_id in ungroup(graph, once[0]).renamed.items():
            paths[new_id] = (safe_id(f"{outer}.{inner}"), inner)
    # A unit of several outputs inside another unit's body comes back as its blocks too.
    inside: dict[str, dict[str, str]] = {}
    for name in definitions(graph):
        body, wanted = library.definition(name).graph, inside.setdefault(name, {})
        while several := [
            n.id
            for n in body.nodes
            if n.library is not None and len(library.definition(n.type).outputs) > 1
        ]:
            outer = wanted.pop(several[0], several[0])
            for inner, new_id in ungroup(body, several[0]).renamed.items():
                wanted[new_id] = safe_id(f"{outer}.{inner}")
    return graph, paths, inside


def definitions(graph: Graph) -> list[str]:
    """The names of the definitions `graph` uses, at any depth, outer first."""
    found: list[str] = []
    todo = [graph]
    while todo:
        body = todo.pop(0)
        for node in body.nodes:
            if node.library is not None and node.type not in found:
                found.append(node.type)
                todo.append(node.library.definition(node.type).graph)
    return found


def definition_problems(
    original: Graph, imported: Graph, inside: dict[str, dict[str, str]] | None = None
) -> list[str]:
    """Differences between the definitions `original` uses and those imported (`inside`:
    per definition, the id a block takes from its module path where not its own)."""
    problems: list[str] = []
    library = imported.library
    for name in definitions(original):
        mine = original.library.definition(name)  # type: ignore[union-attr]
        wanted = class_name(name, fallback="Unit")
        if library is None or wanted not in library:
            problems.append(f"unit {name} did not come back as a unit {wanted}")
            continue
        theirs = library.definition(wanted)
        if mine.inputs != theirs.inputs:
            problems.append(f"{name}: input ports {mine.inputs} came back as {theirs.inputs}")
        for param, places in theirs.promoted.items():
            if sorted(mine.promoted.get(param, [])) != sorted(places):
                problems.append(
                    f"{name}: promotes {param} → {places}; the original "
                    f"{mine.promoted.get(param, 'does not')}"
                )
        ignore: dict[str, set[str]] = {}
        for promoted in (mine.promoted, theirs.promoted):
            for places in promoted.values():
                for inner, key in places:
                    ignore.setdefault(inner, set()).add(key)
        for port in mine.inputs:
            ignore[port] = {"shape", "sequence", "dtype"}
        found, differ = matching(mine.graph, theirs.graph, ignore)
        problems += [f"{name}: {problem}" for problem in differ]
        weights = analyze(mine.graph).nodes
        named = (inside or {}).get(name, {})
        problems += [
            f"{name}: {inner} came back as {found[inner]}"
            for inner in found
            if found[inner] != named.get(inner, inner)
            and (weights[inner].params or mine.graph.node(inner).library is not None)
        ]
    return problems


def imported_key(key: str, keys: Collection[str]) -> str:
    """The imported model's key for an exported weight: the same where the module
    came back as a unit, with the module path joined (`down.proj` → `down_proj`) where
    it came back as blocks (a LayerScale's own parameter, `part.ls1`, is its block's
    whole id: `part_ls1`), also inside a unit (`part2.part1.gn1.weight` →
    `part2.part1_gn1.weight` where part1 came back as blocks in part2's unit)."""
    parts = key.split(".")
    for joined in range(1, len(parts) + 1):
        candidate = ".".join([safe_id(".".join(parts[:joined])), *parts[joined:]])
        if candidate in keys:
            return candidate
    # Fewest joins first: each run of parts joined is one id (part1_gn1).
    for joins in sorted(product((False, True), repeat=len(parts) - 1), key=sum):
        groups = [[parts[0]]]
        for join, part in zip(joins, parts[1:], strict=True):
            if join:
                groups[-1].append(part)
            else:
                groups.append([part])
        candidate = ".".join(safe_id(".".join(g)) if len(g) > 1 else g[0] for g in groups)
        if candidate in keys:
            return candidate
    return key


def vocabulary(model: nn.Module) -> int:
    sizes = [m.num_embeddings for m in model.modules() if isinstance(m, nn.Embedding)]
    return min(sizes, default=2)


def as_list(value: object) -> list[torch.Tensor]:
    return list(value) if isinstance(value, tuple) else [value]  # type: ignore[list-item]


def same_units_and_ids(project: Project, imported: Graph, code: str) -> list[str]:
    """Differences in blocks, units and ids between a project and its import, as far as
    Python tells them (`code`: the exported file)."""
    original, paths, inside = as_python_tells(project.graph)
    found, problems = matching(original, imported)
    # Blocks keep their ids. Layers and unit instances are submodules named by id in the
    # exported code (`self.conv1`); in a unit opened, after their module path (down_cbr1).
    # The other blocks (`x + y`, `torch.cat`) have no name in Python: they come back
    # numbered in order (add1, concat2), as NetLoom numbers them; checked in graphs
    # without units only (with units, the import numbers the blocks inside instances
    # too, and making a unit moves blocks in the order). Not kept: an Output's
    # name (a comment in the code), and the numbers of Means and GlobalPools (the same
    # code: a Mean may come back as a GlobalPool, gpool1, the GlobalPools after it
    # renumbered).
    flat = not definitions(project.graph)
    for node_id, came_back in found.items():
        node = original.node(node_id)
        wanted, inner = paths.get(node_id, (node_id, node_id))
        named = f"self.{inner} = " in code
        numbered = flat and re.fullmatch(rf"{node.spec.id_prefix}\d+", node_id)
        if (
            came_back != wanted
            and (named or numbered)
            and node.spec.role != "output"
            and node.type not in ("Mean", "GlobalPool")
        ):
            problems.append(f"{node_id} came back as {came_back}, not {wanted}")
    if original.library is not None and original.library.definitions:
        problems += definition_problems(original, imported, inside)
        problems += matching(expanded(original), expanded(imported))[1]
    return problems


def round_trip_problems(project: Project, tmp_path: Path) -> list[str]:
    """What differs after export → import (empty: nothing)."""
    path = tmp_path / f"{uuid.uuid4().hex[:8]}.py"
    path.write_text(to_python(project), encoding="utf-8")
    name = class_name(project.name)
    spec = input_spec(project.graph)
    result = import_python(f"{path}:{name}", spec)
    if result.project is None:
        return [f"import failed: {issue}" for issue in result.report.errors]
    imported = result.project.graph
    code = path.read_text(encoding="utf-8")
    classes = set(re.findall(r"^class (\w+)\(nn\.Module\):", code, re.MULTILINE)) - {name}
    if classes != {class_name(unit, fallback="Unit") for unit in definitions(project.graph)}:
        # The export wrote some definition as several classes (its usages give a block
        # different constructor arguments: BatchNorm2d(2) and BatchNorm2d(3)); Python
        # then sees other classes than the project's units: compared block for block.
        problems = matching(expanded(project.graph), expanded(imported))[1]
    else:
        problems = same_units_and_ids(project, imported, code)
    if problems:
        return problems
    torch.manual_seed(0)
    exported = getattr(load_file(path), name)().eval()
    model = build_model(imported)
    keys = set(model.state_dict())
    state = {imported_key(key, keys): value for key, value in exported.state_dict().items()}
    model.load_state_dict(state, strict=True)
    model.eval()
    for batch in (2, 5):  # GroupNorm refuses one value per group, even in eval mode
        x = example_input(spec, batch, vocabulary(exported), seed=batch)
        with torch.no_grad():
            want, got = as_list(exported(x)), as_list(model(x))
        if len(want) != len(got) or not all(map(torch.equal, want, got)):
            problems.append(f"outputs differ at batch {batch}")
    return problems


def importable_graphs(count: int, start: int = 0) -> Iterator[tuple[int, Graph]]:
    """Random graphs the importer takes: one input (as `import --input-shape` gives)."""
    seed = start
    while count:
        graph = random_graph(seed)
        if len(graph.ids_of_role("input")) == 1:
            yield seed, graph
            count -= 1
        seed += 1


def repeated_unit_graphs(count: int, start: int = 0) -> Iterator[tuple[int, Graph]]:
    """Random graphs with runs of blocks made into units (as test_units does), every
    instance whose output fits its input repeated ×2: its class is built twice, so it
    comes back as a unit; the others come back as blocks. One input, exportable."""
    from tests.engine.test_units import grouped_random_graph

    seed = start
    while count:
        graph = grouped_random_graph(seed)
        seed += 1
        if graph is None or len(graph.ids_of_role("input")) != 1:
            continue
        for node in list(graph.nodes):
            if node.library is not None:
                set_repeat(graph, node.id, 2)
                if not analyze(graph).ok:
                    set_repeat(graph, node.id, 1)
        try:
            to_python(Project(graph, name="Random"))
        except ExportError:  # a unit fed token ids, say: nothing to import back
            continue
        yield seed - 1, graph
        count -= 1


def encoder_decoder(cell: str, state_from: str) -> Graph:
    """A sequence into an encoder whose final state starts a decoder, from the encoder
    itself (output 'state') or from a Dense layer's output reshaped to a state."""
    rows = 2 if cell == "LSTM" else 1
    graph = Graph()
    graph.add_node("Input", {"shape": [6, 4], "sequence": True}, node_id="tokens")
    graph.add_node(cell, {"hidden_size": 5, "output": "state"}, node_id="encoder")
    graph.connect("tokens", "encoder")
    state = "encoder"
    if state_from == "dense":  # (N, rows·5) → (N, rows, 5): a state made by other layers
        graph.add_node("Flatten", {}, node_id="flatten1")
        graph.add_node("Dense", {"units": rows * 5}, node_id="dense1")
        graph.add_node("Reshape", {"shape": [rows, 5]}, node_id="reshape1")
        graph.connect("encoder", "flatten1")
        graph.connect("flatten1", "dense1")
        graph.connect("dense1", "reshape1")
        state = "reshape1"
    decoder = {"hidden_size": 5, "output": "sequence", "initial_state": True}
    graph.add_node(cell, decoder, node_id="decoder")
    graph.connect("tokens", "decoder", "x")
    graph.connect(state, "decoder", "state")
    graph.add_node("Output", {"loss": "mse"}, node_id="output1")
    graph.connect("decoder", "output1")
    return graph


# -------------------------------------------------------------------- tests


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.stem)
def test_every_template_comes_back_from_its_python_export(path: Path, tmp_path: Path) -> None:
    assert round_trip_problems(load(path), tmp_path) == []


def test_random_graphs_come_back_from_their_python_export(tmp_path: Path) -> None:
    failures = {}
    for seed, graph in importable_graphs(RANDOM_GRAPHS):
        if problems := round_trip_problems(Project(graph, name="Random"), tmp_path):
            failures[seed] = problems
    assert failures == {}


def test_random_graphs_with_repeated_units_come_back(tmp_path: Path) -> None:
    failures, repeated = {}, 0
    for seed, graph in repeated_unit_graphs(RANDOM_GRAPHS):
        repeated += any(n.params.get("repeat", 1) > 1 for n in graph.nodes)
        if problems := round_trip_problems(Project(graph, name="Random"), tmp_path):
            failures[seed] = problems
    # Many have a unit that comes back as one (units with several outputs, which the
    # generator also makes, cannot repeat).
    assert repeated >= RANDOM_GRAPHS // 3
    assert failures == {}


@pytest.mark.parametrize("cell", ["GRU", "LSTM", "RNN"])
@pytest.mark.parametrize("state_from", ["encoder", "dense"])
def test_recurrent_state_passed_on_comes_back(cell: str, state_from: str, tmp_path: Path) -> None:
    graph = encoder_decoder(cell, state_from)
    assert analyze(graph).ok, analyze(graph).problems
    assert round_trip_problems(Project(graph, name="Seq2Seq"), tmp_path) == []


def test_the_commands_round_trip_a_template_with_its_weights(tmp_path: Path) -> None:
    """As a user would: `export --to python`, then `import` of that file, `--weights-out`."""
    template = next(p for p in TEMPLATES if p.stem == "cnn_lstm_video")
    project = load(template)
    code, weights = tmp_path / "video.py", tmp_path / "video.pt"
    assert run(["export", str(template), "--to", "python", "-o", str(code)]) == 0
    shape = ",".join(map(str, input_spec(project.graph).dims))
    source = f"{code}:{class_name(project.name)}"
    imported = tmp_path / "video.json"
    torch.manual_seed(0)  # the command builds the class with these weights
    args = ["import", source, "--input-shape", shape, "--sequence", "-o", str(imported)]
    assert run([*args, "--weights-out", str(weights)]) == 0
    assert run(["check", str(imported)]) == 0

    torch.manual_seed(0)
    exported = getattr(load_file(code), class_name(project.name))().eval()
    state = load_checkpoint(weights).state_dict
    assert list(state) == list(exported.state_dict())  # node ids are the module names
    model = build_model(load(imported).graph)
    model.load_state_dict(state, strict=True)
    x = example_input(input_spec(project.graph), 2, 2, seed=9)
    with torch.no_grad():
        assert torch.equal(model.eval()(x), exported(x))
    assert matching(expanded(project.graph), load(imported).graph)[1] == []
