"""What Look inside shows of a live run, measured in the trainer process.

The run's weights live in the trainer process (gui.run.child_trainer); the window
sees them only through the figures sent from here inside the progress bundles:

- gradient flow every K batches, always (it is cheap): per block with weights the
  gradient norm and the update/weight ratio of one step, and for each recurrent block
  how much gradient reaches the first steps of its input. K is chosen as the run goes
  so that measuring costs at most a budget of the training time: the probe's own cost
  is timed and set against the time a batch takes. The budget is `FLOW_BUDGET` while
  the window's Look inside training view is open (a line drawn live wants points) and
  `FLOW_BUDGET_UNSEEN` while it is not (the run keeps its flow for later; cnn_lstm_video
  ran 3-5% slower in the window at 3% than with no flow at all).
- weight and activation histograms at each epoch's end (and before the first batch),
  only while the window's Look inside training view is open (`looking`, an event the
  window sets), on one fixed small batch of validation samples.

What it measures it also keeps (`kept`), to be saved beside the run's checkpoint.

Qt-free and imported only in the trainer process: it needs torch.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

from engine.inspect.gradients import (
    FlowProbe,
    activation_histograms,
    gradient_through_time,
    through_time_ratio,
    weight_histograms,
)
from engine.inspect.lens import recurrent_blocks
from engine.train.events import BatchEnd
from gui.run.inside_record import RunInside
from gui.run.records import EpochHistograms, FlowSample

FLOW_BUDGET = 0.03  # the share of training time gradient flow may take, watched
FLOW_BUDGET_UNSEEN = float(__import__("os").environ.get("DIAG_FLOW_BUDGET", "0.01"))  # DIAG
FIRST_EVERY = 10  # batches before the first measurement, when its cost is not known yet
MAX_EVERY = 10_000
FIXED_SAMPLES = 32  # validation samples for the histograms of outputs and through time

log = logging.getLogger(__name__)


class RunCapture:
    """Bound to one Trainer; its methods are called from the trainer's callbacks."""

    def __init__(
        self,
        trainer: Any,
        looking: Any,
        budget: float = FLOW_BUDGET,
        unseen_budget: float = FLOW_BUDGET_UNSEEN,
    ) -> None:
        self.model = trainer.model
        self.loss_fn = trainer.loss_fn
        self.batch_size = trainer.config.batch_size
        self.looking = looking
        self.budget, self.unseen_budget = budget, unseen_budget
        self.probe = FlowProbe(self.model, every=FIRST_EVERY)
        split = trainer.val_split if trainer.val_split is not None else trainer.train_split
        self.x, self.y = split.x[:FIXED_SAMPLES], split.y[:FIXED_SAMPLES]
        self.recurrent = recurrent_blocks(self.model)
        self.spent_s = 0.0  # measuring, since the last measurement
        self.kept = RunInside()  # every sample and histogram handed out

    def after_batch(self, event: BatchEnd) -> FlowSample | None:
        """Every K batches the flow of this batch's step; None in between."""
        began = time.perf_counter()
        flows = self.probe.after_batch()
        sample = None
        if flows is not None:
            through_time = {}
            for node in list(self.recurrent):
                try:
                    grads = gradient_through_time(self.model, self.loss_fn, self.x, self.y, node)
                except Exception:  # noqa: BLE001 — a view must never end the run
                    log.warning("gradient through time of %s: not measured", node, exc_info=True)
                    self.recurrent.remove(node)
                    continue
                through_time[node] = through_time_ratio(grads)
            sample = FlowSample(
                event.epoch,
                event.batch,
                event.batches,
                {f.node: f.grad_norm for f in flows},
                {f.node: math.nan if f.update_ratio is None else f.update_ratio for f in flows},
                through_time,
                self.probe.every,
            )
        if sample is not None:
            self.kept.add_flow(sample)
            cost, self.spent_s = self.spent_s + time.perf_counter() - began, 0.0
            began = time.perf_counter()
            self._pace(event, cost)  # may copy the weights now: counted in the next cycle
        self.spent_s += time.perf_counter() - began
        return sample

    def _pace(self, event: BatchEnd, cost_s: float) -> None:
        """The next K: a cycle's cost (the weights' copy and the measurement) is at most
        the budget's share of K batches' training time. K at most doubles from one
        measurement to the next: one slow measurement (the machine busy elsewhere) does
        not leave a gap of many batches."""
        if event.samples_per_s > 0:
            batch_s = self.batch_size / event.samples_per_s
            budget = self.budget if self.looking.is_set() else self.unseen_budget
            every = math.ceil(round(cost_s / (budget * batch_s), 6))
            self.probe.every = min(max(every, 1), 2 * self.probe.every, MAX_EVERY)

    def histograms(self, epoch: int) -> EpochHistograms | None:
        """The distributions now (at the end of `epoch`), if the view is open."""
        if not self.looking.is_set():
            return None
        try:
            activations = activation_histograms(self.model, self.x)
        except Exception:  # noqa: BLE001 — a view must never end the run
            log.warning("output histograms: not taken", exc_info=True)
            activations = {}
        taken = EpochHistograms(epoch, weight_histograms(self.model), activations, len(self.x))
        self.kept.add_histograms(taken)
        return taken
