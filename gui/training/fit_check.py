"""Does the graph fit the chosen data? The picker's one-line answer, naming blocks.

Uses the trainer's own check (`engine.train.fit.plan_objective`), so the panel says
before Start exactly what Start would refuse. Torch-free.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.data import ArrayDataset
from engine.graph import Graph
from engine.spec import Shape
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
