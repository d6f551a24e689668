"""When a package NetLoom depends on cannot be imported: say which, and the exact command.

Every package here is a dependency of NetLoom (pyproject.toml), so a normal install
has them all; this is for a broken or hand-made environment. The command names this
very interpreter (so it installs where NetLoom runs) and, in a checkout, the pins the
set-up uses (.ci/constraints.txt), so the version installed is the one tested.
"""

from __future__ import annotations

import importlib.util
import shlex
import sys
from collections.abc import Iterable
from pathlib import Path

CONSTRAINTS = Path(__file__).resolve().parents[2] / ".ci" / "constraints.txt"

# The top-level module a feature imports → the distribution pip installs it from.
DISTRIBUTIONS: dict[str, str] = {
    "torch": "torch",
    "numpy": "numpy",
    "networkx": "networkx",
    "PySide6": "PySide6-Essentials",
    "shiboken6": "shiboken6",
    "pyqtgraph": "pyqtgraph",
    "sklearn": "scikit-learn",
    "PIL": "pillow",
    "onnx": "onnx",
    "onnxruntime": "onnxruntime",
    "onnxscript": "onnxscript",
}

# What each ONNX feature imports: reading a file and checking the result with ONNX
# Runtime; exporting also goes through torch.onnx's exporter, which needs onnxscript.
ONNX_IMPORT_MODULES = ("onnx", "onnxruntime")
ONNX_EXPORT_MODULES = ("onnx", "onnxscript", "onnxruntime")


def missing_modules(modules: Iterable[str]) -> list[str]:
    """Those of `modules` not installed in this environment. Found without importing
    them (onnxruntime alone takes ~0.5 s), so a check before the work costs nothing;
    an installed but broken package fails later, at its import (see `is_dependency`)."""
    missing = []
    for name in modules:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):  # a parent package missing, or odd sys.modules
            found = False
        if not found:
            missing.append(name)
    return missing


def distribution(module: str) -> str:
    """The pip package that provides a top-level module (`sklearn` → `scikit-learn`)."""
    return DISTRIBUTIONS.get(module.partition(".")[0], module.partition(".")[0])


def install_command(modules: Iterable[str]) -> str:
    """The command that installs the packages providing `modules` into this environment."""
    packages = list(dict.fromkeys(distribution(m) for m in modules))
    words = [sys.executable, "-m", "pip", "install"]
    if CONSTRAINTS.is_file():
        words += ["-c", str(CONSTRAINTS)]
    return shlex.join(words + packages)


def missing_message(feature: str, modules: Iterable[str]) -> str:
    """One line: what needs which package(s), and the command that installs them."""
    names = list(modules)
    packages = ", ".join(dict.fromkeys(distribution(m) for m in names))
    noun = "package" if len(names) == 1 else "packages"
    return (
        f"{feature} needs the {noun} {packages}, which cannot be imported in this Python "
        f"environment. Install with: {install_command(names)}"
    )


def is_dependency(error: ImportError) -> bool:
    """Whether `error` is a NetLoom dependency failing to import (not a bug of ours)."""
    name = getattr(error, "name", None) or ""
    return name.partition(".")[0] in DISTRIBUTIONS
