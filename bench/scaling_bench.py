"""`check` grows no faster than linearly in the expanded size (issue 23, item 2).

Generates valid projects of 1,000, 10,000 and 100,000 expanded blocks, each in three
layouts, writes them to a temporary folder and times `check` on each in a child
process (`python main.py check FILE`, output discarded), best of `--repeats`:

- flat:   a chain of Dense blocks at the top level (100,000 is over the top level's
          own limit of 10,000 blocks, so that row is the refusal's time);
- unit:   one instance of a unit whose body is the whole chain;
- nested: units ten to a level: U1 holds 10 Dense, U{k} holds 10 instances of U{k-1}.

Every count includes the top level's Input and Output block.

Prints a Markdown table of CPU seconds (wall seconds beside them) and the CPU ratio
per 10× more blocks (linear growth reads 10×, less while start-up dominates). Target:
100,000 blocks ≤ 10 s. On a shared machine wall time is CPU time plus the waits for a
core, so the verdict reads CPU time; run it on an idle machine for wall ≈ CPU.

    .venv/bin/python bench/scaling_bench.py [--sizes 1000 10000 100000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS_AT_100K = 10.0
FEATURES = 8
FAN_OUT = 10

Block = tuple[str, str, dict[str, Any]]


def chain(blocks: list[Block]) -> dict[str, Any]:
    """Nodes and wires of blocks in series: (id, type, params)."""
    return {
        "nodes": [
            {"id": i, "type": t, "params": p, "pos": [k * 200, 0]}
            for k, (i, t, p) in enumerate(blocks)
        ],
        "edges": [
            {"source": a[0], "target": b[0], "target_port": "x"} for a, b in zip(blocks, blocks[1:])
        ],
    }


def dense(count: int) -> list[Block]:
    return [(f"d{i}", "Dense", {"units": FEATURES}) for i in range(count)]


def unit(inner: list[Block]) -> dict[str, Any]:
    return chain(
        [("x", "Input", {"shape": [FEATURES]}), *inner, ("out", "Output", {"loss": "none"})]
    )


def project(units: dict[str, Any], top: list[Block]) -> dict[str, Any]:
    body = chain([("inp", "Input", {"shape": [FEATURES]}), *top, ("y", "Output", {"loss": "mse"})])
    return {"format": "netloom", "version": 2, "name": "scaling", "units": units, **body}


def flat(blocks: int) -> dict[str, Any]:
    return project({}, dense(blocks - 2))  # with the Input and the Output: `blocks`


def one_unit(blocks: int) -> dict[str, Any]:
    return project({"Chain": unit(dense(blocks - 2))}, [("chain", "Chain", {})])


def nested(blocks: int) -> dict[str, Any]:
    """U1 holds 10 Dense, U{k} ten U{k-1}; V{k} is U{k} two blocks short (nine U{k-1} and
    one V{k-1}), so the top's V{levels} with the Input and the Output makes `blocks`."""
    levels = round(math.log(blocks, FAN_OUT))
    units = {"U1": unit(dense(FAN_OUT)), "V1": unit(dense(FAN_OUT - 2))}
    for k in range(2, levels + 1):
        inner = [(f"u{i}", f"U{k - 1}", {}) for i in range(FAN_OUT)]
        units[f"U{k}"] = unit(inner)
        units[f"V{k}"] = unit([*inner[:-1], ("v", f"V{k - 1}", {})])
    return project(units, [("v", f"V{levels}", {})])


LAYOUTS = {"flat": flat, "unit": one_unit, "nested": nested}


def time_check(path: Path, repeats: int) -> tuple[float, float, int]:
    """Best wall and CPU seconds of `main.py check FILE` (interpreter start included),
    and its exit code. CPU time (user + system) is what the work costs; wall time also
    holds the waits for a core when other processes run."""
    best_wall = best_cpu = math.inf
    code = 0
    for _ in range(repeats):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, str(ROOT / "main.py"), "check", str(path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            cwd=ROOT,
            check=False,
        )
        best_wall = min(best_wall, time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        best_cpu = min(best_cpu, cpu)
        code = done.returncode
    return best_wall, best_cpu, code


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} cores, "
        f"load average {load}; best of {args.repeats}; each cell CPU s (wall s)"
    )
    print()
    print(
        "| layout | " + " | ".join(f"{n:,} blocks" for n in args.sizes) + " | CPU ratio per 10× |"
    )
    print("|---|" + "---:|" * len(args.sizes) + "---|")
    worst_at_100k = 0.0
    with tempfile.TemporaryDirectory() as folder:
        for name, make in LAYOUTS.items():
            cells, times = [], []
            for size in args.sizes:
                path = Path(folder) / f"{name}_{size}.json"
                path.write_text(json.dumps(make(size)), encoding="utf-8")
                wall, cpu, code = time_check(path, args.repeats)
                refused = " refused" if code != 0 else ""
                cells.append(f"{cpu:.2f} ({wall:.2f}){refused}")
                times.append((size, cpu, code))
                if size == 100_000 and code == 0:
                    worst_at_100k = max(worst_at_100k, cpu)
            ratios = [
                f"{b[1] / a[1]:.1f}×"
                for a, b in zip(times, times[1:])
                if a[2] == 0 and b[2] == 0 and b[0] == 10 * a[0]
            ]
            print(f"| {name} | " + " | ".join(cells) + f" | {', '.join(ratios) or '—'} |")
    print()
    verdict = "met" if worst_at_100k <= TARGET_SECONDS_AT_100K else "MISSED"
    target = f"target ≤ {TARGET_SECONDS_AT_100K:.0f} s"
    print(f"100,000 blocks: {worst_at_100k:.2f} s of CPU ({target}): {verdict}")
    return 0 if verdict == "met" else 1


if __name__ == "__main__":
    sys.exit(main())
