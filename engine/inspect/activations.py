"""What each block computes for a sample: its output, and how to show it.

`capture` runs a built NetLoomModel once and keeps every block's output, named by node
id — functional blocks (Add, Concat, Reshape, global pooling) included, which forward
hooks on submodules would miss. It walks the model's own `steps` with the same runners
the model's `forward` uses, so it computes exactly what the model computes. It runs
only when called: nothing is recorded while a model trains.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from torch import nn

from engine.blocks.spec import Shape
from engine.graph.shapes import Analysis
from engine.model.build import RUNNERS, NetLoomModel, keep_result

ViewKind = Literal["feature_maps", "frames", "vector", "sequence", "channels", "volume", "other"]


def view_kind(shape: Shape) -> ViewKind:
    """How a block's output (one sample) is best drawn.

    feature_maps (C, H, W): a grid of maps; frames (T, C, H, W): a T × channels strip;
    vector (F,): bars; sequence (T, F): a heatmap over time; channels (C, L): a heatmap
    of each channel along its length (Conv1d); volume (C, D, H, W): a depth × channels
    strip (Conv3d); other: anything else, drawn flattened.
    """
    features = shape.features
    if shape.time:
        if len(features) == 3:
            return "frames"
        if len(features) == 1:
            return "sequence"
        return "other"
    return {1: "vector", 2: "channels", 3: "feature_maps", 4: "volume"}.get(len(features), "other")


@dataclass
class BlockActivation:
    """One block's output for one sample (the batch axis removed)."""

    node: str
    kind: ViewKind
    array: np.ndarray


def run_steps(
    model: NetLoomModel, inputs: tuple[torch.Tensor, ...], watch: tuple[str, ...] = ()
) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """The model's forward pass, keeping every node's output (inputs included).

    The same walk as NetLoomModel.forward, minus the early release of values: here
    keeping them is the point. For each node in `watch`, its (first) input enters the
    block as a fresh leaf that requires grad, returned in the second dict, so a caller
    can ask how the loss depends on exactly what that block received.
    """
    if len(inputs) != len(model.input_ids):
        raise TypeError(f"the model takes {len(model.input_ids)} input(s), got {len(inputs)}")
    values = dict(zip(model.input_ids, inputs, strict=True))
    watched: dict[str, torch.Tensor] = {}
    for step in model.steps:
        xs = [values[s] for s in step.sources]
        if step.node in watch:
            xs[0] = xs[0].detach().requires_grad_(True)
            watched[step.node] = xs[0]
        keep_result(values, step, RUNNERS[step.op.kind](model, step, xs))
    return values, watched


class evaluating:
    """Context: the model in eval mode (no dropout, BatchNorm's running stats), then restored."""

    def __init__(self, model: nn.Module) -> None:
        self.model = model
        self.was_training = model.training

    def __enter__(self) -> nn.Module:
        self.model.eval()
        return self.model

    def __exit__(self, *exc: object) -> None:
        self.model.train(self.was_training)


def capture(
    model: NetLoomModel, analysis: Analysis, sample: torch.Tensor | np.ndarray
) -> list[BlockActivation]:
    """Every block's output for one sample (no batch axis), in the model's order.

    `analysis` is the shape pass of the graph the model was built from; it says which
    axis is time, so frames and sequences are told apart from images.
    """
    x = torch.as_tensor(sample)
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    with torch.no_grad(), evaluating(model):
        values, _ = run_steps(model, (x.unsqueeze(0).to(device),))
    found = []
    for node, value in values.items():
        info = analysis.nodes.get(node)
        if info is None or info.shape is None:
            continue
        found.append(BlockActivation(node, view_kind(info.shape), value[0].detach().cpu().numpy()))
    return found


@dataclass
class Filters:
    """The first convolution's weights: (out_channels, in_channels, *kernel)."""

    node: str
    weights: np.ndarray


def first_conv_filters(model: NetLoomModel) -> Filters | None:
    """The weights of the first Conv1d/2d/3d in the model's order, or None without one."""
    for step in model.steps:
        module = model._modules.get(step.node)
        if isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Conv3d)):
            return Filters(step.node, module.weight.detach().cpu().numpy().copy())
    return None


def copy_for_inspection(model: NetLoomModel) -> NetLoomModel:
    """An independent CPU copy of the model, to look into while the original trains on.

    Take it where the weights are consistent — in a trainer callback, between batches —
    and hand the copy to another thread; the probes here set eval mode and compute
    gradients on it without touching the original's weights, mode or `.grad`.
    """
    duplicate = copy.deepcopy(model).cpu()
    for param in duplicate.parameters():
        param.grad = None
    return duplicate
