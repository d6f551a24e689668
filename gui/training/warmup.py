"""Get training ready before the window shows, so the first run neither waits nor
stalls the window.

`prepare_for_training()` is called by `gui.app.run_gui` behind a splash screen. Runs
happen in a child process (gui.training.child_trainer); the window's own process never
trains. What a fresh process pays before its first batch (importing torch, and
torch._dynamo, which the first optimizer imports lazily: ~2-4 s on a quiet 2-core
machine) is paid by a spare process started here, while the window opens.

The window's process needs torch too, on background threads: Look inside and "try a
sample" (saliency, any-size masks) build the model there. Importing torch is mostly
loading its libraries, during which the importing thread holds the GIL: imported by
such a thread as a run ended, it froze the GUI thread for 170-210 ms. So it is imported
here, behind the splash, before anything is on screen to freeze.
"""

from __future__ import annotations

import gc
import logging
import time

log = logging.getLogger(__name__)


def warm_up_torch() -> float:
    """Import what a first run imports lazily; returns the seconds it took (this runs in
    the trainer process, before it is given a job)."""
    began = time.perf_counter()
    import torch
    import torch._dynamo  # noqa: F401  (the import the first optimizer would trigger)

    import engine.train.trainer  # noqa: F401  (the trainer and its torch modules)
    import gui.training.evaluation  # noqa: F401  (what a run does once it has trained)

    torch.optim.Adam([torch.zeros(1, requires_grad=True)])  # anything else it pulls in
    seconds = time.perf_counter() - began
    log.info("torch ready in %.2f s", seconds)
    return seconds


def prepare_for_training() -> float:
    """Start a spare trainer process, then freeze what start-up allocated out of the
    collector's reach; returns the seconds this took on the calling thread.

    A full garbage collection walks every object the process holds, on the GUI thread
    (gui.training.gc_guard) in the middle of a run; `gc.freeze` moves the start-up
    objects, which live as long as the process, to a generation collections never scan.
    """
    from gui.training import child_trainer

    began = time.perf_counter()
    child_trainer.keep_spare()
    import_for_views()
    gc.collect()
    gc.freeze()
    return time.perf_counter() - began


def import_for_views() -> float:
    """Import what the in-window views compute with (torch, the model builder and the
    inspect engine) on the calling thread; returns the seconds it took."""
    began = time.perf_counter()
    import torch  # noqa: F401

    import engine.build  # noqa: F401
    import engine.inspect.activations  # noqa: F401
    import engine.inspect.saliency  # noqa: F401
    import engine.inspect.sizes  # noqa: F401

    seconds = time.perf_counter() - began
    log.info("torch ready in the window's process in %.2f s", seconds)
    return seconds
