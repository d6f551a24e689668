"""Export to Python: golden files, ruff, sanitisation, and equivalence with the built model.

The equivalence tests are differential: the exported source is executed, the in-app
model's weights are loaded into it strictly, and both must give the same outputs
(torch.equal) and the same gradients, over every template and hundreds of seeded
random graphs.
"""

from __future__ import annotations

import ast
import io
import math
import os
import random
import re
import subprocess
import sys
import textwrap
import tokenize
import warnings
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pytest
import torch
from ruff.__main__ import find_ruff_bin
from torch import nn

from engine.blocks.spec import BlockSpec, Param, Shape, all_specs
from engine.codegen import ExportError, to_python
from engine.codegen.compiled import example_inputs, to_onnx, to_torchscript
from engine.codegen.model import model_code
from engine.codegen.script import to_script
from engine.codegen.script_data import SNIPPETS, data_section
from engine.codegen.text import class_name, comment_lines, string_literal
from engine.data import DATASETS, get_dataset_spec, load_dataset
from engine.graph.graph import Graph
from engine.graph.shapes import analyze
from engine.model.build import build_model
from engine.project.project import Project, from_dict, load
from tests.helpers import ROOT, TEMPLATES

DATA = Path(__file__).resolve().parent / "data"
GOLDEN = Path(__file__).resolve().parent / "golden"
# Pinned exports: a per-frame CNN+LSTM, and two inputs/outputs with merges.
GOLDEN_PROJECTS = [ROOT / "templates" / "cnn_lstm_video.json", DATA / "two_inputs.json"]
RANDOM_GRAPHS = 300
# Set to rewrite the golden files after a deliberate change to the generated code.
UPDATE_GOLDEN = os.environ.get("NETLOOM_UPDATE_GOLDEN") == "1"


# Tiny tensors: thread start-up costs more than it saves, and other work shares the cores.
pytestmark = pytest.mark.usefixtures("one_torch_thread_per_module")


# ------------------------------------------------------------- random graphs

SHAPE_KEEPING = ("ReLU", "Tanh", "Sigmoid", "GELU", "LayerNorm")


def input_params(rng: random.Random) -> dict[str, object]:
    """One Input block: an image, video frames, a series, a vector, a signal, tokens, a volume."""
    channels = rng.randint(1, 3)

    def side() -> int:
        return rng.randint(3, 8)

    kind = rng.choice(
        ["image", "frames", "frames", "series", "vector", "signal", "tokens", "volume"]
    )
    if kind == "image":
        return {"shape": [channels, side(), side()]}
    if kind == "frames":
        return {"shape": [rng.randint(2, 4), channels, side(), side()], "sequence": True}
    if kind == "series":
        return {"shape": [rng.randint(2, 5), rng.randint(1, 6)], "sequence": True}
    if kind == "vector":
        return {"shape": [rng.randint(1, 8)]}
    if kind == "signal":
        return {"shape": [channels, rng.randint(4, 12)]}
    if kind == "tokens":
        return {"shape": [rng.randint(2, 5)], "sequence": True, "dtype": "int64"}
    return {"shape": [channels, rng.randint(2, 4), side(), side()]}


