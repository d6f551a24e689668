"""Where a graph's frozen blocks and unit instances keep their weights in the model.

A frozen node keeps its weights as they are while the rest of the model trains. The
model names its weights by node id (engine.model.build, and the exported code alike), so
a frozen node's weights are those under its path: `conv1`, `layer1` for a unit instance
(all of it), and for a block frozen inside a unit's definition, that block in every
instance at any depth (`layer1.conv1`; per copy of a repeated instance `layer1.0.conv1`).
The trainer (engine.train.freeze) and the exported training script apply these paths.

Pure: imports neither torch nor Qt.
"""

from __future__ import annotations

from engine.graph.graph import Graph
from engine.graph.shapes import Analysis

# Op kinds whose node holds weights or a mode of its own in the model (a frozen Dropout is
# kept in eval mode too); the others (Add, Reshape, …) own nothing to freeze.
OWNS_WEIGHTS = ("module", "recurrent", "unit", "layer_scale")


def frozen_paths(graph: Graph, analysis: Analysis, prefix: str = "") -> list[str]:
    """The model paths of the graph's frozen nodes, in graph order (`conv1`, `layer1.0.conv1`)."""
    paths: list[str] = []
    for node_id in graph.topological_order():
        op = analysis.nodes[node_id].op
        if op is None or op.kind not in OWNS_WEIGHTS:
            continue
        path = prefix + node_id
        if graph.node(node_id).frozen:
            paths.append(path)
        elif op.kind == "unit":
            body: Graph = op.args["graph"]
            copies: tuple[Analysis, ...] = op.args["copies"]
            for k, inner in enumerate(copies):
                step = f"{path}.{k}." if len(copies) > 1 else f"{path}."
                paths += frozen_paths(body, inner, step)
    return paths


def frozen_ids(graph: Graph) -> list[str]:
    """The ids of the graph's own frozen nodes (not looking inside units), in graph order."""
    return [node.id for node in graph.nodes if node.frozen]
