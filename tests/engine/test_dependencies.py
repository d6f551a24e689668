"""A package NetLoom depends on is missing: the CLI names it and the exact command to
install it, in one line, never a traceback."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from engine.cli.main import run
from engine.common.dependencies import CONSTRAINTS, install_command, missing_message
from tests.helpers import ROOT, template

ONNX_FILE = ROOT / "tests" / "engine" / "import_corpus" / "text_lstm_dynamo.onnx"
DIGITS = template("cnn_digits")

# Runs main.py with one top-level package made unimportable, as if not installed.
WITHOUT_PACKAGE = textwrap.dedent(
    """
    import importlib.abc, runpy, sys

    class Refuse(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] == BLOCKED:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, Refuse())
    sys.argv = ["main.py", *ARGS]
    runpy.run_path("main.py", run_name="__main__")
    """
)


def run_without(package: str, *args: str) -> subprocess.CompletedProcess[str]:
    script = f"BLOCKED = {package!r}\nARGS = {list(args)!r}\n" + WITHOUT_PACKAGE
    return subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_the_command_installs_into_this_python_with_the_checkouts_pins() -> None:
    assert CONSTRAINTS.is_file()
    assert install_command(["sklearn", "PySide6"]) == (
        f"{sys.executable} -m pip install -c {CONSTRAINTS} scikit-learn PySide6-Essentials"
    )
    assert missing_message("ONNX export", ["onnxscript"]).startswith(
        "ONNX export needs the package onnxscript, which cannot be imported"
    )


def test_onnx_import_without_onnx_names_it_and_the_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # None in sys.modules makes `import onnx` fail, as if it were not installed.
    monkeypatch.setitem(sys.modules, "onnx", None)
    out = tmp_path / "model.json"
    assert run(["import", str(ONNX_FILE), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert "Importing an ONNX file needs the package onnx," in err
    assert err.rstrip().endswith(f"Install with: {install_command(['onnx'])}")
    assert not out.exists()


def test_a_command_whose_dependency_is_missing_says_so_in_one_line(tmp_path: Path) -> None:
    out = tmp_path / "digits.pt"
    done = run_without("torch", "export", str(DIGITS), "--to", "torchscript", "-o", str(out))
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "`export` needs the package torch, which cannot be imported" in done.stderr
    assert f"-m pip install -c {CONSTRAINTS} torch" in done.stderr
    assert not out.exists()


def test_netloom_without_a_package_it_loads_first_says_which() -> None:
    done = run_without("networkx", "templates")
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == f"error: {missing_message('NetLoom', ['networkx'])}"
