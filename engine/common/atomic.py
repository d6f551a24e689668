"""Replace a file atomically, with the permissions a user expects.

Every file NetLoom writes over (projects, exported code, compiled models) goes
through `replace_file`: the new contents are written to a temporary file beside the
target and renamed over it only when complete, so a crash never leaves half a file.
Three things a plain `tempfile.mkstemp` + `os.replace` gets wrong are handled here:

- mode: mkstemp creates files 0600. A new file gets the mode `open()` would give it
  (0666 less the umask); a file that already exists keeps its own mode, so a private
  0600 project stays private and a shared 0644 one stays readable.
- symlinks: renaming over a link would replace the link by a plain file; the write
  goes to the link's target instead.
- stale temporary files: a process killed mid-write leaves `.NAME.<pid>.<random>.tmp`.
  `remove_stale_temps` deletes those of processes that no longer run (and, for names
  without a process id, those older than a minute); saving and opening call it.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

# A temporary file without a process id in its name (written by older NetLoom versions)
# counts as stale once it is this old: no save takes that long.
STALE_AFTER_SECONDS = 60.0


def current_umask() -> int:
    """The process umask, read without changing it where the system allows."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    umask = os.umask(0o022)  # no way to read it but to set it; put it straight back
    os.umask(umask)
    return umask


def resolve_target(path: Path) -> Path:
    """The file a write to `path` should change: a symlink's final target."""
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def _mode_for(target: Path) -> int:
    try:
        return target.stat().st_mode & 0o7777
    except OSError:
        return 0o666 & ~current_umask()


def temp_prefix(name: str) -> str:
    return f".{name}.{os.getpid()}."


def replace_file(path: str | Path, write: Callable[[Path], None]) -> None:
    """Call `write(tmp)` to fill a temporary file, then move it over `path`.

    `write` gets the temporary file's path (it exists, empty). Nothing changes at
    `path` unless `write` returns normally; the temporary file never outlives a failure.
    """
    target = resolve_target(Path(path))
    folder = target.parent if str(target.parent) else Path(".")
    remove_stale_temps(target)
    fd, tmp_name = tempfile.mkstemp(prefix=temp_prefix(target.name), suffix=".tmp", dir=folder)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        os.chmod(tmp, _mode_for(target))
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def replace_text(path: str | Path, text: str) -> None:
    """`replace_file` for text, flushed to disk before the rename."""

    def write(tmp: Path) -> None:
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())

    replace_file(path, write)


_TEMP = re.compile(r"\.(?P<pid>\d+)\.[^.]+\.tmp$|\.[^.]+\.tmp$")


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError, OverflowError):
        return True  # exists but is another user's, or we cannot tell: leave it
    return True


def remove_stale_temps(path: str | Path) -> list[Path]:
    """Delete temporary files a killed save left beside `path`; returns those removed."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    prefix = f".{target.name}."
    removed = []
    try:
        candidates = [p for p in folder.iterdir() if p.name.startswith(prefix)]
    except OSError:
        return removed
    now = time.time()
    for candidate in candidates:
        match = _TEMP.fullmatch(candidate.name[len(prefix) - 1 :])
        if match is None or not candidate.is_file() or candidate.is_symlink():
            continue
        pid = match.group("pid")
        try:
            if pid is not None:
                stale = not _process_alive(int(pid))
            else:
                stale = now - candidate.stat().st_mtime > STALE_AFTER_SECONDS
            if stale:
                candidate.unlink()
                removed.append(candidate)
        except OSError as err:
            log.debug("%s: could not remove a stale temporary file: %s", candidate, err)
    if removed:
        log.info("removed %d stale temporary file(s) beside %s", len(removed), target)
    return removed
