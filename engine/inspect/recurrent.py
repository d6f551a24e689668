"""The time lens: RNN, GRU and LSTM layers re-run as explicit cell loops.

torch's fused recurrent kernels return only the outputs and the final states; the
gates and the cell state at each step stay inside them. To show a learner what an
LSTM's forget gate does at step 37, `unroll` runs the same layer one step at a time
with the layer's own weights, for every stacked layer and both directions, and keeps
what each step computed. A test checks the loop against torch's outputs (≤ 1e-5).

The gate equations follow torch's documentation of nn.RNN, nn.GRU and nn.LSTM,
including where the biases go (GRU's b_hn sits inside the reset product) and the
order the gates are stacked in the weight matrices: GRU (r, z, n), LSTM (i, f, g, o).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

# Gate names in the order torch stacks them in weight_ih / weight_hh.
GATE_ORDER = {
    nn.LSTM: ("input", "forget", "cell_candidate", "output"),
    nn.GRU: ("reset", "update", "new"),
    nn.RNN: (),
}


@dataclass
class LayerTrace:
    """What one layer in one direction computed at each step, for every sample.

    Arrays are (N, T, hidden) and indexed by the sequence's own time t, also for the
    backward direction (which computes t = T-1 first). `gates` holds LSTM's input,
    forget, cell_candidate and output gates, or GRU's reset, update and new gates
    (empty for a plain RNN); `cell` is the LSTM's cell state, None otherwise.
    """

    layer: int
    direction: str  # "forward" or "backward"
    hidden: np.ndarray
    cell: np.ndarray | None = None
    gates: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class Unrolled:
    """The explicit loop's result for a whole block."""

    kind: str  # "RNN", "GRU" or "LSTM"
    output: torch.Tensor  # (N, T, hidden·directions): the last layer's outputs, as torch's
    traces: list[LayerTrace]

    def trace(self, layer: int, direction: str = "forward") -> LayerTrace:
        for trace in self.traces:
            if trace.layer == layer and trace.direction == direction:
                return trace
        raise KeyError(f"no layer {layer} {direction} in this {self.kind}")


def recurrent_kind(module: nn.Module) -> str | None:
    """ "RNN", "GRU" or "LSTM" for torch's recurrent layers, None for anything else."""
    for cls in (nn.LSTM, nn.GRU, nn.RNN):
        if type(module) is cls:
            return cls.__name__
    return None


def _weights(
    module: nn.RNNBase, layer: int, reverse: bool
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
    suffix = f"_l{layer}" + ("_reverse" if reverse else "")
    w_ih = getattr(module, f"weight_ih{suffix}")
    w_hh = getattr(module, f"weight_hh{suffix}")
    b_ih = getattr(module, f"bias_ih{suffix}", None) if module.bias else None
    b_hh = getattr(module, f"bias_hh{suffix}", None) if module.bias else None
    return w_ih, w_hh, b_ih, b_hh


def _linear(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None) -> torch.Tensor:
    return torch.nn.functional.linear(x, w, b)


def _run_direction(
    module: nn.RNNBase, x: torch.Tensor, layer: int, reverse: bool
) -> tuple[torch.Tensor, LayerTrace]:
    """One layer, one direction over x (N, T, F); returns its outputs (N, T, H) and trace."""
    w_ih, w_hh, b_ih, b_hh = _weights(module, layer, reverse)
    n, steps, _ = x.shape
    hidden_size = module.hidden_size
    h = x.new_zeros(n, hidden_size)
    c = x.new_zeros(n, hidden_size)
    # The input projection of every step at once: it does not depend on the state.
    projected = _linear(x, w_ih, b_ih)
    kind = type(module)
    names = GATE_ORDER[kind]
    hidden_steps: list[torch.Tensor] = [x.new_empty(0)] * steps
    cell_steps: list[torch.Tensor] = [x.new_empty(0)] * steps
    gate_steps: dict[str, list[torch.Tensor]] = {g: [x.new_empty(0)] * steps for g in names}
    order = range(steps - 1, -1, -1) if reverse else range(steps)
    for t in order:
        from_input = projected[:, t]
        from_state = _linear(h, w_hh, b_hh)
        if kind is nn.LSTM:
            i, f, g, o = (from_input + from_state).chunk(4, dim=1)
            i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
            c = f * c + i * g
            h = o * torch.tanh(c)
            values = (i, f, g, o)
            cell_steps[t] = c
        elif kind is nn.GRU:
            in_r, in_z, in_n = from_input.chunk(3, dim=1)
            st_r, st_z, st_n = from_state.chunk(3, dim=1)
            r = torch.sigmoid(in_r + st_r)
            z = torch.sigmoid(in_z + st_z)
            new = torch.tanh(in_n + r * st_n)  # b_hn is inside st_n, under the reset gate
            h = (1 - z) * new + z * h
            values = (r, z, new)
        else:
            pre = from_input + from_state
            h = torch.relu(pre) if module.nonlinearity == "relu" else torch.tanh(pre)
            values = ()
        hidden_steps[t] = h
        for name, value in zip(names, values):
            gate_steps[name][t] = value
    outputs = torch.stack(hidden_steps, dim=1)

    def as_array(parts: list[torch.Tensor]) -> np.ndarray:
        return torch.stack(parts, dim=1).detach().cpu().numpy()

    trace = LayerTrace(
        layer=layer,
        direction="backward" if reverse else "forward",
        hidden=outputs.detach().cpu().numpy(),
        cell=as_array(cell_steps) if kind is nn.LSTM else None,
        gates={name: as_array(parts) for name, parts in gate_steps.items()},
    )
    return outputs, trace


@torch.no_grad()
def unroll(module: nn.Module, x: torch.Tensor) -> Unrolled:
    """Run an nn.RNN/GRU/LSTM over x step by step and keep every step's states and gates.

    x is (N, T, F) when the layer is batch_first (as NetLoom builds it), else (T, N, F);
    the returned output has the same layout as torch's. Dropout between stacked layers
    is not applied: the lens shows the layer as it predicts (eval mode).
    """
    kind = recurrent_kind(module)
    if kind is None:
        raise TypeError(f"unroll takes nn.RNN, nn.GRU or nn.LSTM, got {type(module).__name__}")
    assert isinstance(module, nn.RNNBase)
    if getattr(module, "proj_size", 0):
        raise ValueError("the time lens does not cover LSTM with proj_size")
    if x.dim() != 3:
        raise ValueError(
            f"{kind} lens needs a batch of sequences (3-D input); got {tuple(x.shape)}"
        )
    layer_input = x if module.batch_first else x.transpose(0, 1)
    layer_input = layer_input.to(module.weight_ih_l0.dtype)
    traces: list[LayerTrace] = []
    directions = 2 if module.bidirectional else 1
    for layer in range(module.num_layers):
        outputs = []
        for direction in range(directions):
            out, trace = _run_direction(module, layer_input, layer, reverse=direction == 1)
            outputs.append(out)
            traces.append(trace)
        layer_input = torch.cat(outputs, dim=2)
    output = layer_input if module.batch_first else layer_input.transpose(0, 1)
    return Unrolled(kind, output, traces)
