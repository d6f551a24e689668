"""Gradients a learner can look at: through time, and through the blocks while training.

`gradient_through_time` answers "how much does the loss depend on what this recurrent
block saw at step t?" — ‖∂loss/∂x_t‖ per sample and step. A plain RNN's answer for early
steps is vanishingly small; an LSTM's is not.

`FlowProbe` measures, every K training batches, each block's gradient norm and the size
of the last optimizer step relative to its weights. Those norms do not show a plain RNN's
trouble (its weights' gradient comes mostly from the last steps, as large as a Dense's);
`through_time_ratio` does: the gradient reaching a sequence's first steps ÷ its last.
`weight_histograms` and `activation_histograms` summarise distributions once per epoch.
Everything returns plain floats and numpy arrays, so a GUI thread can receive them as
they are.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from engine.inspect.activations import evaluating, run_steps
from engine.inspect.histograms import BINS, Histogram, histogram
from engine.model.build import NetLoomModel

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def gradient_through_time(
    model: NetLoomModel, loss_fn: LossFn, x: torch.Tensor, y: torch.Tensor, node: str
) -> np.ndarray:
    """‖∂loss_i/∂x_(i,t)‖ for each sample i of the batch x and each step t: (N, T).

    x_t is what block `node` receives at step t (its input sequence, (N, T, F)); the
    norm is over the features. loss_i is the project's loss on sample i alone: the
    batch loss (a mean over samples) times N, whose gradient with respect to sample i's
    input is that sample's own loss gradient (in eval mode samples do not interact).
    """
    if node not in model._modules and node not in {s.node for s in model.steps}:
        raise KeyError(f"{node}: no such block in the model")
    with torch.enable_grad(), evaluating(model):
        values, watched = run_steps(model, (x,), watch=(node,))
        output = values[model.output_ids[0]]
        loss = loss_fn(output, y) * x.shape[0]
        (grad,) = torch.autograd.grad(loss, [watched[node]])
    return grad.flatten(2).norm(dim=2).detach().cpu().numpy()


# ------------------------------------------------------------- gradient flow


def blocks_with_weights(model: nn.Module) -> dict[str, list[nn.Parameter]]:
    """Trainable parameters grouped by block (the first part of their name is the node id)."""
    groups: dict[str, list[nn.Parameter]] = {}
    for name, param in model.named_parameters():
        if param.requires_grad:
            groups.setdefault(name.split(".", 1)[0], []).append(param)
    return groups


def _norm(tensors: Iterable[torch.Tensor]) -> float:
    squares = [t.detach().float().square().sum() for t in tensors]
    return float(torch.stack(squares).sum().sqrt()) if squares else 0.0


@dataclass(frozen=True)
class BlockFlow:
    """One block's gradient and step size at one moment of training."""

    node: str
    grad_norm: float  # ‖∂loss/∂W‖ over all the block's weights, from the last backward
    weight_norm: float
    update_ratio: float | None  # ‖ΔW‖ / ‖W‖ of the last optimizer step; None if unknown


def gradient_flow(
    model: nn.Module, before_step: dict[str, list[torch.Tensor]] | None = None
) -> list[BlockFlow]:
    """Per block with weights: gradient norm, weight norm and update/weight ratio.

    Call after `backward` (the gradients are read from `.grad`; a block without any is
    reported with norm 0). `before_step` holds the weights as they were before the last
    optimizer step (see `snapshot_weights`); without it the ratio is None.
    """
    flows = []
    for node, params in blocks_with_weights(model).items():
        grads = [p.grad for p in params if p.grad is not None]
        weight_norm = _norm(params)
        ratio = None
        if before_step is not None and node in before_step:
            update = _norm(p.detach() - old for p, old in zip(params, before_step[node]))
            ratio = update / weight_norm if weight_norm > 0 else float("inf")
        flows.append(BlockFlow(node, _norm(grads), weight_norm, ratio))
    return flows


def snapshot_weights(model: nn.Module) -> dict[str, list[torch.Tensor]]:
    """A copy of every block's weights, to measure the next optimizer step against."""
    return {
        node: [p.detach().clone() for p in params]
        for node, params in blocks_with_weights(model).items()
    }


