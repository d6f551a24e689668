"""Training: settings (`TrainConfig`), the graph-vs-data check and the `Trainer` loop.

Importing this package stays cheap: the torch-using parts load on first use, so the
command line's `check` does not pay for torch because `train` is registered beside it.
"""

from __future__ import annotations

import importlib
from typing import Any

from engine.train.config import ConfigError, DatasetChoice, Schedule, TrainConfig
from engine.train.events import BatchEnd, Callbacks, EpochEnd, SplitMetrics, TrainResult

# Public name → the module that defines it (these import torch).
_LAZY = {
    "Trainer": "engine.train.trainer",
    "FitError": "engine.train.fit",
    "plan_objective": "engine.train.fit",
    "Checkpoint": "engine.train.checkpoint",
    "CheckpointError": "engine.train.checkpoint",
    "load_checkpoint": "engine.train.checkpoint",
    "warm_up": "engine.train.optim",
}

__all__ = [
    "BatchEnd",
    "Callbacks",
    "ConfigError",
    "DatasetChoice",
    "EpochEnd",
    "Schedule",
    "SplitMetrics",
    "TrainConfig",
    "TrainResult",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
