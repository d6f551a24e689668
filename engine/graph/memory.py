"""How much memory a network needs, estimated from the shape pass before anything is allocated.

Per block: its weights (float32, 4 bytes each) and its output activation for one
sample (4 bytes per value, 8 for int64 token ids). For a training step the estimate
is 4 × the weights (the weights, their gradients and Adam's two moments) plus
2 × the activations at the batch size (kept for the backward pass, and their
gradients). Real use varies with the kernels torch picks; the estimate is for refusing
what cannot fit and for showing where the memory goes, not a guarantee.

Pure Python: no torch, no Qt. `available_bytes()` reads the operating system.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from engine.common.formatting import human_bytes
from engine.graph.shapes import Analysis

FLOAT_BYTES = 4
ID_BYTES = 8
# Weights, gradients, and the optimizer's two moments (Adam; SGD keeps fewer).
TRAINING_WEIGHT_COPIES = 4
# Activations kept for the backward pass, and the gradients flowing back through them.
TRAINING_ACTIVATION_COPIES = 2


@dataclass(frozen=True)
class BlockMemory:
    """Bytes one block holds: its weights, and its output for one sample."""

    weights: int
    activation: int

    def at_batch(self, batch: int) -> int:
        return self.activation * batch


def block_memory(analysis: Analysis) -> dict[str, BlockMemory]:
    """Per node id, its weight and per-sample activation bytes (0 where the shape failed)."""
    found = {}
    for node_id, info in analysis.nodes.items():
        activation = 0
        # A unit with several outputs keeps each of them.
        for shape in info.outputs.values() if info.outputs else [info.shape]:
            if shape is not None:
                activation += shape.numel() * (ID_BYTES if shape.ids else FLOAT_BYTES)
        found[node_id] = BlockMemory(info.params * FLOAT_BYTES, activation)
    return found


@dataclass(frozen=True)
class MemoryEstimate:
    weights: int  # bytes of all weights
    activations: int  # bytes of all block outputs for one sample
    batch: int

    @property
    def activations_at_batch(self) -> int:
        return self.activations * self.batch

    @property
    def training(self) -> int:
        """Bytes a training step needs, roughly (see the module docstring)."""
        return (
            TRAINING_WEIGHT_COPIES * self.weights
            + TRAINING_ACTIVATION_COPIES * self.activations_at_batch
        )

    @property
    def inference(self) -> int:
        """Bytes to build the model and run it forward once at the batch size."""
        return self.weights + self.activations_at_batch


def estimate(analysis: Analysis, batch: int) -> MemoryEstimate:
    blocks = block_memory(analysis).values()
    return MemoryEstimate(
        sum(b.weights for b in blocks), sum(b.activation for b in blocks), max(1, batch)
    )


def available_bytes() -> int | None:
    """Memory this process could still get: the system's available memory, capped by a
    cgroup (container) limit; None when the system does not say."""
    found = []
    try:
        for line in Path("/proc/meminfo").read_text(encoding="ascii").splitlines():
            if line.startswith("MemAvailable:"):
                found.append(int(line.split()[1]) * 1024)
                break
    except (OSError, ValueError, IndexError):
        pass
    if not found:
        try:
            found.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (AttributeError, ValueError, OSError):
            pass
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text(encoding="ascii").strip()
        used = Path("/sys/fs/cgroup/memory.current").read_text(encoding="ascii").strip()
        if limit.isdigit() and used.isdigit():
            found.append(max(0, int(limit) - int(used)))
    except OSError:
        pass
    return min(found) if found else None


def too_large(needed: int, what: str, available: int | None) -> str | None:
    """A one-line refusal if `needed` bytes exceed `available`, else None."""
    if available is None or needed <= available:
        return None
    return (
        f"the model needs about {human_bytes(needed)} {what}; this machine has "
        f"{human_bytes(available)} available — make the blocks or the input smaller"
    )


def training_step_problem(analysis: Analysis, batch: int, available: int | None) -> str | None:
    """A one-line refusal, with the figures, when a training step at `batch` needs more
    memory than `available` (bytes free, see available_bytes), else None."""
    need = estimate(analysis, batch).training
    return too_large(need, f"for a training step at batch {batch}", available)
