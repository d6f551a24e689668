"""`check`'s look at a person's data: does the project fit the file it trains on?

A bounded read (engine.data.peek: a table's first rows, an NPZ's headers, an image
folder's listing and first images) gives a dataset of no samples with the shapes
training would see; the trainer's own fit check (engine.train.fit.plan_objective) then
says whether the Input takes its samples and the Output suits its task and classes.
Each problem is one line naming the file and the fix: `python main.py adapt …`, or
"Use my data…" in the window. Torch is not imported.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from engine.data.peek import Peek, peek
from engine.data.registry import ArrayDataset, DataError
from engine.graph.shapes import Analysis, Shape
from engine.project.project import Project

IN_THE_WINDOW = 'or "Use my data…" in the window\'s File menu'


@dataclass
class DataVerdict:
    """What `check` found in the data: `unreadable` (exit 2) is a file that cannot be
    read or a setting naming what is not there; `problems` (exit 1) is data the graph
    does not fit. `summary` says what the data feeds, `notes` what training would change."""

    summary: str | None = None
    unreadable: str | None = None
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def shown(path: Path) -> str:
    """A path as a user would type it here: relative to the working folder when inside it."""
    try:
        return (
            os.path.relpath(path)
            if path.is_absolute() and path.is_relative_to(Path.cwd())
            else str(path)
        )
    except (OSError, ValueError):
        return str(path)


# The adapt options that carry a dataset param over (adapt would choose them again).
ADAPT_OPTIONS = ("target", "time", "window", "horizon")


def adapt_command(project_path: Path, data: str, params: dict[str, Any], ask: str = "") -> str:
    """The `adapt` command line that points this project at `data` and makes it fit,
    keeping the project's target, time column, window and horizon; `ask` is the one
    option the user must fill in ("--target COLUMN")."""
    asked = ask.split()[0] if ask else ""
    options = [
        f"--{key} {shlex.quote(str(params[key]))}"
        for key in ADAPT_OPTIONS
        if f"--{key}" != asked and params.get(key) not in (None, "")
    ]
    extra = "".join(f" {option}" for option in [*options, *([ask] if ask else [])])
    project = shlex.quote(shown(project_path))
    return f"python main.py adapt {project} --data {shlex.quote(data)}{extra} -o {project}"


def _data_path(project_path: Path, params: dict[str, Any]) -> str:
    """The dataset's path as the command line would take it (its own is relative to
    the project's folder)."""
    path = params.get("path")
    if not isinstance(path, str) or not path.strip():
        return "YOUR_DATA"
    return shown(project_path.parent / Path(path.strip()).expanduser())


def _fix_for(message: str, project_path: Path, params: dict[str, Any]) -> str:
    """The fix to add to a DataError's message, by the setting it names."""
    data = _data_path(project_path, params)
    if message.startswith("dataset.params.path:"):
        command = adapt_command(project_path, "YOUR_DATA", params)
        return f" — point the project at your data: {command} ({IN_THE_WINDOW})"
    if message.startswith("dataset.params.target:"):
        command = adapt_command(project_path, data, params, "--target COLUMN")
        return f" — choose one: {command} ({IN_THE_WINDOW})"
    if message.startswith("dataset.params.time:"):
        command = adapt_command(project_path, data, params, "--time COLUMN")
        return f" — name the time column: {command} ({IN_THE_WINDOW})"
    return ""


def check_data(project: Project, project_path: Path, analysis: Analysis) -> DataVerdict:
    """Look at the project's data when it is a person's file; an empty verdict for
    built-in and generated data or a project without training settings."""
    from engine.train.config import ConfigError, TrainConfig

    if not project.training:
        return DataVerdict()
    try:
        config = TrainConfig.from_dict(project.training)
    except ConfigError:
        return DataVerdict()  # reported by the settings check before this
    params = dict(config.dataset.params)
    try:
        look = peek(config.dataset.name, params, project_path.parent)
    except DataError as err:
        message = str(err)
        where = "training." if message.startswith("dataset.") else ""
        return DataVerdict(
            unreadable=f"{project_path}: {where}{message}{_fix_for(message, project_path, params)}"
        )
    if look is None:
        return DataVerdict()
    data = look.data
    verdict = DataVerdict(summary=_summary(look), notes=look.notes)
    if not analysis.ok:
        return verdict  # the graph's own errors come first; its fit is checked once they go
    from engine.train.fit import FitError, plan_objective

    data = _at_least(data, project, analysis, look.more_features, look.more_classes)
    try:
        plan_objective(project.graph, data, config, analysis)
    except FitError as err:
        command = adapt_command(project_path, shown(look.path), params)
        fix = f"{command} fits the project to it ({IN_THE_WINDOW})"
        verdict.problems = [f"{shown(look.path)}: {problem} — {fix}" for problem in err.problems]
    return verdict


def _summary(look: Peek) -> str:
    """One line: what the data feeds the Input, its task and classes, and what was read."""
    data = look.data
    shape = Shape(tuple(data.sample_shape), time=data.sequence)
    feeds = shape.detailed() if data.sequence else str(shape)
    if data.task == "regression":
        what = f"{data.task}, target {str(Shape(tuple(data.y.shape[1:])))}"
    elif data.num_classes:
        more = " or more" if look.more_classes else ""
        what = f"{data.task}, {data.num_classes} classes{more}"
    else:
        what = data.task
    return f"Data: {data.name} {shown(look.path)} feeds {feeds}; {what} (read: {look.read})"


def _at_least(
    data: ArrayDataset, project: Project, analysis: Analysis, features: bool, classes: bool
) -> ArrayDataset:
    """The peeked dataset with its open-ended figures taken as the graph's own when the
    graph's are no fewer: a read that stopped early cannot say the graph is wrong there."""
    graph = project.graph
    inputs, outputs = graph.ids_of_role("input"), graph.ids_of_role("output")
    if features and len(inputs) == 1:
        want = tuple(int(d) for d in graph.node(inputs[0]).params["shape"])
        have = data.sample_shape
        if len(want) == len(have) and want[:-1] == have[:-1] and want[-1] >= have[-1]:
            x = np.zeros((0, *want), dtype=data.x.dtype)
            data = replace(data, x=x, sample_shape=want)
    if classes and len(outputs) == 1 and data.task != "regression":
        node = graph.node(outputs[0])
        shape = analysis.nodes[outputs[0]].shape
        loss = node.params.get("loss")
        want_classes = 2 if loss == "bce" else (shape.dims[0] if shape and shape.dims else 0)
        if want_classes >= (data.num_classes or 0):
            data = replace(data, num_classes=want_classes)
    return data