def sample_param(p: Param, rng: random.Random, shape: Shape) -> object:
    low = int(p.minimum) if p.minimum is not None else 0
    if p.kind == "int":
        high = low + 3 if p.maximum is None else min(int(p.maximum), low + 3)
        return rng.randint(low, high)
    if p.kind == "float":
        high = low + 1.0 if p.maximum is None else min(p.maximum, low + 1.0)
        return round(rng.uniform(low, high), 3)
    if p.kind == "bool":
        return rng.random() < 0.5
    if p.kind == "choice":
        return rng.choice(p.choices)
    if p.kind == "int_or_choice":
        return rng.choice(p.choices) if rng.random() < 0.5 else rng.randint(low, low + 2)
    if p.kind == "per_axis":
        if p.choices and rng.random() < 0.4:
            return rng.choice(p.choices)
        if rng.random() < 0.5:
            return rng.randint(low, low + 2)
        return [rng.randint(low, low + 2) for _ in range(p.max_len)]
    # "ints": a Permute's axis order, a Split's parts, or a Reshape's target.
    if p.name == "sizes":  # parts adding up to the first axis (a Split's default axis)
        total = max(shape.dims[0], 2)  # 2 when 1: a Split that does not fit, refused
        cuts = sorted(rng.sample(range(1, total), min(total - 1, 2)))
        return [b - a for a, b in zip([0, *cuts], [*cuts, total])]
    if p.name == "dims":
        order = list(range(1, shape.rank))
        rng.shuffle(order)
        return order
    if p.name == "axes":  # a Mean's axes: some of those after N
        return sorted(rng.sample(range(1, shape.rank), rng.randint(1, shape.rank - 1)))
    size = math.prod(shape.features or (1,))
    first = rng.choice([d for d in range(1, size + 1) if size % d == 0])
    return rng.choice([[-1], [first, -1], [-1, first], [first, size // first]])


def _specs_by_category() -> dict[str, list[BlockSpec]]:
    groups: dict[str, list[BlockSpec]] = defaultdict(list)
    for spec in all_specs():
        if spec.role == "layer":
            groups[spec.category].append(spec)
    return dict(groups)


def random_graph(seed: int, blocks: int = 7) -> Graph:
    """A valid graph of 1–2 inputs, about `blocks` layers, and 1–3 outputs."""
    rng = random.Random(seed)
    groups = _specs_by_category()
    graph = Graph()
    for _ in range(rng.randint(1, 2)):
        graph.add_node("Input", input_params(rng))
    added = attempts = 0
    while added < blocks and attempts < 400:
        attempts += 1
        analysis = analyze(graph)
        frontier = [n.id for n in graph.nodes if analysis.nodes[n.id].shape is not None]
        # A category first, then a block, so the many activations do not crowd out the rest.
        spec = rng.choice(groups[rng.choice(sorted(groups))])
        source = rng.choice(frontier[-3:] if rng.random() < 0.7 else frontier)
        shape = analysis.nodes[source].shape
        params = {
            p.name: sample_param(p, rng, shape)
            for p in spec.params
            if p.kind == "ints" or rng.random() < 0.4
        }
        node = graph.add_node(spec.name, params)
        sources = [source]
        grown = []
        for _ in node.ports[1:]:
            same = [f for f in frontier if f not in sources and analysis.nodes[f].shape == shape]
            if same and rng.random() < 0.6:
                sources.append(rng.choice(same))
            else:
                branch = graph.add_node(rng.choice(SHAPE_KEEPING))
                graph.connect(source, branch.id, source_port=first_output(graph, source))
                sources.append(branch.id)
                grown.append(branch.id)
        for port, src in zip(node.ports, sources, strict=True):
            graph.connect(src, node.id, port, first_output(graph, src))
        if analyze(graph).nodes[node.id].shape is None:
            for extra in [node.id, *grown]:
                graph.remove_node(extra)
            continue
        added += 1
    consumed = {e.source for e in graph.edges}
    leaves = [n.id for n in graph.nodes if n.id not in consumed and n.spec.role == "layer"]
    for leaf in rng.sample(leaves, min(len(leaves), rng.randint(1, 3))) or [graph.nodes[-1].id]:
        output = graph.add_node("Output", {"loss": "none"})
        graph.connect(leaf, output.id, source_port=first_output(graph, leaf))
    assert analyze(graph).ok, analyze(graph).problems
    return graph


def first_output(graph: Graph, node_id: str) -> str:
    """The port a wire leaves from: "" for one output, a Split's first part (out1)."""
    return graph.node(node_id).outputs[0]


# ------------------------------------------------------------------ helpers


def exported_class(source: str) -> type[nn.Module]:
    """Execute generated source and return the model class it defines.

    That is the last class: unit classes (one per definition) come before it.
    """
    namespace: dict[str, object] = {"__name__": "exported"}
    exec(compile(source, "<exported>", "exec"), namespace)
    classes = [v for v in namespace.values() if isinstance(v, type) and issubclass(v, nn.Module)]
    assert classes, "expected a model class"
    return classes[-1]


def model_inputs(graph: Graph, batch: int = 3) -> list[torch.Tensor]:
    code = model_code(graph, "Model")
    return list(example_inputs(code.inputs, batch, seed=batch))


def as_tuple(value: object) -> tuple[torch.Tensor, ...]:
    return value if isinstance(value, tuple) else (value,)  # type: ignore[return-value]


def gradients(model: nn.Module, inputs: list[torch.Tensor]) -> list[torch.Tensor | None]:
    """Gradients of a fixed weighted sum of all outputs, for the inputs and every weight.

    Train mode with a fixed seed, so Dropout draws the same mask in both models and
    BatchNorm uses batch statistics.
    """
    model.train()
    torch.manual_seed(1)
    leaves = [x.clone().requires_grad_(x.is_floating_point()) for x in inputs]
    outputs = [y for y in as_tuple(model(*leaves)) if y.requires_grad]
    if outputs:
        total = sum((y * torch.linspace(-1, 1, y.numel()).reshape(y.shape)).sum() for y in outputs)
        total.backward()
    return [x.grad for x in leaves] + [p.grad for p in model.parameters()]


def equivalence_problems(graph: Graph, name: str) -> list[str]:
    """What differs between the built model and the exported one (empty: nothing)."""
    source = to_python(Project(graph, name=name))
    torch.manual_seed(0)
    built = build_model(graph)
    exported = exported_class(source)()
    built_keys = [(k, tuple(v.shape)) for k, v in built.state_dict().items()]
    exported_keys = [(k, tuple(v.shape)) for k, v in exported.state_dict().items()]
    if built_keys != exported_keys:
        return [f"state_dict keys differ: {built_keys} vs {exported_keys}"]
    exported.load_state_dict(built.state_dict(), strict=True)
    inputs = model_inputs(graph)
    problems = []
    with torch.no_grad():
        ours, theirs = as_tuple(built.eval()(*inputs)), as_tuple(exported.eval()(*inputs))
    if len(ours) != len(theirs) or not all(map(torch.equal, ours, theirs)):
        problems.append("eval outputs differ")
    for i, (a, b) in enumerate(zip(gradients(built, inputs), gradients(exported, inputs))):
        if (a is None) != (b is None) or (a is not None and not torch.equal(a, b)):
            problems.append(f"gradient {i} differs")
    return problems


def ruff(*args: str, source: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    file = tmp_path / "exported.py"
    file.write_text(source, encoding="utf-8")
    return subprocess.run(
        [find_ruff_bin(), *args, "--isolated", str(file)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def hostile_project() -> Project:
    doc = load(DATA / "two_inputs.json")
    graph = doc.graph
    text = {
        "format": "netloom",
        "version": 1,
        "name": 'Evil """\nimport os\r\x0bos.system("echo pwned")\u2028# \\',
        "description": (
            'line one """ still text\n\nimport os; os.system("echo pwned")\r\n'
            "'''\x00\u202e reversed \\"
        ),
        "nodes": [
            {"id": n.id, "type": n.type, "params": n.params, "pos": list(n.pos)}
            for n in graph.nodes
        ],
        "edges": [
            {"source": e.source, "target": e.target, "target_port": e.port} for e in graph.edges
        ],
    }
    for node in text["nodes"]:
        if node["id"] == "conv1":
            node["id"] = HOSTILE_ID
    for edge in text["edges"]:
        for end in ("source", "target"):
            if edge[end] == "conv1":
                edge[end] = HOSTILE_ID
    return from_dict(text)


HOSTILE_ID = 'x"); import os; os.system("echo pwned")#'


# ------------------------------------------------------------------- golden


@pytest.mark.parametrize("path", GOLDEN_PROJECTS, ids=lambda p: p.stem)
def test_python_export_matches_its_golden_file(path: Path) -> None:
    source = to_python(load(path))
    golden = GOLDEN / f"{path.stem}.py"
    if UPDATE_GOLDEN:
        golden.write_text(source, encoding="utf-8")
    assert source == golden.read_text(encoding="utf-8"), (
        f"the export of {path.name} changed; if that is meant, rerun with "
        "NETLOOM_UPDATE_GOLDEN=1 and review the diff of tests/engine/golden/"
    )


def test_golden_video_export_reads_as_plain_torch() -> None:
    source = (GOLDEN / "cnn_lstm_video.py").read_text(encoding="utf-8")
    assert "class CnnLstmVideo(nn.Module):" in source
    assert "def forward(self, frames: torch.Tensor) -> torch.Tensor:" in source
    # Per-frame folding and the LSTM's last step, written out where a reader sees them.
    assert "n, t = frames.shape[:2]  # (N, T, 1, 32, 32)" in source
    assert "conv1 = self.conv1(frames.flatten(0, 1))  # (N*T, 16, 32, 32)" in source
    assert "conv1 = conv1.unflatten(0, (n, t))  # (N, T, 16, 32, 32)" in source
    assert "lstm1 = lstm1[:, -1]  # (N, 64)" in source
    assert "return dense1  # direction" in source


def test_export_is_deterministic() -> None:
    path = GOLDEN_PROJECTS[1]
    assert to_python(load(path)) == to_python(load(path))


# ---------------------------------------------------------- code quality


def quality_corpus() -> list[tuple[str, str]]:
    sources = [(p.stem, to_python(load(p))) for p in [*TEMPLATES, GOLDEN_PROJECTS[1]]]
    sources.append(("hostile", to_python(hostile_project())))
    for seed in range(0, 200, 20):
        sources.append((f"random{seed}", to_python(Project(random_graph(seed), name="r"))))
    # Long ids push lines past the limit: calls must split the way ruff would.
    long = random_graph(7)
    renamed = Graph()
    for node in long.nodes:
        renamed.add_node(node.type, node.params, node.pos, f"{node.id}_with_a_long_readable_name")
    for edge in long.edges:
        renamed.connect(
            f"{edge.source}_with_a_long_readable_name",
            f"{edge.target}_with_a_long_readable_name",
            edge.port,
        )
    sources.append(("long ids", to_python(Project(renamed, name="long"))))
    return sources


def quality_corpus_for(settings: list[str]) -> list[tuple[str, str]]:
    # Lines of 89–100 characters that ruff's default splits, a line length of 100 joins
    # back: only the short-id files (the goldens among them) must hold under both.
    corpus = quality_corpus()
    return corpus if not settings else [(k, v) for k, v in corpus if k != "long ids"]


@pytest.mark.parametrize(
    "settings",
    [[], ["--line-length", "100", "--select", "E,F,W,I,B,UP"]],
    ids=["ruff defaults", "the project's ruff settings"],
)
def test_exported_files_pass_ruff_check_and_format(settings: list[str], tmp_path: Path) -> None:
    failures = []
    format_settings = settings[:2]
    for label, source in quality_corpus_for(settings):
        check = ruff("check", *settings, source=source, tmp_path=tmp_path)
        if check.returncode != 0:
            failures.append(f"{label}: ruff check\n{check.stdout}")
        formatted = ruff("format", "--diff", *format_settings, source=source, tmp_path=tmp_path)
        if formatted.returncode != 0:
            failures.append(f"{label}: ruff format\n{formatted.stdout}{formatted.stderr}")
    assert not failures, "\n".join(failures)


def test_only_torch_is_imported_and_each_statement_has_its_own_line() -> None:
    for label, source in quality_corpus():
        tree = ast.parse(source)
        imported = {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        }
        from_imports = {
            (node.module, alias.name)
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom)
            for alias in node.names
        }
        assert imported == {"torch"}, label
        assert from_imports <= {("torch", "nn")}, label
        lines = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.stmt)]
        assert len(lines) == len(set(lines)), f"{label}: two statements share a line"


def statement_comment(lines: list[str], stmt: ast.stmt) -> str:
    """The comment after a statement, or on the line above it (where a long one puts it)."""
    here = lines[stmt.lineno - 1]
    if "  # " in here:
        return here.partition("  # ")[2]
    return lines[stmt.lineno - 2].strip().removeprefix("# ")


@pytest.mark.parametrize("path", GOLDEN_PROJECTS, ids=lambda p: p.stem)
def test_every_forward_statement_carries_a_shape_comment(path: Path) -> None:
    project = load(path)
    analysis = analyze(project.graph)
    source = to_python(project)
    lines = source.splitlines()
    tree = ast.parse(source)
    forward = next(n for n in ast.walk(tree) if getattr(n, "name", "") == "forward")
    final_comment: dict[str, str] = {}
    for stmt in forward.body[1:-1]:  # between the docstring and the return
        comment = statement_comment(lines, stmt)
        assert re.fullmatch(r"\(N[^()]*\)", comment), f"no shape comment: {ast.unparse(stmt)}"
        target = stmt.targets[0] if isinstance(stmt, ast.Assign) else None
        if isinstance(target, ast.Tuple):
            target = target.elts[0]
        if isinstance(target, ast.Name) and target.id in analysis.nodes:
            final_comment[target.id] = comment
    # The statement that settles a block's value names that block's shape.
    expected = {node: str(analysis.nodes[node].shape) for node in final_comment}
    assert final_comment == expected
    assert len(final_comment) >= 8


# ------------------------------------------------------------- sanitisation


def test_hostile_project_text_never_becomes_code() -> None:
    project = hostile_project()
    source = to_python(project)
    tree = ast.parse(source)  # it compiles
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert imported == {"torch"}
    defined = {n.name for n in ast.walk(tree) if isinstance(n, ast.ClassDef)}
    allowed_roots = {"torch", "nn", "self", "super", "print", "tuple", *defined}
    variables = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            root = node.func
            while isinstance(root, (ast.Attribute, ast.Call, ast.Subscript)):
                root = root.value if not isinstance(root, ast.Call) else root.func
            assert isinstance(root, ast.Name), ast.unparse(node)
            # A method of a tensor held in a local variable, or torch/nn/self/the class.
            assert root.id in allowed_roots or root.id in variables, ast.unparse(node)
    assert "os" not in variables and "system" not in {
        n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)
    }
    # The project's text survives only inside comments.
    tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    carrying = {(tokenize.tok_name[t.type], t.string) for t in tokens if "pwned" in t.string}
    renamed = "x_import_os_os_system_echo_pwned"  # the id, made an identifier on load
    assert {kind for kind, _ in carrying} == {"COMMENT", "NAME"}
    assert {text for kind, text in carrying if kind == "NAME"} == {renamed}
    assert f"self.{renamed} = nn.Conv2d(" in source
    # And the module runs.
    model = exported_class(source)().eval()
    outputs = model(*model_inputs(project.graph))
    assert [tuple(y.shape) for y in outputs] == [(3, 3), (3, 6)]


@pytest.mark.parametrize(
    "breaker", ["\n", "\r", "\r\n", "\x0b", "\x0c", "\x1c", "\x85", "\u2028", "\u2029", "\x00"]
)
def test_comments_neutralise_every_line_break(breaker: str) -> None:
    lines = comment_lines(f"first{breaker}raise SystemExit('escaped')")
    source = "\n".join(lines) + "\nvalue = 1\n"
    tree = ast.parse(source)  # a NUL or stray break would not even compile
    assert [ast.unparse(s) for s in tree.body] == ["value = 1"]
    assert all(line.startswith("#") and line.isprintable() for line in lines)


@pytest.mark.parametrize(
    "text",
    [
        "plain",
        'with "double"',
        "with 'single'",
        "both ' and \"",
        "back\\slash\\",
        "nul\x00",
        "line\nbreak",
        "\u202eright-to-left",
        "tab\there",
        "emoji \U0001f600",
        '"""',
        "'''",
    ],
)
def test_string_literals_round_trip_and_stay_one_line(text: str) -> None:
    literal = string_literal(text)
    assert ast.literal_eval(literal) == text
    assert "\n" not in literal and literal.isprintable()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("CNN+LSTM video", "CnnLstmVideo"),
        ("my first net", "MyFirstNet"),
        ("3d shapes", "Model3dShapes"),
        ("", "Model"),
        ('x"); import os #', "XImportOs"),
        ("Ünïcödé model", "UnicodeModel"),
        ("class", "Class"),
    ],
)
def test_class_names_are_sanitised_capwords(name: str, expected: str) -> None:
    assert class_name(name) == expected
    assert class_name(name).isidentifier()


