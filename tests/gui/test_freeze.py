"""Freeze in the window: the Inspector's box freezes the selected blocks or units (one or
several at once), the canvas shows them frozen, undo thaws them, the saved file says so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from PySide6.QtCore import Qt

from engine.train.checkpoint import load_checkpoint
from gui.canvas.commands import SetParamsCommand
from gui.canvas.freezing import SetFrozenCommand
from gui.import_dialog import adopt
from gui.run.jobs import Controls, TrainingCallbacks, TrainJob, run_training
from gui.run.records import RunStarted
from tests.engine.tiny_resnet import imported
from tests.gui.training import set_training
from tests.helpers import template


def click(qtbot, box) -> None:
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=box.rect().center())


def test_ticking_freeze_freezes_the_block_until_undone_and_the_file_keeps_it(
    open_template, qtbot, tmp_path: Path
):
    window = open_template("resnet_digits")
    window.focus_node("classify")
    box = window.inspector.freeze
    item = window.scene.nodes["classify"]
    assert box.isVisible() and not box.isChecked()
    plain_header = item.header_colour

    click(qtbot, box)

    assert window.graph.node("classify").frozen
    assert box.isChecked()
    assert item.frozen and item.title_text == "\u2744 classify"  # the far tile's title
    assert item.header_colour != plain_header
    assert "Frozen: training keeps its weights" in item.tooltip_text()

    window.undo_stack.undo()
    assert not window.graph.node("classify").frozen
    assert not item.frozen and item.title_text == "classify"
    assert not box.isChecked()

    window.undo_stack.redo()
    assert window.write_to(tmp_path / "frozen.json")
    saved = json.loads((tmp_path / "frozen.json").read_text(encoding="utf-8"))
    frozen = {n["id"]: n.get("frozen") for n in saved["nodes"]}
    assert frozen["classify"] is True and frozen["block1"] is None


def test_several_selected_freeze_together_in_one_undo_step(open_template, qtbot):
    window = open_template("resnet_digits")
    window.scene.select_nodes(["image", "stem", "block1", "down"])  # the Input is left out
    box = window.inspector.freeze
    qtbot.waitUntil(lambda: box.isVisible())
    assert box.text().startswith("Freeze all 3")

    click(qtbot, box)

    frozen = [n.id for n in window.graph.nodes if n.frozen]
    assert frozen == ["stem", "block1", "down"]
    assert all(window.scene.nodes[i].frozen for i in frozen)
    window.scene.select_nodes(["stem", "block2"])  # one frozen, one not: partly ticked
    qtbot.waitUntil(lambda: box.checkState() == Qt.CheckState.PartiallyChecked)

    window.undo_stack.undo()
    assert not any(n.frozen for n in window.graph.nodes)
    assert box.checkState() == Qt.CheckState.Unchecked


def test_an_imported_model_trains_in_the_window_from_its_weights_body_frozen_head_new(
    window, qtbot, monkeypatch: pytest.MonkeyPatch
):
    result = imported()  # as File › Import Model… hands it over
    adopt(window, result)
    kept = window.training.start_weights.path
    assert kept is not None and kept.is_file()
    assert "training starts from its weights" in window.statusBar().currentMessage()
    facts = window.scene.analysis.nodes
    body = [n.id for n in window.graph.nodes if facts[n.id].params and n.id != "fc"]
    window.undo_stack.push(SetParamsCommand(window.graph, "fc", {"units": 10}))
    window.undo_stack.push(SetFrozenCommand(window.graph, body, True))
    set_training(window, dataset={"name": "digits", "params": {}}, epochs=1, batch_size=128)
    # Train as the window starts a run, its job run here rather than in the trainer
    # process (whose start-up would be most of this test's time).
    jobs: list[TrainJob] = []
    monkeypatch.setattr(window.training.controller, "start", lambda job: jobs.append(job))
    window.training.start()
    started: list[RunStarted] = []
    callbacks = TrainingCallbacks(started.append, lambda _: None, lambda _: None)

    outcome = run_training(jobs[0], Controls(), callbacks)

    assert outcome.status == "finished", outcome.reason
    assert jobs[0].weights == kept
    notes = started[0].notes
    assert notes[0] == "fc: new weights (its shape changed: 10 × 16, was 1000 × 16)"
    assert "weights frozen (conv1, bn1" in notes[1]
    assert notes[0] in started[0].describe()  # the panel's run line
    trained = load_checkpoint(outcome.checkpoint).state_dict
    body_keys = [k for k in result.state_dict if not k.startswith("fc.")]
    assert [k for k in body_keys if not torch.equal(trained[k], result.state_dict[k])] == []
    assert trained["fc.weight"].shape == (10, 16)

    assert window.open_template(template("mlp_iris"))  # another project: its own weights
    assert window.training.start_weights.path is None
