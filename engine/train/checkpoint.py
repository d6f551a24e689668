"""Checkpoints: weights plus everything needed to rebuild and judge them.

A checkpoint is a plain dict of tensors, strings, numbers, lists and dicts, so
`torch.load(path, weights_only=True)` reads it without unpickling any code:

    {"format": "netloom-checkpoint", "version": 1, "state_dict": {...},
     "project": <the project file as a dict>, "config": <TrainConfig.to_dict()>,
     "metrics": {"epoch": 3, "train": {...}, "val": {...}}, "torch": "2.13.0+cpu",
     "preprocessing": {"features": {...}, "target": {...}}}

"preprocessing" is what the data's transforms were fitted to on the training rows
(engine.data.preprocess: fill values, categories, means and stds, as numbers, strings
and lists), so new data can be prepared as training prepared it. Runs on data with no
such transforms, and checkpoints written before it existed, have none: it reads None.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from engine.common.limits import (
    MAX_CHECKPOINT_BYTES,
    MAX_CHECKPOINT_TENSORS,
    MAX_IMPORT_TENSOR_ELEMENTS,
    count_text,
)
from engine.model.build import NetLoomModel, build_model
from engine.project.project import Project, ProjectError, from_dict

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
    preprocessing: dict[str, Any] | None = None  # the fitted transforms, as plain data

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


def reshaped_weights(
    own: Mapping[str, torch.Tensor], given: Mapping[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """`given` with the model's `own` fresh weights where a block's shape changed since (a
    head replaced: the classifier's units 1000 → 10), and one line per such block:
    `fc: new weights (its shape changed: 10 × 512, was 1000 × 512)`. Missing or foreign
    weights are left for `load_weights_strictly` to refuse."""
    weights, changed = dict(given), {}
    for key, tensor in own.items():
        other = given.get(key)
        if isinstance(other, torch.Tensor) and tuple(other.shape) != tuple(tensor.shape):
            weights[key] = tensor
            owner = key.rsplit(".", 1)[0]
            changed.setdefault(owner, (tuple(tensor.shape), tuple(other.shape)))
    notes = [
        f"{owner}: new weights (its shape changed: {_dims(now)}, was {_dims(was)})"
        for owner, (now, was) in changed.items()
    ]
    return weights, notes


def _dims(shape: tuple[int, ...]) -> str:
    return " × ".join(str(n) for n in shape) or "a single number"


def load_weights_for(
    path: str | Path, node_ids: Collection[str], finite: bool = True
) -> dict[str, torch.Tensor]:
    """The weights of checkpoint `path` (from `train` or `import --weights-out`), checked
    to belong to a graph with these block ids and, if `finite`, to hold no NaN or
    infinity. Raises CheckpointError naming the path, in one line. The sizes are
    checked when they are loaded (`load_weights_strictly`)."""
    return load_checkpoint_for(path, node_ids, finite).state_dict


def load_checkpoint_for(
    path: str | Path, node_ids: Collection[str], finite: bool = True
) -> Checkpoint:
    """The checkpoint `path` with its weights checked as `load_weights_for` checks them
    (its fitted preprocessing comes along)."""
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
    return checkpoint


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
    preprocessing: dict[str, Any] | None = None,
) -> None:
    """Write atomically, so a crash never leaves half a checkpoint over a good one.

    `preprocessing` (plain data; see the module docstring) is stored when given; a
    checkpoint without it is the one this function always wrote."""
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
    if preprocessing is not None:
        if problem := plain_data_problem(preprocessing):
            raise ValueError(f"preprocessing{problem}")
        document["preprocessing"] = preprocessing
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


def check_archive(path: Path) -> None:
    """Refuse, before torch reads it, a file too large or holding too many tensors
    (each stored tensor is a member `data/N` of torch's zip archive)."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such file") from None
    except OSError as err:
        raise CheckpointError(f"{path}: cannot be read ({err.strerror or err})") from None
    if not path.is_file():
        raise CheckpointError(f"{path}: not a file")
    if size > MAX_CHECKPOINT_BYTES:
        raise CheckpointError(
            f"{path}: {count_text(size)} bytes, over the limit of "
            f"{count_text(MAX_CHECKPOINT_BYTES)} for a checkpoint "
            "(engine.common.limits.MAX_CHECKPOINT_BYTES)"
        )
    try:
        with zipfile.ZipFile(path) as archive:
            stored = sum("/data/" in f"/{name}" for name in archive.namelist())
    except Exception:  # zipfile raises many kinds for a damaged archive (even
        return  # NotImplementedError); torch.load says what is wrong with it, below
    if stored > MAX_CHECKPOINT_TENSORS:
        raise CheckpointError(
            f"{path}: stores {count_text(stored)} tensors, over the limit of "
            f"{count_text(MAX_CHECKPOINT_TENSORS)} (engine.common.limits.MAX_CHECKPOINT_TENSORS)"
        )


def tensor_problem(tensor: torch.Tensor) -> str | None:
    """Why a stored tensor cannot be a weight: not dense, or claiming more elements than
    the limit (a view can claim 10¹² over one stored number)."""
    if tensor.layout != torch.strided:
        return f"expected a dense tensor, got a {str(tensor.layout).removeprefix('torch.')} one"
    if tensor.numel() > MAX_IMPORT_TENSOR_ELEMENTS:
        return (
            f"shape {list(tensor.shape)} holds {count_text(tensor.numel())} elements, over "
            f"the limit of {count_text(MAX_IMPORT_TENSOR_ELEMENTS)} "
            "(engine.common.limits.MAX_IMPORT_TENSOR_ELEMENTS)"
        )
    return None


def load_reason(err: BaseException) -> str:
    """torch.load's complaint in one short line: the unpickler's own reason when it
    gives one, without the paragraphs of advice around it."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    reason = next((line for line in lines if line.startswith("WeightsUnpickler error:")), None)
    text = reason or (lines[0] if lines else type(err).__name__)
    return text.split(". This is an internal miniz error")[0][:200]


def load_checkpoint(path: str | Path) -> Checkpoint:
    path = Path(path)
    check_archive(path)
    try:
        document = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such file") from None
    except Exception as err:  # torch raises several kinds for a file it cannot read
        raise CheckpointError(f"{path}: not a readable checkpoint ({load_reason(err)})") from None
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
        if problem := tensor_problem(value):
            raise CheckpointError(f"{path}: state_dict.{key}: {problem}")
    parts = {}
    for part in ("project", "config", "metrics"):
        value = document.get(part, {})
        if not isinstance(value, dict):
            raise CheckpointError(
                f"{path}: {part}: expected an object, got a {type(value).__name__}"
            )
        parts[part] = value
    preprocessing = document.get("preprocessing")
    if preprocessing is not None:
        if not isinstance(preprocessing, dict):
            raise CheckpointError(
                f"{path}: preprocessing: expected an object, got a {type(preprocessing).__name__}"
            )
        if problem := plain_data_problem(preprocessing):
            raise CheckpointError(f"{path}: preprocessing{problem}")
    return Checkpoint(state_dict=state_dict, preprocessing=preprocessing, **parts)


PLAIN = (str, int, float, bool, type(None))
PLAIN_DEPTH = 16  # fitted transforms nest a few levels; a hostile file could nest thousands


def plain_data_problem(value: Any, where: str = "", depth: int = 0) -> str | None:
    """Where `value` holds something other than numbers, strings, lists and string-keyed
    dicts (".features.mean: expected plain data, got a Tensor"), or None."""
    if isinstance(value, PLAIN):
        return None
    if depth > PLAIN_DEPTH:
        return f"{where}: nested more than {PLAIN_DEPTH} levels deep"
    if isinstance(value, (list, tuple)):
        items: Any = ((f"{where}[{i}]", item) for i, item in enumerate(value))
    elif isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            return f"{where}: expected text keys, got {sorted(map(repr, value))[:3]}"
        items = ((f"{where}.{key}", item) for key, item in value.items())
    else:
        return f"{where}: expected plain data, got a {type(value).__name__}"
    for place, item in items:
        if problem := plain_data_problem(item, place, depth + 1):
            return problem
    return None
