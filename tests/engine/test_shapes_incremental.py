"""The editor's incremental shape pass gives exactly what a full pass gives."""

from __future__ import annotations

import random
from pathlib import Path

from engine.graph.shapes import analyze
from engine.project import project

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"

# Edits that keep shapes, change them downstream, break a wire, and mend it again.
EDITS = {
    "Conv2d": [
        ("out_channels", [4, 16, 32]),
        ("kernel_size", [1, 3, 5, 33]),
        ("padding", ["same", "valid", 0, 2]),
    ],
    "MaxPool2d": [("kernel_size", [1, 2, 4, 40])],
    "LSTM": [("hidden_size", [8, 64]), ("output", ["last", "sequence"])],
    "GRU": [("hidden_size", [8, 64]), ("output", ["last", "sequence"])],
    "RNN": [("hidden_size", [8, 64]), ("output", ["last", "sequence"])],
    "Dense": [("units", [1, 4, 10])],
    "Input": [("shape", [[8, 1, 32, 32], [8, 1, 16, 16], [1, 8, 8], [100, 2], [4]])],
}


def test_incremental_pass_equals_a_full_pass_over_random_param_edits() -> None:
    rng = random.Random(7)
    checked = 0
    for path in sorted(TEMPLATES.glob("*.json")):
        graph = project.load(path).graph
        editable = [n for n in graph.nodes if n.type in EDITS]
        previous = analyze(graph)
        for _ in range(40):
            node = rng.choice(editable)
            name, values = rng.choice(EDITS[node.type])
            graph.set_params(node.id, {name: rng.choice(values)})
            incremental = analyze(graph, previous, changed={node.id})
            full = analyze(graph)
            assert incremental.nodes == full.nodes, (path.name, node.id, name)
            assert [p.message for p in incremental.problems] == [p.message for p in full.problems]
            previous = incremental
            checked += 1
    assert checked >= 40 * 5  # the templates are there and were edited
