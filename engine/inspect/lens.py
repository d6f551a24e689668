"""The time lens of one recurrent block for one sample: states, gates and ‖∂loss/∂x_t‖."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from engine.inspect.activations import evaluating, run_steps
from engine.inspect.gradients import LossFn
from engine.inspect.recurrent import LayerTrace, recurrent_kind, unroll
from engine.model.build import NetLoomModel


@dataclass
class TimeLens:
    """Everything the lens shows for one sample; trace arrays are (T, hidden)."""

    node: str
    kind: str  # "RNN", "GRU" or "LSTM"
    traces: list[LayerTrace]
    grad_norm: np.ndarray  # (T,): ‖∂loss/∂x_t‖ of the block's input at each step


def recurrent_blocks(model: NetLoomModel) -> list[str]:
    """Node ids of the model's RNN, GRU and LSTM blocks, in order."""
    return [s.node for s in model.steps if recurrent_kind(model._modules.get(s.node)) is not None]


def _one(trace: LayerTrace) -> LayerTrace:
    """The first sample's slice of a batch trace."""
    return LayerTrace(
        trace.layer,
        trace.direction,
        trace.hidden[0],
        None if trace.cell is None else trace.cell[0],
        {name: value[0] for name, value in trace.gates.items()},
    )


def time_lens(
    model: NetLoomModel,
    loss_fn: LossFn,
    sample: torch.Tensor | np.ndarray,
    target: torch.Tensor | np.ndarray,
    node: str,
) -> TimeLens:
    """The lens of block `node` for one sample and its target (no batch axes).

    One forward pass gives what the block receives and the loss's gradient with respect
    to it; the explicit loop then re-runs the block on that input with its own weights.
    """
    module = model._modules.get(node)
    kind = recurrent_kind(module) if module is not None else None
    if kind is None:
        raise ValueError(f"{node}: the time lens is for RNN, GRU and LSTM blocks")
    device = next(model.parameters()).device
    x = torch.as_tensor(sample).unsqueeze(0).to(device)
    y = torch.as_tensor(target).unsqueeze(0).to(device)
    with torch.enable_grad(), evaluating(model):
        values, watched = run_steps(model, (x,), watch=(node,))
        loss = loss_fn(values[model.output_ids[0]], y)
        (grad,) = torch.autograd.grad(loss, [watched[node]])
    received = watched[node].detach()
    with evaluating(model):
        unrolled = unroll(module, received)
    grad_norm = grad[0].flatten(1).norm(dim=1).cpu().numpy()
    return TimeLens(node, kind, [_one(t) for t in unrolled.traces], grad_norm)
