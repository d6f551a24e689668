"""File › Import with an ONNX package missing: the dialog says which and the exact
command that installs it, and nothing starts (no traceback, no child process)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from engine.common.dependencies import install_command
from gui.import_dialog import ImportDialog

CORPUS = Path(__file__).resolve().parents[1] / "engine" / "import_corpus"
ONNX_FILE = CORPUS / "text_lstm_dynamo.onnx"


def test_import_dialog_names_the_missing_package_and_the_command(
    window, qtbot, monkeypatch: pytest.MonkeyPatch
) -> None:
    # None in sys.modules makes `import onnxruntime` fail, as if it were not installed.
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    window.actions_["import"].trigger()
    dialog = window.findChild(ImportDialog)
    qtbot.waitUntil(dialog.isVisible)
    dialog.source.setText(str(ONNX_FILE))
    dialog.import_button.click()
    qtbot.waitUntil(lambda: "Install with" in dialog.report.toPlainText())
    shown = dialog.report.toPlainText()
    assert "Importing an ONNX file needs the package onnxruntime," in shown
    assert shown.endswith(f"Install with: {install_command(['onnxruntime'])}")
    assert dialog.import_button.isEnabled()  # nothing is running; fix and try again
    dialog.reject()
