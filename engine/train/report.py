"""Per-class report of a classification run: precision, recall, F1, support, confusion.

`class_report(true, predicted, names, split)` counts the confusion matrix (rows the
true class, columns the predicted one) and reads every figure off it, as scikit-learn's
`precision_recall_fscore_support` with `zero_division=0` does: a class never predicted
has precision 0, a class absent from the split recall 0. `write_report` writes it as two
CSV files in a run folder, each replaced atomically: `per_class.csv` (class, precision,
recall, f1, support; then `macro avg` and `weighted avg` rows) and `confusion.csv`
(class names as the header and first column). `report_lines` is the table `train`
prints. Pure numpy: no torch.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.common.atomic import replace_text

# The printed table lists every class up to this many; beyond, the classes with the
# lowest F1 (those worth a look), and says the full table is in the file.
PRINTED_CLASSES = 20
NAME_WIDTH = 24  # longer class names are cut in the printed table (never in the files)
AVERAGES = ("macro avg", "weighted avg")
CONFUSION_CORNER = "true\\predicted"


@dataclass(frozen=True)
class ClassReport:
    """The figures of one split; arrays are per class, in label order."""

    split: str  # "validation", "test" or "training": which samples were scored
    names: list[str]
    confusion: np.ndarray  # (k, k) int64: confusion[true, predicted]

    @property
    def support(self) -> np.ndarray:
        return self.confusion.sum(axis=1)

    @property
    def precision(self) -> np.ndarray:
        return _ratio(self.confusion.diagonal(), self.confusion.sum(axis=0))

    @property
    def recall(self) -> np.ndarray:
        return _ratio(self.confusion.diagonal(), self.support)

    @property
    def f1(self) -> np.ndarray:
        # 2·tp / (2·tp + fp + fn): the harmonic mean of precision and recall, 0 when
        # the class was neither present nor predicted.
        true_positive = self.confusion.diagonal()
        wrong = self.confusion.sum(axis=0) + self.confusion.sum(axis=1) - 2 * true_positive
        return _ratio(2 * true_positive, 2 * true_positive + wrong)

    def averages(self) -> dict[str, tuple[float, float, float, int]]:
        """(precision, recall, f1, support) averaged over classes: plainly (macro) and
        weighted by each class's support (weighted)."""
        support = self.support
        total = int(support.sum())
        figures = (self.precision, self.recall, self.f1)
        macro = tuple(float(values.mean()) if len(values) else 0.0 for values in figures)
        weights = support / total if total else np.zeros_like(support, dtype=np.float64)
        weighted = tuple(float((values * weights).sum()) for values in figures)
        return {
            "macro avg": (*macro, total),  # type: ignore[dict-item]
            "weighted avg": (*weighted, total),  # type: ignore[dict-item]
        }

    def rows(self) -> list[tuple[str, float, float, float, int]]:
        """One row per class, then the two averages: per_class.csv's body."""
        rows = [
            (name, float(p), float(r), float(f), int(s))
            for name, p, r, f, s in zip(
                self.names, self.precision, self.recall, self.f1, self.support, strict=True
            )
        ]
        rows += [(name, *figures) for name, figures in self.averages().items()]
        return rows


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, 0 where the denominator is 0."""
    numerator = numerator.astype(np.float64)
    denominator = denominator.astype(np.float64)
    out = np.zeros_like(numerator)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def class_names(names: Sequence[str] | None, classes: int) -> list[str]:
    """The dataset's class names when it has one per class, else the labels 0…k−1."""
    if names is not None and len(names) == classes:
        return [str(name) for name in names]
    return [str(label) for label in range(classes)]


def class_report(
    true: np.ndarray, predicted: np.ndarray, names: Sequence[str], split: str
) -> ClassReport:
    """Count the confusion matrix of these labels (each in 0…len(names)−1)."""
    classes = len(names)
    true = np.asarray(true, dtype=np.int64).reshape(-1)
    predicted = np.asarray(predicted, dtype=np.int64).reshape(-1)
    pairs = np.bincount(true * classes + predicted, minlength=classes * classes)
    return ClassReport(split, list(names), pairs.reshape(classes, classes))


def per_class_csv(report: ClassReport) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["class", "precision", "recall", "f1", "support"])
    for name, precision, recall, f1, support in report.rows():
        writer.writerow([name, f"{precision:.6g}", f"{recall:.6g}", f"{f1:.6g}", support])
    return buffer.getvalue()


def confusion_csv(report: ClassReport) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([CONFUSION_CORNER, *report.names])
    for name, counts in zip(report.names, report.confusion.tolist(), strict=True):
        writer.writerow([name, *counts])
    return buffer.getvalue()


def write_report(report: ClassReport, folder: Path, prefix: str = "") -> list[Path]:
    """`<prefix>per_class.csv` and `<prefix>confusion.csv` in `folder`; their paths."""
    written = []
    for name, text in (("per_class.csv", per_class_csv), ("confusion.csv", confusion_csv)):
        path = folder / f"{prefix}{name}"
        replace_text(path, text(report))
        written.append(path)
    return written


def _cut(name: str) -> str:
    return name if len(name) <= NAME_WIDTH else name[: NAME_WIDTH - 1] + "…"


def report_lines(report: ClassReport) -> list[str]:
    """The table `train` prints: a heading, one row per class (at most PRINTED_CLASSES,
    the lowest F1 first when there are more), then the averages."""
    samples = int(report.support.sum())
    rows = report.rows()
    per_class, averages = rows[: len(report.names)], rows[len(report.names) :]
    hidden = 0
    if len(per_class) > PRINTED_CLASSES:
        hidden = len(per_class) - PRINTED_CLASSES
        per_class = sorted(per_class, key=lambda row: row[3])[:PRINTED_CLASSES]
    width = max(len("weighted avg"), *(len(_cut(row[0])) for row in per_class))
    lines = [
        f"per class, {report.split} split ({samples} samples):",
        f"  {'class':<{width}}  precision  recall      f1  support",
    ]
    for name, precision, recall, f1, support in [*per_class, *averages]:
        lines.append(
            f"  {_cut(name):<{width}}  {precision:>9.4f}  {recall:>6.4f}  {f1:>6.4f}  {support:>7}"
        )
    if hidden:
        lines.insert(
            2,
            f"  ({PRINTED_CLASSES} of {len(report.names)} classes, lowest F1 first; "
            "every class is in the file)",
        )
    return lines
