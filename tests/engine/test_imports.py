"""Import boundaries: the pure engine loads without torch or Qt, and engine/ never names Qt.

The spec, graph and shape modules are what the canvas calls on every edit; they must
load instantly and be testable alone (DESIGN, "Layers"), so a subprocess checks they
import, fill the registry and analyze the video template while torch and PySide6
cannot be imported at all.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.helpers import ROOT

ENGINE = ROOT / "engine"

PURE_MODULES = (
    "engine.blocks.spec",
    "engine.blocks",
    "engine.graph.graph",
    "engine.graph.shapes",
    "engine.graph.names",
    "engine.project.project",
    "engine.units.units",
    "engine.units.edits",
    "engine.project.units_section",
)
QT_PACKAGES = {"PySide6", "PySide2", "PyQt5", "PyQt6", "shiboken6", "qtpy", "pyqtgraph"}
# Only these parts of engine/ may import torch when they are imported (DESIGN rule 2;
# importers load torch and onnx only when an import runs: engine.cli.main registers their
# command module, which imports neither).
TORCH_AT_IMPORT_ALLOWED = ("model", "train", "data", "inspect", "importers")

WITHOUT_TORCH_AND_QT = textwrap.dedent(
    """
    import importlib, importlib.abc, json, sys

    BLOCKED = {"torch", "PySide6", "shiboken6"}

    class Refuse(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] in BLOCKED:
                raise ImportError(f"{name} is made unimportable for this test")
            return None

    sys.meta_path.insert(0, Refuse())
    try:
        import torch  # noqa: F401
        blocker_works = False
    except ImportError:
        blocker_works = True

    for name in MODULES:
        importlib.import_module(name)

    from engine.project.project import load
    from engine.graph.shapes import analyze
    from engine.blocks.spec import REGISTRY

    analysis = analyze(load(TEMPLATE).graph)
    print(json.dumps({
        "blocker_works": blocker_works,
        "blocks": sorted(REGISTRY),
        "template_ok": analysis.ok,
        "lstm_input": str(analysis.nodes["lstm1"].input_shapes["x"]),
        "loaded": sorted(m for m in sys.modules if m.partition(".")[0] in BLOCKED),
    }))
    """
)


def test_pure_engine_imports_without_torch_and_qt() -> None:
    script = (
        f"MODULES = {PURE_MODULES!r}\n"
        f"TEMPLATE = {str(ROOT / 'templates' / 'cnn_lstm_video.json')!r}\n" + WITHOUT_TORCH_AND_QT
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])

    assert report["blocker_works"]
    assert report["loaded"] == []
    assert {"Input", "Conv2d", "MaxPool2d", "Dense", "LSTM", "Output"} <= set(report["blocks"])
    assert len(report["blocks"]) >= 30
    assert report["template_ok"]
    assert report["lstm_input"] == "(N, T, 2048)"


def imports_of(path: Path, top_level_only: bool = False) -> set[str]:
    """Top-level package names a source file imports (also via importlib/__import__)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(alias.name.partition(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.partition(".")[0])
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", None))
            in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.add(node.args[0].value.partition(".")[0])
    return found


def engine_sources() -> list[Path]:
    sources = sorted(ENGINE.rglob("*.py"))
    assert len(sources) >= 10, "the scan found too few engine sources to mean anything"
    return sources


def test_no_engine_module_imports_qt() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(imports_of(path) & QT_PACKAGES)
        for path in engine_sources()
        if imports_of(path) & QT_PACKAGES
    }
    assert offenders == {}, "engine/ must not import Qt (move it under gui/)"


def test_torch_is_imported_at_module_level_only_by_build_train_data_and_inspect() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in engine_sources()
        if "torch" in imports_of(path, top_level_only=True)
        and not path.relative_to(ENGINE).parts[0].startswith(TORCH_AT_IMPORT_ALLOWED)
    ]
    assert offenders == [], "import torch inside the function that needs it"


def test_the_scan_sees_imports_where_they_hide(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import os\n"
        "def later():\n"
        "    from PySide6.QtCore import QObject\n"
        "    importlib.import_module('pyqtgraph')\n",
        encoding="utf-8",
    )
    assert imports_of(sample) == {"os", "PySide6", "pyqtgraph"}
    assert imports_of(sample, top_level_only=True) == {"os"}
