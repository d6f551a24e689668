"""Does the graph fit the chosen data? The picker's one-line answer, naming blocks.

Uses the trainer's own check (`engine.train.fit.plan_objective`), so the panel says
before Start exactly what Start would refuse. Torch-free.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.blocks.spec import Shape
from engine.data import ArrayDataset
from engine.graph.graph import Graph
from engine.graph.shapes import analyze
from engine.train.config import ConfigError, TrainConfig, default_config
from engine.train.fit import FitError, plan_objective

SHOWN_PROBLEMS = 3


@dataclass(frozen=True)
class FitReport:
    ok: bool
    text: str


def data_shape(data: ArrayDataset) -> str:
    """What the data feeds the Input block, as the canvas writes shapes: (N, T, 1, 32, 32)."""
    if data.sequence and not data.sample_shape:
        return "(N, T)"
    return str(Shape(tuple(data.sample_shape), time=data.sequence))


def describe_data(data: ArrayDataset) -> str:
    what = data.task
    if data.task != "regression" and data.num_classes:
        what += f", {data.num_classes} classes"
    return f"{len(data):,} samples of {data_shape(data)} · {what}"


def fit_report(graph: Graph, data: ArrayDataset, training: dict[str, Any]) -> FitReport:
    try:
        config = TrainConfig.from_dict(training)
    except ConfigError:
        config = default_config(data.name)
    try:
        objective = plan_objective(graph, data, config)
    except FitError as err:
        problems = err.problems[:SHOWN_PROBLEMS]
        if len(err.problems) > SHOWN_PROBLEMS:
            problems.append(f"… and {len(err.problems) - SHOWN_PROBLEMS} more")
        return FitReport(False, "\n".join(problems))
    except ConfigError as err:
        return FitReport(False, str(err))
    return FitReport(
        True,
        f"✓ Input {objective.input_id!r} takes {data_shape(data)}; Output "
        f"{objective.output_id!r} trains with {objective.loss}, reporting {objective.metric}",
    )


def feeding_the_output(graph: Graph) -> set[str]:
    """Ids of the Output blocks and of every block whose values flow into one."""
    reached = set(graph.ids_of_role("output"))
    todo = list(reached)
    while todo:
        for source in graph.incoming(todo.pop()).values():
            if source not in reached:
                reached.add(source)
                todo.append(source)
    return reached


def train_refusal(graph: Graph, data: ArrayDataset | None, training: dict[str, Any]) -> str | None:
    """Why Train must not start, in one line naming the block; None when it may.

    A block with an error is refused even when it feeds nothing toward the Output (a
    dangling Conv2d with a bad input): the model is built from every block, as the
    exported code is, and a block whose shape cannot be worked out cannot be built. The
    line says the block is dangling, so deleting or wiring it is the obvious fix.
    Without loaded `data` only the graph is checked; the run checks the data itself.
    """
    analysis = analyze(graph)
    problems: list[str] = []
    if analysis.problems:
        useful = feeding_the_output(graph) if graph.ids_of_role("output") else None
        for problem in analysis.problems:
            message = problem.message
            if useful is not None and problem.node is not None and problem.node not in useful:
                message = (
                    f"{problem.node} feeds nothing toward the Output, and {message} "
                    f"(delete the block or wire it on)"
                )
            problems.append(message)
    elif data is not None:
        try:
            config = TrainConfig.from_dict(training)
            plan_objective(graph, data, config, analysis)
        except FitError as err:
            problems = list(err.problems)
        except ConfigError as err:
            problems = [str(err)]
    else:
        for role, block in (("input", "Input"), ("output", "Output")):
            found = graph.ids_of_role(role)
            if len(found) != 1:
                what = f"{len(found)} ({', '.join(found)})" if found else "none"
                problems.append(f"training needs exactly one {block} block; this graph has {what}")
    if not problems:
        return None
    line = "Cannot train: " + problems[0]
    if len(problems) > 1:
        line += f" (and {len(problems) - 1} more problem{'s' * (len(problems) > 2)}: see Summary)"
    return line