# -------------------------------------------------------------- equivalence


def test_random_graphs_cover_the_block_mix() -> None:
    """The generator must reach what the equivalence claim is about, or the test means little."""
    types: Counter[str] = Counter()
    features: Counter[str] = Counter()
    for seed in range(RANDOM_GRAPHS):
        graph = random_graph(seed)
        analysis = analyze(graph)
        ops = [analysis.nodes[n.id].op for n in graph.nodes]
        types.update(n.spec.category for n in graph.nodes)
        features["per-frame"] += any(op.fold for op in ops)
        for op in ops:
            if op.kind == "recurrent":
                features[f"recurrent {op.args['output']}"] += 1
                features["bidirectional"] += op.args["bidirectional"]
        features["several inputs"] += len(graph.ids_of_role("input")) > 1
        features["several outputs"] += len(graph.ids_of_role("output")) > 1
    for category in ("Convolution", "Pooling", "Core", "Recurrent", "Merge", "Reshape"):
        assert types[category] >= 20, (category, types)
    for feature in ("per-frame", "several inputs", "several outputs"):
        assert features[feature] >= 30, (feature, features)
    for feature in ("recurrent last", "recurrent sequence", "bidirectional"):
        assert features[feature] >= 8, (feature, features)


@pytest.mark.parametrize("path", [*TEMPLATES, GOLDEN_PROJECTS[1]], ids=lambda p: p.stem)
def test_template_export_is_the_same_network(path: Path) -> None:
    project = load(path)
    assert equivalence_problems(project.graph, project.name) == []


