"""Look inside: selecting a block shows its output; the time lens for recurrent blocks
only; the view follows a restored run and starts over when another project opens."""

from __future__ import annotations

import pytest

from tests.gui.helpers import LEFT
from tests.gui.training import (
    RUN_TIMEOUT_MS,
    open_iris,
    run_to_end,
    set_training,
)
from tests.helpers import ROOT, TEMPLATE_DIR

pytestmark = pytest.mark.usefixtures("spare_trainer")

DIGITS = TEMPLATE_DIR / "cnn_digits.json"
LSTM = TEMPLATE_DIR / "lstm_adding.json"


def open_look(window, template=None):
    if template is not None:
        assert window.open_template(template)
    ui = window.training
    ui.look_dock.show()
    ui.look_dock.raise_()
    return ui.look


def select(qtbot, window, node: str | None):
    """Select one block (or none) on the canvas and wait for its views."""
    look = window.training.look
    if node is None:
        window.scene.clearSelection()
    else:
        window.scene.select_nodes([node])
    qtbot.waitUntil(
        lambda: look.shown_request is not None and look.shown_request.node == node,
        timeout=RUN_TIMEOUT_MS,
    )
    return look


def test_selecting_blocks_switches_the_view(qtbot, window):
    look = open_look(window, DIGITS)
    select(qtbot, window, "conv1")
    assert look.title.text().startswith("conv1 · sample 1 of validation · initial")
    assert look.sections == ["activation", "filters"]  # conv1 is the first convolution
    maps = look.findChild(type(look.title), "look_activation")
    assert maps.width() > 0 and maps.pixmap().width() == maps.width()  # natural size

    select(qtbot, window, "dense1")
    assert look.title.text().startswith("dense1 · ")
    assert look.sections == ["activation"]

    select(qtbot, window, None)  # the whole model: filters and where it looks
    assert look.sections == ["filters", "saliency"]
    assert "fixed" in look.free.text()


def test_the_sample_follows_try_a_sample_only_while_visible(qtbot, window):
    look = open_look(window, DIGITS)
    select(qtbot, window, "conv1")
    window.training.results_dock.raise_()  # the look dock goes behind its tab
    qtbot.waitUntil(lambda: not look.visible, timeout=RUN_TIMEOUT_MS)
    look.set_sample(4)
    assert look.shown_request.sample == 0  # nothing computed behind a tab
    window.training.look_dock.raise_()
    qtbot.waitUntil(lambda: look.shown_request.sample == 4, timeout=RUN_TIMEOUT_MS)
    assert look.title.text().startswith("conv1 · sample 5 of validation")


def test_the_lens_is_for_recurrent_blocks_only(qtbot, window):
    look = open_look(window, LSTM)
    select(qtbot, window, "lstm1")
    assert look.sections == ["activation", "lens"]
    select(qtbot, window, "dense1")
    assert look.sections == ["activation"]
    select(qtbot, window, "sequence")  # the Input: its sample, no lens
    assert look.sections == ["activation"]
    for template, node in (("gru_adding", "gru1"), ("rnn_adding", "rnn1")):
        open_look(window, ROOT / "templates" / f"{template}.json")
        select(qtbot, window, node)
        assert look.sections == ["activation", "lens"], template
    select(qtbot, window, "dense1")
    assert look.sections == ["activation"]


def test_the_view_follows_a_restored_run_and_clears_for_another_project(qtbot, window):
    look = open_look(window)
    open_iris(window, epochs=2, lr=0.001)
    first = run_to_end(qtbot, window)
    ui = window.training
    ui.look_dock.raise_()
    select(qtbot, window, "dense1")
    assert look.shown_request.checkpoint == first.checkpoint
    assert "trained weights" in look.title.text()
    set_training(window, epochs=3, lr=0.02)
    second = run_to_end(qtbot, window)
    assert look.checkpoint == second.checkpoint != first.checkpoint

    ui.runs_dock.raise_()
    ui.runs.select_run(first.run_id)
    with qtbot.waitSignal(ui.current.ended, timeout=RUN_TIMEOUT_MS):
        qtbot.mouseClick(ui.runs.restore_button, LEFT)
    ui.look_dock.raise_()
    qtbot.waitUntil(
        lambda: (
            look.shown_request is not None and look.shown_request.checkpoint == first.checkpoint
        ),
        timeout=RUN_TIMEOUT_MS,
    )
    assert "trained weights" in look.title.text()

    assert window.open_template(DIGITS)  # another project: its own initial weights
    assert look.node is None and look.checkpoint == ""
    qtbot.waitUntil(
        lambda: look.shown_request is not None and look.shown_request.checkpoint == "",
        timeout=RUN_TIMEOUT_MS,
    )
    assert "initial (seeded) weights" in look.title.text()
    assert look.project["name"] == window.project.name


def test_a_fully_convolutional_net_runs_at_other_sizes(qtbot, window):
    look = open_look(window, ROOT / "templates" / "fcn_segmentation.json")
    select(qtbot, window, None)
    assert "any_size" in look.sections  # masks predicted on 48×48 and 64×64 images
    assert look.free.text() == (
        "Free input sizes: image (N, 1, H=32, W=32): "
        "H, W: any multiple of 4 (same weights; 32×32 now)"
    )


def test_the_inspector_names_an_inputs_free_sizes(qtbot, window):
    assert window.open_template(ROOT / "templates" / "unet_segmentation.json")
    window.scene.select_nodes(["image"])
    facts = window.inspector.facts.text().splitlines()
    assert "out   (N, 1, H=32, W=32)" in facts
    assert "free  H, W: any multiple of 4" in facts
    assert "      (same weights; 32×32 now)" in facts
    window.scene.select_nodes(["pool1"])  # other blocks keep their plain shapes
    assert "free" not in window.inspector.facts.text()

    assert window.open_template(DIGITS)  # Flatten → Dense: the size is fixed
    window.scene.select_nodes(["image"])
    assert "out   (N, 1, 8, 8)" in window.inspector.facts.text().splitlines()
    assert "free" not in window.inspector.facts.text()
    assert window.open_template(LSTM)
    window.scene.select_nodes(["sequence"])
    facts = window.inspector.facts.text().splitlines()
    assert "free  T: any length" in facts
