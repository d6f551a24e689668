"""Recent files (kept in QSettings), the file dialogs' filters, and the folder a file
dialog opens in."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

from PySide6.QtCore import QSettings

PROJECT_FILTER = "NetLoom projects (*.json);;All files (*)"
RECENT_KEY = "recent_files"
LAST_FOLDER_KEY = "last_folder"
MAX_RECENT = 10


class RecentFiles:
    def __init__(self, settings: QSettings) -> None:
        self.settings = settings

    def paths(self) -> list[Path]:
        raw = self.settings.value(RECENT_KEY, [])
        if isinstance(raw, str):  # QSettings returns a lone string for a one-item list
            raw = [raw]
        return [Path(p) for p in (raw or []) if isinstance(p, str)]

    def add(self, path: Path) -> None:
        resolved = path.resolve()
        items = [resolved] + [p for p in self.paths() if p != resolved]
        self._store(items[:MAX_RECENT])

    def remove(self, path: Path) -> None:
        self._store([p for p in self.paths() if p != path.resolve() and p != path])

    def clear(self) -> None:
        self._store([])

    def _store(self, items: list[Path]) -> None:
        self.settings.setValue(RECENT_KEY, [str(p) for p in items])
        self.settings.sync()


def start_folder(project_path: Path | None, settings: QSettings) -> Path:
    """The folder an open, save or export dialog opens in: the project's own, else the
    last folder a dialog was used in, else the home folder; never the folder the
    program happened to be started from."""
    if project_path is not None:
        return project_path.resolve().parent
    last = settings.value(LAST_FOLDER_KEY, "")
    if isinstance(last, str) and last and Path(last).is_dir():
        return Path(last)
    return Path.home()


def remember_folder(settings: QSettings, chosen: Path) -> None:
    """A dialog picked `chosen` (a file): the next dialog of an unsaved project opens
    in its folder."""
    settings.setValue(LAST_FOLDER_KEY, str(chosen.resolve().parent))
    settings.sync()


@runtime_checkable
class FolderAware(Protocol):
    """A window whose file dialogs follow `start_folder` (dialogs it owns ask it)."""

    def dialog_start(self, file_name: str = "") -> str: ...

    def remember_dialog_folder(self, chosen: Path) -> None: ...
