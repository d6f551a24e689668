"""Optimizers, learning-rate schedules, and the hardware to run on (device, CPU threads)."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable

import torch
from torch import nn

from engine.train.config import ConfigError, Schedule, TrainConfig

logger = logging.getLogger(__name__)

# Below this many multiply-adds per batch (forward), splitting each operation over
# threads costs more in synchronisation than it saves: on 2 shared cores, MLP iris and
# the 8×8 digits CNN (11M per batch) ran 1.5-6× faster on one thread than on two.
SMALL_BATCH_WORK = 50e6


def make_optimizer(params: Iterable[nn.Parameter], config: TrainConfig) -> torch.optim.Optimizer:
    lr, decay = config.lr, config.weight_decay
    if config.optimizer == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=config.momentum, weight_decay=decay)
    if config.optimizer == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=decay)
    if config.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=decay)
    if config.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, momentum=config.momentum, weight_decay=decay)
    raise ConfigError(f"training.optimizer: unknown optimizer {config.optimizer!r}")


class LearningRateSchedule:
    """One interface over torch's schedulers: the trainer calls both hooks every time.

    Cosine moves every batch (a smooth curve even over few epochs); step and plateau
    move at epoch ends, plateau on the monitored validation loss.
    """

    def __init__(
        self, optimizer: torch.optim.Optimizer, schedule: Schedule, epochs: int, batches: int
    ) -> None:
        self.name = schedule.name
        self.scheduler: torch.optim.lr_scheduler.LRScheduler | None = None
        self.plateau: torch.optim.lr_scheduler.ReduceLROnPlateau | None = None
        if schedule.name == "step":
            self.scheduler = torch.optim.lr_scheduler.StepLR(
                optimizer, step_size=schedule.step_size, gamma=schedule.gamma
            )
        elif schedule.name == "cosine":
            self.scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(
                optimizer, T_max=max(epochs * batches, 1)
            )
        elif schedule.name == "plateau":
            self.plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(
                optimizer, mode="min", factor=schedule.factor, patience=schedule.patience
            )

    @property
    def moves_per_batch(self) -> bool:
        return self.name == "cosine"

    def after_batch(self) -> None:
        if self.moves_per_batch and self.scheduler is not None:
            self.scheduler.step()

    def after_epoch(self, monitored_loss: float) -> None:
        if self.name == "step" and self.scheduler is not None:
            self.scheduler.step()
        elif self.plateau is not None:
            self.plateau.step(monitored_loss)


def resolve_device(choice: str) -> torch.device:
    """auto picks cuda, then mps, else cpu; an explicit choice must be present."""
    cuda = torch.cuda.is_available()
    mps = torch.backends.mps.is_available()
    if choice == "auto":
        return torch.device("cuda" if cuda else "mps" if mps else "cpu")
    if (choice == "cuda" and not cuda) or (choice == "mps" and not mps):
        found = "cuda" if cuda else "mps" if mps else "only cpu"
        raise ConfigError(
            f"training.device: {choice} is not available on this machine "
            f"(torch {torch.__version__} finds {found}); use auto or cpu"
        )
    return torch.device(choice)


def _cpu_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot, from /proc/stat (Linux)."""
    with open("/proc/stat", encoding="ascii") as handle:
        fields = [int(v) for v in handle.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


def busy_cores(interval: float = 0.05) -> float:
    """How many cores other processes keep busy right now.

    Sampled over `interval` while this process waits, so, unlike the load average,
    it does not count training this process has just finished. Falls back to the
    1-minute load average where /proc/stat does not exist.
    """
    cores = os.cpu_count() or 1
    try:
        busy0, total0 = _cpu_ticks()
        own0 = time.process_time()
        time.sleep(interval)
        busy1, total1 = _cpu_ticks()
        own = time.process_time() - own0
    except (OSError, ValueError, IndexError):
        try:
            return os.getloadavg()[0]
        except OSError:  # no load average either
            return 0.0
    if total1 <= total0:
        return 0.0
    share = (busy1 - busy0) / (total1 - total0)  # of all cores
    return max(0.0, share * cores - own / interval)


def choose_threads(work_per_batch: float) -> int:
    """CPU threads for torch: one for small batches, else the cores others leave idle.

    On a shared machine, a thread that waits for a core holds every other thread up
    at each operation's barrier: with the 2 cores busy elsewhere, two threads trained
    3-20× slower than one; with them idle, 1.4-1.6× faster (CNN+LSTM video, FCN).
    """
    cores = os.cpu_count() or 1
    if work_per_batch < SMALL_BATCH_WORK or cores == 1:
        return 1
    busy = busy_cores()
    threads = max(1, min(cores, round(cores - busy)))
    logger.info("%d CPU thread(s): %d cores, %.1f busy elsewhere", threads, cores, busy)
    return threads


def warm_up() -> None:
    """Do torch's one-time lazy imports now rather than at the first Trainer.

    The first optimizer construction imports torch._dynamo: about 1 s holding the GIL
    (measured 0.9 s with torch 2.13 here). A GUI calls this behind its splash screen so
    that starting a training run neither freezes the window nor stalls the worker.
    """
    torch.optim.Adam([nn.Parameter(torch.zeros(1))])
