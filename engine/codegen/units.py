"""Unit definitions as `nn.Module` classes: one class per definition.

Every place a unit is used (an instance, or one copy of a repeated instance, at any
depth) is a *usage* with its own inner analysis. A definition's usages share one class
when they run the same forward code; what differs between them becomes a constructor
argument: a promoted param under its own name (default: the definition's value), or,
for a value the blocks infer from their input (say the first convolution's
`in_channels`), an argument named `<block>_<arg>`. Each usage is then constructed with
its own values, so the exported network is the one `engine.model.build` makes, submodule for
submodule (`stage2.res1.conv2.weight`). Should two usages need different forward code
(a rare shape-dependent op), the second gets its own class, `Name2`.

Shape comments in a unit class are those of its first usage, which the class docstring
names. This module imports neither torch nor Qt.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engine.codegen.parameters import parameter_lines
from engine.codegen.text import INDENT, bracketed, call, class_name, comment_lines, literal
from engine.graph.graph import Graph
from engine.graph.shapes import Analysis
from engine.units.units import Definition, Library


@dataclass
class Usage:
    definition: str
    analysis: Analysis
    params: dict[str, Any]  # the instance's promoted values and repeat
    path: str


@dataclass
class UnitClass:
    name: str
    definition: Definition
    usages: list[Usage]
    # Constructor arguments in order: name → (value per usage id, default or None).
    args: dict[str, tuple[dict[int, Any], Any]] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)

    def arguments(self, usage: Usage) -> list[str]:
        return [f"{name}={literal(per[id(usage)])}" for name, (per, _) in self.args.items()]

    def call(self, usage: Usage) -> str:
        return f"{self.name}({', '.join(self.arguments(usage))})"


Writer = Callable[[Graph, Analysis, str], list[str]]

# A unit's class says so in its docstring's first line: an import of the exported file
# makes a unit of it even where it is built only once, under the definition's own name.
_UNIT_DOCSTRING = re.compile(r"The unit (\w+), a block made of blocks\.")


def unit_docstring(name: str) -> str:
    return f"The unit {name}, a block made of blocks."


def unit_of_docstring(docstring: str | None) -> str | None:
    """The definition a class's docstring says the class is (None: not a unit's class)."""
    found = _UNIT_DOCSTRING.match((docstring or "").strip())
    return found.group(1) if found else None


def _construct(prefix: str, calls: list[tuple[str, list[str]]], indent: str) -> list[str]:
    """One instance's constructor, or nn.Sequential of its copies, laid out as ruff would."""
    if len(calls) == 1:
        return call(prefix, calls[0][0], calls[0][1], indent)
    flat = [f"{callee}({', '.join(args)})" for callee, args in calls]
    one_line = call(prefix, "nn.Sequential", flat, indent)
    if len(one_line) == 1:
        return one_line
    lines = [f"{indent}{prefix}nn.Sequential("]
    for callee, args in calls:
        inner = call("", callee, args, indent + INDENT)
        lines += [*inner[:-1], inner[-1] + ","]
    return [*lines, f"{indent})"]


def _hint(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, list | tuple):
        return "list" if isinstance(value, list) else "tuple"
    return "object"


def _code_only(lines: list[str]) -> tuple[str, ...]:
    """Lines without comments: what must agree for two usages to share a class."""
    kept = []
    in_doc = False
    for text in lines:
        quotes = text.count('"""')
        if in_doc or quotes:
            in_doc = in_doc != (quotes % 2 == 1)
            continue  # the docstring names shapes, which may differ
        if text.strip().startswith("#"):
            continue
        kept.append(text.split("  # ", 1)[0])
    return tuple(kept)


