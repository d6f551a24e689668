"""The order an import groups the instances of a model's classes into units in: a class
after the classes whose instances lie inside its own (an outer unit holds instances of
the inner ones), and a class nested in itself in rounds, innermost first.

Pure: imports neither torch nor Qt.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any


def inner_first(classes: Mapping[str, str]) -> list[tuple[str, list[str]]]:
    """(class name, the paths of its instances), every class after those whose
    instances lie inside its own; a class whose instances nest in each other (DLA's
    tree of trees) in rounds, those holding none of its own first, then those holding
    only those, and so on."""
    rounds: list[tuple[str, list[str]]] = []
    for name in classes_inner_first(classes):
        paths = [p for p, c in classes.items() if c == name]
        height = {p: 0 for p in paths}
        for path in sorted(paths, key=lambda p: -p.count(".")):  # deepest first
            for outer in paths:
                if path.startswith(outer + "."):
                    height[outer] = max(height[outer], height[path] + 1)
        for level in sorted(set(height.values())):
            rounds.append((name, [p for p in paths if height[p] == level]))
    return rounds


def classes_inner_first(classes: Mapping[str, str]) -> list[str]:
    """Class names, every class after those whose instances lie inside its own."""
    inside: dict[str, set[str]] = {c: set() for c in classes.values()}
    for outer_path, outer in classes.items():
        for inner_path, inner in classes.items():
            if inner_path.startswith(outer_path + ".") and inner != outer:
                inside[outer].add(inner)
    order: list[str] = []
    while len(order) < len(inside):
        ready = [c for c in inside if c not in order and inside[c] <= set(order)]
        if not ready:  # two classes inside each other: cannot be, but never loop
            ready = [c for c in inside if c not in order]
        order.extend(sorted(ready, key=natural))
    return order


def natural(name: str) -> list[Any]:
    """Sort key reading the digits in a name as a number: `Layer2` before `Layer10`, as an
    export numbers the classes it writes."""
    return [(0, int(t), "") if t.isdigit() else (1, 0, t) for t in re.split(r"(\d+)", name)]
