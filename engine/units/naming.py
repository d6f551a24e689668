"""A suggested name for a new unit, from the types of the blocks it is made of.

`suggest_unit_name` reads the selection in the order data flows (Conv2d, BatchNorm,
ReLU → ConvBnReLU); the editor offers it when a person makes a unit.

Pure: imports neither torch nor Qt.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from engine.graph.graph import Graph
from engine.units.units import Library


def abbreviation(type_name: str) -> str:
    """A block type's part of a suggested unit name: `Conv2d` → Conv, `BatchNorm` → Bn,
    `ConvTranspose2d` → Deconv, `ReLU` → ReLU. (A unit's name stands as it is.)"""
    base = re.sub(r"\d+d$", "", type_name) or type_name
    if base.startswith("ConvTranspose"):
        return "Deconv"
    if base.endswith("Norm") and len(base) > len("Norm"):
        return base[0] + "n"
    return base


SUGGESTED_NAME_CHARS = 24  # parts join while the name stays this short


def suggest_unit_name(graph: Graph, selection: Collection[str]) -> str:
    """A name for a unit made of `selection`, from its blocks' types in the order data
    flows through them: Conv2d, BatchNorm, ReLU → ConvBnReLU. Each type counts once
    (a repeated Conv-Bn-ReLU is still ConvBnReLU), and parts join while the name stays
    short. One part alone names a block type, or a unit already: DenseBlock, or
    ResidualBlockStage for a run of residual blocks. A name the project already uses
    gets a number (ConvBnReLU2)."""
    chosen = set(selection)
    nodes = [graph.node(n) for n in graph.topological_order() if n in chosen]
    parts: dict[str, bool] = {}  # part → it names a unit
    for node in nodes:
        is_unit = node.library is not None
        parts.setdefault(node.type if is_unit else abbreviation(node.type), is_unit)
    taken: list[str] = []
    for part in parts:
        if taken and len("".join(taken)) + len(part) > SUGGESTED_NAME_CHARS:
            break
        taken.append(part)
    if not taken:
        base = "Unit"
    elif len(taken) == 1:
        base = taken[0] + ("Stage" if parts[taken[0]] else "Block")
    else:
        base = "".join(taken)
    library = graph.library if graph.library is not None else Library()
    return library.new_name(base)
