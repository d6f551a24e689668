"""Helpers the engine tests share."""

from __future__ import annotations

import importlib.util
import sys
import uuid
from pathlib import Path
from types import ModuleType


def load_file(path: Path) -> ModuleType:
    """A Python file (a corpus model, an exported one) imported as a fresh module,
    listed in sys.modules only while it runs (its dataclasses and annotations look
    themselves up there)."""
    name = f"loaded_{uuid.uuid4().hex}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(name)
    return module
