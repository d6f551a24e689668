"""File > Import: the dialog warns that .py files run, imports, and shows the report."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QLabel

from gui.import_dialog import ImportDialog

CORPUS = Path(__file__).resolve().parents[1] / "engine" / "import_corpus"


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
    with qtbot.waitSignal(dialog.finished):
        dialog.import_button.click()
    assert [n.type for n in window.graph.nodes].count("Dense") == 3
    assert window.graph.node("net_0").params["units"] == 32
    assert window.isWindowModified()
    assert "bit-identical" in window.statusBar().currentMessage()


def test_unsupported_model_keeps_the_dialog_open_with_the_report(window, qtbot) -> None:
    before = [n.id for n in window.graph.nodes]
    dialog = open_dialog(window, qtbot)
    qtbot.keyClicks(dialog.source, str(CORPUS / "unsupported.py"))
    qtbot.keyClicks(dialog.class_name, "SpectralGate")
    qtbot.keyClicks(dialog.shape, "16")
    dialog.import_button.click()
    report = dialog.report.toPlainText()
    assert "NOT imported: 3 unsupported" in report
    assert "torch.fft.fft — a Fourier transform" in report
    assert dialog.isVisible()
    assert [n.id for n in window.graph.nodes] == before
    dialog.reject()
