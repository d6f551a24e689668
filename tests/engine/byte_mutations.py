"""Byte-level damage to any file, drawn from the random generator it is given (so a
seed names a reproducible file): shared by the hostile ONNX files and checkpoints."""

from __future__ import annotations

import random


def truncate(rng: random.Random, data: bytes) -> bytes:
    """The file cut at a random byte."""
    return data[: rng.randrange(len(data))]


def flip(rng: random.Random, data: bytes) -> bytes:
    """1 to 16 random bytes changed."""
    changed = bytearray(data)
    for _ in range(rng.randint(1, 16)):
        changed[rng.randrange(len(changed))] = rng.randrange(256)
    return bytes(changed)


def splice(rng: random.Random, data: bytes) -> bytes:
    """Random bytes inserted, or a run of bytes deleted."""
    at = rng.randrange(len(data))
    if rng.random() < 0.5:
        return data[:at] + rng.randbytes(rng.randint(1, 64)) + data[at:]
    return data[:at] + data[at + rng.randint(1, 256) :]
