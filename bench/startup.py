"""How long from `python main.py` to the main window on screen (warm install).

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/startup.py [--runs 7] [--ready]

Each run starts `python main.py` as a user would, with NETLOOM_STARTUP_PROBE set
(gui.startup_probe): the app prints the moment its main window first paints, then quits.
The time counted runs from just before the process is started to that paint, so it holds
the interpreter's own start, every import and the window's construction. One run that
is not counted goes first (it fills the file cache: this measures a warm install).

--ready also waits for what the app prepares after the window shows (torch imported in
the window's process, a trainer process warming up) and reports how long that took and
the longest the window's event loop went unserved meanwhile (a freeze the user could
feel if they moved the mouse just then).

Beside each wall-clock time, the CPU seconds the app's process had used by its first
paint: on a machine shared with other work, the wall clock grows with the others'
load; the CPU time much less.

Prints each run, then min / median / max. Target: window <= 2 s.
Runs, settings and recovery files go to a temporary folder, never the user's.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MARK = "netloom-startup"  # gui.startup_probe.MARK (not imported: that would load Qt here)
TARGET_S = 2.0
TIMEOUT_S = 300.0


@dataclass(frozen=True)
class Start:
    window_s: float
    window_cpu_s: float
    ready_s: float | None = None
    longest_stall_ms: float | None = None


def start_once(mode: str, home: Path) -> Start:
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env["NETLOOM_STARTUP_PROBE"] = mode
    env["NETLOOM_DATA_DIR"] = str(home / "data")
    env["XDG_CONFIG_HOME"] = str(home / "config")  # QSettings: window layout
    began = time.time()
    done = subprocess.run(
        [sys.executable, str(ROOT / "main.py")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    marks: dict[str, float] = {}
    for line in done.stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == MARK:
            marks[parts[1]] = float(parts[2])
    if done.returncode != 0 or "window" not in marks:
        raise SystemExit(
            f"main.py exited {done.returncode} without reporting its window:\n{done.stderr}"
        )
    window_s, cpu_s = marks["window"] - began, marks["window-cpu"]
    if mode == "window":
        return Start(window_s, cpu_s)
    return Start(window_s, cpu_s, marks["ready"] - began, marks["longest-stall-ms"])


def spread(values: list[float], unit: str, digits: int = 2) -> str:
    return (
        f"min {min(values):.{digits}f} {unit} · median {statistics.median(values):.{digits}f} "
        f"{unit} · max {max(values):.{digits}f} {unit}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="counted runs (default 7)")
    parser.add_argument(
        "--ready", action="store_true", help="also wait for the after-start preparation"
    )
    args = parser.parse_args()
    mode = "ready" if args.ready else "window"
    with tempfile.TemporaryDirectory(prefix="netloom-startup-") as folder:
        home = Path(folder)
        start_once(mode, home)  # not counted: fills the file cache
        starts = []
        for run in range(1, args.runs + 1):
            start = start_once(mode, home)
            starts.append(start)
            line = f"run {run}: window {start.window_s:.2f} s ({start.window_cpu_s:.2f} s CPU)"
            if start.ready_s is not None:
                line += f", ready {start.ready_s:.2f} s"
                line += f", longest stall {start.longest_stall_ms:.0f} ms"
            print(line, flush=True)
    windows = [s.window_s for s in starts]
    print(f"\nwindow on screen: {spread(windows, 's')}  (target <= {TARGET_S:.0f} s)")
    print(f"CPU until then:   {spread([s.window_cpu_s for s in starts], 's')}")
    if args.ready:
        print(f"ready:            {spread([s.ready_s or 0.0 for s in starts], 's')}")
        stalls = [s.longest_stall_ms or 0.0 for s in starts]
        print(f"longest stall:    {spread(stalls, 'ms', 0)}")
    try:
        load = os.getloadavg()[0]
        print(f"load average at the end: {load:.1f} on {os.cpu_count()} cores")
    except OSError:
        pass
    return 0 if statistics.median(windows) <= TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
