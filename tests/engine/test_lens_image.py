"""The time lens reads at T = 8 and T = 150: cells large enough to see, axes named
"time step" and "hidden unit", a colour bar with its quantity, no bare shape tuples."""

from __future__ import annotations

import numpy as np
import pytest

from engine.inspect.activations import BlockActivation
from engine.inspect.drawing import recording_text
from engine.inspect.lens import TimeLens
from engine.inspect.lens_image import cell_size, lens_image
from engine.inspect.recurrent import LayerTrace
from engine.inspect.render import render_activation

HIDDEN = 64


def lstm_lens(steps: int) -> TimeLens:
    rng = np.random.default_rng(steps)
    gates = {g: rng.uniform(0, 1, (steps, HIDDEN)) for g in ("input", "forget", "output")}
    trace = LayerTrace(
        0,
        "forward",
        hidden=rng.normal(0, 0.3, (steps, HIDDEN)),
        cell=rng.normal(0, 0.6, (steps, HIDDEN)),
        gates={g: gates[g] for g in ("input", "forget", "cell_candidate", "output") if g in gates},
    )
    grad = 10.0 ** np.linspace(-12, -2, steps)
    return TimeLens("lstm1", "LSTM", [trace], grad)


@pytest.mark.parametrize("steps", [8, 150])
def test_the_lens_cells_are_large_enough_to_see(steps: int) -> None:
    rows, columns = cell_size(steps, HIDDEN)
    assert rows >= 3 and columns >= 3  # px a cell takes
    assert 240 <= steps * columns <= 1000  # never a sliver, never wider than a dock
    image = lens_image(lstm_lens(steps))
    assert 300 <= image.width <= 760, image.size  # fits Look inside at 1280 x 800


@pytest.mark.parametrize("steps", [8, 150])
def test_the_lens_names_its_axes_and_colours(steps: int) -> None:
    with recording_text() as written:
        lens_image(lstm_lens(steps))
    assert written.count("time step") == 6  # five heat maps and the gradient
    assert written.count("hidden unit") == 5
    assert "h_t value (no unit)" in written and "c_t value (no unit)" in written
    assert written.count("gate: 0 shut, 1 open") == 2 and "gate: 0 forget, 1 keep" in written
    steps_labelled = [int(t) for t in written if t.isdigit()]
    assert 0 in steps_labelled and max(steps_labelled) >= 0.9 * (steps - 1)  # both ends
    assert any("1e-2" == text for text in written)  # the gradient's log axis
    assert not any("(" in text and ",)" in text for text in written)


def test_a_recurrent_output_is_named_in_words() -> None:
    last = BlockActivation("lstm1", "vector", np.linspace(-1, 1, HIDDEN))
    with recording_text() as written:
        render_activation(last, recurrent=True)
    assert "lstm1 output: the last time step's 64 hidden units" in written
    assert not any("(64,)" in text for text in written)
    every = BlockActivation("lstm1", "sequence", np.zeros((150, HIDDEN)))
    with recording_text() as written:
        render_activation(every, recurrent=True)
    assert "lstm1 output, 150 x 64 values" in written
    assert "time step" in written and "hidden unit" in written and "output value" in written
