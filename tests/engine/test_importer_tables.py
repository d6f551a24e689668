"""The importers' handler tables see their importer only through a narrow context (issue
24: no import circles; module lengths are checked in tests/test_architecture.py).

The ONNX tables (onnx_ops, onnx_recurrent) and the torch tables (torch_functions,
torch_shapes) get the importer as an argument typed by a protocol in a small module
below both (onnx_context, torch_context); importing the importer back, even lazily or
for type checking only, would close a circle. The importers themselves must still offer
everything their protocol promises, or a handler fails on the first model that reaches it.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path
from typing import Any

import pytest
from torch import nn

from engine.importers.check import InputSpec
from engine.importers.from_onnx import OnnxImporter
from engine.importers.from_torch import TorchImporter
from engine.importers.onnx_context import OnnxContext
from engine.importers.onnx_file import read_model
from engine.importers.torch_context import TorchContext

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(__file__).resolve().parent / "import_corpus"
TABLES = {
    "engine.importers.onnx_ops": "engine.importers.from_onnx",
    "engine.importers.onnx_recurrent": "engine.importers.from_onnx",
    "engine.importers.torch_functions": "engine.importers.from_torch",
    "engine.importers.torch_shapes": "engine.importers.from_torch",
}


def imported_modules(module: str) -> set[str]:
    """Every module `module` names in an import statement, anywhere in the file (inside
    functions and under `if TYPE_CHECKING:` too)."""
    path = ROOT / (module.replace(".", "/") + ".py")
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("table", sorted(TABLES))
def test_a_handler_table_never_imports_its_importer(table: str) -> None:
    importer = TABLES[table]
    assert importer not in imported_modules(table), (
        f"{table} imports {importer}; take the importer as its context protocol instead"
    )


def protocol_members(protocol: type) -> set[str]:
    """The attributes and methods a Protocol class declares."""
    methods = {name for name, _ in inspect.getmembers(protocol, inspect.isfunction)}
    return (set(protocol.__annotations__) | methods) - {"__init__"}


def test_the_torch_importer_offers_all_its_context_promises() -> None:
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU())
    importer = TorchImporter(model, InputSpec((4,), False, "float32"), "tiny", None)
    missing = sorted(m for m in protocol_members(TorchContext) if not hasattr(importer, m))
    assert not missing, f"TorchImporter lacks {missing} of TorchContext"


def test_the_onnx_importer_offers_all_its_context_promises() -> None:
    path = CORPUS / "residual_concat_dynamo.onnx"
    importer: Any = OnnxImporter(read_model(path, path.name), path.name, None, False, None)
    missing = sorted(m for m in protocol_members(OnnxContext) if not hasattr(importer, m))
    assert not missing, f"OnnxImporter lacks {missing} of OnnxContext"
