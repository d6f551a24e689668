"""Load a dataset off the GUI thread for the picker's preview and fit check.

Generating or reading a dataset takes up to a second or two; a pool thread does it
and the result comes back as a queued signal to a @Slot of the picker. Only the
newest request counts: a result for an older choice is dropped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from engine.data import ArrayDataset, DataError, load_dataset
from gui.common import gc_guard

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DataKey:
    """Which data: a dataset, its params and the folder relative paths start from."""

    name: str
    params: tuple[tuple[str, Any], ...]
    base_dir: Path | None

    @classmethod
    def of(cls, choice: dict[str, Any], base_dir: Path | None) -> DataKey:
        params = choice.get("params") or {}
        return cls(str(choice.get("name", "")), tuple(sorted(params.items())), base_dir)


class _Signals(QObject):
    loaded = Signal(object, object)  # DataKey, ArrayDataset
    failed = Signal(object, str)  # DataKey, message


class _Load(QRunnable):
    def __init__(self, key: DataKey, signals: _Signals) -> None:
        super().__init__()
        self.key, self.signals = key, signals

    def run(self) -> None:
        key = self.key
        try:
            data = load_dataset(key.name, dict(key.params), key.base_dir)
        except DataError as err:
            self.signals.failed.emit(key, str(err))
        except Exception as err:  # a loader bug must not take the window down
            log.exception("loading %s for the preview failed", key.name)
            self.signals.failed.emit(key, f"{type(err).__name__}: {err}")
        else:
            self.signals.loaded.emit(key, data)


class DatasetLoader(QObject):
    """Loads one dataset at a time in the background; remembers the last one loaded."""

    loaded = Signal(object)  # ArrayDataset, for the newest request
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        self.signals = _Signals(self)
        self.signals.loaded.connect(self._on_loaded)
        self.signals.failed.connect(self._on_failed)
        self.wanted: DataKey | None = None
        self.key: DataKey | None = None  # what `data` holds
        self.data: ArrayDataset | None = None
        self.outstanding = 0  # loads whose result has not come back

    def request(self, key: DataKey) -> None:
        if key == self.wanted:
            return
        self.wanted = key
        gc_guard.hold()  # released when the result arrives, whatever it is
        self.outstanding += 1
        self.pool.start(_Load(key, self.signals))

    def adopt(self, key: DataKey, data: ArrayDataset) -> None:
        """Take data loaded elsewhere (by a training run) as the data for `key`."""
        self.key, self.data = key, data
        if self.wanted is None or self.wanted == key:
            self.wanted = key

    def current(self, key: DataKey) -> ArrayDataset | None:
        """The loaded data if it is for `key`."""
        return self.data if key == self.key else None

    @Slot(object, object)
    def _on_loaded(self, key: DataKey, data: ArrayDataset) -> None:
        self._finished_one()
        if key != self.wanted:
            return  # the user chose something else meanwhile
        self.key, self.data = key, data
        self.loaded.emit(data)

    @Slot(object, str)
    def _on_failed(self, key: DataKey, message: str) -> None:
        self._finished_one()
        if key == self.wanted:
            self.key, self.data = None, None
            self.failed.emit(message)

    def forget(self) -> None:
        """Drop a pending request, so the same choice loads again later (files changed)."""
        self.wanted = None

    def _finished_one(self) -> None:
        if self.outstanding:
            self.outstanding -= 1
            gc_guard.release()

    def wait(self) -> None:
        """Join the loading thread (the window is closing); its results are not needed."""
        if not self.outstanding:
            return  # waitForDone costs ~0.25 s even with nothing to wait for
        self.pool.waitForDone()
        while self.outstanding:
            self._finished_one()