def test_random_graph_exports_are_the_same_network() -> None:
    failures = {}
    for seed in range(RANDOM_GRAPHS):
        if problems := equivalence_problems(random_graph(seed), f"random {seed}"):
            failures[seed] = problems
    assert failures == {}


def test_an_equivalence_failure_is_noticed() -> None:
    """The harness itself: a changed operation in the source must be caught."""
    graph = load(GOLDEN_PROJECTS[1]).graph
    source = to_python(Project(graph, name="x")).replace(
        "add1 = conv1 + conv2", "add1 = conv2 + conv1 * 1.0001"
    )
    torch.manual_seed(0)
    built = build_model(graph)
    exported = exported_class(source)()
    exported.load_state_dict(built.state_dict(), strict=True)
    inputs = model_inputs(graph)
    with torch.no_grad():
        assert not torch.equal(built.eval()(*inputs)[0], exported.eval()(*inputs)[0])


def test_a_graph_with_errors_is_refused_naming_the_node() -> None:
    graph = load(GOLDEN_PROJECTS[1]).graph
    graph.set_params("reshape1", {"shape": [5, -1]})
    with pytest.raises(ExportError) as caught:
        to_python(Project(graph))
    assert any(p.startswith("reshape1: Reshape") for p in caught.value.problems)


