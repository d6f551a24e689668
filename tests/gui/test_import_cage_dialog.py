"""File > Import runs the model's code in a child process: the window keeps its event loop
while it runs, Cancel stops it, and code that exits or eats memory ends in one line in
the dialog, the open project untouched. Each case starts a child (it loads torch), so
the cases are few; they wait on conditions, never on fixed times."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer

import engine.importers.cage as cage
from engine.project.project import dumps
from gui.import_dialog import ImportDialog

CHILD_MS = 90_000  # the child loads torch before the model's code runs: seconds when busy

HEADER = "import os\nimport torch\nfrom torch import nn\n\n\n"


def model_file(tmp_path: Path, body: str) -> Path:
    """A model whose __init__ runs `body` (the file's line 9)."""
    path = tmp_path / "hostile.py"
    path.write_text(
        HEADER
        + "class Net(nn.Module):\n"
        + "    def __init__(self):\n"
        + "        super().__init__()\n"
        + f"        {body}\n\n"
        + "    def forward(self, x):\n"
        + "        return x\n",
        encoding="utf-8",
    )
    return path


def start_import(window, qtbot, path: Path) -> ImportDialog:
    window.actions_["import"].trigger()
    dialog = window.findChild(ImportDialog)
    qtbot.waitUntil(dialog.isVisible)
    qtbot.keyClicks(dialog.source, str(path))
    qtbot.keyClicks(dialog.class_name, "Net")
    qtbot.keyClicks(dialog.shape, "4")
    dialog.import_button.click()
    assert dialog.running
    return dialog


class Ticks:
    """Counts turns of the event loop, as a 10 ms timer sees them."""

    def __init__(self) -> None:
        self.count = 0
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(self.tick)
        self.timer.start()

    def tick(self) -> None:
        self.count += 1


def test_cancel_stops_a_model_that_never_returns(video_window, qtbot, tmp_path: Path) -> None:
    before = dumps(video_window.project)
    ticks = Ticks()
    dialog = start_import(video_window, qtbot, model_file(tmp_path, "while True: pass"))
    process = dialog.cage.process
    qtbot.waitUntil(lambda: dialog.cage.stage == "init", timeout=CHILD_MS)
    assert "Building the model (its __init__)" in dialog.status.text()
    seen = ticks.count
    qtbot.waitUntil(lambda: ticks.count >= seen + 10)  # the window turns while __init__ loops

    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)

    assert not dialog.running
    assert process.poll() is not None, "Cancel kills the model's process"
    assert dialog.isVisible() and dialog.import_button.isEnabled()
    assert "Import cancelled" in dialog.status.text()
    assert dumps(video_window.project) == before
    seen = ticks.count
    qtbot.waitUntil(lambda: ticks.count >= seen + 10)  # and the event loop runs on
    dialog.reject()  # pressed again with nothing running, Cancel closes the dialog
    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert dumps(video_window.project) == before


def test_a_model_that_ends_the_process_gives_one_line(video_window, qtbot, tmp_path: Path) -> None:
    before = dumps(video_window.project)
    dialog = start_import(video_window, qtbot, model_file(tmp_path, "os._exit(3)"))
    with qtbot.waitSignal(dialog.import_finished, timeout=CHILD_MS) as finished:
        pass
    assert finished.args == [False]
    message = "Cannot import: the model's code ended the process (os._exit(3))"
    assert dialog.status.text() == message
    assert dialog.report.toPlainText() == message
    assert dialog.isVisible()
    assert dumps(video_window.project) == before


@pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the memory ceiling is Linux's RLIMIT_AS"
)
def test_a_1_gb_allocation_stops_at_the_ceiling(
    video_window, qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cage, "default_memory_ceiling", lambda: 3 * 1024**3 // 2)  # 1.5 GB
    before = dumps(video_window.project)
    path = model_file(tmp_path, "self.big = torch.ones(256, 1024, 1024)  # 1 GB")
    dialog = start_import(video_window, qtbot, path)
    with qtbot.waitSignal(dialog.import_finished, timeout=CHILD_MS):
        pass
    assert dialog.status.text() == (
        f"Cannot import: the model's code ran out of memory at {path}:9 (limit 1.5 GB)"
    )
    assert dumps(video_window.project) == before


def test_the_dialog_reads_the_input_shape_from_the_file(window, qtbot) -> None:
    corpus = Path(__file__).resolve().parents[1] / "engine" / "import_corpus"
    window.actions_["import"].trigger()
    dialog = window.findChild(ImportDialog)
    qtbot.waitUntil(dialog.isVisible)

    qtbot.keyClicks(dialog.source, str(corpus / "resnet_cifar.py"))
    qtbot.keyClicks(dialog.class_name, "CifarResNet")
    qtbot.waitUntil(lambda: "Conv2d(in_channels=3)" in dialog.hint.text())
    assert dialog.hint.isVisible()
    assert "3,H,W" in dialog.hint.text()
    assert dialog.shape.text() == ""  # H and W are the user's to say

    dialog.source.setText(str(corpus / "residual_concat_dynamo.onnx"))
    qtbot.waitUntil(lambda: dialog.shape.text() == "3,16,16")
    assert "declared by the file's input" in dialog.hint.text()
    assert not dialog.class_name.isEnabled()  # an ONNX file names no class

    dialog.source.setText(str(corpus / "text_lstm_dynamo.onnx"))
    qtbot.waitUntil(lambda: dialog.shape.text() == "12")
    assert dialog.dtype.currentText() == "int64"

    dialog.shape.clear()
    qtbot.keyClicks(dialog.shape, "7")  # typed by the user: a later hint leaves it be
    dialog.source.setText(str(corpus / "mlp.py"))
    qtbot.waitUntil(lambda: "Linear(in_features=4)" in dialog.hint.text())
    assert dialog.shape.text() == "7"

    dialog.class_name.clear()  # no class named: the file's classes are offered, nothing runs
    dialog.source.setText(str(corpus / "resnet_cifar.py"))
    qtbot.waitUntil(lambda: "BasicBlock, CifarResNet" in dialog.class_name.placeholderText())
    dialog.import_button.click()
    assert not dialog.running
    assert dialog.status.text() == (
        "Class: name the model's class (the file's nn.Module classes: BasicBlock, CifarResNet)"
    )
    dialog.reject()
