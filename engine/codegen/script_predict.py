"""The predicting part of the exported training script: `python script.py predict DATA`.

Exported with `--weights RUN/model.pt`, the script carries that run's fitted
preprocessing (fill values, categories, scaling, image mode and size, classes) as a
literal of plain data, and loads those weights by default; its `predict(path)` reads
the same kinds of files NetLoom's `predict` reads for that dataset and writes the same
columns. Without stored preprocessing, predict says so in one line. The reader of each
dataset kind is a snippet (snippets/predict_*.py.in). No torch here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.codegen.plain_data import data_assignment
from engine.codegen.script_data import snippet
from engine.codegen.text import literal

# Dataset name → the snippets that read new inputs for it, helpers first.
READERS = {
    "csv": ("table_text", "predict_table"),
    "npz": ("predict_arrays",),
    "image_folder": ("predict_images",),
    "series": ("table_text", "predict_series"),
}
# Module-level names this part adds to the script.
NAMES = frozenset(
    {"PREPROCESSING", "WEIGHTS", "CLASS_NAMES", "INPUT_SHAPE", "MISSING_MARKS", "Inputs"}
)


@dataclass(frozen=True)
class PredictSection:
    constants: list[str]
    code: str


def predict_section(
    dataset: str,
    preprocessing: dict[str, Any] | None,
    weights: str | None,
    class_names: list[str] | None,
    input_shape: tuple[int, ...],
) -> PredictSection:
    """The constants and functions behind `predict` for a model trained on `dataset`.

    `preprocessing` is the run's stored preprocessing (None: none was stored), `weights`
    the absolute path of its model.pt. ValueError for preprocessing that is not plain data.
    """
    constants = [
        "# The run's fitted preprocessing (plain data from its model.pt); a model.pt",
        "# that holds its own takes precedence. None: predict cannot prepare new data.",
        *data_assignment("PREPROCESSING", preprocessing or None),
        "# The weights predict loads unless --weights says otherwise.",
        f"WEIGHTS = {literal(weights)}",
        *data_assignment("CLASS_NAMES", list(class_names) if class_names else None),
        f"INPUT_SHAPE = {literal(list(input_shape))}  # one sample, as the model takes it",
    ]
    readers = READERS.get(dataset, ("predict_none",))
    code = "\n\n".join(snippet(part) for part in ("predict", *readers))
    return PredictSection(constants, code)
