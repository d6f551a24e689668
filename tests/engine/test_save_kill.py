"""kill -9 during a save leaves the old or the new project file, never a torn one.

A child process (save_child.py) saves a large project (1,000 blocks, ~200 KB) over
and over, alternating two versions, and is killed with SIGKILL: at each point inside a
save where a plain write would leave half a file (text half written, written but not
flushed, flushed but not renamed), and at random moments of its saving loop. After
every kill the file on disk must load, as one of the two versions.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from engine.project.project import load

CHILD = Path(__file__).with_name("save_child.py")
# Each kill starts a child (~0.8 s); NETLOOM_SAVE_KILLS=20 for a longer look.
RANDOM_KILLS = int(os.environ.get("NETLOOM_SAVE_KILLS", "5"))


def start_child(target: Path, point: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(CHILD), str(target), point],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def read_until(child: subprocess.Popen, prefix: str) -> str:
    """The child's next line starting with `prefix` (its lines are its progress)."""
    for line in child.stdout:
        if line.startswith(prefix):
            return line.strip()
    raise AssertionError(f"the child ended (code {child.wait()}) before printing {prefix!r}")


def kill(child: subprocess.Popen) -> None:
    child.send_signal(signal.SIGKILL)
    assert child.wait() == -signal.SIGKILL
    child.stdout.close()
    child.stdin.close()


def saved_version(target: Path) -> str:
    project = load(target)  # a torn file raises ProjectError here
    assert project.name in ("old", "new"), project.name
    assert len(project.graph) == 1_002
    return project.name


def first_save(target: Path) -> None:
    """Put a complete file in place: the child's first save of "new" finishes."""
    child = start_child(target, "none")
    read_until(child, "saving old")  # "new" went first and is complete
    kill(child)


@pytest.mark.parametrize("point", ["write", "fsync", "replace"])
def test_a_save_killed_inside_leaves_the_previous_file(tmp_path: Path, point: str) -> None:
    target = tmp_path / "project.json"
    first_save(target)
    assert saved_version(target) == "new"
    child = start_child(target, point)
    assert read_until(child, "saving") == "saving old"
    assert read_until(child, "paused") == f"paused {point}"  # inside writing "old"
    kill(child)
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != target.name]
    assert leftovers, "the paused save had a temporary file beside the project"
    assert saved_version(target) == "new"
    # Opening the project removed the killed save's temporary file.
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]


def test_saves_killed_at_random_moments_leave_a_whole_file(tmp_path: Path) -> None:
    target = tmp_path / "project.json"
    first_save(target)
    rng = random.Random(23)
    seen = []
    for _ in range(RANDOM_KILLS):
        child = start_child(target, "none")
        for _ in range(rng.randint(1, 3)):  # kill just as the n-th save begins
            read_until(child, "saving")
        kill(child)
        seen.append(saved_version(target))
    # Both versions survive kills: the kills landed in different saves.
    assert set(seen) == {"old", "new"}, seen
