"""Plain data (a run's fitted preprocessing) as Python source laid out as ruff lays it.

A value made of dicts with text keys, lists, strings, numbers, booleans and None is
written as a literal: on one line when it fits, else its brackets opened one item a
line with a trailing comma, each item laid out the same way. That is the layout
`ruff format` gives such a literal, and the trailing commas make it keep that layout
whatever line length a user's configuration sets. Floats are written with repr, so the
numbers read back exactly. No torch here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.codegen.text import INDENT, fits, literal


def data_assignment(name: str, value: Any) -> list[str]:
    """`NAME = <value>` as source lines; ValueError for a value that is not plain data
    (a NaN, an object)."""
    return _laid_out(f"{name} = ", _plain(value), "", "")


def _plain(value: Any) -> Any:
    """Numbers as Python's own (a numpy float64 is a float whose repr names numpy)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, float):
        return float(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    raise ValueError(f"cannot write a {type(value).__name__} as plain data")


def _laid_out(head: str, value: Any, tail: str, indent: str) -> list[str]:
    """`head` + value + `tail` at `indent`: one line if it fits, else exploded."""
    one_line = f"{indent}{head}{literal(value)}{tail}"
    if fits(one_line) or not isinstance(value, (list, Mapping)) or not value:
        return [one_line]
    inner = indent + INDENT
    if isinstance(value, Mapping):
        opening, closing = "{", "}"
        items = [
            line
            for key, item in value.items()
            for line in _laid_out(f"{_key(key)}: ", item, ",", inner)
        ]
    else:
        opening, closing = "[", "]"
        items = [line for item in value for line in _laid_out("", item, ",", inner)]
    return [f"{indent}{head}{opening}", *items, f"{indent}{closing}{tail}"]


def _key(key: Any) -> str:
    if not isinstance(key, str):
        raise ValueError(f"cannot write a dict key {key!r} as plain data (text keys only)")
    return literal(key)
