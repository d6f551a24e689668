"""Where a run starts: a checkpoint's weights, and what the run says about them first.

`start_notes` loads the weights of a checkpoint (one `train` wrote, or `import
--weights-out`, or the window's import) into a Trainer before its first batch and returns
the lines a run prints about where it starts: one per block given fresh weights because
its shape changed since (a replaced head: `fc: new weights (its shape changed: 10 × 512,
was 1000 × 512)`), then how many weights are frozen. The `train` command and the window's
runs say the same.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from engine.train.checkpoint import load_weights_for

if TYPE_CHECKING:
    from engine.train.trainer import Trainer


def start_notes(trainer: Trainer, weights: str | Path | None) -> list[str]:
    """Start `trainer` from the checkpoint `weights` (None: its fresh weights) and say so.
    Raises CheckpointError, naming the file, when the weights do not fit the graph."""
    notes: list[str] = []
    if weights is not None:
        node_ids = {node["id"] for node in trainer.project_snapshot["nodes"]}
        notes += trainer.start_from(load_weights_for(weights, node_ids))
    if trainer.frozen.paths:
        notes.append(trainer.frozen.describe())
    return notes
