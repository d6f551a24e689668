"""Names the model's source gives that its trace does not: variables and returned values.

torch.fx knows module paths (`self.conv1` → `conv1`) but not what a forward calls the
value of a function (`skip2 = torch.cat([up2, enc2], dim=1)`) nor what its returned
values mean (`return classify  # mask`, or a dict's keys). Code exported by NetLoom
writes every block as one assignment to a variable named after the block's id and
names each Output in the return line's comment, so reading these back keeps the ids of
a round trip; a person's code gets readable ids where it is as plain (a name assigned
once in its function, one block on its statement).

Also what the source says of its classes: the comment above a class (a unit's
description) and its constructor's defaults (the values a unit's promoted params take
in its definition).
"""

from __future__ import annotations

import ast
import inspect
import io
import logging
import sys
import textwrap
import tokenize
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from torch import fx, nn

from engine.codegen.text import LINE_LENGTH
from engine.codegen.units import unit_of_docstring
from engine.graph.names import id_problem, safe_id
from engine.importers.builder import GraphBuilder
from engine.importers.torch_trace import _FRAME, _user_file, node_scope

log = logging.getLogger(__name__)

EXPORTED = "Exported from NetLoom."  # the line after the project's own words


# ------------------------------------------------------------- variables


def _tree(filename: str) -> ast.Module | None:
    try:
        return _parsed(filename, Path(filename).stat().st_mtime_ns)
    except OSError:
        return None


@lru_cache(maxsize=32)
def _parsed(filename: str, modified: int) -> ast.Module | None:
    """A file's syntax tree (`modified`: read again once the file changes)."""
    try:
        with open(filename, encoding="utf-8") as file:
            return ast.parse(file.read())
    except (OSError, SyntaxError, ValueError):
        return None


def _frame(node: fx.Node) -> tuple[str, int] | None:
    """(file, line) of the model's own code that made an fx node."""
    frames = [(f, int(line)) for f, line in _FRAME.findall(node.stack_trace or "") if _user_file(f)]
    return frames[-1] if frames else None


def _bindings(function: ast.AST) -> dict[str, int]:
    """How many times each name is bound in a function (arguments count)."""
    counts: dict[str, int] = {}
    if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
        for arg in [*function.args.args, *function.args.kwonlyargs, *function.args.posonlyargs]:
            counts[arg.arg] = counts.get(arg.arg, 0) + 1
    for sub in ast.walk(function):
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
            counts[sub.id] = counts.get(sub.id, 0) + 1
    return counts


def _statement(filename: str, line: int) -> tuple[ast.stmt, ast.AST] | None:
    """The innermost simple statement spanning `line` and the function holding it."""
    tree = _tree(filename)
    if tree is None:
        return None
    found: tuple[ast.stmt, ast.AST] | None = None

    def visit(body: ast.AST, owner: ast.AST | None) -> None:
        nonlocal found
        for child in ast.iter_child_nodes(body):
            start, end = getattr(child, "lineno", None), getattr(child, "end_lineno", None)
            if start is None or end is None or not start <= line <= end:
                continue
            inner = child if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else owner
            if isinstance(child, ast.Assign | ast.AnnAssign) and owner is not None:
                found = (child, owner)
            visit(child, inner)

    visit(tree, None)
    return found


def variable_names(made_by: Mapping[str, fx.Node], keep: Iterable[str]) -> dict[str, str]:
    """For blocks made by function calls (not in `keep`: those named after a module),
    the variable their statement assigns, where the statement assigns one name that its
    function binds nowhere else and makes no other block. Node id → variable."""
    kept = set(keep)
    by_statement: dict[tuple[str, int, str], list[str]] = {}
    statements: dict[tuple[str, int, str], tuple[ast.stmt, ast.AST]] = {}
    for node_id, fx_node in made_by.items():
        frame = _frame(fx_node)
        found = _statement(*frame) if frame is not None else None
        if found is None:
            continue
        # per statement and per module whose forward ran it (a class's instances)
        key = (frame[0], found[0].lineno, node_scope(fx_node))  # type: ignore[index]
        statements[key] = found
        by_statement.setdefault(key, []).append(node_id)
    names: dict[str, str] = {}
    for key, ids in by_statement.items():
        statement, function = statements[key]
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        if len(ids) != 1 or ids[0] in kept or len(targets) != 1:
            continue
        target = targets[0]
        if not isinstance(target, ast.Name) or id_problem(target.id) is not None:
            continue
        if _bindings(function).get(target.id) == 1:
            names[ids[0]] = target.id
    return names


