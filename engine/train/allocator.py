"""Keep freed tensor memory in the process, for processes that only train.

torch on the CPU allocates every activation and gradient with the C library's malloc.
glibc serves blocks over its mmap threshold (at most 32 MiB) with fresh mmap calls and
hands freed memory at the heap's top back to the system, so every batch faults the same
pages in again: a `train` run of cnn_lstm_video took 2.0 million page faults and 4.7 s
of kernel time in 16 s, and its epochs varied from 585 to 880 samples/s. Serving every
block from the heap and never trimming it took that to 175 thousand faults and 0.6 s,
14 s of wall time, epochs within ±7%, for ~10% more peak memory (the high-water mark
stays with the process until it exits).

Only for processes whose job is one run (the `train` command, the window's trainer
process): the window itself keeps the C library's defaults. Elsewhere than glibc this
does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

# mallopt parameters, from glibc's malloc.h.
M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_MAX = -1, -2, -4
# Freed memory at the heap's top is kept up to this much (the largest int mallopt takes:
# all of it, in practice), and the heap grows by this much more than asked, so seldom.
TRIM_THRESHOLD = 2**31 - 1
TOP_PAD = 64 << 20


def keep_freed_memory() -> bool:
    """Ask glibc to serve large blocks from its heap and keep what is freed; True if it
    took every setting. Call as the process starts, before torch allocates."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
        if not hasattr(libc, "gnu_get_libc_version"):  # musl's mallopt does nothing
            return False
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    settings = ((M_MMAP_MAX, 0), (M_TRIM_THRESHOLD, TRIM_THRESHOLD), (M_TOP_PAD, TOP_PAD))
    return all(mallopt(param, value) == 1 for param, value in settings)