# --------------------------------------------------------- compiled models


def trained_like_weights(graph: Graph) -> dict[str, torch.Tensor]:
    torch.manual_seed(3)
    model = build_model(graph)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.1)  # not the initial weights
    return model.state_dict()


def test_torchscript_file_gives_the_in_app_outputs_at_any_batch(tmp_path: Path) -> None:
    project = load(GOLDEN_PROJECTS[1])
    weights = trained_like_weights(project.graph)
    path = tmp_path / "model.pt"
    result = to_torchscript(project, path, weights)
    assert result.max_abs_diff == 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch.jit is deprecated, not gone
        loaded = torch.jit.load(str(path))
    built = build_model(project.graph)
    built.load_state_dict(weights)
    inputs = model_inputs(project.graph, batch=5)  # a batch size the export never saw
    with torch.no_grad():
        for ours, theirs in zip(built.eval()(*inputs), loaded(*inputs), strict=True):
            assert torch.equal(ours, theirs)


def test_onnx_file_gives_the_in_app_outputs_at_any_batch(tmp_path: Path) -> None:
    onnxruntime = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    project = load(GOLDEN_PROJECTS[1])
    weights = trained_like_weights(project.graph)
    path = tmp_path / "model.onnx"
    result = to_onnx(project, path, weights)
    assert result.max_abs_diff < 1e-4
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["image", "series"]
    assert [o.name for o in session.get_outputs()] == ["label", "per_step"]
    built = build_model(project.graph)
    built.load_state_dict(weights)
    for batch in (1, 7):
        inputs = model_inputs(project.graph, batch=batch)
        got = session.run(None, {"image": inputs[0].numpy(), "series": inputs[1].numpy()})
        with torch.no_grad():
            want = built.eval()(*inputs)
        for ours, theirs in zip(want, got, strict=True):
            assert theirs.shape == tuple(ours.shape)
            assert torch.allclose(ours, torch.from_numpy(theirs), rtol=1e-3, atol=1e-4)


