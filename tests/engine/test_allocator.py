"""A process that only trains keeps the memory torch frees, instead of faulting it in again
every batch (engine.train.allocator)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# In a process of its own (the setting is for the whole process): a 64 MiB tensor made
# and freed ten times; the page faults the last eight took (the heap reaches its size
# in the first two).
FAULTS = """
import json, resource, sys
import torch
from engine.train.allocator import keep_freed_memory
took = keep_freed_memory() if sys.argv[1] == "keep" else None
torch.ones(16 << 20)
torch.ones(16 << 20)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(8):
    torch.ones(16 << 20)
print(json.dumps([took, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before]))
"""


def faults(mode: str) -> tuple[bool | None, int]:
    done = subprocess.run(
        [sys.executable, "-c", FAULTS, mode], capture_output=True, text=True, check=True
    )
    took, count = json.loads(done.stdout)
    return took, count


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc only")
def test_freed_tensor_memory_is_reused_not_faulted_in_again() -> None:
    took, kept = faults("keep")
    assert took is True
    _, default = faults("default")
    pages = (64 << 20) // 4096
    assert default > 7 * pages  # each new tensor faulted its 16,384 pages in again
    # The freed memory served the next tensors (0 faults in most runs; where the heap's
    # layout shifts, a round may reach fresh pages once or twice).
    assert kept < 2 * pages, kept
