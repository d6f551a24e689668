"""The verdict of "Use my data…": what `adapt` would change, asked of the engine
(engine.data.adapt), with the feature columns chosen by hand in the preview, and what
training will do to an image folder's strays. A folder of thousands of images takes
seconds (every header is read, as training reads them): `VerdictJob` works it out off
the GUI thread."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QThread, Signal

from engine.data.registry import DataError
from engine.project.project import Project
from gui.data.reading import FolderPreview

if TYPE_CHECKING:
    from engine.data.adapt import Adaptation

log = logging.getLogger(__name__)


class NoFeatures(DataError):
    """Every column of a table was set aside by hand."""


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


@dataclass
class Question:
    """What the dialog asks: a copy of the project (adapt does not change it), the data,
    adapt's options and the feature columns chosen by hand (None: adapt's own)."""

    project: Project
    path: Path
    choices: dict[str, Any]
    features: list[str] | None = None
    project_file: Path | None = None
    folder: FolderPreview | None = None  # an image folder: its notes are read too


@dataclass
class Verdict:
    adaptation: Adaptation | None
    error: str = ""  # one line when there is no adaptation
    notes: list[str] = field(default_factory=list)  # an image folder's


def answer(question: Question) -> Verdict:
    """adapt's answer to the question; never raises."""
    q = question
    base_dir = q.project_file.parent if q.project_file else None
    try:
        notes = folder_notes(q.folder) if q.folder is not None else []
        adaptation = adapt_to(q.project, q.path, **q.choices)
        if q.project_file is not None:  # data beside the project: a relative path
            from engine.data.adapt import place_data_path

            adaptation = place_data_path(adaptation, q.project_file)
        if q.features == []:
            raise NoFeatures("no feature columns: set at least one column to feature")
        if q.features is not None:
            with_features(adaptation, q.features, q.project, base_dir)
    except DataError as err:
        return Verdict(None, str(err), notes if q.folder is not None else [])
    except Exception as err:  # noqa: BLE001  # one line in the dialog, never a traceback
        log.exception("adapt failed on %s", q.path)
        return Verdict(None, f"{q.path}: {type(err).__name__}: {err}")
    return Verdict(adaptation, "", notes)


class VerdictJob(QThread):
    """`answer` off the GUI thread; `done` carries (the question's number, Verdict)."""

    done = Signal(int, object)

    def __init__(self, number: int, question: Question) -> None:
        super().__init__()
        self.number, self.question = number, question

    def run(self) -> None:
        self.done.emit(self.number, answer(self.question))


RUNNING: set[VerdictJob] = set()  # kept alive until their thread has ended


def start(job: VerdictJob) -> None:
    """Start `job`, keeping it (not its dialog) until its thread ends, so a dialog
    closed mid-answer never destroys a running thread."""
    for ended in [j for j in RUNNING if j.isFinished()]:
        RUNNING.discard(ended)
    RUNNING.add(job)
    job.start()
