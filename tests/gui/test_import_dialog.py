"""File > Import: the dialog warns that .py files run, imports, and shows the report."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QLabel

from gui.import_dialog import ImportDialog

CORPUS = Path(__file__).resolve().parents[1] / "engine" / "import_corpus"
# The import runs in a child process that loads torch first: seconds on a busy machine.
IMPORT_TIMEOUT_MS = 60_000


def open_dialog(window, qtbot) -> ImportDialog:
    window.actions_["import"].trigger()
    dialog = window.findChild(ImportDialog)
    qtbot.waitUntil(dialog.isVisible)
    return dialog


def test_menu_import_replaces_the_document_with_the_model(window, qtbot) -> None:
    dialog = open_dialog(window, qtbot)
    labels = " ".join(label.text() for label in dialog.findChildren(QLabel))
    assert "RUNS that file" in labels
    qtbot.keyClicks(dialog.source, str(CORPUS / "mlp.py"))
    qtbot.keyClicks(dialog.class_name, "MLP")
    qtbot.keyClicks(dialog.shape, "4")
    with qtbot.waitSignal(dialog.import_finished, timeout=IMPORT_TIMEOUT_MS) as finished:
        dialog.import_button.click()
    assert finished.args == [True]
    assert [n.type for n in window.graph.nodes].count("Dense") == 3
    assert window.graph.node("net_0").params["units"] == 32
    assert window.isWindowModified()
    assert "bit-identical" in window.statusBar().currentMessage()
    # The dialog stays up with what the import made, until the user closes it.
    report = dialog.report.toPlainText()
    assert "Blocks created: 8 on the canvas" in report
    assert "Units found: none" in report
    assert "Weights loaded: 1,315, in 6 tensors" in report
    assert "open in the editor" in dialog.status.text()
    assert dialog.cancel_button.text() == "Close"
    dialog.cancel_button.click()
    qtbot.waitUntil(lambda: not dialog.isVisible())


def test_unsupported_model_keeps_the_dialog_open_with_the_report(window, qtbot) -> None:
    before = [n.id for n in window.graph.nodes]
    dialog = open_dialog(window, qtbot)
    qtbot.keyClicks(dialog.source, str(CORPUS / "unsupported.py"))
    qtbot.keyClicks(dialog.class_name, "SpectralGate")
    qtbot.keyClicks(dialog.shape, "16")
    with qtbot.waitSignal(dialog.import_finished, timeout=IMPORT_TIMEOUT_MS):
        dialog.import_button.click()
    report = dialog.report.toPlainText()
    assert "NOT imported: 3 unsupported" in report
    assert "torch.fft.fft — a Fourier transform" in report
    assert "spectrum = torch.fft.fft(x).real" in report  # the source line, under its place
    assert dialog.isVisible()
    assert [n.id for n in window.graph.nodes] == before
    dialog.reject()
