"""Autosave to a recovery file, and the offer to restore it after a crash.

Every 30 s (NETLOOM_AUTOSAVE_MS overrides it), if the document has changes not yet
autosaved, the project is written (atomically, by `engine.project.project.save`) to
`recovery/recovery.json` in the app's data folder (`NETLOOM_DATA_DIR` when set, as for
runs), with `recovery-meta.json` naming the file it belongs to. A clean exit or a save
deletes both; finding them at start-up means the last session ended abnormally.

The autosaver is a child of its window: when the window is destroyed, so is its timer,
and no tick can reach a document that is gone.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QTimer

from engine.project.project import Project, ProjectError, load, save
from gui.run.paths import data_dir

log = logging.getLogger(__name__)

ENV_INTERVAL = "NETLOOM_AUTOSAVE_MS"
DEFAULT_INTERVAL_MS = 30_000


def interval_from_env() -> int:
    """The autosave period: NETLOOM_AUTOSAVE_MS when set (a positive whole number of
    milliseconds; tests use a short one), else 30 s."""
    text = os.environ.get(ENV_INTERVAL, "").strip()
    if not text:
        return DEFAULT_INTERVAL_MS
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        log.warning(
            "%s=%r: expected a positive number of milliseconds; autosaving every %d ms",
            ENV_INTERVAL,
            text,
            DEFAULT_INTERVAL_MS,
        )
        return DEFAULT_INTERVAL_MS
    return value


INTERVAL_MS = interval_from_env()

# Returns the project and its file when there is something new to autosave, else None.
Snapshot = Callable[[], "tuple[Project, Path | None] | None"]


@dataclass
class Recovery:
    project: Project
    original_path: Path | None
    saved_at: float

    def describe(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(self.saved_at))
        name = self.original_path.name if self.original_path else "an unsaved project"
        return f"{name}, autosaved {when}"


def default_recovery_dir() -> Path:
    """`recovery/` in the data folder: NETLOOM_DATA_DIR when set, else the per-user one."""
    return data_dir() / "recovery"


class Autosaver(QObject):
    def __init__(
        self,
        snapshot: Snapshot,
        folder: Path,
        interval_ms: int = INTERVAL_MS,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.snapshot = snapshot
        self.folder = folder
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.save_now)

    @property
    def project_file(self) -> Path:
        return self.folder / "recovery.json"

    @property
    def meta_file(self) -> Path:
        return self.folder / "recovery-meta.json"

    def start(self) -> None:
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def save_now(self) -> bool:
        """Write the recovery file if there is anything new; True if written."""
        taken = self.snapshot()
        if taken is None:
            return False
        project, path = taken
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            save(project, self.project_file)
            meta = {"original_path": str(path) if path else None, "saved_at": time.time()}
            self.meta_file.write_text(json.dumps(meta), encoding="utf-8")
        except OSError as err:
            # Autosave must never interrupt the user; the next tick tries again.
            log.warning("autosave to %s failed: %s", self.folder, err)
            return False
        return True

    def discard(self) -> None:
        for path in (self.project_file, self.meta_file):
            path.unlink(missing_ok=True)

    def pending(self) -> Recovery | None:
        """What a previous session left behind, if it can be read."""
        if not self.project_file.exists():
            return None
        try:
            project = load(self.project_file)
        except ProjectError as err:
            log.warning("recovery file unreadable, ignored: %s", err)
            return None
        original, saved_at = None, self.project_file.stat().st_mtime
        try:
            meta = json.loads(self.meta_file.read_text(encoding="utf-8"))
            original = Path(meta["original_path"]) if meta.get("original_path") else None
            saved_at = float(meta.get("saved_at", saved_at))
        except (OSError, ValueError, KeyError, TypeError):
            pass  # the project itself is what matters; its old name is a nicety
        return Recovery(project, original, saved_at)
