"""While a worker thread runs Python, the GUI thread collects garbage on a timer, and a
full collection walks only what was made since the worker started (gui.common.gc_guard)."""

from __future__ import annotations

import gc
import weakref

from gui.common import gc_guard


class Node:
    """An object in a reference cycle: only the cycle collector frees it."""

    def __init__(self) -> None:
        self.me = self


def test_a_collection_during_a_run_walks_only_what_the_run_made(qapp) -> None:
    before = Node()
    of_before = weakref.ref(before)
    del before  # garbage from before the run
    gc_guard.hold()
    try:
        assert not gc.isenabled()  # no automatic collection on the worker's thread
        assert gc.get_freeze_count() > 1000  # the window's objects sit this run out
        gc.collect(2)
        assert of_before() is not None  # a full collection did not walk them
        during = Node()
        of_during = weakref.ref(during)
        del during
        gc.collect(2)
        assert of_during() is None  # what the run makes is collected as usual
    finally:
        gc_guard.release()
    assert gc.isenabled() and gc.get_freeze_count() == 0
    gc.collect()
    assert of_before() is None  # collected with everything else once the run ends