def name_after_variables(
    builder: GraphBuilder,
    made_by: Mapping[str, fx.Node],
    modules: Mapping[str, str],
    scopes: Mapping[str, str],
) -> dict[str, str]:
    """Rename the blocks `variable_names` finds a name for, in place (not those named
    after a module, `modules`' keys); records each one's variable in
    `builder.variables` (a unit's inner id, `engine.importers.grouping`). Returns
    `scopes` (node id → module path) under the new ids."""
    layers = {
        node_id: fx_node
        for node_id, fx_node in made_by.items()
        if node_id in builder.graph and builder.graph.node(node_id).spec.role == "layer"
    }
    names = variable_names(layers, modules)
    taken = {n.id for n in builder.graph.nodes if n.id not in names} | builder.reserved
    renamed: dict[str, str] = {}
    for node_id, name in names.items():
        new_id = safe_id(name, taken)
        taken.add(new_id)
        if new_id != node_id:
            renamed[node_id] = new_id
    builder.rename(renamed)
    builder.variables.update({renamed.get(k, k): v for k, v in names.items()})
    return {renamed.get(k, k): v for k, v in scopes.items()}


# ---------------------------------------------------------- returned names


def returned_names(forward: Any, count: int, outputs: Any) -> list[str] | None:
    """The names of a forward's `count` returned values: a returned dict's keys, or the
    comment on its only return statement (`return a, b  # mask, depth`); None when the
    source does not say."""
    if isinstance(outputs, dict):
        names = [str(k) for k in outputs]
    else:
        names = _return_comment(forward) or []
    if len(names) != count or len(set(names)) != count:
        return None
    if any(id_problem(name) is not None for name in names):
        return None
    return names


def _return_comment(forward: Any) -> list[str] | None:
    try:
        lines, _ = inspect.getsourcelines(forward)
    except (OSError, TypeError):
        return None
    source = textwrap.dedent("".join(lines))
    try:
        tree = ast.parse(source)
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (SyntaxError, tokenize.TokenError, IndentationError):
        return None
    function = tree.body[0] if tree.body else None
    if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
        return None
    returns = list(_own_returns(function))
    if len(returns) != 1 or returns[0].end_lineno is None:
        return None
    end = returns[0].end_lineno
    comments = [t.string for t in tokens if t.type == tokenize.COMMENT and t.start[0] == end]
    text = comments[0].lstrip("#").strip() if len(comments) == 1 else ""
    if not text or text.startswith(("noqa", "type:", "pragma")):
        return None
    return [part.strip() for part in text.split(",")]


def _own_returns(function: ast.AST) -> Iterator[ast.Return]:
    """The return statements of a function, not of the functions defined inside it."""
    for child in ast.iter_child_nodes(function):
        if isinstance(child, ast.Return):
            yield child
        if not isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            yield from _own_returns(child)


# ---------------------------------------------------------------- classes


@dataclass(frozen=True)
class ClassSource:
    """What a model's class says of itself in its source, for the unit made of it."""

    description: str | None  # the comment above the class
    defaults: dict[str, Any]  # constructor argument → its default
    # submodule attribute → {its constructor's keyword: the class's argument passed}
    # (`self.conv = nn.Conv2d(..., stride=stride)` → {"conv": {"stride": "stride"}})
    passes: dict[str, dict[str, str]]
    unit: str | None  # the unit an exported NetLoom class is (its docstring says)


def class_source(cls: type) -> ClassSource:
    return ClassSource(
        class_comment(cls),
        constructor_defaults(cls),
        passed_arguments(cls),
        unit_of_docstring(cls.__doc__),
    )


