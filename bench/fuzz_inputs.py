"""The long fuzz of ONNX files and checkpoints: thousands of hostile files, each under a
time limit, counting tracebacks, hangs and wrong answers.

  onnx        `import model.onnx … -o P.json --weights-out W.pt`: truncated, flipped
              and spliced files, and protobuf-level attacks (huge, negative and zero
              sizes, initializers whose bytes misfit, external data outside the folder,
              missing or huge, cycles, unknown ops, wrong attribute types, empty graphs,
              duplicate names, bad opsets, terabyte allocations, endless Loops)
  checkpoint  `export --weights W.pt` and `inspect --weights W.pt`: truncated, flipped
              and spliced files, damaged zip members, odd tensors (sparse, complex,
              0-d, a view claiming 10¹² elements), odd weight names, odd parts

The families are in tests/engine/hostile_onnx.py and hostile_checkpoints.py; the
judge in tests/engine/hostile_cases.py. Each case runs in a worker process (warmed up
once); a case over --timeout seconds is a hang: the worker is killed and replaced. A
worker that dies is counted as a crash. Everything derives from --seed, so
`--only onnx:123` runs one case again.

    .venv/bin/python bench/fuzz_inputs.py --kind onnx --cases 10000 [--timeout 10]
        [--seed 0] [--start 0] [--export-template] [--only KIND:INDEX]

Target (issue 23): ≥ 10,000 cases per kind, 0 tracebacks, 0 hangs.
"""

from __future__ import annotations

import argparse
import multiprocessing
import subprocess
import sys
import tempfile
import time
from collections import Counter
from multiprocessing.connection import Connection
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.engine.hostile_cases import KINDS, Case, Outcome  # noqa: E402

WARM_TIMEOUT = 600.0
WARM_CASES = 16  # cases a new worker runs before the clock starts (both commands, all families)


def worker(conn: Connection, root: str, extra: tuple[Path, ...]) -> None:
    import logging
    import warnings

    import torch

    from tests.engine.hostile_cases import run_case

    logging.disable(logging.CRITICAL)
    warnings.simplefilter("ignore")
    torch.set_num_threads(1)
    try:
        import onnxruntime

        onnxruntime.set_default_logger_severity(4)
    except ImportError:
        pass
    while True:
        case = conn.recv()
        if case is None:
            return
        if case.index < 0:  # warming up: imports and first-call costs of every path
            for index in range(-1, -WARM_CASES - 1, -1):
                run_case(Case(case.kind, case.seed, index), Path(root), extra)
        conn.send(run_case(case, Path(root), extra))


class Pool:
    """One worker process at a time, replaced when a case hangs it or kills it."""

    def __init__(self, root: Path, extra: tuple[Path, ...], timeout: float) -> None:
        self.root, self.extra, self.timeout = root, extra, timeout
        self.context = multiprocessing.get_context("spawn")
        self.process: multiprocessing.process.BaseProcess | None = None

    def start(self, warm: Case) -> None:
        self.conn, child = self.context.Pipe()
        self.process = self.context.Process(
            target=worker, args=(child, str(self.root), self.extra), daemon=True
        )
        self.process.start()
        child.close()  # the worker's end: recv() then sees the worker die
        self.conn.send(warm)  # imports and first-call costs, outside any case's clock
        if not self.conn.poll(WARM_TIMEOUT):
            raise RuntimeError(f"a new worker did not warm up within {WARM_TIMEOUT} s")
        self.conn.recv()

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.join()
            self.process = None

    def run(self, case: Case, warm: Case) -> tuple[str, Outcome | None, float]:
        if self.process is None:
            self.start(warm)
        started = time.perf_counter()
        self.conn.send(case)
        if not self.conn.poll(self.timeout):
            self.stop()
            return "hang", None, time.perf_counter() - started
        try:
            outcome = self.conn.recv()
        except EOFError:
            self.stop()
            return "crash", None, time.perf_counter() - started
        return "done", outcome, time.perf_counter() - started


def export_template(folder: Path) -> Path:
    """cnn_digits exported by `export --to onnx`: a third ONNX template (about a minute)."""
    path = folder / "cnn_digits.onnx"
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "main.py"),
            "export",
            str(ROOT / "templates" / "cnn_digits.json"),
            "--to",
            "onnx",
            "-o",
            str(path),
        ],
        check=True,
        capture_output=True,
    )
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", choices=KINDS, nargs="+", default=list(KINDS))
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--start", type=int, default=0, help="first case index")
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", help="one case, KIND:INDEX")
    parser.add_argument(
        "--export-template",
        action="store_true",
        help="also mutate cnn_digits exported to ONNX (onnx kind)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="netloom-fuzz-") as tmp:
        root = Path(tmp)
        extra = (export_template(root),) if args.export_template else ()
        if args.only:
            kind, _, index = args.only.partition(":")
            kinds, indices = [kind], range(int(index), int(index) + 1)
        else:
            kinds, indices = args.kind, range(args.start, args.start + args.cases)
        failed = False
        for kind in kinds:
            failed |= fuzz(kind, indices, args.seed, args.timeout, root, extra)
    return 1 if failed else 0


def fuzz(
    kind: str, indices: range, seed: int, timeout: float, root: Path, extra: tuple[Path, ...]
) -> bool:
    pool = Pool(root, extra, timeout)
    warm = Case(kind, seed, -1)
    counts: Counter[str] = Counter()
    exits: Counter[str] = Counter()
    families: Counter[str] = Counter()
    slowest = (0.0, "")
    started = time.perf_counter()
    for done, index in enumerate(indices, 1):
        case = Case(kind, seed, index)
        status, outcome, seconds = pool.run(case, warm)
        families[case.family()] += 1
        slowest = max(slowest, (seconds, str(case)))
        if status != "done":
            counts[status + "s"] += 1
            print(f"{status.upper()}: {case} ({case.family()}) after {seconds:.1f} s", flush=True)
            continue
        assert outcome is not None
        exits[str(outcome.code)] += 1
        if outcome.traceback:
            counts["tracebacks"] += 1
        if outcome.problem:
            counts["wrong answers"] += 1
            print(f"WRONG: {case} ({outcome.family}): {outcome.problem}", flush=True)
        if done % 500 == 0:
            rate = done / (time.perf_counter() - started)
            print(
                f"  {kind}: {done} cases, {rate:.1f}/s, {dict(counts) or 'all answered'}",
                flush=True,
            )
    pool.stop()
    elapsed = time.perf_counter() - started
    print(
        f"{kind}: {len(indices)} cases in {elapsed:.0f} s; tracebacks {counts['tracebacks']}, "
        f"hangs {counts['hangs']} (limit {timeout:g} s), crashes {counts['crashs']}, "
        f"wrong answers {counts['wrong answers']}; exits {dict(sorted(exits.items()))}; "
        f"slowest {slowest[0]:.1f} s ({slowest[1]})"
    )
    print(f"  families: {dict(sorted(families.items()))}", flush=True)
    return any(counts.values())


if __name__ == "__main__":
    sys.exit(main())
