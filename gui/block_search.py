"""Finding block types by what a person types: name, alias, category or description.

Shared by the palette's search box and the Tab quick-search on the canvas.
"""

from __future__ import annotations

from collections.abc import Iterable

from engine.spec import BlockSpec, all_specs

BLOCK_MIME = "application/x-netloom-block"


def match_rank(spec: BlockSpec, text: str) -> int | None:
    """Lower is better; None when the spec does not match at all."""
    query = text.strip().lower()
    if not query:
        return 5
    name = spec.name.lower()
    if name == query:
        return 0
    if name.startswith(query):
        return 1
    if query in name:
        return 2
    if any(query in alias.lower() for alias in spec.aliases):
        return 3
    if query in spec.category.lower():
        return 4
    if query in spec.summary.lower():
        return 6
    return None


def search_specs(text: str, units: Iterable[BlockSpec] = ()) -> list[BlockSpec]:
    """Matching specs, best first; ties keep the registry's category order, units last."""
    ranked = []
    for order, spec in enumerate([*all_specs(), *units]):
        rank = match_rank(spec, text)
        if rank is not None:
            ranked.append((rank, order, spec))
    return [spec for _, _, spec in sorted(ranked, key=lambda r: (r[0], r[1]))]