class UnitClasses:
    """The classes of every definition a graph uses, with the call for each usage."""

    def __init__(self, graph: Graph, analysis: Analysis, forward: Writer, avoid: set[str]) -> None:
        self.library: Library | None = graph.library
        self.usages: dict[str, list[Usage]] = {}
        self.by_analysis: dict[int, Usage] = {}
        self.class_of: dict[int, UnitClass] = {}
        self.classes: list[UnitClass] = []
        self._forward = forward
        self._taken = set(avoid)
        self._collect(graph, analysis, "")
        if self.library is not None:
            for name in self._dependency_order():
                if name in self.usages:
                    self._make_classes(self.library.definition(name))

    @property
    def lines(self) -> list[str]:
        out: list[str] = []
        for unit in self.classes:
            out += [*unit.lines, "", ""]
        return out

    def usage_of(self, graph: Graph, analysis: Analysis, node_id: str) -> list[Usage]:
        op = analysis.nodes[node_id].op
        assert op is not None and op.kind == "unit"
        return [self.by_analysis[id(copy)] for copy in op.args["copies"]]

    def init_lines(self, graph: Graph, analysis: Analysis, node_id: str, indent: str) -> list[str]:
        """`self.<id> = Class(args)` for an instance (nn.Sequential of them when repeated)."""
        usages = self.usage_of(graph, analysis, node_id)
        calls = [(self.class_of[id(u)].name, self.class_of[id(u)].arguments(u)) for u in usages]
        return _construct(f"self.{node_id} = ", calls, indent)

    # ----------------------------------------------------------- internals

    def _collect(self, graph: Graph, analysis: Analysis, prefix: str) -> None:
        for node_id in graph.topological_order():
            op = analysis.nodes[node_id].op
            if op is None or op.kind != "unit":
                continue
            copies: tuple[Analysis, ...] = op.args["copies"]
            for k, inner in enumerate(copies):
                if id(inner) in self.by_analysis:
                    continue  # the same instance facts met twice (memoised); one usage
                path = prefix + node_id + (f"/{k}" if len(copies) > 1 else "")
                usage = Usage(op.target, inner, dict(op.args["params"]), path)
                self.usages.setdefault(op.target, []).append(usage)
                self.by_analysis[id(inner)] = usage
                self._collect(op.args["graph"], inner, path + "/")

    def _dependency_order(self) -> list[str]:
        assert self.library is not None
        order: list[str] = []

        def visit(name: str) -> None:
            if name in order:
                return
            for used in sorted(self.library.uses(name)):  # type: ignore[union-attr]
                visit(used)
            order.append(name)

        for name in self.library.definitions:
            visit(name)
        return order

    def _make_classes(self, definition: Definition) -> None:
        groups: dict[tuple[Any, ...], list[Usage]] = {}
        for usage in self.usages[definition.name]:
            key = (
                _code_only(self._forward(definition.graph, usage.analysis, "")),
                self._callees(definition.graph, usage),
            )
            groups.setdefault(key, []).append(usage)
        for usages in groups.values():
            name = class_name(definition.name, fallback="Unit", avoid=())
            base, i = name, 1
            while name in self._taken:
                i += 1
                name = f"{base}{i}"
            self._taken.add(name)
            unit = UnitClass(name, definition, usages)
            unit.lines = self._class_lines(unit)
            self.classes.append(unit)
            for usage in usages:
                self.class_of[id(usage)] = unit

    def _callees(self, body: Graph, usage: Usage) -> tuple[str, ...]:
        callees = []
        for node_id in body.topological_order():
            op = usage.analysis.nodes[node_id].op
            if op is not None and op.kind in ("module", "recurrent"):
                # The arguments written, too: a block leaves out those at torch's default
                # (groups=1), so usages that differ there cannot share constructor code.
                callees.append(f"nn.{op.target}({', '.join(sorted(op.kwargs))})")
            elif op is not None and op.kind == "unit":
                inner = self.usage_of(body, usage.analysis, node_id)
                callees.append("+".join(self.class_of[id(u)].name for u in inner))
        return tuple(callees)

    def _class_lines(self, unit: UnitClass) -> list[str]:
        definition = unit.definition
        body = definition.graph
        first = unit.usages[0]
        # Promoted params come first, with the definition's values as defaults.
        defaults = {p.name: p.default for p in definition.promoted_params()}
        for promoted in definition.promoted:
            per = {id(u): u.params.get(promoted, defaults[promoted]) for u in unit.usages}
            unit.args[promoted] = (per, defaults[promoted])

        def expression(node_id: str, key: str, per: dict[int, Any]) -> str:
            for promoted, targets in definition.promoted.items():
                if (node_id, key) in targets and all(
                    per[i] == unit.args[promoted][0][i] for i in per
                ):
                    return promoted
            values = list(per.values())
            if all(v == values[0] for v in values):
                return literal(values[0])
            # A value every usage shares with a constructor argument (say a BatchNorm's
            # num_features and the promoted channels) is written as that argument.
            for name, (given, _) in unit.args.items():
                if all(per[i] == given[i] for i in per):
                    return name
            name = f"{node_id}_{key}"
            unit.args[name] = (per, None)
            return name

        init: list[str] = []
        body_indent = INDENT * 2
        for node_id in body.topological_order():
            op = first.analysis.nodes[node_id].op
            if op is None:
                continue
            if op.kind in ("module", "recurrent"):
                args = []
                for key in op.kwargs:
                    per = {
                        id(u): u.analysis.nodes[node_id].op.kwargs[key]  # type: ignore[union-attr]
                        for u in unit.usages
                    }
                    args.append(f"{key}={expression(node_id, key, per)}")
                init += call(f"self.{node_id} = ", f"nn.{op.target}", args, body_indent)
            elif op.kind == "unit":
                inner_of = {id(u): self.usage_of(body, u.analysis, node_id) for u in unit.usages}
                copies = []
                for k, inner in enumerate(inner_of[id(first)]):
                    cls = self.class_of[id(inner)]
                    args = []
                    for arg in cls.args:
                        per = {i: cls.args[arg][0][id(inner_of[i][k])] for i in inner_of}
                        key = arg if len(inner_of[id(first)]) == 1 else f"{k}_{arg}"
                        shown = expression(node_id, key, per)
                        args.append(f"{arg}={shown}")
                    copies.append((cls.name, args))
                init += _construct(f"self.{node_id} = ", copies, body_indent)
            elif op.kind == "layer_scale":
                shape, start = (
                    expression(node_id, key, {id(u): _arg(u, node_id, key) for u in unit.usages})
                    for key in ("shape", "init")
                )
                init += parameter_lines(node_id, shape, start, body_indent)

        required = [n for n, (_, default) in unit.args.items() if default is None]
        optional = [n for n, (_, default) in unit.args.items() if default is not None]
        signature = ["self"]
        signature += [f"{n}: {_hint_of(unit.args[n][0])}" for n in required]
        signature += [
            f"{n}: {_hint_of(unit.args[n][0])} = {literal(unit.args[n][1])}" for n in optional
        ]
        lines = []
        if definition.description.strip():
            lines += comment_lines(definition.description.strip())
        lines += [
            f"class {unit.name}(nn.Module):",
            f'{INDENT}"""{unit_docstring(definition.name)}',
            "",
            f"{INDENT}Shape comments are those of {first.path}.",
            f'{INDENT}"""',
            "",
            *bracketed("def __init__(", signature, ") -> None:", INDENT),
            f"{body_indent}super().__init__()",
            *init,
            "",
            *self._forward(body, first.analysis, ""),
        ]
        return lines


def _arg(usage: Usage, node_id: str, key: str) -> Any:
    """An op argument of a block inside one usage of a unit (LayerScale's shape, init)."""
    op = usage.analysis.nodes[node_id].op
    assert op is not None
    return op.args[key]


def _hint_of(per: dict[int, Any]) -> str:
    return _hint(next(iter(per.values())))
