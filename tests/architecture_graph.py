"""The import graph of NetLoom's own code, read with `ast` (nothing is imported or run).

`build_graph(root)` reads every module under `engine/` and `gui/` and `main.py`, and
draws an arrow for each import: lazy imports inside functions count (they run sooner or
later), imports under `if TYPE_CHECKING:` do not (they never run). `from pkg import name`
points at the submodule `pkg.name` when there is one, else at `pkg`. Imports of other
distributions (torch, PySide6, …) are kept per module by their top-level name.

`read_layers(doc)` reads the layer list from docs/architecture.md's "## Layers" block, so
the document and tests/test_architecture.py cannot drift apart. The checks themselves
(`cycles`, `forbidden_imports`, `layer_violations`) return what they find, each finding
naming its modules and the file and line of the import.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx

TOP_PACKAGES = ("engine", "gui")
SCRIPTS = ("main.py",)


@dataclass
class ImportGraph:
    """Modules as nodes, imports between them as edges (attribute `where`: 'file:line').

    `external[module]` maps each other distribution's top-level name that `module`
    imports to where it does."""

    root: Path
    graph: nx.DiGraph = field(default_factory=nx.DiGraph)
    external: dict[str, dict[str, str]] = field(default_factory=dict)

    def where(self, source: str, target: str) -> str:
        return self.graph.edges[source, target]["where"]


def module_files(root: Path) -> dict[str, Path]:
    """Every module of the project by dotted name: `engine/blocks/__init__.py` is
    `engine.blocks`, `main.py` is `main`."""
    found: dict[str, Path] = {}
    for top in TOP_PACKAGES:
        for path in sorted((root / top).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    for script in SCRIPTS:
        if (root / script).is_file():
            found[Path(script).stem] = root / script
    return found


def packages(root: Path) -> list[str]:
    """Every package (a folder with an `__init__.py`) under the top packages, dotted."""
    return sorted(
        ".".join(init.parent.relative_to(root).parts)
        for top in TOP_PACKAGES
        for init in (root / top).rglob("__init__.py")
    )


def _is_type_checking(test: ast.expr) -> bool:
    """`if TYPE_CHECKING:` or `if typing.TYPE_CHECKING:`."""
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def _imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement at any depth (functions, methods, try blocks), except in
    the body of an `if TYPE_CHECKING:` (its `else:` does run)."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
            continue
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


def _targets(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    """The dotted names one import statement asks for (relative imports made absolute)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        origin = ".".join(base + ([node.module] if node.module else []))
    else:
        origin = node.module or ""
    return [f"{origin}.{alias.name}" if alias.name != "*" else origin for alias in node.names]


def _resolve(target: str, modules: dict[str, Path]) -> str | None:
    """The deepest project module `target` names (`pkg.sub.func` → `pkg.sub`), or None."""
    name = target
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def build_graph(root: Path) -> ImportGraph:
    """The import graph of the project under `root` (see the module docstring)."""
    modules = module_files(root)
    result = ImportGraph(root)
    result.graph.add_nodes_from(modules)
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_package = path.name == "__init__.py"
        for node in _imports(tree):
            where = f"{path.relative_to(root)}:{node.lineno}"
            for target in _targets(node, module, is_package):
                resolved = _resolve(target, modules)
                if resolved is None:
                    result.external.setdefault(module, {}).setdefault(
                        target.partition(".")[0], where
                    )
                elif resolved != module:  # `import pkg.mod` inside pkg.mod itself
                    result.graph.add_edge(module, resolved, where=where)
    return result


# ------------------------------------------------------------------- the checks


def cycles(imports: ImportGraph) -> list[list[str]]:
    """One circle per knot of modules that import each other (a strongly connected
    component of two or more), each as the modules in import order, the first repeated
    at the end: ['a', 'b', 'a']."""
    found = []
    for component in nx.strongly_connected_components(imports.graph):
        if len(component) < 2:
            continue
        knot = imports.graph.subgraph(component)
        edges = nx.find_cycle(knot, source=min(component))
        found.append([source for source, _ in edges] + [edges[0][0]])
    return sorted(found)


def describe_cycle(imports: ImportGraph, cycle: list[str]) -> str:
    """'a → b (a.py:3) → a (b.py:9)': each arrow with the line that draws it."""
    steps = [cycle[0]]
    for source, target in zip(cycle, cycle[1:]):
        steps.append(f"{target} ({imports.where(source, target)})")
    return " → ".join(steps)


def forbidden_imports(
    imports: ImportGraph, under: str, banned: Iterable[str]
) -> list[tuple[str, str, str]]:
    """(module, what it imports, where) for each module in package `under` that imports
    a banned project package or distribution (by top-level name or dotted prefix)."""
    banned = tuple(banned)

    def is_banned(name: str) -> bool:
        return any(name == b or name.startswith(b + ".") for b in banned)

    found = []
    for module in sorted(imports.graph):
        if not (module == under or module.startswith(under + ".")):
            continue
        for target in sorted(imports.graph.successors(module)):
            if is_banned(target):
                found.append((module, target, imports.where(module, target)))
        for name, where in sorted(imports.external.get(module, {}).items()):
            if is_banned(name):
                found.append((module, name, where))
    return found


def read_layers(doc: Path) -> list[list[str]]:
    """The fenced block under the '## Layers' heading of `doc`: one layer per line, the
    top layer first, the packages on a line separated by spaces."""
    text = doc.read_text(encoding="utf-8")
    section = re.search(r"^## Layers[ \t]*\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    if section is None:
        raise ValueError(f"{doc}: no '## Layers' heading")
    block = re.search(r"^```[^\n]*\n(.*?)^```", section.group(1), re.M | re.S)
    if block is None:
        raise ValueError(f"{doc}: no fenced block under '## Layers'")
    return [line.split() for line in block.group(1).splitlines() if line.strip()]


def package_of(module: str, listed: Iterable[str]) -> str | None:
    """The deepest listed package holding `module` (`gui.app` → `gui`), or None."""
    best = None
    for package in listed:
        if module == package or module.startswith(package + "."):
            if best is None or len(package) > len(best):
                best = package
    return best


def layer_violations(
    imports: ImportGraph, layers: list[list[str]]
) -> list[tuple[str, str, str, str, str]]:
    """Imports that reach up: (module, its package, imported module, that module's
    package, where). `layers` is top first; a package may import its own layer and the
    layers below it. Modules in no listed package are left to `unlisted_packages`."""
    rank = {package: len(layers) - i for i, line in enumerate(layers) for package in line}
    found = []
    for source, target in sorted(imports.graph.edges):
        mine, theirs = package_of(source, rank), package_of(target, rank)
        if mine is None or theirs is None:
            continue
        if rank[theirs] > rank[mine]:
            found.append((source, mine, target, theirs, imports.where(source, target)))
    return found
