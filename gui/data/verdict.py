"""The verdict of "Use my data…": what `adapt` would change, asked of the engine
(engine.data.adapt), with the feature columns chosen by hand in the preview, and what
training will do to an image folder's strays. No Qt."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from engine.data.registry import DataError
from engine.project.project import Project
from gui.data.reading import FolderPreview

if TYPE_CHECKING:
    from engine.data.adapt import Adaptation


def adapt_to(project: Project, path: Path, **choices: object) -> Adaptation:
    """engine.data.adapt.adapt, loaded when first needed (it may import torch-free
    readers only, but the window starts without it)."""
    from engine.data.adapt import adapt

    return adapt(project, path, **choices)


def with_features(
    adaptation: Adaptation, features: list[str], original: Project, base_dir: Path | None
) -> None:
    """The columns the user chose as features into the dataset's params, and the Input
    block resized to what the dataset then feeds it (in place); adapt's line for the
    Input is replaced by the one from the original shape."""
    from engine.data.registry import dataset_input_shape

    project = adaptation.project
    dataset = project.training["dataset"]
    dataset.setdefault("params", {})["features"] = list(features)
    shape, sequence = dataset_input_shape(dataset["name"], dataset["params"], base_dir)
    changes = adaptation.changes
    for input_id in project.graph.ids_of_role("input"):
        before = tuple(original.graph.node(input_id).params.get("shape", []))
        changes[:] = [line for line in changes if not line.startswith(f"Input {input_id}:")]
        if before != tuple(shape):
            changes.append(f"Input {input_id}: shape {before} → {tuple(shape)}")
        project.graph.set_params(input_id, {"shape": list(shape), "sequence": sequence})
    changes.append(f"features: {', '.join(features)} (chosen here)")


def folder_notes(shown: FolderPreview) -> list[str]:
    """What training will do to the folder's images (strays of another mode or size
    converted, named), as image_folder's survey says; and the files that are no images."""
    from engine.data.image_folder import survey

    ignored = shown.ignored
    notes = [f"not images, ignored: {', '.join(ignored[:6])}{' …' if len(ignored) > 6 else ''}"]
    try:
        notes += survey(str(shown.path)).notes
    except DataError:
        pass  # the verdict line says it
    return notes[0 if ignored else 1 :]
