"""Which process owns a recorded run, and whether that process still lives.

A run is recorded as "running" when it starts and finished by the process that ran
it. If that process is killed (SIGKILL, the out-of-memory killer, a power cut), the
row would say "running" forever; the runs history asks instead whether the owner
still lives. A process id alone is not enough (ids are reused), so on Linux the
owner is the id and its start time in clock ticks since boot (/proc/<pid>/stat field
22): a process with the same id and another start time is someone else. Where no
/proc exists, the id alone decides: this process and its parent (the window, seen from
its trainer child) live; on other POSIX systems any process that exists does; on
Windows, where asking could end the process, a run owned by any other process counts
as ended (the window is the one process that both records its runs and lists them, so
a new window finds the old window's runs ended).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")


def start_ticks(pid: int) -> str:
    """Process `pid`'s start time in clock ticks since boot, as /proc says it; '' where
    the system has no /proc or the process does not exist."""
    try:
        stat = (PROC / str(pid) / "stat").read_text(encoding="ascii", errors="replace")
        # The command name (field 2) sits in parentheses and may hold spaces or ')':
        # fields 3 onwards follow the last ')'.
        return stat.rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def has_proc() -> bool:
    return (PROC / "self" / "stat").is_file()


@dataclass(frozen=True)
class Owner:
    pid: int  # 0: unknown (a run recorded before owners were)
    started: str = ""  # start_ticks(pid) when recorded; '' where unknown

    @classmethod
    def of(cls, pid: int) -> Owner:
        return cls(pid, start_ticks(pid))

    @classmethod
    def current(cls) -> Owner:
        return cls.of(os.getpid())

    def alive(self) -> bool:
        """Whether the process that recorded the run still runs (see the module text)."""
        if self.pid <= 0:
            return False
        if has_proc():
            return bool(self.started) and start_ticks(self.pid) == self.started
        # A parent that dies leaves its POSIX child re-parented: getppid() changes.
        if self.pid in (os.getpid(), os.getppid()):
            return True
        return os.name == "posix" and pid_exists(self.pid)


def pid_exists(pid: int) -> bool:
    """POSIX only (on Windows os.kill ends the process)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    except (OSError, OverflowError):
        return False
    return True
