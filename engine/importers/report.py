"""The import report: every operation that could not become a block, with its place.

An importer never drops an operation silently. Each one it cannot map is an `Issue`
naming where it sits (file:line in Python source, the node name in an ONNX file),
what it is and why no block fits; each one it leaves out on purpose because it
computes nothing (an Identity, a no-op reshape) is a note. Pure Python: no torch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["error", "note"]


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
