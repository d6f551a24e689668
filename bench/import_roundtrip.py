"""Export → import round trip over many random graphs: what the unit test keeps small.

    .venv/bin/python bench/import_roundtrip.py               # 1,000 graphs from seed 0
    .venv/bin/python bench/import_roundtrip.py --graphs 300 --start 5000
    .venv/bin/python bench/import_roundtrip.py --units     # blocks made into units, ×2

Each graph (one input: what `import --input-shape` takes) is exported
with `export --to python`, the file imported, and compared as
tests/engine/test_import_roundtrip.py does: the same blocks, params and wiring, layer
ids kept, bit-identical outputs with the exported weights. Prints how many came back
and, for each that did not, its seed and first difference.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from engine.project.project import Project  # noqa: E402
from tests.engine.test_import_roundtrip import (  # noqa: E402
    importable_graphs,
    repeated_unit_graphs,
    round_trip_problems,
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--graphs", type=int, default=1000)
    parser.add_argument("--start", type=int, default=0, help="first seed to try")
    parser.add_argument(
        "--units",
        action="store_true",
        help="runs of blocks made into units, each repeated ×2 where it fits",
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    failed = 0
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        graphs = repeated_unit_graphs if args.units else importable_graphs
        for seed, graph in graphs(args.graphs, args.start):
            try:
                problems = round_trip_problems(Project(graph, name="Random"), Path(folder))
            except Exception as err:  # a crash is a finding too: show it, go on
                problems = [f"{type(err).__name__}: {err}"]
            if problems:
                failed += 1
                print(
                    f"seed {seed}: {problems[0]}"
                    + (f" (+{len(problems) - 1})" * (len(problems) > 1))
                )
    seconds = time.perf_counter() - began
    print(
        f"{args.graphs - failed} of {args.graphs} random graphs came back the same "
        f"({seconds:.0f} s, {seconds / args.graphs * 1000:.0f} ms each)"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
