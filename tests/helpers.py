"""Where the tests find the repository's files, and how they write a project to disk.

Plain values and functions every test folder imports (fixtures live in the conftests).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE_DIR = ROOT / "templates"
TEMPLATES = sorted(TEMPLATE_DIR.glob("*.json"))  # every shipped template, by name
ENGINE_DATA = ROOT / "tests" / "engine" / "data"
TINY_DIGITS = ENGINE_DATA / "tiny_digits.json"


def template(name: str) -> Path:
    """The shipped template `name` (its file name without `.json`); fails naming it if
    no such template ships, so a renamed template does not turn into a vague error."""
    path = TEMPLATE_DIR / f"{name}.json"
    if not path.is_file():
        raise FileNotFoundError(f"no template {name!r} in {TEMPLATE_DIR}")
    return path


def write_project(folder: Path, doc: dict[str, Any] | str, name: str = "tiny.json") -> Path:
    """`doc` (a project document, or the file's text as is) written to `folder/name`."""
    path = folder / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")
    return path


def template_doc(name: str) -> dict[str, Any]:
    """The shipped template `name` as its JSON document, to change before writing."""
    return json.loads(template(name).read_text(encoding="utf-8"))
