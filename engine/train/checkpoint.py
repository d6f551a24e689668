"""Checkpoints: weights plus everything needed to rebuild and judge them.

A checkpoint is a plain dict of tensors, strings, numbers, lists and dicts, so
`torch.load(path, weights_only=True)` reads it without unpickling any code:

    {"format": "netloom-checkpoint", "version": 1, "state_dict": {...},
     "project": <the project file as a dict>, "config": <TrainConfig.to_dict()>,
     "metrics": {"epoch": 3, "train": {...}, "val": {...}}, "torch": "2.13.0+cpu"}
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from engine.build import NetLoomModel, build_model
from engine.project import Project, ProjectError, from_dict

FORMAT = "netloom-checkpoint"
VERSION = 1


class CheckpointError(Exception):
    """A file that is no NetLoom checkpoint, or whose weights do not fit its graph."""


@dataclass
class Checkpoint:
    state_dict: dict[str, torch.Tensor]
    project: dict[str, Any]
    config: dict[str, Any]
    metrics: dict[str, Any]

    def to_project(self) -> Project:
        try:
            return from_dict(self.project)
        except ProjectError as err:
            raise CheckpointError(f"the project inside the checkpoint: {err}") from None

    def build(self) -> NetLoomModel:
        """The trained model: the checkpoint's graph with its weights loaded strictly."""
        model = build_model(self.to_project().graph)
        load_weights_strictly(model, self.state_dict)
        return model


def load_weights_strictly(model: torch.nn.Module, state_dict: Mapping[str, Any]) -> None:
    """`load_state_dict(strict=True)`, with torch's multi-line complaint turned into one
    line that names the first key that does not fit (CheckpointError)."""
    if problem := state_dict_mismatch(model.state_dict(), state_dict):
        raise CheckpointError(f"the weights do not fit the graph: {problem}")
    try:
        model.load_state_dict(state_dict, strict=True)
    except RuntimeError as err:  # a case the comparison above did not foresee
        raise CheckpointError(f"the weights do not fit the graph: {_first_line(err)}") from None


def state_dict_mismatch(expected: Mapping[str, Any], given: Mapping[str, Any]) -> str | None:
    """The first difference between a model's own weights and `given`, in words."""
    for key, tensor in expected.items():
        if key not in given:
            extra = len(expected.keys() - given.keys()) - 1
            more = f" (and {extra} more)" if extra > 0 else ""
            return f"{key} is missing{more}"
        other = given[key]
        if not isinstance(other, torch.Tensor):
            return f"{key} is a {type(other).__name__}, not a tensor"
        if tuple(other.shape) != tuple(tensor.shape):
            return f"{key} has shape {list(other.shape)}; the graph needs {list(tensor.shape)}"
    for key in given:
        if key not in expected:
            return f"{key} belongs to no weight of this graph"
    return None


def load_weights_for(
    path: str | Path, node_ids: Collection[str], finite: bool = True
) -> dict[str, torch.Tensor]:
    """The weights of checkpoint `path` (from `train` or `import --weights-out`), checked
    to belong to a graph with these block ids and, if `finite`, to hold no NaN or
    infinity. Raises CheckpointError naming the path, in one line. The sizes are
    checked when they are loaded (`load_weights_strictly`)."""
    checkpoint = load_checkpoint(path)
    owners = {key.split(".", 1)[0] for key in checkpoint.state_dict}
    if strangers := sorted(owners - set(node_ids)):
        raise CheckpointError(
            f"{path}: the weights are for another graph (blocks {', '.join(strangers)} "
            "are not in this project)"
        )
    if finite and (bad := nonfinite_weights(checkpoint.state_dict)):
        more = f" and {len(bad) - 1} more" if len(bad) > 1 else ""
        raise CheckpointError(
            f"{path}: NaN or infinite weights in {bad[0]}{more} (training diverged); "
            "use a checkpoint from a run that did not"
        )
    return checkpoint.state_dict


def nonfinite_weights(state_dict: Mapping[str, torch.Tensor]) -> list[str]:
    """Keys of floating-point tensors that hold NaN or infinite values."""
    return [
        key
        for key, tensor in state_dict.items()
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all())
    ]


def _first_line(err: BaseException) -> str:
    for line in str(err).strip().splitlines():
        line = line.strip()
        if line and not line.startswith("Error(s) in loading"):
            return line[:300]
    return type(err).__name__


def cpu_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """A detached copy of the weights on the CPU (a snapshot the run cannot alter)."""
    return {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}


def save_checkpoint(
    path: str | Path,
    state_dict: Mapping[str, torch.Tensor],
    project: dict[str, Any],
    config: dict[str, Any],
    metrics: dict[str, Any],
) -> None:
    """Write atomically, so a crash never leaves half a checkpoint over a good one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "format": FORMAT,
        "version": VERSION,
        "state_dict": dict(state_dict),
        "project": project,
        "config": config,
        "metrics": metrics,
        "torch": str(torch.__version__),  # a TorchVersion object would need unpickling
    }
    # A plain open() (not mkstemp, which makes the file private) so the user's umask
    # applies, as it would to torch.save; the process id keeps concurrent savers apart.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as handle:
            torch.save(document, handle)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def load_checkpoint(path: str | Path) -> Checkpoint:
    path = Path(path)
    try:
        document = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such file") from None
    except Exception as err:  # torch raises several kinds for a file it cannot read
        raise CheckpointError(f"{path}: not a readable checkpoint ({err})") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a NetLoom checkpoint")
    if document.get("version") != VERSION:
        raise CheckpointError(
            f"{path}: checkpoint version {document.get('version')}; this NetLoom reads {VERSION}"
        )
    state_dict = document.get("state_dict")
    if not isinstance(state_dict, dict):
        what = "no state_dict" if state_dict is None else f"a {type(state_dict).__name__}"
        raise CheckpointError(f"{path}: state_dict: expected the weights by name, got {what}")
    for key, value in state_dict.items():
        if not isinstance(key, str):
            raise CheckpointError(
                f"{path}: state_dict: expected weight names as keys, got {key!r} "
                f"({type(key).__name__})"
            )
        if not isinstance(value, torch.Tensor):
            raise CheckpointError(
                f"{path}: state_dict.{key}: expected a tensor, got a {type(value).__name__}"
            )
    parts = {}
    for part in ("project", "config", "metrics"):
        value = document.get(part, {})
        if not isinstance(value, dict):
            raise CheckpointError(
                f"{path}: {part}: expected an object, got a {type(value).__name__}"
            )
        parts[part] = value
    return Checkpoint(state_dict=state_dict, **parts)
