"""The dataset part of the exported training script.

Generated datasets are reproduced by numpy code that draws the same random numbers
in the same order as `engine.data` (a test compares the arrays), built-in ones load
through scikit-learn as NetLoom loads them, and a person's own files are read from
a path the script takes as `--data`. The code lives in `snippets/*.py.in`: fragments
of the script, kept as files so they read as Python. No torch here.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from engine.codegen.text import dict_assignment, literal

# Dataset name → the snippets that reproduce it, helpers first.
SNIPPETS: dict[str, tuple[str, ...]] = {
    "digits": ("arrays", "sklearn_digits"),
    "iris": ("arrays", "sklearn_table"),
    "wine": ("arrays", "sklearn_table"),
    "moving_shapes": ("drawing", "moving_shapes"),
    "adding_problem": ("adding_problem",),
    "sine": ("sine",),
    "shapes_segmentation": ("drawing", "shapes_segmentation"),
    "image_folder": ("arrays", "image_reading", "image_folder"),
    "csv": ("arrays", "csv_table"),
    "npz": ("arrays", "npz_arrays"),
    "series": ("series",),
}
# The scikit-learn loader behind each built-in table.
SKLEARN_TABLES = {"iris": "load_iris", "wine": "load_wine"}
# Packages a dataset needs beyond torch and numpy.
EXTRA_PACKAGES = {
    "digits": "scikit-learn",
    "iris": "scikit-learn",
    "wine": "scikit-learn",
    "image_folder": "pillow",
}


def snippet(name: str) -> str:
    """The text of one snippet file, without trailing blank lines."""
    text = (
        resources.files("engine.codegen")
        .joinpath("snippets", f"{name}.py.in")
        .read_text(encoding="utf-8")
    )
    return text.rstrip() + "\n"


@dataclass(frozen=True)
class DataSection:
    """What the script needs to know about its data."""

    constants: list[str]  # assignments placed before the code
    code: str  # the functions, ending with load_data(params, path)
    packages: tuple[str, ...]  # pip packages beyond torch and numpy
    path_default: str | None  # a person's own file or folder, if the dataset is one


def preparation(name: str, params: dict[str, Any], task: str) -> dict[str, Any] | None:
    """What the script scales on the training samples, as engine.data's preparers do:
    a table's columns and its regression target; arrays' float features, and a regression
    y when `standardise` is on. None for data that trains as it is made."""
    if name == "csv":
        standardise = bool(params["standardise"])
        return {"features": standardise, "sequence": False, "target": task == "regression"}
    if name == "npz":
        standardise = bool(params["standardise"])
        return {
            "features": standardise,
            "sequence": bool(params["sequence"]),
            "target": standardise and task == "regression",
        }
    if name == "series":
        standardise = bool(params["standardise"])
        return {"features": standardise, "sequence": True, "target": standardise}
    return None


def data_section(
    name: str,
    params: dict[str, Any],
    path_param: str | None,
    ordered: bool,
    default_split: str = "random",
    task: str = "classification",
) -> DataSection:
    """The constants and code that load dataset `name` with resolved `params`
    (`default_split`: the split training.split auto takes for data not in time order)."""
    pieces = SNIPPETS[name]
    own = {k: v for k, v in params.items() if k != "path"}
    constants = [
        f"DATASET = {literal(name)}",
        *dict_assignment("DATA_PARAMS", own),
        f"DATA_PATH = {literal(path_param)}",
        f"ORDERED = {literal(ordered)}  # samples in time order: validate on the tail",
        f"DEFAULT_SPLIT = {literal(default_split)}  # training.split auto, when not ordered",
        "# Scaled with the training samples' statistics only (None: trains as made).",
        *_assignment("PREPARE", preparation(name, params, task)),
    ]
    if name in SKLEARN_TABLES:
        constants.append(f"SKLEARN_LOADER = {literal(SKLEARN_TABLES[name])}")
    if path_param is None:
        help_text = f"not used: {name} is generated or built in"
    else:
        help_text = f"your data (default: {path_param})"
    constants.append(f"DATA_HELP = {literal(help_text)}")
    code = "\n\n".join(snippet(piece) for piece in pieces)
    packages = (EXTRA_PACKAGES[name],) if name in EXTRA_PACKAGES else ()
    return DataSection(constants, code, packages, path_param)


def _assignment(name: str, values: dict[str, Any] | None) -> list[str]:
    return [f"{name} = None"] if values is None else dict_assignment(name, values)


def absolute_path(value: str, base_dir: Path | None) -> str:
    """A dataset path as NetLoom resolves it: relative to the project's folder."""
    path = Path(value).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    return str(path.resolve())
