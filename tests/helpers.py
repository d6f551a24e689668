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


def classifier_doc(dataset: dict[str, Any], shape: list[int], classes: int = 2) -> dict[str, Any]:
    """The smallest classifier project on `dataset`: Input(shape) → Flatten → Dense(classes)
    → Output (cross-entropy), one epoch — what the hostile-data tests point at a file."""
    return {
        "format": "netloom",
        "version": 1,
        "name": "hostile data",
        "nodes": [
            {"id": "x", "type": "Input", "params": {"shape": shape}},
            {"id": "flat", "type": "Flatten", "params": {}},
            {"id": "dense1", "type": "Dense", "params": {"units": classes}},
            {"id": "label", "type": "Output", "params": {"loss": "cross_entropy"}},
        ],
        "edges": [
            {"source": "x", "target": "flat"},
            {"source": "flat", "target": "dense1"},
            {"source": "dense1", "target": "label"},
        ],
        "training": {"dataset": dataset, "epochs": 1},
    }