# ------------------------------------------------------- training-script data

# Small parameters, so each generated dataset is made in milliseconds.
SMALL_DATA = {
    "moving_shapes": {"samples": 16, "frames": 3, "size": 12, "seed": 4},
    "adding_problem": {"samples": 16, "length": 10, "seed": 2},
    "sine": {"length": 200, "window": 12, "noise": 0.3},
    "shapes_segmentation": {"samples": 8, "size": 16, "shapes": 4},
    "digits": {"seed": 5},
    "iris": {},
    "wine": {"seed": 3},
}


def script_data(
    name: str, params: dict, path: str | None, task: str, classes: int | None = None
) -> tuple:
    """What the exported script's load_data returns for this dataset (`classes`: the
    Output's class count, which the npz loader checks labels against)."""
    resolved = get_dataset_spec(name).resolve_params({**params, **({"path": path} if path else {})})
    section = data_section(name, resolved, path, ordered=False)
    namespace = {"np": np, "Path": Path, "OBJECTIVE": {"task": task, "classes": classes}}
    exec(compile("\n".join(section.constants) + "\n\n" + section.code, name, "exec"), namespace)
    return namespace["load_data"](namespace["DATA_PARAMS"], path)


def assert_same_arrays(script: tuple, data: object) -> None:
    x, y = script
    assert x.dtype == data.x.dtype and np.array_equal(x, data.x)
    assert y.dtype == data.y.dtype and np.array_equal(y, data.y)


