"""`export --to script`: one file that trains the project's network on its data.

The script holds the model class (the same code `--to python` writes), the dataset
(see script_data), the project's training settings as plain constants, and a
training loop that follows engine.train.Trainer step for step: the same seeded
split, initial weights, batch order, optimizer, schedule, loss and metrics, so a
single-process run reproduces NetLoom's numbers. Under `torchrun` the same file
trains with DistributedDataParallel (gloo on CPU, nccl on GPUs) and a
DistributedSampler. It needs torch and numpy, plus scikit-learn or Pillow only for
datasets that do.

Writing the script imports no torch: the project's data is loaded once (numpy) to
check that the graph fits it, so a script that could not train is never written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.codegen.model import model_code
from engine.codegen.problems import ExportError
from engine.codegen.python_file import describe_ports
from engine.codegen.script_data import DataSection, absolute_path, data_section, snippet
from engine.codegen.script_predict import NAMES as PREDICT_NAMES
from engine.codegen.script_predict import predict_section
from engine.codegen.text import (
    INDENT,
    comment_lines,
    dict_assignment,
    literal,
    model_class_name,
)
from engine.graph.shapes import Analysis, analyze
from engine.project.project import Project
from engine.units.frozen import frozen_paths

IMPORTS = [
    "import argparse",
    "import gc",
    "import math",
    "import os",
    "import time",
    "from collections.abc import Callable",
    "from dataclasses import dataclass",
    "from pathlib import Path",
    "",
    "import numpy as np",
    "import torch",
    "import torch.distributed as dist",
    "from torch import nn",
    "from torch.nn import functional as F",
    "from torch.nn.parallel import DistributedDataParallel",
    "from torch.utils.data import DistributedSampler",
]
# Module-level names of the script, which the model class must not take.
TRAINING_NAMES = """DistributedDataParallel DistributedSampler F Path Meter Schedule LOSSES
    TASK_METRICS SETTINGS OBJECTIVE DATASET DATA_PARAMS DATA_PATH DATA_HELP ORDERED
    SKLEARN_LOADER DEFAULT_SPLIT PREPARE LossFunction Callable FROZEN
    DEFAULT_OUT MULTIPLY_ADDS_PER_SAMPLE SQUARE DISC TRIANGLE CROSS"""
SCRIPT_NAMES = frozenset(TRAINING_NAMES.split()) | PREDICT_NAMES
DEFAULT_OUT = "checkpoints"
# The training program, in the order the script holds them (snippets/*.py.in).
TRAINING_PARTS = ("train_metrics", "train_setup", "train_loop")


def _training_plan(
    project: Project, base_dir: Path | None, analysis: Analysis
) -> tuple[Any, Any, Any, dict]:
    """The validated settings, the loaded data and the objective; ExportError otherwise."""
    from engine.data import DataError, get_dataset_spec, load_dataset
    from engine.train.config import ConfigError, TrainConfig
    from engine.train.fit import FitError, plan_objective

    try:
        config = TrainConfig.from_dict(project.training)
    except ConfigError as err:
        raise ExportError([str(err)]) from None
    choice = config.dataset
    try:
        spec = get_dataset_spec(choice.name)
        params = spec.resolve_params(choice.params)
        data = load_dataset(choice.name, choice.params, base_dir)
    except DataError as err:
        # A bad param reads "dataset.params.…"; a bad file names the file itself.
        message = str(err)
        where = "training." if message.startswith("dataset") else ""
        raise ExportError([f"{where}{message}"]) from None
    try:
        objective = plan_objective(project.graph, data, config, analysis)
    except FitError as err:
        raise ExportError(err.problems) from None
    except ConfigError as err:
        raise ExportError([str(err)]) from None
    return config, data, objective, params


def _header(project: Project, data: DataSection, dataset: str, model: Any) -> list[str]:
    lines = comment_lines(project.name.strip() or "Untitled")
    if project.description.strip():
        lines += ["#", *comment_lines(project.description.strip())]
    packages = " ".join(("torch", "numpy", *data.packages))
    lines += [
        "#",
        *comment_lines(
            f"A training script exported from NetLoom: the model, the {dataset} data and "
            "the project's training settings."
        ),
        *comment_lines(
            f"Input: {describe_ports(model.inputs)}. Output: {describe_ports(model.outputs)}."
        ),
        f"# Needs Python 3.10 or later and: pip install {packages}",
        "# Train:",
        "#     python this_file.py --epochs 1",
        "# Train in several processes (DistributedDataParallel; gloo on CPU, nccl on GPUs):",
        "#     torchrun --nproc_per_node=2 this_file.py --epochs 1",
    ]
    if data.path_default is not None:
        lines += [
            "# Your data: --data PATH (default: the path in the project).",
            "# Predict new data with trained weights (a model.pt from NetLoom or from here):",
            "#     python this_file.py predict DATA --out predictions.csv",
        ]
    return lines


def _model_builder(class_name: str, frozen: list[str]) -> list[str]:
    """`build_model()`, which freezes the parts frozen in NetLoom (FROZEN) when there are
    any; the model class stays the network NetLoom trains."""
    if not frozen:
        return ["def build_model() -> nn.Module:", f"{INDENT}return {class_name}()", "", ""]
    return [
        "# Frozen in NetLoom: these parts keep their weights while the rest trains.",
        "FROZEN = (",  # one a line with a trailing comma, so ruff keeps it so
        *(f"{INDENT}{literal(path)}," for path in frozen),
        ")",
        "",
        "",
        "def build_model() -> nn.Module:",
        f"{INDENT}return freeze({class_name}(), FROZEN)",
        "",
        "",
        snippet("train_freeze").rstrip(),
        "",
        "",
    ]


def stored_preprocessing(weights: str | Path, project: Project) -> dict[str, Any] | None:
    """The fitted preprocessing of checkpoint `weights`, checked to be this graph's
    (CheckpointError in one line otherwise); None when the run stored none."""
    from engine.train.checkpoint import load_checkpoint_for

    node_ids = {node.id for node in project.graph.nodes}
    return load_checkpoint_for(weights, node_ids).preprocessing


def to_script(
    project: Project,
    base_dir: Path | None = None,
    analysis: Analysis | None = None,
    weights: str | Path | None = None,
) -> str:
    """A complete training program for the project; raises ExportError naming each problem.

    `base_dir` is the project file's folder, against which a relative data path resolves.
    `analysis` is the graph's shape pass if the caller has it (else it is run here); the
    fit check and the model code both read it. `weights` is a run's model.pt: the script
    then carries its fitted preprocessing and predicts with its weights by default
    (CheckpointError when it is no checkpoint of this graph).
    """
    if analysis is None:
        analysis = analyze(project.graph)
    config, data, objective, params = _training_plan(project, base_dir, analysis)
    model = model_code(
        project.graph,
        model_class_name(project.name, avoid=SCRIPT_NAMES),
        analysis=analysis,
        avoid=SCRIPT_NAMES,
    )
    path = absolute_path(params["path"], base_dir) if "path" in params else None
    data_part = data_section(
        config.dataset.name, params, path, bool(data.ordered), data.default_split, data.task
    )
    settings = config.to_dict()
    del settings["dataset"], settings["metric"]  # the data is below; all metrics are shown
    objective_values = {
        "loss": objective.loss,
        "task": objective.task,
        "classes": objective.num_classes,
        "output_dims": list(objective.output_dims),
        "ids": objective.input_dtype == "int64",
    }
    preprocessing = stored_preprocessing(weights, project) if weights else None
    weights_path = str(Path(weights).resolve()) if weights else None
    try:
        predict_part = predict_section(
            config.dataset.name,
            preprocessing,
            weights_path,
            data.class_names,
            tuple(data.sample_shape),
        )
    except ValueError as err:
        raise ExportError([f"{weights}: its stored preprocessing: {err}"]) from None
    doc = f'"""Train {model.class_name} on {config.dataset.name}; exported from NetLoom."""'
    lines = [
        *_header(project, data_part, config.dataset.name, model),
        "",
        doc,
        "",
        *IMPORTS,
        "",
        "# ------------------------------------------------------------------- model",
        "",
        "",
        *model.lines,
        "",
        "",
        *_model_builder(model.class_name, frozen_paths(project.graph, analysis)),
        "# -------------------------------------------------------------------- data",
        "",
        "# The project's dataset and its parameters, as NetLoom makes or reads it.",
        *data_part.constants,
        "",
        "",
        data_part.code.rstrip(),
        "",
        "",
        "# ---------------------------------------------------------------- settings",
        "",
        "# The project's training settings; --epochs, --lr and --batch-size override them.",
        *dict_assignment("SETTINGS", settings),
        "# What the Output block trains for: its loss, the task, the shape of its values.",
        *dict_assignment("OBJECTIVE", objective_values),
        f"DEFAULT_OUT = {literal(DEFAULT_OUT)}",
        "# Multiply-adds of one sample's forward pass (NetLoom's count), to choose CPU threads.",
        f"MULTIPLY_ADDS_PER_SAMPLE = {analysis.total_flops}",
        "",
        "",
        *(f"{snippet(part).rstrip()}\n\n" for part in TRAINING_PARTS[:-1]),
        *predict_part.constants,
        "",
        "",
        f"{predict_part.code.rstrip()}\n\n",
        f"{snippet(TRAINING_PARTS[-1]).rstrip()}\n",
    ]
    return "\n".join(lines).rstrip() + "\n"
