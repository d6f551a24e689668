"""Ask the operating system to serve the GUI thread promptly while a run trains.

A run keeps every core busy with torch's threads (in a child process, at normal
priority). When a timer or a progress bundle wakes the GUI thread, it must wait until
the scheduler takes a core from one of them. Linux's scheduler (EEVDF, kernel 6.6 and
later) lets a running task finish its time slice first — ~1.5 ms on 2 cores, and more
when it is lagging — which showed as 5-7 ms late frames at the 99th percentile. A
thread may ask for a shorter slice (`sched_setattr`, its `sched_runtime` field for
normal tasks, kernel 6.12 and later; no privilege needed): a waking task whose slice is
shorter than the running one's may preempt it at once. The GUI thread uses a few per
cent of a core, so its short slices cost the trainer nothing measurable.

Elsewhere (other systems, older kernels, a refusal) this does nothing and says why in
the log; the window works the same, only its frames may come a few ms late in a run.
"""

from __future__ import annotations

import ctypes
import logging
import os
import platform
import struct
import sys
import threading

log = logging.getLogger(__name__)

# The slice asked for, in ns (the kernel accepts 0.1 ms to 100 ms). 0: ask for nothing.
GUI_SLICE_NS = 300_000
# The sched_setattr system call's number on the Linux machines Python wheels exist for.
_SCHED_SETATTR = {"x86_64": 314, "aarch64": 274, "riscv64": 274, "ppc64le": 355, "s390x": 345}
_SCHED_OTHER = 0
_ATTR_SIZE = 56  # struct sched_attr as of Linux 4.13 (SCHED_ATTR_SIZE_VER1)


def ask_for_short_slices(slice_ns: int | None = None) -> bool:
    """Ask that the calling thread get short time slices (call it on the GUI thread).
    True when the kernel accepted; False (logged) where it cannot be asked."""
    slice_ns = GUI_SLICE_NS if slice_ns is None else slice_ns
    if not slice_ns or not sys.platform.startswith("linux"):
        return False
    number = _SCHED_SETATTR.get(platform.machine())
    if number is None:
        log.info("short GUI time slices: no sched_setattr number for %s", platform.machine())
        return False
    # struct sched_attr: size, policy, flags, nice, priority, runtime, deadline, period,
    # util_min, util_max. A normal (SCHED_OTHER) thread reads runtime as its requested
    # slice; its niceness stays what it is (raising it back would need privilege).
    try:
        nice = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        attr = ctypes.create_string_buffer(
            struct.pack("=IIQiIQQQII", _ATTR_SIZE, _SCHED_OTHER, 0, nice, 0, slice_ns, 0, 0, 0, 0)
        )
        libc = ctypes.CDLL(None, use_errno=True)
        failed = libc.syscall(number, 0, attr, 0) != 0  # pid 0: the calling thread
    except (OSError, AttributeError) as err:
        log.info("short GUI time slices: cannot call sched_setattr (%s)", err)
        return False
    if failed:
        log.info("short GUI time slices: the kernel refused (errno %d)", ctypes.get_errno())
        return False
    return True
