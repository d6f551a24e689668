"""Does this graph fit this data? Checked before any training starts.

`plan_objective` checks that the graph has no errors, exactly one Input and one
Output, that the Input takes the data's samples (engine.data.check_fits) and that the
Output suits the task (one score per class for cross_entropy, one value per target
for mse, ...). It returns what the trainer needs to know; every problem is a
`FitError` whose message names the block, the data's shape and the expected one.
Torch-free.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Protocol

from engine.blocks.spec import Shape
from engine.graph.graph import Graph
from engine.graph.memory import available_bytes, estimate, too_large
from engine.graph.shapes import Analysis, analyze
from engine.train.config import TrainConfig


class FitError(Exception):
    """The graph cannot train on the data; `problems` lists each, naming its block."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


class Dataset(Protocol):
    """What the trainer reads of a dataset (engine.data.ArrayDataset has it all)."""

    name: str
    x: Any  # numpy array (samples, *sample_shape)
    y: Any  # numpy array: (samples,) classes, (samples, H, W) masks, (samples, *target)
    task: str
    sample_shape: tuple[int, ...]
    sequence: bool
    num_classes: int | None
    ordered: bool  # samples in time order: validate on the tail, not a random subset


@dataclass(frozen=True)
class Objective:
    """What to optimise and measure, decided from the Output block and the task."""

    input_id: str
    output_id: str
    input_dtype: str  # "float32" or "int64", from the Input block
    loss: str  # cross_entropy | mse | bce
    task: str
    num_classes: int | None
    output_dims: tuple[int, ...]  # the model's output per sample (after N)
    metric: str  # the primary metric


def _one_of_role(graph: Graph, role: str, block: str) -> str:
    ids = graph.ids_of_role(role)
    if len(ids) != 1:
        found = f"{len(ids)} ({', '.join(ids)})" if ids else "none"
        raise FitError([f"training needs exactly one {block} block; this graph has {found}"])
    return ids[0]


def class_count(data: Dataset) -> int:
    if data.num_classes:
        return int(data.num_classes)
    return int(data.y.max()) + 1 if len(data.y) else 0


def _show_dims(dims: tuple[int, ...]) -> str:
    return "(" + ", ".join(["N", *(str(d) for d in dims)]) + ")"


def _output_problem(out_id: str, loss: str, out: Shape, source: str, data: Dataset) -> str | None:
    """Why the Output does not suit the data's task, or None if it does."""
    got = f"got {out} from {source}"
    where = f"{out_id}: Output with loss {loss}"
    if data.task == "regression":
        if loss != "mse":
            return f"{where} does not fit {data.name}, a regression dataset; use loss mse"
        target = tuple(int(d) for d in data.y.shape[1:])
        if out.numel() != math.prod(target):
            return (
                f"{where} needs one value per target, {_show_dims(target)} for {data.name}; {got}"
            )
        return None
    classes = class_count(data)
    spatial = tuple(int(d) for d in data.y.shape[1:])  # () for classification, (H, W) masks
    if loss == "cross_entropy":
        expected = (classes, *spatial)
        what = "one score per class" if not spatial else "one score per class and pixel"
    elif loss == "bce":
        if classes != 2:
            return (
                f"{where} is for two classes, but {data.name} has {classes}; use loss cross_entropy"
            )
        expected = (1, *spatial)
        what = "one yes/no score" if not spatial else "one yes/no score per pixel"
    else:
        return f"{where} does not fit {data.name}, a {data.task} dataset; use loss cross_entropy"
    if out.time or out.dims != expected:
        return (
            f"{where} needs {what}, {_show_dims(expected)} for the {classes} classes of "
            f"{data.name}; {got}"
        )
    return None


def plan_objective(
    graph: Graph, data: Dataset, config: TrainConfig, analysis: Analysis | None = None
) -> Objective:
    """Check graph against data; raise FitError naming the block, else say what to train."""
    from engine.data import check_fits  # lazily: the data loaders bring their own imports

    analysis = analysis or analyze(graph)
    if not analysis.ok:
        raise FitError([p.message for p in analysis.problems])
    # Refused before torch allocates anything, with how much it would take.
    need = estimate(analysis, config.batch_size).training
    if problem := too_large(need, f"to train at batch {config.batch_size}", available_bytes()):
        raise FitError([problem])
    input_id = _one_of_role(graph, "input", "Input")
    output_id = _one_of_role(graph, "output", "Output")
    problems = []
    inp = graph.node(input_id)
    message = check_fits(tuple(inp.params["shape"]), inp.params["sequence"], data, input_id)
    if message:
        problems.append(message)
    data_dtype = "int64" if data.x.dtype.kind in "iu" else "float32"
    if data_dtype != inp.params["dtype"]:
        problems.append(
            f"{input_id}: Input has dtype {inp.params['dtype']} but {data.name} gives "
            f"{data_dtype} values; set the Input's dtype to {data_dtype}"
        )
    loss = graph.node(output_id).params["loss"]
    out_shape = analysis.nodes[output_id].shape
    assert out_shape is not None  # the analysis is ok
    if loss == "none":
        problems.append(f"{output_id}: Output has loss 'none'; choose the loss to train with")
    else:
        source = graph.incoming(output_id)["x"]
        if message := _output_problem(output_id, loss, out_shape, source, data):
            problems.append(message)
    if problems:
        raise FitError(problems)
    task = data.task
    return Objective(
        input_id=input_id,
        output_id=output_id,
        input_dtype=inp.params["dtype"],
        loss=loss,
        task=task,
        num_classes=None if task == "regression" else class_count(data),
        output_dims=out_shape.dims,
        metric=config.resolve_metric(task),
    )
