"""Helpers the engine tests share."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from engine.importers.python_source import loaded_module


def load_file(path: Path) -> ModuleType:
    """A Python file (a corpus model, an exported one) imported as a fresh module, as
    NetLoom's `import` command loads a user's file (its dataclasses and annotations
    find it in sys.modules while it runs)."""
    with loaded_module(path) as module:
        return module