def unit_classes(
    model: nn.Module, from_torch: Callable[[type], bool]
) -> tuple[dict[str, str], dict[str, ClassSource]]:
    """The model's own classes that become units: module path → unit name, and what
    each unit's source says. A class built more than once is a unit named after it; so
    is a class NetLoom exported as a unit, even built once, under the unit's name (two
    classes the export wrote for one unit, `ConvBnReLU` and `ConvBnReLU2`, are one)."""
    counts = Counter(type(m) for m in model.modules())
    read = {  # (reading a class's source takes a while: only those that become units)
        cls: class_source(cls)
        for cls in counts
        if not from_torch(cls) and (counts[cls] > 1 or unit_of_docstring(cls.__doc__))
    }
    sources: dict[str, ClassSource] = {}
    classes: dict[str, str] = {}
    for path, module in model.named_modules():
        cls = type(module)
        if path and cls in read:
            source = read[cls]
            name = source.unit or cls.__name__
            classes[path] = name
            sources.setdefault(name, source)
    return classes, sources


def init_function(cls: type) -> ast.FunctionDef | None:
    """`cls.__init__` as a syntax tree; None where its source cannot be read."""
    try:
        lines, _ = inspect.getsourcelines(cls.__init__)  # type: ignore[misc]
        function = ast.parse(textwrap.dedent("".join(lines))).body[0]
    except (OSError, TypeError, SyntaxError, IndexError):
        return None
    return function if isinstance(function, ast.FunctionDef) else None


def self_assignments(function: ast.FunctionDef) -> Iterator[tuple[str, ast.expr]]:
    """(attribute, value) of each `self.<attribute> = <value>` in `function`."""
    for statement in ast.walk(function):
        if (
            isinstance(statement, ast.Assign)
            and len(statement.targets) == 1
            and isinstance(target := statement.targets[0], ast.Attribute)
            and isinstance(target.value, ast.Name)
            and target.value.id == "self"
        ):
            yield target.attr, statement.value


def passed_arguments(cls: type) -> dict[str, dict[str, str]]:
    """Which constructor arguments `__init__` passes on to which submodule, by keyword."""
    function = init_function(cls)
    if function is None:
        return {}
    arguments = {a.arg for a in [*function.args.args, *function.args.kwonlyargs]}
    return {
        attribute: {
            k.arg: k.value.id
            for k in value.keywords
            if k.arg is not None and isinstance(k.value, ast.Name) and k.value.id in arguments
        }
        for attribute, value in self_assignments(function)
        if isinstance(value, ast.Call)
    }


def class_comment(cls: type) -> str | None:
    """The comment block right above a class, its wrapped lines joined."""
    try:
        text = inspect.getcomments(cls)
    except (OSError, TypeError):
        return None
    return _unwrapped(_comment_text(text or "")) or None


def exported_header(model: Any) -> tuple[str, str] | None:
    """The project name and description a file exported by NetLoom opens with (the
    comment above `# Exported from NetLoom.`); None for any other file."""
    module = sys.modules.get(type(model).__module__)
    try:
        text = inspect.getcomments(module) if module is not None else None
    except (OSError, TypeError):
        return None
    lines = _comment_text(text or "")
    if EXPORTED not in lines:
        return None
    lines = lines[: lines.index(EXPORTED)]
    if not lines or not lines[0]:
        return None
    return lines[0], _unwrapped(lines[2:]) if lines[1:2] == [""] else ""


def _comment_text(text: str) -> list[str]:
    return [line.strip().removeprefix("#").removeprefix(" ") for line in text.splitlines()]


def _unwrapped(lines: list[str]) -> str:
    """Comment lines as the text they were written from: a line that the next line's
    first word would have overfilled was broken by the wrap, not by the writer."""
    width = LINE_LENGTH - 2
    joined: list[str] = []
    previous = ""  # the line before, as written
    for line in lines:
        first = line.split(" ", 1)[0]
        if joined and previous and line and len(previous) + 1 + len(first) > width:
            joined[-1] += " " + line
        else:
            joined.append(line)
        previous = line
    return "\n".join(joined).strip()


def constructor_defaults(cls: type) -> dict[str, Any]:
    """The constructor's arguments with a default value: {name: default}."""
    try:
        signature = inspect.signature(cls.__init__)  # type: ignore[misc]
    except (TypeError, ValueError):
        return {}
    return {
        name: p.default
        for name, p in signature.parameters.items()
        if p.default is not inspect.Parameter.empty
    }
