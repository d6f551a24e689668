"""What a reader of new data hands to `predict`: samples ready for a trained model.

Each kind of data a run can train on (table, arrays, images, series) has a reader that
turns a new file into `PredictInputs`, prepared with the transforms the run stored in
its model.pt (never refitted). The record lives here, beside the data loaders, so a
reader written in engine/data (the series one) can build it; the readers are chosen in
engine.predict.readers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


@dataclass
class PredictInputs:
    """Samples to predict and how to name them.

    x: (samples, *the Input's shape), prepared as training prepared it.
    ids: one name per sample, in input order (an id column's value, a file name, a row).
    id_header: the output column the ids go in ("patient_id", "file", "row", …).
    y: the known targets, when the data holds them (the metric is then reported):
       classification: (samples,) float class indices, -1 for a label the model does not
       know, NaN where a row has none; regression: (samples, k) in the target's own
       units, NaN where a row has none.
    to_units: model outputs (samples, k) in training units → the target's own units,
       when the stored target scaling is not enough (a forecast of differences); None
       uses the stored `target` scaling.
    notes: what reading did that a person should know, one line each.
    """

    x: np.ndarray
    ids: list[str]
    id_header: str
    y: np.ndarray | None = None
    to_units: Callable[[np.ndarray], np.ndarray] | None = None
    notes: list[str] = field(default_factory=list)
