"""Checkpoints: weights plus everything needed to rebuild and judge them.

A checkpoint is a plain dict of tensors, strings, numbers, lists and dicts, so
`torch.load(path, weights_only=True)` reads it without unpickling any code:

    {"format": "netloom-checkpoint", "version": 1, "state_dict": {...},
     "project": <the project file as a dict>, "config": <TrainConfig.to_dict()>,
     "metrics": {"epoch": 3, "train": {...}, "val": {...}}, "torch": "2.13.0+cpu"}
"""

from __future__ import annotations

import os
from collections.abc import Mapping
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
        try:
            model.load_state_dict(self.state_dict, strict=True)
        except RuntimeError as err:
            raise CheckpointError(f"the weights do not fit the graph: {err}") from None
        return model


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
    return Checkpoint(
        state_dict=document["state_dict"],
        project=document["project"],
        config=document["config"],
        metrics=document["metrics"],
    )
