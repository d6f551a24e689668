"""NetLoom's datasets: built in, generated, or a person's own files.

Every dataset declares its task and the shape it feeds the Input block, so a graph is
checked against its data before training starts:

    data = load_dataset("moving_shapes", {"frames": 8})
    problem = check_fits((8, 1, 32, 32), True, data, "frames")   # None: it fits

Imports numpy only; scikit-learn and Pillow are imported lazily by the loaders that
need them. No torch, no Qt.
"""

from __future__ import annotations

from engine.data.registry import (
    DATASETS,
    TASKS,
    ArrayDataset,
    DataError,
    DatasetSpec,
    InputShape,
    Task,
    TextParam,
    check_fits,
    dataset_input_shape,
    dataset_task,
    get_dataset_spec,
    load_dataset,
)

# Importing a dataset module registers its datasets; the order is the gallery's order.
from engine.data import (  # noqa: E402,F401  isort: skip
    builtin,
    video,
    sequences,
    segmentation,
    image_folder,
    csv_table,
    npz_arrays,
    series,
)

__all__ = [
    "DATASETS",
    "TASKS",
    "ArrayDataset",
    "DataError",
    "DatasetSpec",
    "InputShape",
    "Task",
    "TextParam",
    "check_fits",
    "dataset_input_shape",
    "dataset_task",
    "get_dataset_spec",
    "load_dataset",
]
