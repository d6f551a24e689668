"""How many CPU threads torch uses while an import runs the model.

An import runs the model and its NetLoom copy on a few samples (a probe, the check at
two batch sizes): small operations, each ending at a barrier of torch's threads. On a
machine whose cores are busy elsewhere, a thread waiting for its core holds every
other one up: resnet18 on 3×64×64 took 1.2-6.2 s with two threads here, 0.7-1.2 s with
one. So an import uses the cores other processes leave idle, as training does
(`engine.train.optim.choose_threads`: one thread for a small model, without sampling
the machine's load), and gives the thread count back afterwards.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn

from engine.importers.check import PROBE_BATCH
from engine.train.optim import choose_threads


def run_work(model: nn.Module, dims: tuple[int, ...]) -> float:
    """A rough ceiling on the multiply-adds of one run at the probe's batch: each
    weight used once per value of a sample (`dims`)."""
    return float(sum(p.numel() for p in model.parameters())) * math.prod(dims) * PROBE_BATCH


@contextmanager
def idle_cores(work: float) -> Iterator[int]:
    """Torch on the cores left idle (never more threads than it had) for a block that
    runs `work` multiply-adds at a time; yields the thread count it runs with."""
    previous = torch.get_num_threads()
    threads = max(1, min(previous, choose_threads(work)))
    torch.set_num_threads(threads)
    try:
        yield threads
    finally:
        torch.set_num_threads(previous)
