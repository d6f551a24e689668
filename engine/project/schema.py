"""The JSON type of every field of a project file, as data, and the check of a document.

`first_problem(doc)` walks a decoded project file before anything else reads it and
returns the first value of the wrong JSON type, by its path:

    units.Block.nodes[2].type: expected a block name, got a list (["Conv2d"])

Only types are checked here, never values: whether `kernel_size` may be -2, a wire
fits its port or `lr` is > 0 is for the readers that know (block specs, the graph,
engine.train.config), which name the path in their own errors. A block's `params`
are any object here for the same reason: which keys a block takes and their types
are in its spec. Keys this file format does not know are kept (a newer NetLoom may
have written them) and not checked.

Pure: imports neither torch nor Qt.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.common.json_text import path_key


@dataclass(frozen=True)
class Kind:
    """A JSON type the field must hold; `what` reads after "expected"."""

    what: str

    def fits(self, value: Any) -> bool:
        raise NotImplementedError

    def holds(self, value: Any) -> bool:
        """Whether `problem` would find nothing, without building any place: a valid
        document is checked once, and only one with a problem again to name it."""
        return self.fits(value)

    def problem(self, value: Any, where: str) -> str | None:
        """The first problem at `where` or inside it, or None."""
        if not self.fits(value):
            return f"{where}: expected {self.what}, got {describe(value)}"
        return None


@dataclass(frozen=True)
class Text(Kind):
    what: str = "text (a string)"

    def fits(self, value: Any) -> bool:
        return isinstance(value, str)

    holds = fits  # nothing inside to check


@dataclass(frozen=True)
class Number(Kind):
    what: str = "a number"

    def fits(self, value: Any) -> bool:
        return isinstance(value, (int, float)) and not isinstance(value, bool)

    holds = fits


@dataclass(frozen=True)
class Integer(Kind):
    what: str = "a whole number"

    def fits(self, value: Any) -> bool:
        return isinstance(value, int) and not isinstance(value, bool)

    holds = fits


@dataclass(frozen=True)
class Boolean(Kind):
    what: str = "true or false"

    def fits(self, value: Any) -> bool:
        return isinstance(value, bool)

    holds = fits


@dataclass(frozen=True)
class Anything(Kind):
    what: str = "any value"

    def fits(self, value: Any) -> bool:
        return True


@dataclass(frozen=True)
class ListOf(Kind):
    """A list whose every item is `item`; `length`, when set, is the exact length."""

    item: Kind = field(default_factory=Anything)
    length: int | None = None

    def fits(self, value: Any) -> bool:
        return isinstance(value, list) and (self.length is None or len(value) == self.length)

    def holds(self, value: Any) -> bool:
        if not self.fits(value):
            return False
        holds = self.item.holds
        for item in value:
            if not holds(item):
                return False
        return True

    def problem(self, value: Any, where: str) -> str | None:
        if found := super().problem(value, where):
            return found
        for i, item in enumerate(value):
            if found := self.item.problem(item, f"{where}[{i}]"):
                return found
        return None


@dataclass(frozen=True)
class MapOf(Kind):
    """An object with any keys, each holding `item` (unit definitions, params)."""

    item: Kind = field(default_factory=Anything)

    def fits(self, value: Any) -> bool:
        return isinstance(value, dict)

    def holds(self, value: Any) -> bool:
        if not isinstance(value, dict):
            return False
        if isinstance(self.item, Anything):  # a block's params: their spec checks them
            return True
        holds = self.item.holds
        for item in value.values():
            if not holds(item):
                return False
        return True

    def problem(self, value: Any, where: str) -> str | None:
        if found := super().problem(value, where):
            return found
        for key, item in value.items():
            if found := self.item.problem(item, f"{where}.{path_key(key)}"):
                return found
        return None


@dataclass(frozen=True)
class Record(Kind):
    """An object with known fields, each optional; unknown keys are left alone."""

    fields: Mapping[str, Kind] = field(default_factory=dict)

    def fits(self, value: Any) -> bool:
        return isinstance(value, dict)

    def holds(self, value: Any) -> bool:
        if not isinstance(value, dict):
            return False
        for key, kind in self.fields.items():
            if key in value and not kind.holds(value[key]):
                return False
        return True

    def problem(self, value: Any, where: str) -> str | None:
        if found := super().problem(value, where):
            return found
        for key, kind in self.fields.items():
            if key in value:
                place = f"{where}.{key}" if where else key
                if found := kind.problem(value[key], place):
                    return found
        return None


@dataclass(frozen=True)
class Either(Kind):
    """One of several kinds: the first whose outer type fits is checked in depth."""

    options: tuple[Kind, ...] = ()

    def fits(self, value: Any) -> bool:
        return any(option.fits(value) for option in self.options)

    def holds(self, value: Any) -> bool:
        for option in self.options:
            if option.fits(value):
                return option.holds(value)
        return False

    def problem(self, value: Any, where: str) -> str | None:
        for option in self.options:
            if option.fits(value):
                return option.problem(value, where)
        return super().problem(value, where)


def describe(value: Any) -> str:
    """A JSON value in words, short: `a list (["Conv2d"])`, `the number -1`, `null`."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) and value.bit_length() > 128:
        # str() of an integer over 4,300 digits raises ValueError in Python itself.
        return f"a number of about {int(value.bit_length() * 0.30103) + 1:,} digits"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        if not value:
            return "an empty string"
        shown = json.dumps(value, ensure_ascii=False)
        return f"the string {shown if len(shown) <= 40 else shown[:36] + '…'}"
    if isinstance(value, list | dict):
        noun = "a list" if isinstance(value, list) else "an object"
        if not value:
            return f"an empty {noun.split()[-1]}"
        try:
            shown = json.dumps(value, ensure_ascii=False)
        except ValueError:  # a huge integer inside, see above
            shown = ""
        return f"{noun} ({shown})" if shown and len(shown) <= 40 else noun
    return type(value).__name__


