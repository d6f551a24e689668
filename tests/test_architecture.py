"""The house rules, checked on the import graph of engine/, gui/ and main.py.

No import circles; nothing under engine/ imports the window or Qt; each package imports
only its own layer and the layers below, as docs/architecture.md's "## Layers" block
draws them (the test reads the list from there); every package is in that list; no
module of engine/, gui/, bench/ or main.py is over 500 lines unless it says why. The
graph is read with `ast` (tests/architecture_graph.py): lazy imports count, imports under
`if TYPE_CHECKING:` do not. The last tests plant a circle, an engine→gui import and an
upward import in a small tree of their own and check that the checker catches each.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.architecture_graph import (
    ImportGraph,
    build_graph,
    cycles,
    describe_cycle,
    forbidden_imports,
    layer_violations,
    packages,
    read_layers,
)

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "architecture.md"
WINDOW = ("gui", "PySide6", "shiboken6", "pyqtgraph")
MAX_MODULE_LINES = 500
# A module may be longer only when it is one cohesive table and says so at its top.
LONG_ON_PURPOSE = "one cohesive table"


@pytest.fixture(scope="module")
def imports() -> ImportGraph:
    return build_graph(ROOT)


def test_no_import_cycles(imports: ImportGraph) -> None:
    found = [describe_cycle(imports, cycle) for cycle in cycles(imports)]
    assert not found, "\n  ".join(["import circles:", *found])


def test_the_engine_never_imports_the_window_or_qt(imports: ImportGraph) -> None:
    found = [
        f"{module} imports {name} ({where})"
        for module, name, where in forbidden_imports(imports, "engine", WINDOW)
    ]
    assert not found, "\n  ".join(["engine/ must run without the window:", *found])


def test_each_package_imports_only_its_layer_and_below(imports: ImportGraph) -> None:
    found = [
        f"{source} ({package}) imports {target} ({theirs}, a higher layer) at {where}"
        for source, package, target, theirs, where in layer_violations(imports, read_layers(DOC))
    ]
    heading = "imports that reach up the layers of docs/architecture.md:"
    assert not found, "\n  ".join([heading, *found])


def test_every_package_is_in_the_layer_list_and_every_listed_one_exists() -> None:
    listed = [package for line in read_layers(DOC) for package in line]
    existing = set(packages(ROOT)) | {"main"}
    missing = sorted(existing - set(listed))
    unknown = sorted(set(listed) - existing)
    twice = sorted({p for p in listed if listed.count(p) > 1})
    assert not missing, f"packages not in docs/architecture.md's ## Layers: {missing}"
    assert not unknown, f"## Layers in docs/architecture.md lists no such package: {unknown}"
    assert not twice, f"## Layers in docs/architecture.md lists these twice: {twice}"


def test_no_module_is_over_500_lines_unless_it_says_why() -> None:
    code = [ROOT / "main.py", *sorted((ROOT / "engine").rglob("*.py"))]
    code += sorted((ROOT / "gui").rglob("*.py")) + sorted((ROOT / "bench").rglob("*.py"))
    long = {}
    for path in code:
        text = path.read_text(encoding="utf-8")
        lines = len(text.splitlines())
        if lines > MAX_MODULE_LINES and LONG_ON_PURPOSE not in (
            ast.get_docstring(ast.parse(text)) or ""
        ):
            long[str(path.relative_to(ROOT))] = lines
    assert not long, (
        f"modules over {MAX_MODULE_LINES} lines (split them by job, or say at the top why "
        f"one is {LONG_ON_PURPOSE!r}): {long}"
    )


# ---------------------------------------------- the checker catches what it should


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_the_checker_finds_a_circle_closed_by_a_lazy_import(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path,
        {
            "engine/__init__.py": "",
            "engine/common/__init__.py": "",
            "engine/common/a.py": "from engine.common import b\n",
            "engine/common/b.py": "def f():\n    from engine.common.a import g\n",
        },
    )
    imports = build_graph(root)
    assert cycles(imports) == [["engine.common.a", "engine.common.b", "engine.common.a"]]
    assert describe_cycle(imports, cycles(imports)[0]) == (
        "engine.common.a → engine.common.b (engine/common/a.py:1) "
        "→ engine.common.a (engine/common/b.py:2)"
    )


def test_the_checker_ignores_imports_under_type_checking(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path,
        {
            "engine/__init__.py": "",
            "engine/a.py": "import engine.b\n",
            "engine/b.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from engine.a import A\n"
                "    from PySide6.QtCore import QObject\n"
            ),
        },
    )
    imports = build_graph(root)
    assert cycles(imports) == []
    assert forbidden_imports(imports, "engine", WINDOW) == []
    assert set(imports.graph.edges) == {("engine.a", "engine.b")}


def test_the_checker_finds_an_engine_module_importing_the_window(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path,
        {
            "engine/__init__.py": "",
            "engine/cli.py": "def gui():\n    from gui.app import run_gui\n",
            "engine/plot.py": "import pyqtgraph as pg\n",
            "gui/__init__.py": "",
            "gui/app.py": "from PySide6.QtWidgets import QApplication\n",
        },
    )
    assert forbidden_imports(build_graph(root), "engine", WINDOW) == [
        ("engine.cli", "gui.app", "engine/cli.py:2"),
        ("engine.plot", "pyqtgraph", "engine/plot.py:1"),
    ]


def test_the_checker_finds_an_import_that_reaches_up_a_layer(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path,
        {
            "docs/architecture.md": "# x\n\n## Layers\n\n```\nengine.cli\nengine.graph\n```\n",
            "engine/__init__.py": "",
            "engine/cli/__init__.py": "",
            "engine/cli/main.py": "from engine.graph import shapes\n",
            "engine/graph/__init__.py": "",
            "engine/graph/shapes.py": "from ..cli.main import run\n",  # relative, upward
        },
    )
    layers = read_layers(root / "docs" / "architecture.md")
    assert layers == [["engine.cli"], ["engine.graph"]]
    assert layer_violations(build_graph(root), layers) == [
        (
            "engine.graph.shapes",
            "engine.graph",
            "engine.cli.main",
            "engine.cli",
            "engine/graph/shapes.py:1",
        )
    ]


def test_from_a_package_import_a_submodule_points_at_the_submodule(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path,
        {
            "engine/__init__.py": "",
            "engine/blocks/__init__.py": "from engine.blocks import conv  # registers\n",
            "engine/blocks/conv.py": "from engine.blocks.spec import BlockSpec\n",
            "engine/blocks/spec.py": "class BlockSpec: ...\n",
        },
    )
    assert set(build_graph(root).graph.edges) == {
        ("engine.blocks", "engine.blocks.conv"),
        ("engine.blocks.conv", "engine.blocks.spec"),
    }
