"""Resizing a graph's ends to fit data (for `adapt`): the Input block's shape, the
Output's loss and the width of the layer that makes the Output's values.

The layer to resize is found from the block specs alone, without naming a block type:
walking up from the Output through blocks that keep their input's shape (activations,
Dropout, a Flatten of a flat vector), the first block with a width param — an integer
param that sets the size of its output's first axis after N (a Dense's `units`, a
Conv's `out_channels`) — is set to the classes or targets. Each change is one line.
"""

from __future__ import annotations

from typing import Any

from engine.blocks.spec import Operand, ParamError
from engine.data.registry import DataError
from engine.graph.graph import Graph, GraphError
from engine.graph.shapes import Analysis, infer_node


class ProjectFitError(DataError):
    """The project cannot be adapted (no Input, no layer to resize): the command names
    the project file before the message."""


def only_block(graph: Graph, role: str, block: str) -> str:
    """The id of the graph's one block of `role`; ProjectFitError when none or several."""
    ids = graph.ids_of_role(role)
    if len(ids) != 1:
        found = f"{len(ids)} ({', '.join(ids)})" if ids else "none"
        fix = "add one" if not ids else "keep one"
        raise ProjectFitError(
            f"adapt needs exactly one {block} block; the project has {found} — {fix} in the editor"
        )
    return ids[0]


def _set(graph: Graph, node_id: str, changes: dict[str, Any]) -> None:
    try:
        graph.set_params(node_id, changes)
    except GraphError as err:  # a width beyond the blocks' limits
        raise ProjectFitError(f"cannot resize: {err}") from None


def resize_input(graph: Graph, input_id: str, shape: tuple[int, ...], sequence: bool) -> list[str]:
    """Give the Input the data's sample shape; one line if it changed."""
    params = graph.node(input_id).params
    old_shape, old_sequence = tuple(params["shape"]), bool(params["sequence"])
    changes: dict[str, Any] = {}
    if old_shape != shape or old_sequence != sequence:
        changes.update(shape=list(shape), sequence=sequence)
    if params.get("dtype", "float32") != "float32":
        changes["dtype"] = "float32"  # every person's data kind feeds float32 values
    if not changes:
        return []
    _set(graph, input_id, changes)
    line = f"Input {input_id}: shape {old_shape} → {shape}"
    if sequence != old_sequence:
        line += ", a sequence (axis 0 is time)" if sequence else ", no longer a sequence"
    if "dtype" in changes:
        line += f", dtype {params.get('dtype')} → float32"
    return [line]


def set_loss(graph: Graph, output_id: str, loss: str) -> list[str]:
    old = graph.node(output_id).params["loss"]
    if old == loss:
        return []
    _set(graph, output_id, {"loss": loss})
    return [f"Output {output_id}: loss {old} → {loss}"]


def _operands(graph: Graph, analysis: Analysis, node_id: str) -> dict[str, Operand] | None:
    info = analysis.nodes[node_id]
    sources = graph.incoming(node_id)
    if info.shape is None or set(info.input_shapes) != set(sources):
        return None
    return {port: Operand(shape, sources[port]) for port, shape in info.input_shapes.items()}


def _dims_with(
    graph: Graph, node_id: str, operands: dict[str, Operand], name: str, value: int
) -> tuple[int, ...] | None:
    """The block's output dims with param `name` set to `value` (None if refused)."""
    node = graph.node(node_id)
    try:
        params = node.spec.resolve_params({**node.params, name: value})
    except ParamError:
        return None
    info = infer_node(node_id, node.spec, params, operands)
    if info.shape is None or info.shape.time:
        return None
    return info.shape.dims


def width_param(
    graph: Graph, analysis: Analysis, node_id: str, dims: tuple[int, ...]
) -> str | None:
    """The block's integer param that makes its output `dims` (first axis the width),
    checked at two widths so a param that only happens to fit once is not taken."""
    operands = _operands(graph, analysis, node_id)
    if operands is None or analysis.nodes[node_id].op is None:
        return None
    if analysis.nodes[node_id].op.kind == "unit":
        return None  # a unit's params are its own; its inner layers are not resized
    width, rest = dims[0], dims[1:]
    for param in graph.node(node_id).spec.params:
        if param.kind != "int":
            continue
        if _dims_with(graph, node_id, operands, param.name, width) != dims:
            continue
        if _dims_with(graph, node_id, operands, param.name, width + 1) == (width + 1, *rest):
            return param.name
    return None


def _keeps_shape(graph: Graph, analysis: Analysis, node_id: str) -> bool:
    info = analysis.nodes[node_id]
    shapes = list(info.input_shapes.values())
    return len(shapes) == 1 and info.shape is not None and shapes[0] == info.shape


def resize_output(
    graph: Graph, analysis: Analysis, output_id: str, dims: tuple[int, ...], what: str
) -> list[str]:
    """Set the width of the layer making the Output's values to dims[0] (`what` says
    what the width counts, e.g. "2 classes"); ProjectFitError naming the block where
    the walk up from the Output stopped."""
    node_id = graph.incoming(output_id).get("x")
    if node_id is None:
        raise ProjectFitError(f"Output {output_id!r} has no wire in; connect the last layer to it")
    first = node_id
    while True:
        if analysis.nodes[node_id].shape is None:  # the caller refuses graph errors first
            raise ProjectFitError(f"{node_id!r} has no shape; run check on the project")
        if (name := width_param(graph, analysis, node_id, dims)) is not None:
            break
        if not _keeps_shape(graph, analysis, node_id):
            needed = ", ".join(str(d) for d in dims)
            shape = analysis.nodes[node_id].shape
            per_step = " (values per time step)" if shape is not None and shape.time else ""
            raise ProjectFitError(
                f"the Output {output_id!r} needs (N, {needed}) for {what}, but "
                f"{graph.node(node_id).type} {node_id!r} before it gives {shape}{per_step} "
                "and has no width to set; put a Dense layer on flat features before the "
                "Output, then adapt again"
            )
        node_id = next(iter(graph.incoming(node_id).values()))
    node = graph.node(node_id)
    old = node.params[name]
    if old == dims[0]:
        return []
    _set(graph, node_id, {name: dims[0]})
    via = "" if node_id == first else f" (feeds the Output through {first!r})"
    return [f"{node.type} {node_id}: {name} {old} → {dims[0]}{via}"]
