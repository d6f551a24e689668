"""The GUI thread asks for short time slices, so a run's busy cores serve it promptly."""

from __future__ import annotations

import os
import re
import sys
import threading

import pytest

from gui.common.latency import ask_for_short_slices


def thread_slice_ns() -> int | None:
    """The calling thread's time slice as the kernel reports it (Linux ≥ 6.6)."""
    try:
        with open("/proc/thread-self/sched", encoding="utf-8") as handle:
            found = re.search(r"se\.slice\s*:\s*(\d+)", handle.read())
    except OSError:
        return None
    return int(found.group(1)) if found else None


def in_a_thread(call):
    answer = []
    thread = threading.Thread(target=lambda: answer.append(call()))
    thread.start()
    thread.join()
    return answer[0]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a Linux scheduler request")
def test_the_thread_that_asks_gets_the_slice_and_keeps_its_niceness():
    def ask():
        nice = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        accepted = ask_for_short_slices(300_000)
        after = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        return accepted, thread_slice_ns(), nice, after

    accepted, slice_ns, nice_before, nice_after = in_a_thread(ask)
    assert nice_after == nice_before
    if accepted and slice_ns is not None:
        assert slice_ns == 300_000
    else:  # an older kernel or a refusal: nothing changed, and it said so
        assert slice_ns is None or slice_ns != 300_000


def test_asking_for_nothing_changes_nothing():
    before = in_a_thread(thread_slice_ns)
    assert in_a_thread(lambda: (ask_for_short_slices(0), thread_slice_ns())) == (False, before)
