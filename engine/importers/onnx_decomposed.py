"""An adaptive pool the dynamo exporter wrote out as many nodes, found again as one block.

`torch.onnx.export(..., dynamo=True)` writes an adaptive pool whose output size does not
divide its input (vgg's 7×7 pool on a 2×2 map: overlapping windows) as GatherND, Where,
Gather, Add and Div nodes, which no block maps one by one. Every such node carries the
module that made it in its metadata (`engine.importers.onnx_units.module_stack`). The
nodes one adaptive pool module made are taken together here when they read one data
tensor from outside and give one out: they become the pool's block, its output size read
from the probe's output shape, and the pool is checked against torch's on the probe's
values before it is trusted. Any other group is left to the node-by-node mapping.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from engine.importers.onnx_context import OnnxContext
from engine.importers.onnx_units import module_stack

# innermost module class → (NetLoom block, spatial axes, torch's pool). The dynamo
# exporter refuses an AdaptiveMaxPool2d whose output size does not divide its input.
POOLS: dict[str, tuple[str, int, Callable[..., torch.Tensor]]] = {
    "torch.nn.modules.pooling.AdaptiveAvgPool1d": ("AdaptiveAvgPool1d", 1, F.adaptive_avg_pool1d),
    "torch.nn.modules.pooling.AdaptiveAvgPool2d": ("AdaptiveAvgPool2d", 2, F.adaptive_avg_pool2d),
}
TOLERANCE = 1e-4  # of the probe's pool against torch's, relative to the values' size


@dataclass(frozen=True)
class Decomposed:
    """One adaptive pool module's nodes (indices in the graph), taken as one block."""

    module: str  # its module path (`avgpool`)
    block: str
    output_size: tuple[int, ...]
    source: str  # the one data tensor coming in
    result: str  # the one tensor going out
    last: int  # the node giving `result`: the block stands there
    nodes: frozenset[int]


def _data_tensors(graph: Any, initializers: Mapping[str, Any]) -> set[str]:
    """The tensors computed from the graph's input (not constants nor shapes)."""
    data = {i.name for i in graph.input if i.name not in initializers}
    for node in graph.node:
        if node.op_type in ("Shape", "Size", "Constant"):
            continue
        if any(name in data for name in node.input if name):
            data.update(name for name in node.output if name)
    return data


def decomposed_pools(
    graph: Any, initializers: Mapping[str, Any], probe: Mapping[str, np.ndarray]
) -> list[Decomposed]:
    """The adaptive pools written out as several data nodes that can be one block each."""
    groups: dict[tuple[str, str], list[int]] = {}
    for index, node in enumerate(graph.node):
        stack = module_stack(node)
        if stack and stack[-1][1] in POOLS:
            groups.setdefault(stack[-1], []).append(index)
    if not groups:
        return []
    data = _data_tensors(graph, initializers)
    consumers: dict[str, set[int]] = {}
    for index, node in enumerate(graph.node):
        for name in node.input:
            consumers.setdefault(name, set()).add(index)
    graph_outputs = {o.name for o in graph.output}
    found = []
    for (module, cls), indices in groups.items():
        members = set(indices)
        nodes = [graph.node[i] for i in indices]
        made = {name for node in nodes for name in node.output if name}
        if sum(any(name in data for name in node.output) for node in nodes) < 2:
            continue  # one node (an AveragePool, say): the node-by-node mapping takes it
        sources = {
            name for node in nodes for name in node.input if name in data and name not in made
        }
        results = [
            name for name in made if name in graph_outputs or consumers.get(name, set()) - members
        ]
        if len(sources) != 1 or len(results) != 1 or results[0] not in data:
            continue
        block, axes, pool = POOLS[cls]
        (source,) = sources
        result = results[0]
        last = next(i for i in indices if result in graph.node[i].output)
        shape = _checked(probe, source, result, axes, pool)
        if shape is None:
            continue
        found.append(Decomposed(module, block, shape, source, result, last, frozenset(members)))
    return found


def _checked(
    probe: Mapping[str, np.ndarray],
    source: str,
    result: str,
    axes: int,
    pool: Callable[..., torch.Tensor],
) -> tuple[int, ...] | None:
    """The output size, when torch's pool of the probe's input gives the probe's output."""
    x, y = probe.get(source), probe.get(result)
    if x is None or y is None or x.ndim != axes + 2 or y.ndim != axes + 2:
        return None
    if x.shape[:2] != y.shape[:2] or not np.issubdtype(x.dtype, np.floating):
        return None
    size = tuple(int(d) for d in y.shape[2:])
    pooled = pool(torch.from_numpy(np.ascontiguousarray(x)), size).numpy()
    scale = max(1.0, float(np.abs(y).max(initial=0.0)))
    if not np.allclose(pooled, y, rtol=0.0, atol=TOLERANCE * scale):
        return None
    return size


def pool_block(imp: OnnxContext, node: Any, group: Decomposed) -> Any:
    """The block standing for `group`'s nodes at `node` (its last), fed by its source."""
    value = imp.block(
        node, group.block, {"output_size": list(group.output_size)}, [imp.tensor(group.source)]
    )
    imp.report.note(
        imp.place(node),
        group.block,
        f"the {len(group.nodes)} nodes the exporter wrote for module {group.module or 'the model'}"
        f" ({group.block}, output size {'×'.join(map(str, group.output_size))}) became one block",
    )
    return value
