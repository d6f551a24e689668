"""Get training ready so the first run neither waits nor stalls the window.

Runs happen in a child process (gui.run.child_trainer); the window's own process
never trains. What a fresh process pays before its first batch (importing torch, and
torch._dynamo, which the first optimizer imports lazily: ~2-4 s on a quiet 2-core
machine, ~1.3 s of it torch._dynamo holding the GIL) is paid by a spare process
started ahead of the run, which warms up while nobody waits (`warm_up_torch`).

The window's process needs torch too, on background threads: Look inside and "try a
sample" (saliency, any-size masks) build the model there. Importing torch is mostly
loading its libraries, during which the importing thread holds the GIL: imported by
such a thread as a run ended, it froze the GUI thread for 170-210 ms. So it is imported
ahead of that, at start-up.

At start-up both happen after the window's first paint, one after the other
(`import_in_background`, then the spare; driven by gui.run.preparation): done
before the window showed, they held it back 3.5-5.5 s on a warm install.
`gui.run.preparation.prepare_for_training` does both on the calling thread, for
scripts that want it all done before they go on (screenshots, benchmarks).

Qt-free: the trainer process imports this module. It does not import the trainer
process's module (gui.run.child_trainer), which imports it.
"""

from __future__ import annotations

import ctypes
import importlib.util
import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

# torch's largest libraries (Linux names), loaded ahead of `import torch` (see
# load_torch_libraries); libtorch_cpu alone is ~430 MB with the operators' registrations
# in its static initialisers.
TORCH_LIBRARIES = ("libtorch_cpu.so", "libtorch_python.so")


def warm_up_torch() -> float:
    """Import what a first run imports lazily; returns the seconds it took (this runs in
    the trainer process, before it is given a job)."""
    began = time.perf_counter()
    import torch
    import torch._dynamo  # noqa: F401  (the import the first optimizer would trigger)

    import engine.train.trainer  # noqa: F401  (the trainer and its torch modules)
    import gui.run.evaluation  # noqa: F401  (what a run does once it has trained)

    torch.optim.Adam([torch.zeros(1, requires_grad=True)])  # anything else it pulls in
    seconds = time.perf_counter() - began
    log.info("torch ready in %.2f s", seconds)
    return seconds


def import_in_background(done: Callable[[float], None]) -> threading.Thread:
    """Import the views' torch on a thread of its own, which calls `done(seconds it
    took)` at the end (also when the import failed: the views then say so when they are
    used). The caller holds automatic garbage collection meanwhile, freezes start-up's
    objects afterwards and then starts the spare trainer (gui.run.preparation).
    """
    # torch imports this, which registers an exit handler: refused once the interpreter
    # is shutting down (the window closed while the import ran), failing the import.
    import concurrent.futures.thread  # noqa: F401

    def run() -> None:
        began = time.perf_counter()
        try:
            import_for_views()
        except Exception:  # a broken torch install must not leave the caller waiting
            if threading.main_thread().is_alive():
                log.exception("importing torch for the window's views failed")
            else:  # the app has quit meanwhile: nobody needs it any more
                log.debug("torch import ended by the app's exit", exc_info=True)
        done(time.perf_counter() - began)

    # Not a daemon: the interpreter waits for it at exit. Ended half-way (the window
    # closed in its first seconds), the process aborted: exit handlers ran while
    # libtorch's static initialisers were still running in dlopen.
    thread = threading.Thread(target=run, name="NetLoom torch import", daemon=False)
    thread.start()
    return thread


def import_for_views() -> float:
    """Import what the in-window views compute with (torch, the model builder and the
    inspect engine) on the calling thread; returns the seconds it took."""
    began = time.perf_counter()
    load_torch_libraries()
    import torch  # noqa: F401

    import engine.inspect.activations  # noqa: F401
    import engine.inspect.saliency  # noqa: F401
    import engine.inspect.sizes  # noqa: F401
    import engine.model.build  # noqa: F401

    seconds = time.perf_counter() - began
    log.info("torch ready in the window's process in %.2f s", seconds)
    return seconds


def load_torch_libraries() -> int:
    """Load torch's big shared libraries with the GIL released; returns how many loaded.

    `import torch` loads them from inside the import, which holds the GIL throughout:
    on a background thread beside the window that froze the GUI thread 550-900 ms in
    one piece. Loaded first through a foreign call to dlopen (ctypes releases the GIL
    around it), the import then finds them in memory: the longest freeze fell to
    120-190 ms (a 2 ms loop beside the import, 2 cores under load). Loaded with the
    default local scope, as the import would (torch finds them by path, not by name).
    Linux only; elsewhere, or if anything is not where expected, the import does it all.
    """
    if not sys.platform.startswith("linux"):
        return 0
    spec = importlib.util.find_spec("torch")
    if spec is None or not spec.submodule_search_locations:
        return 0
    folder = Path(next(iter(spec.submodule_search_locations))) / "lib"
    try:
        dlopen = ctypes.CDLL(None).dlopen
    except (OSError, AttributeError):
        return 0
    dlopen.restype = ctypes.c_void_p
    dlopen.argtypes = [ctypes.c_char_p, ctypes.c_int]
    loaded = 0
    for name in TORCH_LIBRARIES:
        path = folder / name
        if path.is_file() and dlopen(os.fsencode(path), os.RTLD_NOW):
            loaded += 1
    log.debug("loaded %d of torch's libraries ahead of the import", loaded)
    return loaded