def test_every_dataset_has_a_script_loader() -> None:
    assert set(SNIPPETS) == set(DATASETS), "a dataset the training script cannot load"


@pytest.mark.parametrize("name", sorted(SMALL_DATA))
def test_script_data_is_netlooms_data(name: str) -> None:
    data = load_dataset(name, SMALL_DATA[name])
    assert_same_arrays(script_data(name, SMALL_DATA[name], None, data.task), data)


def test_script_reads_a_csv_table_as_netloom_does(tmp_path: Path) -> None:
    kinds = ["b", "a", "c", "10", "2"]
    labelled = tmp_path / "plants.csv"
    rows = [f"{i * 1.5},{(i * 7) % 5},{kinds[i % 5]}" for i in range(12)]
    labelled.write_text("height,width,kind\n" + "\n".join(rows) + "\n\n", encoding="utf-8")
    scored = tmp_path / "scores.csv"
    rows = [f"{i * 1.5},{(i * 7) % 5},{i / 4}" for i in range(12)]
    scored.write_text("height,width,score\n" + "\n".join(rows) + "\n", encoding="utf-8")
    for file, params, task in (
        (labelled, {"target": "kind"}, "classification"),
        (scored, {"target": "score", "task": "regression", "standardise": False}, "regression"),
    ):
        data = load_dataset("csv", {**params, "path": str(file)})
        assert_same_arrays(script_data("csv", params, str(file), task), data)


