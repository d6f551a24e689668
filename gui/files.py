"""Recent files (kept in QSettings) and the file dialogs' filters."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings

PROJECT_FILTER = "NetLoom projects (*.json);;All files (*)"
RECENT_KEY = "recent_files"
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
