"""Use a trained model on new data: model.pt's weights and stored preprocessing, the
project's graph, a new file → one prediction per row, image or window.

Everything that prepares the new data comes from the run's stored preprocessing (plain
data in model.pt, never refitted and never pickled code): its columns, fill values,
categories, scaling, class names, image mode and size. The model runs in eval mode,
batched, on the device `train` would pick. Every problem is a PredictError of one line
naming the place: a model.pt without stored preprocessing, data of the wrong kind, a
missing column, a file that does not read.

Torch is imported when a prediction runs, so importing this module keeps `check` quick.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from engine.data.registry import DataError
from engine.graph.shapes import Analysis, analyze
from engine.predict.output import Head, Predictions, describe
from engine.predict.readers import read_inputs
from engine.project.project import Project

BATCH = 256  # samples per forward pass
RETRAIN = "retrain it with this NetLoom"


class PredictError(Exception):
    """New data, weights or a project predict cannot use; the message names the place."""


def _one(project: Project, role: str, block: str) -> str:
    ids = project.graph.ids_of_role(role)
    if len(ids) != 1:
        raise PredictError(f"predict needs exactly one {block} block; this graph has {len(ids)}")
    return ids[0]


def _stored(checkpoint: Any, weights: Path) -> dict[str, Any]:
    """The run's stored preprocessing, or a PredictError saying why there is none."""
    from engine.data import DATASETS

    preprocessing = checkpoint.preprocessing
    if not preprocessing:
        dataset = (checkpoint.config.get("dataset") or {}).get("name")
        spec = DATASETS.get(dataset) if isinstance(dataset, str) else None
        if spec is not None and spec.category != "your data":
            raise PredictError(
                f"{weights}: trained on the built-in dataset {dataset!r}, which leaves no "
                "preprocessing to prepare new data with; predict uses runs on your own data "
                "(a table, arrays, images or a series)"
            )
        raise PredictError(f"{weights}: model.pt has no stored preprocessing: {RETRAIN}")
    if not isinstance(preprocessing.get("kind"), str):
        raise PredictError(
            f"{weights}: the stored preprocessing does not say what data it was fitted on "
            f"(written by an older NetLoom): {RETRAIN}"
        )
    return preprocessing


def _head(
    project: Project, analysis: Analysis, preprocessing: dict[str, Any], weights: Path
) -> Head:
    """The Output's loss and class names, checked against each other."""
    output_id = _one(project, "output", "Output")
    loss = project.graph.node(output_id).params["loss"]
    shape = analysis.nodes[output_id].shape
    assert shape is not None  # the analysis is ok
    if loss == "mse":
        return Head(loss, None)
    classes = preprocessing.get("classes")
    if not isinstance(classes, list) or not classes:
        raise PredictError(
            f"{weights}: the stored preprocessing has no class names (written by an older "
            f"NetLoom): {RETRAIN}"
        )
    expected = (1,) if loss == "bce" else (len(classes),)
    if shape.time or tuple(shape.dims) != expected or (loss == "bce" and len(classes) != 2):
        raise PredictError(
            f"{output_id}: predict writes one class per sample, for the {len(classes)} classes "
            f"the run stored; this Output gives {tuple(shape.dims)} per sample"
        )
    return Head(loss, [str(name) for name in classes])


def _checked_samples(project: Project, x: np.ndarray, data: Path) -> tuple[str, str]:
    """The Input's id and dtype, after checking it takes samples shaped like `x`'s."""
    input_id = _one(project, "input", "Input")
    params = project.graph.node(input_id).params
    expected = tuple(int(d) for d in params["shape"])
    if tuple(x.shape[1:]) != expected:
        raise PredictError(
            f"{data}: gives samples of shape {tuple(x.shape[1:])}; the model's Input "
            f"{input_id!r} takes {expected}"
        )
    return input_id, params["dtype"]


def _device() -> Any:
    import torch

    from engine.train.config import ConfigError
    from engine.train.optim import resolve_device

    try:
        return resolve_device("auto")
    except ConfigError:
        return torch.device("cpu")


def run_model(model: Any, x: np.ndarray, dtype: str) -> np.ndarray:
    """The model's raw outputs for every sample, (samples, values), in eval mode."""
    import torch

    device = _device()
    model.eval()
    model.to(device)
    torch_dtype = torch.int64 if dtype == "int64" else torch.float32
    outputs = []
    with torch.inference_mode():
        for start in range(0, len(x), BATCH):
            batch = torch.as_tensor(x[start : start + BATCH], dtype=torch_dtype).to(device)
            out = model(batch)
            outputs.append(out.float().cpu().numpy().reshape(len(batch), -1))
    if not outputs:
        return np.zeros((0, 0), dtype=np.float32)
    return np.concatenate(outputs)


def _model(project: Project, analysis: Analysis, checkpoint: Any, weights: Path) -> Any:
    from engine.model.build import BuildError, build_model
    from engine.train.checkpoint import CheckpointError, load_weights_strictly

    try:
        model = build_model(project.graph, analysis)
        load_weights_strictly(model, checkpoint.state_dict)
    except BuildError as err:
        raise PredictError(f"the graph cannot be built: {err}") from None
    except CheckpointError as err:
        raise PredictError(f"{weights}: {err}") from None
    return model


def predict(project: Project, weights: Path, data: Path) -> Predictions:
    """One prediction per row, image or window of `data`, by the model `weights` holds
    for `project`'s graph; PredictError naming the place when they do not go together."""
    from engine.train.checkpoint import CheckpointError, load_checkpoint_for

    weights, data = Path(weights), Path(data)
    if weights.is_dir() and (weights / "model.pt").is_file():
        weights = weights / "model.pt"  # the run's folder given for its checkpoint
    analysis = analyze(project.graph)
    if not analysis.ok:
        first = analysis.problems[0].message
        raise PredictError(f"the project's graph has errors: {first}; fix them with check")
    try:
        checkpoint = load_checkpoint_for(weights, {node.id for node in project.graph.nodes})
    except CheckpointError as err:
        text = str(err)
        raise PredictError(
            text if text.startswith(str(weights)) else f"{weights}: {text}"
        ) from None
    preprocessing = _stored(checkpoint, weights)
    head = _head(project, analysis, preprocessing, weights)
    try:
        inputs = read_inputs(preprocessing, data)
    except DataError as err:
        raise PredictError(str(err)) from None
    if len(inputs.x) == 0:
        raise PredictError(f"{data}: holds no samples to predict")
    _, dtype = _checked_samples(project, inputs.x, data)
    model = _model(project, analysis, checkpoint, weights)
    outputs = run_model(model, inputs.x, dtype)
    return describe(outputs, inputs, head, preprocessing)
