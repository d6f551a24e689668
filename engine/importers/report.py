"""The import report: every operation that could not become a block, with its place.

An importer never drops an operation silently. Each one it cannot map is an `Issue`
naming where it sits (file:line in Python source, the node name in an ONNX file),
what it is and why no block fits; each one it leaves out on purpose because it
computes nothing (an Identity, a no-op reshape) is a note. Pure Python: no torch.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from engine.units.definition import REPEAT

if TYPE_CHECKING:
    from engine.graph.graph import Graph
    from engine.project.project import Project

Severity = Literal["error", "note"]

# A norm's buffers: carried with the weights, but not learned by gradient descent.
RUNNING_STATISTICS = ("running_mean", "running_var", "num_batches_tracked")


class Unsupported(Exception):
    """Raised by a mapping rule: this operation has no block; the message says why."""


class Unreadable(Exception):
    """The source cannot be read or run at all (exit 2); the message is one line."""


@dataclass(frozen=True)
class Issue:
    place: str  # "models/net.py:42" or an ONNX node name
    op: str  # what the operation is, in the source's own words: "torch.fft.fft", "Mul"
    why: str
    severity: Severity = "error"

    def __str__(self) -> str:
        return f"{self.place}: {self.op} — {self.why}"


@dataclass
class ImportReport:
    source: str
    issues: list[Issue] = field(default_factory=list)
    mapped: int = 0  # operations that became blocks
    check: str = ""  # how the imported graph compared with the original

    def error(self, place: str, op: str, why: str) -> None:
        issue = Issue(place, op, why)
        if issue not in self.issues:
            self.issues.append(issue)

    def note(self, place: str, op: str, why: str) -> None:
        issue = Issue(place, op, why, "note")
        if issue not in self.issues:
            self.issues.append(issue)

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def notes(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "note"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def text(self) -> str:
        """The report as printed by `import` and shown by the import dialog."""
        lines = [f"Import report for {self.source}"]
        verdict = "imported" if self.ok else f"NOT imported: {len(self.errors)} unsupported"
        lines.append(f"  {self.mapped} operation(s) mapped to blocks; {verdict}")
        if self.check:
            lines.append(f"  check: {self.check}")
        for title, issues in (("unsupported", self.errors), ("notes", self.notes)):
            if issues:
                lines.append(f"  {title}:")
                lines += [f"    {issue}" for issue in issues]
        return "\n".join(lines)


def source_line(place: str, limit: int = 2 * 1024**2) -> str:
    """The text of the source line a place such as `models/net.py:42` names, or ""."""
    path_text, _, number = place.rpartition(":")
    if not path_text.endswith(".py") or not number.isdigit():
        return ""
    path = Path(path_text)
    try:
        if not path.is_file() or path.stat().st_size > limit:
            return ""
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    index = int(number) - 1
    return lines[index].strip()[:160] if 0 <= index < len(lines) else ""


def unsupported_lines(report: ImportReport) -> list[str]:
    """Each unsupported operation with the source line it stands on, when it has one."""
    lines = []
    for issue in report.errors:
        lines.append(str(issue))
        if code := source_line(issue.place):
            lines.append(f"    {code}")
    return lines


def summary(project: Project, weights: Mapping[str, Any]) -> list[str]:
    """What an import made: blocks, units, weights (`weights` maps names to tensors)."""
    graph = project.graph
    library = graph.library
    uses: Counter[str] = Counter()

    def blocks_in(inner: Graph, times: int) -> int:
        total = 0
        for node in inner.nodes:
            if library is not None and library.has(node.type):
                repeat = node.params.get(REPEAT.name, 1)
                count = repeat if isinstance(repeat, int) and repeat > 0 else 1
                uses[node.type] += times * count
                total += count * blocks_in(library.definition(node.type).graph, times * count)
            else:
                total += 1
        return total

    expanded = blocks_in(graph, 1)
    lines = [f"Blocks created: {len(graph)} on the canvas, {expanded} with the units' insides"]
    if uses:
        found = ", ".join(f"{name} (used {n}×)" for name, n in sorted(uses.items()))
        lines.append(f"Units found: {len(uses)} — {found}")
    else:
        lines.append("Units found: none (no class of the model was built more than once)")
    learned = statistics = 0
    for name, tensor in weights.items():
        count = int(getattr(tensor, "numel", lambda: 0)())
        if name.rpartition(".")[2] in RUNNING_STATISTICS:
            statistics += count
        else:
            learned += count
    kept = f" and {statistics:,} running statistics" if statistics else ""
    lines.append(f"Weights loaded: {learned:,}{kept}, in {len(weights)} tensors")
    return lines