class FlowProbe:
    """Gradient flow every `every` batches, for a trainer's `on_batch_end` callback.

    The trainer calls on_batch_end after the optimizer step, with the step's gradients
    still in `.grad`. The batch before a measured one, the probe copies the weights
    (they are then the weights the measured step starts from), so the ratio is that of
    exactly one step. Between those two batches it costs nothing. `every` may change
    between calls (a caller pacing the probe to a time budget): it counts from the last
    measured batch, and a copy that is not of the step just taken gives no ratio.

        probe = FlowProbe(trainer.model, every=20)

        def on_batch_end(event: BatchEnd) -> None:
            flows = probe.after_batch()
            if flows is not None:
                queue.put((event.epoch, event.batch, flows))  # plain floats: safe to pass on
    """

    def __init__(self, model: nn.Module, every: int = 20) -> None:
        if every < 1:
            raise ValueError(f"every: expected an integer ≥ 1, got {every}")
        self.model = model
        self.batches = 0
        self.measured_at = 0  # the batch of the last measurement (0: none yet)
        self._before: dict[str, list[torch.Tensor]] | None = None
        self._before_at = -1  # the batch after which `_before` was copied
        self.every = every

    @property
    def every(self) -> int:
        return self._every

    @every.setter
    def every(self, every: int) -> None:
        """Batches from the last measurement to the next; if the next one is now the
        coming batch, the weights are copied at once (so its ratio is known)."""
        self._every = max(int(every), 1)
        if self.batches + 1 == self.next_at and self._before_at != self.batches:
            self._before, self._before_at = snapshot_weights(self.model), self.batches

    @property
    def next_at(self) -> int:
        return self.measured_at + self._every

    def after_batch(self) -> list[BlockFlow] | None:
        """Count a finished batch; every `every` batches return the flow, else None."""
        self.batches += 1
        flows = None
        if self.batches >= self.next_at:
            one_step = self._before if self._before_at == self.batches - 1 else None
            flows = gradient_flow(self.model, one_step)
            self._before, self.measured_at = None, self.batches
        if self.batches + 1 == self.next_at:
            self._before, self._before_at = snapshot_weights(self.model), self.batches
        return flows


def through_time_ratio(grad_norms: np.ndarray, steps: int = 10) -> float:
    """How much of the gradient reaches a sequence's first steps: the mean ‖∂loss/∂x_t‖
    over the first `steps` steps ÷ the mean over the last `steps` (a quarter of the
    sequence each when it is shorter than 4 × steps). `grad_norms`: (N, T) or (T,).

    A plain RNN that carries nothing from early steps gives ~1e-20 or 0 (underflow); a
    recurrent net that has learned to remember, ~1e-2 and above. 0 when nothing reaches
    the last steps either.
    """
    per_step = np.asarray(grad_norms, dtype=np.float64)
    per_step = per_step.reshape(-1, per_step.shape[-1]).mean(axis=0)
    k = max(1, min(steps, len(per_step) // 4))
    last = float(per_step[-k:].mean())
    return float(per_step[:k].mean()) / last if last > 0 else 0.0


# ---------------------------------------------------------------- histograms


def weight_histograms(model: nn.Module, bins: int = BINS) -> dict[str, Histogram]:
    """Per block with weights, the distribution of all its weights (biases included)."""
    return {
        node: histogram(np.concatenate([p.detach().cpu().numpy().ravel() for p in params]), bins)
        for node, params in blocks_with_weights(model).items()
    }


def activation_histograms(
    model: NetLoomModel, x: torch.Tensor, bins: int = BINS
) -> dict[str, Histogram]:
    """Per block (inputs excluded), the distribution of its outputs over the batch x."""
    with torch.no_grad(), evaluating(model):
        values, _ = run_steps(model, (x,))
    return {
        node: histogram(value.detach().float().cpu().numpy(), bins)
        for node, value in values.items()
        if node not in model.input_ids and value.is_floating_point()
    }
