"""Hostile checkpoints made from a good one, for the fuzz test and the long fuzz bench.

`write_case(rng, good, folder, family)` writes `folder/model.pt` and returns its path;
`good` is a checkpoint document (`good_document()`), saved with torch.save after the
change, or whose saved bytes are changed. Every case is derived from the generator it
is given. (tests/engine/test_export_files.py holds one hand-made file per mistake;
these are the random many.)

  truncate   the file cut at a random byte
  flip       1 to 16 random bytes changed
  splice     random bytes inserted or a run deleted
  member     one member of the zip archive cut, flipped, emptied or dropped (the
             pickle, a tensor's storage, the version record)
  value      a weight replaced by a non-tensor, another dtype, a sparse, complex or
             0-d tensor, or a view claiming 10¹² elements over one stored number
  keys       weight names made empty, huge, non-strings, doubled or 12,000 of them
  part       format, version, project, config or metrics given another JSON type or
             a structure nested 150 deep
"""

from __future__ import annotations

import copy
import io
import random
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from tests.engine.byte_mutations import flip, splice, truncate

DATA = Path(__file__).resolve().parent / "data" / "tiny_digits.json"
ODD_VALUES: list[Any] = [None, True, 0, -1, 10**30, 1.5, float("nan"), "x", "", [], {}, [1, "a"]]


def good_document() -> dict[str, Any]:
    from engine.model.build import build_model
    from engine.project.project import load, to_dict
    from engine.train.checkpoint import FORMAT, VERSION

    torch.manual_seed(0)
    project = load(DATA)
    return {
        "format": FORMAT,
        "version": VERSION,
        "state_dict": build_model(project.graph).state_dict(),
        "project": to_dict(project),
        "config": {},
        "metrics": {},
    }


def saved(document: Any) -> bytes:
    buffer = io.BytesIO()
    torch.save(document, buffer)
    return buffer.getvalue()


# ------------------------------------------------------------------ byte level


def member(rng: random.Random, data: bytes) -> bytes:
    """One member of torch's zip archive changed, the archive itself kept readable."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    name = rng.choice(sorted(members))
    content = members[name]
    how = rng.randrange(4)
    if how == 0:
        members[name] = content[: rng.randrange(len(content) + 1)]
    elif how == 1 and content:
        members[name] = flip(rng, content)
    elif how == 2:
        members[name] = b""
    else:
        del members[name]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for key, value in members.items():
            archive.writestr(key, value)
    return out.getvalue()


BYTE_MUTATIONS: dict[str, Callable[[random.Random, bytes], bytes]] = {
    "truncate": truncate,
    "flip": flip,
    "splice": splice,
    "member": member,
}


# ------------------------------------------------------------- document level


def odd_tensor(rng: random.Random, like: torch.Tensor) -> Any:
    choice = rng.randrange(9)
    if choice == 0:
        return rng.choice(ODD_VALUES)
    if choice == 1:
        return like.to(rng.choice([torch.int64, torch.bool, torch.uint8, torch.float16]))
    if choice == 2:
        return like.to(torch.complex64)
    if choice == 3:
        return like.reshape(-1)[:1].reshape(())  # a 0-d tensor
    if choice == 4:
        return like.to_sparse() if like.dim() >= 1 else like
    if choice == 5:  # 10¹² elements claimed over one stored number (stride 0)
        return torch.zeros(1).expand(*([10**6] * max(like.dim(), 2)))
    if choice == 6:
        return torch.zeros(1).expand(*like.shape) if like.dim() else like
    if choice == 7:
        return like.t() if like.dim() == 2 else like.unsqueeze(0)
    return torch.full_like(like, rng.choice([float("nan"), float("inf"), 1e38]))


def value(rng: random.Random, document: dict[str, Any]) -> None:
    state = document["state_dict"]
    key = rng.choice(sorted(state))
    state[key] = odd_tensor(rng, state[key])


def keys(rng: random.Random, document: dict[str, Any]) -> None:
    state = document["state_dict"]
    key = rng.choice(sorted(state))
    tensor = state.pop(key) if rng.random() < 0.7 else state[key]
    choice = rng.randrange(6)
    if choice == 0:
        state[""] = tensor
    elif choice == 1:
        state["x" * 100_000] = tensor
    elif choice == 2:
        state[rng.choice([0, None, 1.5, (1, 2)])] = tensor
    elif choice == 3:
        state[key.upper()] = tensor
    elif choice == 4:
        state.update({f"w{i}": torch.zeros(1) for i in range(12_000)})
    else:
        state[f"{key}\ud800"] = tensor


def part(rng: random.Random, document: dict[str, Any]) -> None:
    name = rng.choice(["format", "version", "project", "config", "metrics", "state_dict"])
    if rng.random() < 0.2:
        deep: Any = 1
        for _ in range(150):
            deep = [deep]
        document[name] = deep if rng.random() < 0.5 else {"nodes": deep}
    elif rng.random() < 0.3 and name == "project":
        project = document["project"]
        node = rng.choice(project["nodes"])
        node[rng.choice(sorted(node))] = rng.choice(ODD_VALUES)
    else:
        document[name] = rng.choice(ODD_VALUES)


DOCUMENT_MUTATIONS: dict[str, Callable[[random.Random, dict[str, Any]], None]] = {
    "value": value,
    "keys": keys,
    "part": part,
}

FAMILIES = [*BYTE_MUTATIONS, *DOCUMENT_MUTATIONS]


def write_case(
    rng: random.Random, good: dict[str, Any], good_bytes: bytes, folder: Path, family: str
) -> Path:
    """Write `folder/model.pt`, a `family` mutation of the checkpoint `good`."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "model.pt"
    if family in BYTE_MUTATIONS:
        path.write_bytes(BYTE_MUTATIONS[family](rng, good_bytes))
        return path
    document = copy.copy(good)
    document["state_dict"] = dict(good["state_dict"])
    document["project"] = copy.deepcopy(good["project"])
    DOCUMENT_MUTATIONS[family](rng, document)
    path.write_bytes(saved(document))
    return path