# ------------------------------------------------------------- the format

NODE_ID = Text("a node id (text)")
BLOCK = Record(
    "a block (an object with id, type, params, pos)",
    {
        "id": NODE_ID,
        "type": Text("a block name"),
        "params": MapOf("an object of params"),
        "pos": ListOf("[x, y] numbers", Number(), length=2),
        "frozen": Boolean(),  # absent: false (training changes its weights)
    },
)
WIRE = Record(
    "a wire (an object with source, target, target_port)",
    {
        "source": NODE_ID,
        "target": NODE_ID,
        "target_port": Text("a port name"),
        "source_port": Text("an output port name"),
    },
)
UNIT = Record(
    "a unit definition (an object with nodes, edges, promoted)",
    {
        "description": Text(),
        "nodes": ListOf("a list of blocks", BLOCK),
        "edges": ListOf("a list of wires", WIRE),
        "promoted": MapOf(
            "an object of promoted params",
            ListOf('a list of "block.param" names', Text('a "block.param" name')),
        ),
    },
)
DATASET = Either(
    'a dataset name or {"name": ..., "params": {...}}',
    (
        Text(),
        Record(
            "an object",
            {"name": Text("a dataset name"), "params": MapOf("an object of dataset params")},
        ),
    ),
)
SCHEDULE = Either(
    'a schedule name or {"name": ..., ...}',
    (
        Text(),
        Record(
            "an object",
            {
                "name": Text("a schedule name"),
                "step_size": Integer(),
                "gamma": Number(),
                "factor": Number(),
                "patience": Integer(),
            },
        ),
    ),
)
TRAINING = Record(
    "an object of training settings",
    {
        "dataset": DATASET,
        "optimizer": Text("an optimizer name"),
        "lr": Number(),
        "momentum": Number(),
        "weight_decay": Number(),
        "schedule": SCHEDULE,
        "batch_size": Integer(),
        "epochs": Integer(),
        "val_split": Number(),
        "early_stopping": Integer(),
        "grad_clip": Number(),
        "seed": Integer(),
        "device": Text("a device name"),
        "metric": Text("a metric name"),
        "split": Text("a split name"),
        "test_split": Number(),
        "class_weights": Either(
            "'none', 'balanced' or a list of numbers",
            (Text(), ListOf("a list of numbers", Number())),
        ),
    },
)
PROJECT = Record(
    "a project (an object)",
    {
        "name": Text(),
        "description": Text(),
        "units": MapOf("an object of unit definitions", UNIT),
        "nodes": ListOf("a list of blocks", BLOCK),
        "edges": ListOf("a list of wires", WIRE),
        "training": TRAINING,
    },
)


def first_problem(doc: Any) -> str | None:
    """The first value of `doc` (a decoded project file) of the wrong JSON type, as
    `path: expected …, got …`; None when every field holds its type."""
    if not isinstance(doc, dict):
        return f"(top level): expected {PROJECT.what}, got {describe(doc)}"
    if PROJECT.holds(doc):
        return None
    return PROJECT.problem(doc, "")
