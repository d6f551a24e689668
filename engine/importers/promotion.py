"""Which params of a repeated class's instances become a unit's promoted params, and
their names.

When the instances of one class share a definition (`engine.importers.grouping`), each
param whose value differs between them becomes a promoted param, set per instance. It
takes the name of the constructor argument whose values it follows in every instance
(`c_out`), else its own (`out_channels`); params that differ together are one.

Pure: imports neither torch nor Qt.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.units.definition import REPEAT, Promoted


def promote(
    kinds: Mapping[tuple[str, str], Any],
    values: list[dict],
    given: list[Mapping[str, Any]],
    passes: Mapping[str, Mapping[str, str]] | None = None,
) -> Promoted:
    """Params whose values differ between instances, one promoted param per set of
    params of one kind that follow one constructor argument in every instance, named
    after it (`c_out`); else per set of same-named params of one kind that vary
    together, named after the param (`out_channels`), else after its first place
    (`conv2_out_channels`).

    And params that the same value in every instance does not tell apart: where the
    constructor passes an argument on to a block (`passes`: inner id → {keyword:
    argument}, `self.conv = nn.Conv2d(..., stride=stride)`), the block's param that
    took its value is promoted under the argument's name. Promoted params come in the
    order of the constructor's arguments."""
    varying: dict[tuple[Any, ...], list[tuple[str, str]]] = {}
    for place in values[0]:
        column = [v[place] for v in values]
        if len({repr(c) for c in column}) > 1:
            argument = _argument(place[1], column, given)
            group = (argument,) if argument else (place[1], tuple(map(repr, column)))
            varying.setdefault((*group, kinds[place]), []).append(place)
    promoted: Promoted = {}
    for group, places in varying.items():
        key = group[0]
        name = key if key not in promoted and key != REPEAT.name else f"{places[0][0]}_{key}"
        promoted[name] = places
    promoted.update(_passed_on(kinds, values, given, passes or {}, promoted))
    order = {arg: i for i, arg in enumerate(given[0] if given else {})}
    return dict(sorted(promoted.items(), key=lambda item: order.get(item[0], len(order))))


def _passed_on(
    kinds: Mapping[tuple[str, str], Any],
    values: list[dict],
    given: list[Mapping[str, Any]],
    passes: Mapping[str, Mapping[str, str]],
    promoted: Promoted,
) -> Promoted:
    """Promoted params for constructor arguments passed on to blocks, which `promote`
    did not find by their values: for each block given the argument by keyword, its
    param of that keyword's name, else its only param that took the argument's value."""
    if not given or not all(given):
        return {}
    done = {place for places in promoted.values() for place in places}
    found: Promoted = {}
    for inner, keywords in passes.items():
        for keyword, arg in keywords.items():
            if arg in promoted or arg == REPEAT.name or not all(arg in g for g in given):
                continue
            fits = [
                place
                for place in values[0]
                if place[0] == inner
                and place not in done
                and all(_same(v[place], g[arg]) for v, g in zip(values, given, strict=True))
            ]
            named = [place for place in fits if place[1] == keyword]
            chosen = named or (fits if len(fits) == 1 else [])
            for place in chosen:
                places = found.setdefault(arg, [])
                if places and kinds[places[0]] != kinds[place]:
                    continue  # one promoted param sets params of one kind
                places.append(place)
                done.add(place)
    return {arg: places for arg, places in found.items() if places}


def _argument(key: str, column: list[Any], given: list[Mapping[str, Any]]) -> str | None:
    """The constructor argument whose value a param took in every instance: the one
    that fits, or the param's own name among several."""
    if not given or not all(given):
        return None
    fits = [
        arg
        for arg in given[0]
        if arg != REPEAT.name
        and all(arg in g and _same(p, g[arg]) for p, g in zip(column, given, strict=True))
    ]
    if key in fits:
        return key
    return fits[0] if len(fits) == 1 else None


def _same(param: Any, argument: Any) -> bool:
    """Whether a block's param value is what a constructor argument gave it: equal
    (True is no 1), a tuple as a list, or one number on every axis of a per-axis list."""
    if isinstance(argument, tuple):
        argument = list(argument)
    if isinstance(param, list) and not isinstance(argument, list):
        return len(param) > 0 and all(_same(p, argument) for p in param)
    if isinstance(param, bool) or isinstance(argument, bool):
        return type(param) is type(argument) and param == argument
    return bool(param == argument)
