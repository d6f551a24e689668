"""How long the shape pass takes on big graphs: `analyze(graph)` runs on every edit.

Generates valid graphs of about 100, 1,000 and 5,000 blocks that mix convolution,
pooling, upsampling, dense, recurrent and normalisation blocks, Add/Concat merges,
several Inputs (video frames (N, T, C, H, W) and plain images) and many Outputs, then
prints the median time of `analyze` per size as a Markdown table.

    .venv/bin/python bench/shapes_bench.py [--sizes 100 1000 5000] [--repeats 15]

Target (issue 2): ≤ 20 ms at 1,000 blocks.
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.graph.graph import Graph  # noqa: E402
from engine.graph.shapes import analyze  # noqa: E402
from engine.units import units  # noqa: E402

TARGET_MS_AT_1000 = 20.0
CHANNELS = 8


@dataclass
class Builder:
    """Grows one valid graph: a trunk of cells, each keeping the trunk's shape."""

    graph: Graph
    rng: random.Random

    def add(self, type_name: str, sources: list[str], **params: object) -> str:
        node = self.graph.add_node(type_name, params)
        for port, src in zip(node.ports, sources, strict=True):
            self.graph.connect(src, node.id, port)
        return node.id

    # Each cell takes the trunk's tip (N[, T], 8, 16, 16) and returns a new tip of that shape.

    def residual_conv(self, tip: str) -> str:
        conv = self.add("Conv2d", [tip], out_channels=CHANNELS, kernel_size=3)
        relu = self.add("ReLU", [conv])
        return self.add("Add", [tip, relu])

    def pool_and_grow(self, tip: str) -> str:
        pooled = self.add("MaxPool2d", [tip], kernel_size=2)
        grown = self.add("Upsample", [pooled], scale_factor=2)
        joined = self.add("Concat", [tip, grown])
        squeezed = self.add("Conv2d", [joined], out_channels=CHANNELS, kernel_size=1)
        return self.add("BatchNorm", [squeezed])

    def learned_upsample(self, tip: str) -> str:
        pooled = self.add("AvgPool2d", [tip], kernel_size=2)
        grown = self.add("ConvTranspose2d", [pooled], out_channels=CHANNELS)
        return self.add("GELU", [grown])

    def classifier_head(self, tip: str, frames: bool) -> str:
        """A side branch to its own Output; the trunk goes on unchanged."""
        if frames:
            pooled = self.add("GlobalPool", [tip])  # (N, T, 8)
            cell = self.rng.choice(["LSTM", "GRU", "RNN"])
            seq = self.add(cell, [pooled], hidden_size=16, output="sequence")
            normed = self.add("LayerNorm", [seq])
            last = self.add("LSTM", [normed], hidden_size=16, bidirectional=True)
            scores = self.add("Dense", [last], units=4)
        else:
            flat = self.add("Flatten", [self.add("AdaptiveAvgPool2d", [tip], output_size=2)])
            hidden = self.add("Dropout", [self.add("Dense", [flat], units=32)], p=0.1)
            scores = self.add("Dense", [self.add("Tanh", [hidden])], units=4)
        self.add("Output", [scores])
        return tip

    def trunk(self, budget: int, frames: bool) -> None:
        shape = [4, CHANNELS, 16, 16] if frames else [CHANNELS, 16, 16]
        tip = self.add("Input", [], shape=shape, sequence=frames)
        cells: list[Callable[[str], str]] = [
            self.residual_conv,
            self.pool_and_grow,
            self.learned_upsample,
        ]
        start = len(self.graph)
        while len(self.graph) - start < budget:
            tip = self.rng.choice(cells)(tip)
            if self.rng.random() < 0.25:
                tip = self.classifier_head(tip, frames)
        self.classifier_head(tip, frames)


def generate_graph(blocks: int, seed: int = 0) -> Graph:
    """A valid graph of about `blocks` blocks: trunks of ~200, alternating video and image."""
    builder = Builder(Graph(), random.Random(seed))
    frames = True
    while len(builder.graph) < blocks:
        builder.trunk(min(200, blocks - len(builder.graph)), frames)
        frames = not frames
    return builder.graph


