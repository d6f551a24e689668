"""Load torch before the window shows, so the first run does not stall the window.

`prepare_for_training()` is called by `gui.app.run_gui` behind a splash screen.

The first optimizer a process builds imports torch._dynamo: about a second of imports
holding the GIL. Done by the training thread while the window runs, that froze the
event loop for 100-230 ms at the start of the first run (measured on 2 cores). Importing it here,
behind the splash, costs the same second once, at start-up, when nobody is
interacting; bench/gui_responsiveness.py measures both choices.
"""

from __future__ import annotations

import gc
import logging
import time

log = logging.getLogger(__name__)


def warm_up_torch() -> float:
    """Import what a first run imports lazily; returns the seconds it took."""
    began = time.perf_counter()
    import torch
    import torch._dynamo  # noqa: F401  (the import the first optimizer would trigger)

    import engine.train.trainer  # noqa: F401  (the trainer and its torch modules)

    torch.optim.Adam([torch.zeros(1, requires_grad=True)])  # anything else it pulls in
    seconds = time.perf_counter() - began
    log.info("torch ready in %.2f s", seconds)
    return seconds


def prepare_for_training() -> float:
    """Warm torch up, then freeze what start-up allocated out of the collector's reach.

    With torch loaded a full garbage collection walks ~400,000 objects: 250 ms on the
    GUI thread, a visible stall in the middle of a run. Those objects live as long as
    the process; `gc.freeze` moves them to a generation collections never scan (a full
    collection then takes well under a millisecond).
    """
    seconds = warm_up_torch()
    gc.collect()
    gc.freeze()
    return seconds
