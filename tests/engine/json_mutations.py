""" "Every field, every JSON type": a project file with the value at one JSON path
replaced by a value of each JSON type, and the judge of what `check` said about it.

Shared by tests/engine/test_fuzz.py (a deterministic sample, fast) and
bench/fuzz_bench.py (the whole product, and more).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

Path = tuple[str | int, ...]

HUGE = "1e309"  # JSON text for a number too large for a float: it reads as infinity
# One of each JSON type, and the edges of each: null, true, integers, a float, a
# number over the float range, empty and short text, empty and short lists and objects.
VALUES: tuple[Any, ...] = (None, True, 1, -1, 1.5, HUGE, "", "x", [], [1], {}, {"a": 1})
# What a message must never show: Python's own words.
PYTHON_WORDS = ("Traceback", "TypeError", "KeyError", "ValueError", "AttributeError", "b'\\x")


def json_paths(value: Any, prefix: Path = ()) -> list[Path]:
    """Every path in a document, containers and leaves, the whole document first."""
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += json_paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += json_paths(item, (*prefix, i))
    return found


def path_text(path: Path) -> str:
    """("units", "Block", "nodes", 2, "type") -> "units.Block.nodes[2].type"."""
    text = ""
    for key in path:
        text += f"[{key}]" if isinstance(key, int) else (f".{key}" if text else key)
    return text


def value_at(doc: Any, path: Path) -> Any:
    for key in path:
        doc = doc[key]
    return doc


MARK = "@@MUTATION@@"


def replaced(doc: Any, path: Path, value: Any) -> str:
    """The document as JSON text with the value at `path` replaced (`doc` is changed)."""
    raw = HUGE if value == HUGE else json.dumps(value)
    if not path:
        return raw
    parent = value_at(doc, path[:-1])
    parent[path[-1]] = MARK
    return json.dumps(doc).replace(json.dumps(MARK), raw, 1)


def json_type(value: Any) -> str:
    if value == HUGE or (isinstance(value, int | float) and not isinstance(value, bool)):
        return "number"
    return {type(None): "null", bool: "bool", str: "string", list: "list", dict: "object"}[
        type(value)
    ]


@dataclass(frozen=True)
class Case:
    """One mutation: the value at `path` of a template replaced by `value`."""

    template: str
    path: Path
    value: Any

    def text(self, doc: Any) -> str:
        return replaced(doc, self.path, self.value)

    def changes_type(self, doc: Any) -> bool:
        return json_type(value_at(doc, self.path)) != json_type(self.value)


def related(place: str, path: str) -> bool:
    """Whether an error's place is the mutated path, a container of it or inside it."""
    for outer, inner in ((place, path), (path, place)):
        if inner == outer or inner.startswith((f"{outer}.", f"{outer}[")):
            return True
    return False


def judge(case: Case, doc: Any, code: int, out: str, err: str, file: str) -> str | None:
    """What is wrong with `check`'s answer to a mutated file, or None when it is fine:
    success, a listing of the graph's problems (exit 1), or one line naming the place
    (exit 2), which for a value of another JSON type is the mutated path."""
    for word in PYTHON_WORDS:
        if word in err:
            return f"{word!r} in the message: {err[:300]!r}"
    if code == 0:
        return f"exit 0 with errors: {err[:300]!r}" if err.strip() else None
    lines = err.strip().splitlines()
    if not lines:
        return f"exit {code} without a message"
    if code == 1:
        listing = lines[0].endswith("error(s):") and all(
            line.startswith("  ") for line in lines[1:]
        )
        single = len(lines) == 1 and lines[0].startswith(f"error: {file}: ")
        return None if listing or single else f"unexpected listing: {err[:300]!r}"
    if code != 2:
        return f"exit {code}: {err[:300]!r}"
    prefix = f"error: {file}: "
    if len(lines) != 1 or not lines[0].startswith(prefix) or len(lines[0]) > 400:
        return f"not one line naming the file: {err[:300]!r}"
    message = lines[0][len(prefix) :]
    if case.path and case.changes_type(doc):
        place = message.split(": ", 1)[0]
        if not related(place, path_text(case.path)):
            return f"a {json_type(case.value)} at {path_text(case.path)} reported as {message!r}"
    return None
