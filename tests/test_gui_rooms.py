"""The window's rooms (the packages under gui/) stay as docs/architecture.md draws them:
each says in its `__init__.py` what its job is and which other rooms it may import,
and imports no other (lazy imports count, `if TYPE_CHECKING:` ones do not); no room
holds over 15 files or 3,000 lines. (Circles and long modules are checked for the whole
code base in tests/test_architecture.py.)
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.architecture_graph import ImportGraph, build_graph

ROOT = Path(__file__).resolve().parents[1]
MAX_ROOM_FILES = 15
MAX_ROOM_LINES = 3000
ROOMS = sorted(f"gui.{init.parent.name}" for init in (ROOT / "gui").glob("*/__init__.py"))


@pytest.fixture(scope="module")
def imports() -> ImportGraph:
    return build_graph(ROOT)


def room_dir(room: str) -> Path:
    return ROOT / Path(*room.split("."))


def docstring(room: str) -> str:
    init = room_dir(room) / "__init__.py"
    return ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""


def may_import(room: str) -> set[str]:
    """The rooms named in the "May import:" sentence of the room's docstring (what
    follows it, "Not the views: gui.inside …", is not a permission)."""
    sentence = re.search(r"May import:(.*?)(?:\.\s|\.\Z|\n\s*\n|\Z)", docstring(room), re.S)
    return set(re.findall(r"\bgui\.\w+", sentence.group(1))) if sentence else set()


def room_of(module: str) -> str:
    """`gui.run.worker` → `gui.run`; a module of the window shell (`gui.menus`) is its
    own name."""
    parts = module.split(".")
    return ".".join(parts[:2]) if ".".join(parts[:2]) in ROOMS else module


def lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def test_there_are_rooms_to_check() -> None:
    assert {"gui.common", "gui.run", "gui.training", "gui.results", "gui.inside"} <= set(ROOMS)


@pytest.mark.parametrize("room", ROOMS)
def test_each_room_says_its_job_and_what_it_may_import(room: str) -> None:
    text = docstring(room)
    assert text, f"{room_dir(room) / '__init__.py'}: no module docstring saying the room's job"
    assert "May import:" in text, f"{room}: its docstring does not say what it may import"


@pytest.mark.parametrize("room", ROOMS)
def test_each_room_imports_only_the_rooms_it_names(room: str, imports: ImportGraph) -> None:
    allowed = may_import(room) | {room}
    found = [
        f"{source} imports {target} ({imports.where(source, target)})"
        for source in sorted(imports.graph)
        if room_of(source) == room
        for target in sorted(imports.graph.successors(source))
        if target.startswith("gui.") and room_of(target) not in allowed
    ]
    assert not found, f"{room} may import only {sorted(allowed)}:\n  " + "\n  ".join(found)


@pytest.mark.parametrize("room", ROOMS)
def test_no_room_is_over_15_files_or_3000_lines(room: str) -> None:
    files = sorted(room_dir(room).rglob("*.py"))
    total = sum(lines(path) for path in files)
    assert len(files) <= MAX_ROOM_FILES, f"{room}: {len(files)} files"
    assert total <= MAX_ROOM_LINES, f"{room}: {total} lines"
