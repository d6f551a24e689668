"""An assignment too long to open its call on one line is written as ruff format writes it.

`name = name.unflatten(` (a per-frame block's result put back into (N, T, …)) with long
block ids passes 88 characters; ruff format then puts the call in parentheses below the
`=`, and the exported file must already read so.
"""

from __future__ import annotations

from pathlib import Path

from engine.codegen.python_file import to_python
from engine.graph.graph import Graph
from engine.project.project import Project
from tests.engine.test_codegen import ruff

LONG = "dropout1_with_a_long_readable_name"


def frames_dropout() -> Project:
    graph = Graph()
    graph.add_node("Input", {"shape": [4, 2, 6, 6], "sequence": True}, node_id="input1")
    graph.add_node("Dropout2d", {}, node_id=LONG)
    graph.add_node("Output", {"loss": "mse"}, node_id="output1")
    graph.connect("input1", LONG)
    graph.connect(LONG, "output1")
    return Project(name="Net", graph=graph)


def test_a_long_unflatten_assignment_is_parenthesised_as_ruff_writes_it(tmp_path: Path) -> None:
    source = to_python(frames_dropout())
    assert f"        {LONG} = (\n            {LONG}.unflatten(0, (n, t))\n        )\n" in source
    formatted = ruff("format", "--diff", source=source, tmp_path=tmp_path)
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr
