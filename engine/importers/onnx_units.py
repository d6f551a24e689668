"""Units from an ONNX file's node metadata: the module structure the dynamo exporter wrote.

`torch.onnx.export(..., dynamo=True)` writes on every node the module path it was made
in and the class of each module on that path (metadata_props
`pkg.torch.onnx.name_scopes`: `['', 'layer1', 'layer1.0', 'layer1.0.relu', 'relu_1']`,
`pkg.torch.onnx.class_hierarchy`: `['…ResNet', '…Sequential', '…BasicBlock', '…ReLU',
'aten.relu.default']`). From these the imported blocks are grouped into units as
`engine.importers.grouping` does for a Python model: a class of the model's own built
more than once is a unit, one definition per structure, its instances named after their
module paths (`layer1_0`), the weights under their paths (`layer1_0.conv1.weight`); an
`nn.Sequential` of like instances is one instance repeated (`engine.importers.repeats`).
A block takes the module path of its weight where it has one (`layer1.0.conv1`: the
exporter files a Conv with a BatchNorm folded into it under the BatchNorm's scope).

A file without such metadata (the legacy exporter, other tools) stays flat.
"""

from __future__ import annotations

import ast
import copy
import logging
import re
from collections import Counter
from collections.abc import Mapping
from typing import Any

from engine.graph.shapes import analyze
from engine.importers.builder import GraphBuilder
from engine.importers.grouping import group_repeated
from engine.importers.repeats import fold_repeats

log = logging.getLogger(__name__)

SCOPES = "pkg.torch.onnx.name_scopes"
CLASSES = "pkg.torch.onnx.class_hierarchy"
SEQUENTIAL = "torch.nn.modules.container.Sequential"
_WEIGHT = re.compile(r"^([A-Za-z_][\w.]*)\.(weight|bias)$")


def _listed(node: Any, key: str) -> list[str] | None:
    for prop in node.metadata_props:
        if prop.key == key:
            try:
                value = ast.literal_eval(prop.value)
            except (ValueError, SyntaxError):
                return None
            return [str(v) for v in value] if isinstance(value, list) else None
    return None


def module_stack(node: Any) -> list[tuple[str, str]] | None:
    """(module path, class) from the model down to the module that made `node` (its
    own operation left out), or None without the metadata."""
    scopes, classes = _listed(node, SCOPES), _listed(node, CLASSES)
    if not scopes or not classes or len(scopes) != len(classes):
        return None
    return list(zip(scopes[:-1], classes[:-1], strict=True))


def _own(cls: str) -> bool:
    """A class of the model's own, not one of torch's."""
    return not (cls.startswith("torch.") or cls.startswith("aten."))


def group_units(builder: GraphBuilder, nodes: Mapping[str, Any], name: str) -> None:
    """Group the blocks of an ONNX import into units, in place, from its metadata.

    `nodes` maps each block's place (`node <name>`, `builder.places`' values) to the
    ONNX node that made it. Leaves the graph as it was when the metadata is missing,
    no class repeats, or the grouping does not work out.
    """
    stacks: dict[str, list[tuple[str, str]]] = {}
    for node_id, place in builder.places.items():
        node = nodes.get(place)
        stack = module_stack(node) if node is not None else None
        if stack is not None and node_id in builder.graph:
            stacks[node_id] = stack
    if not stacks:
        return  # no module metadata: a flat graph
    class_of: dict[str, str] = {}
    children: dict[str, list[str]] = {}  # nn.Sequential path → its children's paths
    for stack in stacks.values():
        for depth, (path, cls) in enumerate(stack):
            class_of.setdefault(path, cls)
            if depth and stack[depth - 1][1] == SEQUENTIAL:
                siblings = children.setdefault(stack[depth - 1][0], [])
                if path not in siblings:
                    siblings.append(path)
    counts = Counter(cls for path, cls in class_of.items() if path and _own(cls))
    classes = {
        path: cls.rsplit(".", 1)[-1]
        for path, cls in class_of.items()
        if path and _own(cls) and counts[cls] > 1
    }
    if not classes:
        return
    scopes = {
        node_id: _scope(nodes[builder.places[node_id]], stack) for node_id, stack in stacks.items()
    }
    saved = copy.deepcopy(builder.graph), dict(builder.weights), dict(builder.places)
    try:
        made = group_repeated(builder, scopes, classes, {})
        repeated = fold_repeats(builder, children, made)
        if not analyze(builder.graph).ok:
            raise ValueError("the grouped graph's shapes do not work out")
    except Exception:  # a bug here must not cost the import: keep the blocks flat
        log.warning("units from the ONNX module metadata failed; left as blocks", exc_info=True)
        builder.graph, builder.weights, builder.places = saved
        return
    library = builder.graph.library
    if library is None or not library.definitions:
        return
    found = [f"{unit} ×{library.count_uses(unit, builder.graph)}" for unit in library.definitions]
    found += [
        f"{node_id} is {builder.graph.node(node_id).type} repeated "
        f"×{builder.graph.node(node_id).params['repeat']} (an nn.Sequential)"
        for node_id in repeated
    ]
    builder.report.note(
        name,
        "units",
        "repeated module classes (from the file's metadata) became units: " + "; ".join(found),
    )


def _scope(node: Any, stack: list[tuple[str, str]]) -> str:
    """The module path a block belongs to: its weight's, where that lies within the
    module that made it or beside it (a Conv with its BatchNorm folded in is filed under
    the BatchNorm), else the innermost module's."""
    innermost = stack[-1][0] if stack else ""
    parent = innermost.rsplit(".", 1)[0] if "." in innermost else ""
    for name in node.input:
        if match := _WEIGHT.match(name):
            path = match.group(1)
            if path.startswith(parent + ".") or (not parent and path):
                return path
    return innermost
