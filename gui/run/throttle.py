"""Batch the trainer's callbacks into at most ~10 signals a second.

The trainer calls back after every batch (thousands a second on a small model); the
window only needs to hear often enough to look live. Epoch ends travel in the same
bundle, so a run of many tiny epochs cannot flood the event loop either.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from engine.train.events import BatchEnd, EpochEnd
from gui.run.records import EpochHistograms, FlowSample, LiveWeights, Progress

# Bundles wake the window: its relay thread and then its GUI thread, each wake-up
# preempting one of the trainer's torch threads (the other waits for it at their next
# barrier). The curves redraw with them, one plot per bundle (gui.training.curves).
# At 30 a second the window's thread took 6.9% of a core over a cnn_lstm_video run, at
# 10 5.9% (before later savings); 5 keep the loss curve moving 5 times a second.
MAX_RATE_HZ = 5.0


class ProgressThrottle:
    """Collects events on the training thread and hands them to `send` in bundles,
    no sooner than `interval_s` after the previous bundle (and once more at `flush`)."""

    def __init__(
        self,
        send: Callable[[Progress], None],
        interval_s: float = 1.0 / MAX_RATE_HZ,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.send = send
        self.interval_s = interval_s
        self.clock = clock
        self._pending = Progress()
        self._last_sent = -float("inf")
        self._lock = threading.Lock()  # flush() may come from another thread at the end

    def add_batch(self, event: BatchEnd) -> None:
        with self._lock:
            self._pending.batches.append(event)
        self._send_if_due()

    def add_epoch(self, event: EpochEnd) -> None:
        with self._lock:
            self._pending.epochs.append(event)
        self._send_if_due()

    def add_flow(self, sample: FlowSample) -> None:
        """Kept for the next bundle (the batch it belongs to is added right after)."""
        with self._lock:
            self._pending.flow.append(sample)

    def add_histograms(self, histograms: EpochHistograms) -> None:
        """Kept for the next bundle (the epoch end it belongs to is added right after)."""
        with self._lock:
            self._pending.histograms.append(histograms)

    def add_weights(self, weights: LiveWeights) -> None:
        """Kept for the next bundle (the batch they are of is added right after)."""
        with self._lock:
            self._pending.weights = weights

    def _send_if_due(self) -> None:
        if self.clock() - self._last_sent >= self.interval_s:
            self.flush()

    def flush(self) -> None:
        with self._lock:
            bundle, self._pending = self._pending, Progress()
            if bundle:
                self._last_sent = self.clock()
        if bundle:
            self.send(bundle)
