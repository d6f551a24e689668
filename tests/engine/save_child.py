"""A child process for tests/engine/test_save_kill.py: saves projects until killed.

    python save_child.py TARGET PAUSE

Saves, over and over, a large project alternating between two versions (the one with
name "old" and the one with name "new") to TARGET with `engine.project.project.save`. Each save
starts with the line `saving <name>` on stdout ("new" first; with a PAUSE, "old").
With PAUSE one of `write`, `fsync`, `replace`, the save stops at that point (half
its text written; all written before the flush to disk; flushed, before the rename),
prints `paused <point>` and waits on stdin
for ever: the parent kills it there. PAUSE `none` never stops.
"""

from __future__ import annotations

import builtins
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import engine.common.atomic  # noqa: E402
from engine.graph.graph import Graph  # noqa: E402
from engine.project.project import Project, save  # noqa: E402

BLOCKS = 1_000


def big_project(name: str, units: int) -> Project:
    graph = Graph()
    tip = graph.add_node("Input", {"shape": [8]}).id
    for _ in range(BLOCKS):
        dense = graph.add_node("Dense", {"units": units}).id
        graph.connect(tip, dense)
        tip = dense
    graph.connect(tip, graph.add_node("Output", {"loss": "mse"}).id)
    return Project(graph, name=name)


def pause(point: str) -> None:
    print(f"paused {point}", flush=True)
    sys.stdin.read()  # until killed (the parent never writes)


class HalfWriter:
    """A text file whose write stops halfway (flushed, so the half is on disk)."""

    def __init__(self, *args, **kwargs) -> None:
        self.handle = builtins.open(*args, **kwargs)

    def __enter__(self) -> HalfWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.handle.close()

    def write(self, text: str) -> int:
        self.handle.write(text[: len(text) // 2])
        self.handle.flush()
        pause("write")
        return len(text)

    def __getattr__(self, name: str):
        return getattr(self.handle, name)


def main() -> None:
    target, point = Path(sys.argv[1]), sys.argv[2]
    if point == "write":
        engine.common.atomic.open = HalfWriter  # the module's own `open`, nothing else's
    elif point in ("fsync", "replace"):
        engine.common.atomic.os = _PausingOs(point, getattr(os, point))
    # Never paused: "new" first. Paused: "old" first, over a file holding "new".
    versions = [big_project("new", 16), big_project("old", 8)]
    if point != "none":
        versions.reverse()
    count = 0
    while True:
        project = versions[count % 2]
        print(f"saving {project.name}", flush=True)
        save(project, target)
        count += 1


class _PausingOs:
    """`os` for engine.common.atomic only, with one function that pauses before it runs."""

    def __init__(self, point: str, real) -> None:
        self.point, self.real = point, real

    def __getattr__(self, name: str):
        if name == self.point:

            def paused(*args):
                pause(self.point)
                return self.real(*args)

            return paused
        return getattr(os, name)


if __name__ == "__main__":
    main()
