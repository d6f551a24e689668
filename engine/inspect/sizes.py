"""Which input dimensions are free, and running a model at another input size.

A fully convolutional network has no weight whose shape depends on the image's height
or width, so the same weights run on a 48×48 or 64×64 image and the mask comes out at
that size. `free_dims` finds such dimensions with the shape pass alone: it re-runs it
with the Input's size along one axis multiplied, and calls the axis free when the graph
still checks and every block keeps its weight count. It also says whether the output
grows with it (an FCN's H and W do; an RNN's T is free but its 'last' output is not).

`free_dims` and `shape_at` import no torch; `predict_mask` does, when called.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.graph import Graph
from engine.shapes import Analysis, analyze

if TYPE_CHECKING:
    import numpy as np

    from engine.build import NetLoomModel

TRIAL_FACTORS = (2, 3)


@dataclass(frozen=True)
class FreeDim:
    """One axis of one Input block's sample shape (the batch axis not counted)."""

    input_id: str
    axis: int
    size: int
    free: bool  # the graph checks, with the same weights, at other sizes of this axis
    follows: bool  # the output's size along some axis changes in step with it


def shape_at(graph: Graph, input_id: str, shape: Sequence[int]) -> Analysis:
    """The shape pass on a copy of `graph` whose Input `input_id` takes `shape`."""
    trial = graph.copy()
    trial.node(input_id).params["shape"] = [int(d) for d in shape]
    return analyze(trial)


def _weights(analysis: Analysis) -> dict[str, int]:
    return {node: info.params for node, info in analysis.nodes.items()}


def _outputs(graph: Graph, analysis: Analysis) -> list[tuple[int, ...]]:
    found = []
    for node in graph.ids_of_role("output"):
        shape = analysis.nodes[node].shape
        found.append(shape.dims if shape is not None else ())
    return found


def free_dims(graph: Graph, factors: Sequence[int] = TRIAL_FACTORS) -> list[FreeDim]:
    """For every Input axis: is it free, and does the output follow it?

    Trial sizes are multiples of the current size, so pooling and strides that need
    divisible sizes meet sizes they divide. A graph that does not check as it is
    has no free axis.
    """
    base = analyze(graph)
    if not base.ok:
        return []
    base_weights, base_outputs = _weights(base), _outputs(graph, base)
    found = []
    for input_id in graph.ids_of_role("input"):
        shape = list(graph.node(input_id).params["shape"])
        for axis, size in enumerate(shape):
            free, follows = True, True
            for factor in factors:
                trial_shape = list(shape)
                trial_shape[axis] = size * factor
                trial = shape_at(graph, input_id, trial_shape)
                if not trial.ok or _weights(trial) != base_weights:
                    free = follows = False
                    break
                grown = [
                    any(t == b * factor and b > 0 for t, b in zip(new, old))
                    for new, old in zip(_outputs(graph, trial), base_outputs)
                ]
                follows = follows and any(grown)
            found.append(FreeDim(input_id, axis, size, free, free and follows))
    return found


def predict_mask(model: NetLoomModel, image: Any, loss: str = "cross_entropy") -> np.ndarray:
    """Run a segmentation model on one image (C, H, W) of any size it accepts: (H, W) classes.

    `loss` is the Output block's: cross_entropy scores one channel per class (the mask
    takes the best), bce one yes/no channel (class 1 where the score is positive).
    """
    import torch

    from engine.inspect.activations import evaluating

    x = torch.as_tensor(image).float()
    if x.dim() != 3:
        raise ValueError(f"predict_mask takes one image (C, H, W); got {tuple(x.shape)}")
    with torch.no_grad(), evaluating(model):
        scores = model(x.unsqueeze(0))
    if scores.dim() != 4:
        raise ValueError(f"the model gives {tuple(scores.shape)}, not per-pixel scores")
    mask = (scores[0, 0] > 0).long() if loss == "bce" else scores[0].argmax(dim=0)
    return mask.cpu().numpy()


def sample_at_size(
    dataset: str, params: dict[str, Any], size: int, base_dir: Any = None
) -> tuple[np.ndarray, np.ndarray] | None:
    """One sample (x, y) of a generated dataset made at another `size`, or None when the
    dataset has no size to choose (a person's own files, the digits)."""
    from engine.data import get_dataset_spec, load_dataset

    spec = get_dataset_spec(dataset)
    names = {p.name for p in spec.params}
    if "size" not in names:
        return None
    changed = {**params, "size": size}
    if "samples" in names:
        changed["samples"] = max(int(spec.param("samples").minimum or 1), 1)
    data = load_dataset(dataset, changed, base_dir)
    return data.x[0], data.y[0]
