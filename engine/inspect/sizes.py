"""Which input dimensions are free, and running a model at another input size.

A fully convolutional network has no weight whose shape depends on the image's height
or width, so the same weights run on a 48×48 or 64×64 image and the mask comes out at
that size. `free_dims` finds such dimensions with the shape pass alone: it re-runs it
with the Input's size along one axis multiplied, and calls the axis free when the graph
still checks and every block keeps its weight count. It also says whether the output
grows with it (an FCN's H and W do; an RNN's T is free but its 'last' output is not).

`size_rule` goes one step further for the axes the output follows: which sizes work
(a net that pools twice by 2 and upsamples back gives a mask of the input's size only
for multiples of 4), so a label can say "H, W: any multiple of 4".

`free_dims`, `shape_at`, `size_rule` and `describe_free` import no torch; `predict_mask`
does, when called.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.blocks.spec import Shape
from engine.graph.graph import Graph
from engine.graph.shapes import Analysis, analyze

if TYPE_CHECKING:
    import numpy as np

    from engine.model.build import NetLoomModel

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


def axis_names(shape: Shape) -> tuple[str, ...]:
    """Names of a sample's axes after N: (C, H, W), (T, C, H, W), (C, D, H, W), (T, F),
    (C, L) or (F,); a rank with no usual reading gets d0, d1, …."""
    by_rank = {1: ("F",), 2: ("C", "L"), 3: ("C", "H", "W"), 4: ("C", "D", "H", "W")}
    features = len(shape.features)
    names = by_rank.get(features, tuple(f"d{i}" for i in range(features)))
    return ("T", *names) if shape.time else names


def _axis_rule(graph: Graph, input_id: str, axis: int, base: Analysis) -> tuple[int, int]:
    """(step, smallest) for one axis the output follows: sizes `smallest`, `smallest` +
    `step`, … run with the same weights and the output's following axes scale exactly
    with it (a mask of a 48×48 image is 48×48, not 44×44 after flooring pools)."""
    native = [int(d) for d in graph.node(input_id).params["shape"]]
    n = native[axis]

    def trial(size: int) -> Analysis | None:
        shape = list(native)
        shape[axis] = size
        found = shape_at(graph, input_id, shape)
        return found if found.ok and _weights(found) == _weights(base) else None

    old = _outputs(graph, base)
    doubled = trial(2 * n)
    if doubled is None:
        return n, n
    follow = [
        {j for j, (t, b) in enumerate(zip(new, outs)) if b > 0 and t == 2 * b}
        for new, outs in zip(_outputs(graph, doubled), old)
    ]

    def runs(size: int) -> bool:
        found = trial(size)
        if found is None:
            return False
        for new, outs, scaled in zip(_outputs(graph, found), old, follow):
            for j, (t, b) in enumerate(zip(new, outs)):
                if (t * n != b * size) if j in scaled else (t != b):
                    return False
        return True

    step = next((d for d in range(1, n) if n % d == 0 and runs(n + d)), n)
    smallest = next((k * step for k in range(1, n // step + 1) if runs(k * step)), n)
    return step, smallest


@dataclass(frozen=True)
class SizeRule:
    """The sizes one Input takes along the axes its output follows (an FCN's H and W)."""

    input_id: str
    axes: tuple[int, ...]  # axis numbers in the Input's shape (the batch axis not counted)
    names: tuple[str, ...]  # "H", "W"
    native: tuple[int, ...]  # the sizes the project has now
    step: int  # every multiple of `step` from `smallest` works, with the same weights
    smallest: int

    def describe(self) -> str:
        axes = ", ".join(self.names)
        if self.step == 1:
            sizes = "any size"
        else:
            sizes = f"any multiple of {self.step}"
        if self.smallest > self.step:
            sizes += f" from {self.smallest}"
        return f"{axes}: {sizes} (same weights; {'×'.join(map(str, self.native))} now)"

    def square_sizes(self, candidates: Sequence[int]) -> list[int]:
        """Which of `candidates` this rule allows (the same size on every axis)."""
        return [s for s in candidates if s >= self.smallest and s % self.step == 0]


def size_rule(
    graph: Graph, input_id: str, dims: Sequence[FreeDim] | None = None
) -> SizeRule | None:
    """The rule for the axes of `input_id` that are free and that the output follows, or
    None when there are none. Per axis, the step is the smallest divisor d of the native
    size for which native + d still runs (an analysis per divisor tried); the rule keeps
    the sizes that suit every axis (the least common multiple of their steps)."""
    base = analyze(graph)
    if not base.ok or base.nodes[input_id].shape is None:
        return None
    dims = free_dims(graph) if dims is None else dims
    axes = tuple(d.axis for d in dims if d.input_id == input_id and d.free and d.follows)
    if not axes:
        return None
    native = [int(d) for d in graph.node(input_id).params["shape"]]
    names = axis_names(base.nodes[input_id].shape)
    rules = [_axis_rule(graph, input_id, axis, base) for axis in axes]
    step = math.lcm(*(s for s, _ in rules))
    smallest = -(-max(low for _, low in rules) // step) * step
    return SizeRule(
        input_id, axes, tuple(names[a] for a in axes), tuple(native[a] for a in axes), step,
        smallest,
    )  # fmt: skip


@dataclass(frozen=True)
class FreeSizes:
    """How one Input's free axes read: its shape with them named, and a line of words."""

    shape: str  # "(N, 1, H=32, W=32)": free axes by name, with the size they have now
    text: str  # "H, W: any multiple of 4 (same weights; 32×32 now)"; "" when none is free


def describe_free(graph: Graph, input_id: str) -> FreeSizes:
    """The free axes of one Input: those the output follows (with their rule) and those
    it does not (an RNN's T with a last-step output)."""
    base = analyze(graph)
    info = base.nodes.get(input_id)
    if not base.ok or info is None or info.shape is None:
        return FreeSizes("", "")
    shape = info.shape
    dims = [d for d in free_dims(graph) if d.input_id == input_id]
    parts = []
    rule = size_rule(graph, input_id, dims)
    if rule is not None:
        parts.append(rule.describe())
    names = axis_names(shape)
    unfollowed = [names[d.axis] for d in dims if d.free and not d.follows]
    if unfollowed:
        parts.append(f"{', '.join(unfollowed)}: any length (same weights, same output size)")
    free = {d.axis for d in dims if d.free}
    labels = ["N"] + [
        f"{names[axis]}={size}" if axis in free else str(size)
        for axis, size in enumerate(shape.dims)
    ]
    return FreeSizes("(" + ", ".join(labels) + ")", "; ".join(parts))


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
    dataset: str,
    params: dict[str, Any],
    size: int,
    base_dir: Any = None,
    number: int = 0,
    preprocessing: dict[str, Any] | None = None,
) -> tuple[np.ndarray, np.ndarray] | None:
    """One sample (x, y) of a generated dataset made at another `size`, or None when the
    dataset has no size to choose (a person's own files, the digits). Another `number`
    draws another sample (the seed moves on by it). The sample is prepared as the model's
    run prepared its data (`preprocessing`, the transforms it fitted; see
    engine.data.as_trained)."""
    from engine.data import get_dataset_spec, load_dataset
    from engine.data.as_trained import prepared_samples

    spec = get_dataset_spec(dataset)
    names = {p.name for p in spec.params}
    if "size" not in names:
        return None
    changed = {**params, "size": size}
    if "samples" in names:
        changed["samples"] = max(int(spec.param("samples").minimum or 1), 1)
    if "seed" in names and number:
        seed = int(params.get("seed", spec.param("seed").default)) + number
        changed["seed"] = seed % (int(spec.param("seed").maximum or 2**32 - 1) + 1)
    x, y = prepared_samples(load_dataset(dataset, changed, base_dir), preprocessing)
    return x[0], y[0]