def unit_graph(blocks: int, seed: int = 0) -> Graph:
    """About `blocks` blocks (counted inside units) spread over reused unit instances.

    Three cell definitions (the trunk cells above) and a Stage holding four cells;
    trunks of Stage and cell instances with plain classifier heads, video and image.
    """
    rng = random.Random(seed)
    graph = Graph()
    library = units.library_of(graph)
    cells = {
        "ResConv": "residual_conv",
        "PoolGrow": "pool_and_grow",
        "LearnedUp": "learned_upsample",
    }
    for name, method in cells.items():
        body = library.new_body(name)
        inner = Builder(body, rng)
        tip = inner.add("Input", [], shape=[CHANNELS, 16, 16])
        inner.add("Output", [getattr(inner, method)(tip)], loss="none")
        library.add(units.Definition(name, body))
    body = library.new_body("Stage")
    inner = Builder(body, rng)
    tip = inner.add("Input", [], shape=[CHANNELS, 16, 16])
    for name in ("ResConv", "PoolGrow", "ResConv", "LearnedUp"):
        tip = inner.add(name, [tip])
    inner.add("Output", [tip], loss="none")
    library.add(units.Definition("Stage", body))

    builder = Builder(graph, rng)
    frames = True
    while inner_blocks(graph) < blocks:
        shape = [4, CHANNELS, 16, 16] if frames else [CHANNELS, 16, 16]
        tip = builder.add("Input", [], shape=shape, sequence=frames)
        for _ in range(12):
            tip = builder.add(rng.choice(["Stage", "Stage", *cells]), [tip])
            if rng.random() < 0.25:
                tip = builder.classifier_head(tip, frames)
        builder.classifier_head(tip, frames)
        frames = not frames
    return graph


def inner_blocks(graph: Graph) -> int:
    """Blocks counted inside units, every instance and depth (the units themselves not)."""
    analysis = analyze(graph)
    return sum(1 for _, info in units.walk(graph, analysis) if info.op and info.op.kind != "unit")


def cpu_ms(action: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.process_time()
        action()
        times.append((time.process_time() - start) * 1000)
    return statistics.median(times)


def unit_rows(blocks: int, repeats: int) -> list[str]:
    """The unit case: per-edit CPU time of the shape pass for edits a user makes."""
    graph = unit_graph(blocks)
    library = graph.library
    instances = sum(1 for n in graph.nodes if n.library is not None)
    analysis = analyze(graph)
    assert analysis.ok, analysis.problems[:3]
    dense = next(n.id for n in graph.nodes if n.type == "Dense")
    conv = next(n.id for n in library.definition("ResConv").graph.nodes if n.type == "Conv2d")
    sizes = iter([3, 5] * repeats)

    widths = iter([4, 5] * repeats)

    def top_edit() -> None:
        graph.set_params(dense, {"units": next(widths)})
        analyze(graph, analysis, {dense})

    def inner_edit() -> None:
        library.definition("ResConv").graph.set_params(conv, {"kernel_size": next(sizes)})
        analyze(graph)

    def cold() -> None:
        library.touch()
        analyze(graph)

    count = inner_blocks(graph)
    return [
        f"| edit a param at the top (incremental) | {cpu_ms(top_edit, repeats):.1f} |",
        f"| edit inside a unit (all instances re-run) | {cpu_ms(inner_edit, repeats):.1f} |",
        f"| full pass, nothing remembered | {cpu_ms(cold, repeats):.1f} |",
        f"\n{count:,} blocks inside {instances} unit instances of 4 definitions "
        f"(Stage holds four cells), {len(graph):,} nodes at the top.",
    ]


def median_ms(graph: Graph, repeats: int) -> float:
    analyze(graph)  # warm caches and imports
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        analyze(graph)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 5000])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--units", action="store_true", help="also the unit case (issue 12)")
    args = parser.parse_args(argv)

    rows = []
    at_1000 = None
    for size in args.sizes:
        graph = generate_graph(size)
        analysis = analyze(graph)
        if not analysis.ok:  # the generator must only build valid graphs
            print(f"generated graph of {size} is invalid: {analysis.problems[:3]}")
            return 1
        ms = median_ms(graph, args.repeats)
        inputs, outputs = len(graph.ids_of_role("input")), len(graph.ids_of_role("output"))
        rows.append(
            f"| {len(graph):,} | {len(graph.edges):,} | {inputs} / {outputs} "
            f"| {ms:.1f} | {1000 * ms / len(graph):.1f} |"
        )
        if size == 1000:
            at_1000 = ms

    print(f"Shape pass `analyze(graph)`, median of {args.repeats} runs")
    print(f"(Python {platform.python_version()}, {platform.machine()}):\n")
    print("| blocks | wires | inputs / outputs | median ms | µs per block |")
    print("|---:|---:|---:|---:|---:|")
    print("\n".join(rows))
    if at_1000 is not None:
        verdict = "met" if at_1000 <= TARGET_MS_AT_1000 else "MISSED"
        print(f"\nTarget ≤ {TARGET_MS_AT_1000:g} ms at 1,000 blocks: {verdict} ({at_1000:.1f} ms).")
    if args.units:
        print(f"\nUnits: 1,000 blocks spread over units, median CPU ms of {args.repeats} edits:\n")
        print("| edit | CPU ms |\n|---|---:|")
        print("\n".join(unit_rows(1000, args.repeats)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