def test_script_reads_npz_arrays_as_netloom_does(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    cases = {
        "classification": (rng.normal(size=(10, 3)), rng.integers(0, 3, (10, 1))),
        "regression": (rng.normal(size=(10, 4, 2)), rng.normal(size=10)),
        "segmentation": (rng.normal(size=(10, 1, 5, 5)), rng.integers(0, 2, (10, 5, 5))),
    }
    for task, (x, y) in cases.items():
        file = tmp_path / f"{task}.npz"
        np.savez(file, x=x, y=y)
        params = {"sequence": task == "regression"}
        data = load_dataset("npz", {**params, "path": str(file)})
        assert data.task == task
        got = script_data("npz", params, str(file), task, data.num_classes)
        assert_same_arrays(got, data)


@pytest.mark.parametrize("mode", ["L", "RGB"])
def test_script_reads_an_image_folder_as_netloom_does(tmp_path: Path, mode: str) -> None:
    image_module = pytest.importorskip("PIL.Image")
    rng = np.random.default_rng(1)
    for label in ("cat", "dog"):
        (tmp_path / label).mkdir()
        for i in range(3):
            shape = (6, 5) if mode == "L" else (6, 5, 3)
            pixels = rng.integers(0, 256, shape, dtype=np.uint8)
            image_module.fromarray(pixels, mode).save(tmp_path / label / f"{i}.png")
    data = load_dataset("image_folder", {"path": str(tmp_path)})
    assert_same_arrays(script_data("image_folder", {}, str(tmp_path), "classification"), data)


# ------------------------------------------------------------ training scripts


def script_ruff_failures(source: str, tmp_path: Path) -> dict[str, str]:
    """What ruff says of an exported training script: its default check, the project's
    own rules at line length 100, and its formatter; empty when all three pass."""
    checks = {
        "check": ruff("check", source=source, tmp_path=tmp_path),
        "project rules": ruff(
            "check",
            "--line-length",
            "100",
            "--select",
            "E,F,W,I,B,UP",
            source=source,
            tmp_path=tmp_path,
        ),
        "format": ruff("format", "--diff", source=source, tmp_path=tmp_path),
    }
    return {k: v.stdout + v.stderr for k, v in checks.items() if v.returncode != 0}


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.stem)
def test_exported_training_scripts_pass_ruff(path: Path, tmp_path: Path) -> None:
    source = to_script(load(path), path.parent)
    assert script_ruff_failures(source, tmp_path) == {}
    tree = ast.parse(source)
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    # torch and numpy; scikit-learn only inside the loader of a dataset that needs it.
    assert imported <= {
        "argparse",
        "gc",
        "math",
        "os",
        "time",
        "numpy",
        "torch",
        "torch.distributed",
        "csv",
        "sklearn.datasets",
    }


def test_writing_source_needs_neither_torch_nor_qt() -> None:
    """The python and script targets are text: they work where torch cannot be imported."""
    program = textwrap.dedent(
        """
        import importlib.abc, sys

        class Refuse(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.partition(".")[0] in {"torch", "PySide6"}:
                    raise ImportError(f"{name} is made unimportable for this test")

        sys.meta_path.insert(0, Refuse())
        import engine.codegen.command, engine.codegen.compiled
        from engine.codegen import to_python
        from engine.project.project import load

        print(to_python(load(sys.argv[1])).count("self.conv1 = nn.Conv2d("))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", program, str(GOLDEN_PROJECTS[0])],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1"
