"""The long fuzz: thousands of broken files of each kind NetLoom reads, each under a time
limit; it counts tracebacks (an exception that escaped), hangs and bad messages.

Kinds of input:

  project  project files through `check`, in-process as `python main.py check F`:
           first every field of every template (inside unit bodies too) holding each
           JSON type (tests/engine/json_mutations.VALUES: the whole product, ~22,500
           files), then byte-level mutations (cut, flipped, inserted, deleted or
           spliced bytes, another text encoding) and the structural families of
           tests/engine/test_fuzz.py (deep nesting, surrogates, duplicate ids, cycles…).
           A file must give success, a listing of its graph's problems (exit 1), or
           one line naming the place (exit 2); a value of another JSON type must be
           named by its path.
  inside   Look inside records (run-<id>-inside.json) through RunInside.load: every
           field × every JSON type of a small record, then byte-level mutations. A
           record must load or raise InsideRecordError (or OSError).
  runs     run records: the runs database as the Runs tab lists and restores it; every
           field × every JSON type of a run's stored project, config and epoch
           metrics, then byte-level mutations of the database file. Reading must
           succeed, list a run as damaged, or raise RunStoreError / ProjectError /
           ConfigError (one line).

Each case runs in a worker process; one that takes longer than --timeout seconds is a
hang: the worker is killed and a new one takes the next case. Everything is derived
from --seed, so a case is named by its kind and index and can be run again alone
(--only project:12345).

    .venv/bin/python bench/fuzz_bench.py [--kinds project inside runs] [--cases 10000]
        [--timeout 10] [--seed 0] [--only KIND:INDEX]

Target (issue 23): ≥ 10,000 mutations per kind, 0 tracebacks, 0 hangs.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import sys
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.fuzz_kinds import KINDS, MEMORY_LIMIT, Outcome  # noqa: E402

# ---------------------------------------------------------------------- workers


def worker(conn: Connection, kind_name: str, seed: int) -> None:
    """Runs the cases the parent sends, one at a time, and answers each with an Outcome."""
    with contextlib.suppress(ImportError, ValueError, OSError):
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    kind = KINDS[kind_name](seed)
    while True:
        index = conn.recv()
        if index is None:
            return
        start = time.perf_counter()
        try:
            outcome = kind.run(index)
        except BaseException as err:  # noqa: BLE001 - an escaped exception is the finding
            frames = traceback.extract_tb(err.__traceback__)
            where = f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "?"
            outcome = Outcome("traceback", f"{type(err).__name__} at {where} | {str(err)[:160]}")
        conn.send(Outcome(outcome.status, outcome.detail, time.perf_counter() - start))


@dataclass
class Tally:
    kind: str
    cases: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    findings: list[tuple[str, str, str]] = field(default_factory=list)  # status, case, detail
    slowest: tuple[float, str] = (0.0, "")
    seconds: float = 0.0


class Pool:
    """One worker process per kind; a case over the time limit kills it (a hang)."""

    def __init__(self, kind: str, seed: int) -> None:
        self.kind, self.seed = kind, seed
        self.context = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
        self.process: Any = None
        self.conn: Connection | None = None

    def start(self) -> Connection:
        parent, child = self.context.Pipe()
        self.process = self.context.Process(
            target=worker, args=(child, self.kind, self.seed), daemon=True
        )
        self.process.start()
        self.conn = parent
        return parent

    def ask(self, index: int, timeout: float) -> Outcome:
        conn = self.conn or self.start()
        conn.send(index)
        if conn.poll(timeout):
            try:
                return conn.recv()
            except EOFError:  # the worker died: killed by the memory limit or a signal
                self.stop()
                return Outcome("traceback", f"the worker died (exit {self.process.exitcode})")
        self.stop()
        return Outcome("hang", f"over {timeout:g} s", timeout)

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.join()
        self.process, self.conn = None, None

    def close(self) -> None:
        if self.conn is not None:
            self.conn.send(None)
            self.process.join(5)
        self.stop()


def fuzz(
    kind_name: str, wanted: int, timeout: float, seed: int, indices: list[int] | None
) -> Tally:
    describer = KINDS[kind_name](seed)
    cases = indices if indices is not None else list(range(describer.total(wanted)))
    tally = Tally(kind_name)
    pool = Pool(kind_name, seed)
    start = time.perf_counter()
    try:
        for n, index in enumerate(cases, 1):
            outcome = pool.ask(index, timeout)
            tally.cases += 1
            tally.statuses[outcome.status] += 1
            if outcome.status != "ok":
                tally.findings.append(
                    (
                        outcome.status,
                        f"{kind_name}:{index} ({describer.describe(index)})",
                        outcome.detail,
                    )
                )
            if outcome.seconds > tally.slowest[0]:
                tally.slowest = (outcome.seconds, describer.describe(index))
            if n % 2000 == 0:
                print(f"  {kind_name}: {n:,} of {len(cases):,} cases", file=sys.stderr)
    finally:
        pool.close()
    tally.seconds = time.perf_counter() - start
    return tally


def report(tallies: list[Tally], timeout: float) -> None:
    limit = f"hangs (> {timeout:g} s)"
    print(f"| input kind | cases | tracebacks | {limit} | bad messages | slowest case | time |")
    print("|---|---:|---:|---:|---:|---|---:|")
    for t in tallies:
        slow_s, slow_case = t.slowest
        print(
            f"| {t.kind} | {t.cases:,} | {t.statuses['traceback']} | {t.statuses['hang']} | "
            f"{t.statuses['bad']} | {slow_s:.2f} s ({slow_case}) | {t.seconds:.0f} s |"
        )
    for t in tallies:
        if t.findings:
            print(f"\n{t.kind}: {len(t.findings)} finding(s)")
            seen: Counter[str] = Counter()
            for status, finding, detail in t.findings:
                # One kind of finding: a traceback's exception and place, or a message's start.
                key = status + (detail.split(" | ")[0] if " | " in detail else detail[:40])
                seen[key] += 1
                if seen[key] <= 3:
                    print(f"  {status}: {finding}: {detail}")
            print(f"  ({len(seen)} distinct; up to 3 of each shown)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kinds", nargs="+", choices=sorted(KINDS), default=sorted(KINDS))
    parser.add_argument("--cases", type=int, default=10_000, help="at least this many per kind")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per case")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", help="run one case again: KIND:INDEX")
    args = parser.parse_args()
    if args.only:
        kind, index = args.only.split(":")
        tallies = [fuzz(kind, 1, args.timeout, args.seed, [int(index)])]
    else:
        tallies = [fuzz(k, args.cases, args.timeout, args.seed, None) for k in args.kinds]
    report(tallies, args.timeout)
    failed = sum(t.statuses["traceback"] + t.statuses["hang"] + t.statuses["bad"] for t in tallies)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
