"""The time lens's explicit cell loops compute what torch's fused RNN/GRU/LSTM compute."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from engine.inspect.recurrent import unroll

CASES = [
    (cls, layers, bidirectional, batch_first)
    for cls in (nn.RNN, nn.GRU, nn.LSTM)
    for layers, bidirectional in ((1, False), (2, True))
    for batch_first in (True, False)
]


@pytest.mark.parametrize(("cls", "layers", "bidirectional", "batch_first"), CASES)
def test_explicit_loop_matches_torch(
    cls: type[nn.RNNBase], layers: int, bidirectional: bool, batch_first: bool
) -> None:
    torch.manual_seed(layers * 10 + bidirectional)
    layer = cls(5, 7, num_layers=layers, bidirectional=bidirectional, batch_first=batch_first)
    x = torch.randn(3, 11, 5) if batch_first else torch.randn(11, 3, 5)
    expected, _ = layer(x)

    unrolled = unroll(layer, x)

    assert unrolled.output.shape == expected.shape
    assert (unrolled.output - expected).abs().max().item() <= 1e-5
    directions = 2 if bidirectional else 1
    assert len(unrolled.traces) == layers * directions
    # The last layer's traces are the two halves of torch's output, step by step.
    last = expected if batch_first else expected.transpose(0, 1)
    for d, direction in enumerate(("forward", "backward")[:directions]):
        trace = unrolled.trace(layers - 1, direction)
        assert trace.hidden.shape == (3, 11, 7)
        np.testing.assert_allclose(trace.hidden, last[..., d * 7 : (d + 1) * 7].detach(), atol=1e-5)


def test_relu_rnn_matches_torch() -> None:
    torch.manual_seed(0)
    layer = nn.RNN(4, 6, nonlinearity="relu", num_layers=2, batch_first=True)
    x = torch.randn(2, 9, 4)
    expected, _ = layer(x)
    assert (unroll(layer, x).output - expected).abs().max().item() <= 1e-5


def test_lstm_gates_and_cell_state_match_torch_final_state() -> None:
    torch.manual_seed(1)
    layer = nn.LSTM(3, 4, batch_first=True, bidirectional=True)
    x = torch.randn(2, 6, 3)
    _, (h_n, c_n) = layer(x)
    trace_f = unroll(layer, x).trace(0, "forward")
    trace_b = unroll(layer, x).trace(0, "backward")
    # The forward direction ends at the last step, the backward one at step 0.
    np.testing.assert_allclose(trace_f.cell[:, -1], c_n[0].detach(), atol=1e-5)
    np.testing.assert_allclose(trace_b.cell[:, 0], c_n[1].detach(), atol=1e-5)
    assert set(trace_f.gates) == {"input", "forget", "cell_candidate", "output"}
    for name in ("input", "forget", "output"):
        assert trace_f.gates[name].min() >= 0 and trace_f.gates[name].max() <= 1
    # h = o · tanh(c), step by step.
    np.testing.assert_allclose(
        trace_f.hidden, trace_f.gates["output"] * np.tanh(trace_f.cell), atol=1e-6
    )


def test_gru_gates_reproduce_its_state_update() -> None:
    torch.manual_seed(2)
    layer = nn.GRU(3, 5, batch_first=True)
    x = torch.randn(2, 7, 3)
    trace = unroll(layer, x).trace(0)
    z, new, h = trace.gates["update"], trace.gates["new"], trace.hidden
    previous = np.concatenate([np.zeros_like(h[:, :1]), h[:, :-1]], axis=1)
    np.testing.assert_allclose(h, (1 - z) * new + z * previous, atol=1e-6)
    assert set(trace.gates) == {"reset", "update", "new"}


def test_unroll_refuses_other_modules() -> None:
    with pytest.raises(TypeError, match="nn.RNN, nn.GRU or nn.LSTM"):
        unroll(nn.Linear(2, 2), torch.zeros(1, 2, 2))
