"""Prove an import: build the NetLoom model, load the imported weights, compare outputs.

The original (a torch module, or an ONNX file run by ONNX Runtime) and the NetLoom
model get the same random inputs at two batch sizes, one of them not the size the
import probed with. From PyTorch the outputs must be bit-identical; from ONNX within
`ONNX_ABSOLUTE` of ONNX Runtime, or within `ONNX_RELATIVE` of the largest magnitude the
outputs reach: ONNX Runtime's kernels sum in another order than torch's, so a deep net
with large activations (a resnet50 on random BN statistics) can differ by more than
`ONNX_ABSOLUTE` while agreeing to five or six digits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from engine.graph.shapes import analyze
from engine.importers.builder import GraphBuilder, state_dict_problems
from engine.importers.report import ImportReport
from engine.model.build import build_model
from engine.project.project import Project

PROBE_BATCH = 3  # the batch size the source model is traced or probed with
CHECK_BATCHES = (3, 2)
ONNX_ABSOLUTE = 1e-4
ONNX_RELATIVE = 1e-5  # of the output's largest magnitude


@dataclass(frozen=True)
class InputSpec:
    """The one input the model takes: a sample's shape without the batch axis."""

    dims: tuple[int, ...]
    sequence: bool = False
    dtype: str = "float32"


@dataclass
class ImportResult:
    report: ImportReport
    project: Project | None = None  # None when anything could not be mapped
    state_dict: dict[str, torch.Tensor] = field(default_factory=dict)


def example_input(spec: InputSpec, batch: int, vocabulary: int, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed + batch)
    size = (batch, *spec.dims)
    if spec.dtype == "int64":
        return torch.randint(0, vocabulary, size, generator=generator)
    return torch.randn(size, generator=generator)


def verify(
    builder: GraphBuilder,
    reference: Callable[[torch.Tensor], Sequence[Any]],
    spec: InputSpec,
    vocabulary: int,
    exact: bool,
    batches: tuple[int, ...] | None = None,
) -> None:
    """Record in the report how the imported graph compares with the original."""
    report = builder.report
    analysis = analyze(builder.graph)
    for problem in analysis.problems:
        place = builder.places.get(problem.node or "", "(graph)")
        report.error(place, problem.node or "graph", problem.message)
    if not analysis.ok:
        return
    model = build_model(builder.graph, analysis)
    problems = state_dict_problems(builder, model)
    for place, why in problems:
        report.error(place, "weights", why)
    if problems:
        return
    model.load_state_dict(builder.weights, strict=True)
    model.eval()
    worst, identical = 0.0, True
    scale = 0.0  # the largest magnitude the original's outputs reach
    batches = batches or CHECK_BATCHES
    for batch in batches:
        x = example_input(spec, batch, vocabulary)
        with torch.no_grad():
            want = [torch.as_tensor(v) for v in reference(x)]
            got = model(x)
        got = list(got) if isinstance(got, tuple) else [got]
        if len(want) != len(got):
            report.error("(outputs)", "outputs", f"{len(got)} outputs, the model {len(want)}")
            return
        for i, (a, b) in enumerate(zip(want, got, strict=True)):
            if a.shape != b.shape:
                report.error(
                    "(outputs)",
                    f"output {i + 1}",
                    f"NetLoom gives {tuple(b.shape)}, the model {tuple(a.shape)} at batch {batch}",
                )
                return
            identical = identical and torch.equal(a, b)
            if a.numel():
                worst = max(worst, float((a.double() - b.double()).abs().max()))
                scale = max(scale, float(a.double().abs().max()))
    shown = " and ".join(str(b) for b in batches)
    if exact:
        report.check = (
            f"outputs bit-identical to the original at batch {shown}"
            if identical
            else f"outputs differ from the original by up to {worst:.3g}"
        )
        if not identical:
            report.error("(outputs)", "outputs", f"differ from the original by up to {worst:.3g}")
    else:
        report.check, close = onnx_agreement(worst, scale, shown)
        if not close:
            report.error(
                "(outputs)",
                "outputs",
                f"differ from ONNX Runtime by up to {worst:.3g} where the outputs reach "
                f"{scale:.3g} (allowed {ONNX_ABSOLUTE:g}, or {ONNX_RELATIVE:g} of that)",
            )
    report.check += f"; {analysis.total_params:,} weights"


def onnx_agreement(worst: float, scale: float, batches: str) -> tuple[str, bool]:
    """The check line for an ONNX import, and whether it passes: within ONNX_ABSOLUTE,
    or else within ONNX_RELATIVE of the outputs' largest magnitude `scale`."""
    if worst <= ONNX_ABSOLUTE:
        return (
            f"outputs within {worst:.2g} of ONNX Runtime at batch {batches} "
            f"(allowed {ONNX_ABSOLUTE:g} absolute)",
            True,
        )
    relative = worst / scale if scale > 0 else float("inf")
    return (
        f"outputs within {worst:.2g} of ONNX Runtime at batch {batches}, "
        f"{relative:.2g} of their largest magnitude {scale:.3g} "
        f"(allowed {ONNX_RELATIVE:g} relative)",
        relative <= ONNX_RELATIVE,
    )
