"""Finding block types by what a person types: name, alias, category or description,
ranked by what fits where the block goes.

Shared by the palette's search box and the Tab quick-search on the canvas. The fit of
a block comes from the engine's own shape rules (`engine.graph.shapes.infer_node`) run on
the shape that would arrive at its input: no block names are written down here.
"""

from __future__ import annotations

from collections.abc import Iterable

from engine.blocks.spec import BlockSpec, Operand, ParamError, Shape, all_specs
from engine.graph.shapes import infer_node


def match_rank(spec: BlockSpec, text: str) -> int | None:
    """Lower is better; None when the spec does not match at all.
    Exact name > name prefix > alias > name substring > category > description."""
    query = text.strip().lower()
    if not query:
        return 5
    name = spec.name.lower()
    if name == query:
        return 0
    if name.startswith(query):
        return 1
    if any(query in alias.lower() for alias in spec.aliases):
        return 2
    if query in name:
        return 3
    if query in spec.category.lower():
        return 4
    if query in spec.summary.lower():
        return 6
    return None


NATIVE, FOLDED, MISFIT = 0, 1, 2


def _probe(spec: BlockSpec, shape: Shape) -> bool | None:
    """None when the block (default params) refuses `shape` on each input; else whether
    it had to fold extra leading axes into the batch to take it."""
    if spec.role == "input":
        return None
    try:
        params = spec.resolve_params({})
        ports = spec.ports(params)
        if not ports:
            return None
        operands = {port: Operand(shape, "source") for port in ports}
        info = infer_node("probe", spec, params, operands)
    except (ParamError, ValueError, KeyError):
        return None
    if info.error is not None:
        return None
    return bool(info.op is not None and info.op.fold)


def fit(spec: BlockSpec, shape: Shape) -> int:
    """How well a block takes `shape`: NATIVE when its rule takes that rank as it is
    (or frame by frame along a sequence's time axis), FOLDED when it only takes it by
    folding other axes away (MaxPool1d after a Conv2d), MISFIT when it refuses it."""
    folded = _probe(spec, shape)
    if folded is None:
        return MISFIT
    if not folded:
        return NATIVE
    if shape.time and _probe(spec, Shape(shape.features)) is False:
        return NATIVE  # a per-frame block applied along time: what sequences are for
    return FOLDED


def accepts(spec: BlockSpec, shape: Shape) -> bool:
    return fit(spec, shape) != MISFIT


def search_specs(
    text: str,
    units: Iterable[BlockSpec] = (),
    context: Shape | None = None,
    only_fitting: bool = False,
) -> list[BlockSpec]:
    """Matching specs, best first; ties keep the registry's category order, units last.

    With a `context` (the shape leaving the selected block, or the wire being dragged),
    the blocks that take it at its rank come first, then those that take it by folding
    axes, then the rest; `only_fitting` drops the rest."""
    ranked = []
    for order, spec in enumerate([*all_specs(), *units]):
        rank = match_rank(spec, text)
        if rank is None:
            continue
        tier = NATIVE if context is None else fit(spec, context)
        if tier == MISFIT and only_fitting:
            continue
        ranked.append((tier, rank, order, spec))
    return [spec for *_, spec in sorted(ranked, key=lambda r: r[:3])]
