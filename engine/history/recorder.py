"""Recording one training run in the runs history, when the history can take it.

A runs database that cannot be read or written (damaged on disk, another program's file
under its name) must not end a run: the run trains all the same and goes unrecorded,
with one logged warning saying why. A run unrecorded from the start has the id
UNRECORDED (the database numbers runs from 1); one whose history fails mid-run stops
being recorded there (the history, once readable again, lists it as interrupted).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from engine.history.owner import Owner
from engine.history.runs import RunStore, RunStoreError, Status

log = logging.getLogger(__name__)

UNRECORDED = 0  # the id of a run the history could not take


class RunRecorder:
    """RunStore's writing methods for one run, each of which may find the history
    unusable: then this run is no longer recorded, and `problem` says why."""

    def __init__(self, path: str | Path) -> None:
        self.store: RunStore | None = None
        self.problem = ""
        try:
            self.store = RunStore(path)
        except RunStoreError as err:
            self._give_up(err)

    def _give_up(self, err: RunStoreError) -> None:
        log.warning("this run is not recorded in the runs history: %s", err)
        self.problem = str(err)
        self.close()

    def start_run(
        self, project: Mapping[str, Any], config: Mapping[str, Any], owner: Owner | None = None
    ) -> int:
        """The run's id in the history, or UNRECORDED."""
        if self.store is None:
            return UNRECORDED
        try:
            return self.store.start_run(project, config, owner)
        except RunStoreError as err:
            self._give_up(err)
            return UNRECORDED

    def add_epoch(self, run_id: int, epoch: int, split: str, metrics: Mapping[str, float]) -> None:
        self._write(run_id, lambda store: store.add_epoch(run_id, epoch, split, metrics))

    def add_batch_losses(
        self, run_id: int, epoch: int, batches: int, losses: Sequence[float]
    ) -> None:
        self._write(run_id, lambda store: store.add_batch_losses(run_id, epoch, batches, losses))

    def finish_run(
        self, run_id: int, status: Status, reason: str = "", checkpoint: str = ""
    ) -> None:
        self._write(run_id, lambda store: store.finish_run(run_id, status, reason, checkpoint))

    def interrupt(self, run_id: int) -> None:
        self._write(run_id, lambda store: store.interrupt(run_id))

    def _write(self, run_id: int, write: Callable[[RunStore], None]) -> None:
        if self.store is None or run_id == UNRECORDED:
            return
        try:
            write(self.store)
        except RunStoreError as err:
            self._give_up(err)

    def close(self) -> None:
        if self.store is not None:
            self.store.close()
            self.store = None
