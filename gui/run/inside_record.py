"""What Look inside measured of a run, kept beside its checkpoint so a run restored from
the Runs history shows its gradient flow and histograms again.

`run-<id>-inside.json` next to `run-<id>.pt`: plain JSON (no pickle: a file in the data
folder is read as data, never run), written by the trainer process when the run ends.
`RunInside` gathers the figures as the trainer sends them; a long run's flow samples are
thinned to every other one whenever they pass `MAX_FLOW_SAMPLES`, so the file stays
small (a few hundred kB at most) and the line still spans the whole run.

Qt-free and torch-free: the window reads it, the trainer process writes it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from engine.common.atomic import replace_text
from engine.common.json_text import JsonTextError, decode
from engine.inspect.histograms import Histogram
from gui.run.records import EpochHistograms, FlowSample

FORMAT = 1
MAX_FLOW_SAMPLES = 2000


class InsideRecordError(ValueError):
    """The record is missing pieces or is not NetLoom's: one line, naming the file."""


def inside_file(checkpoint: str | Path) -> Path:
    """Where a run's Look inside record sits: beside its checkpoint."""
    path = Path(checkpoint)
    return path.with_name(f"{path.stem}-inside.json")


@dataclass
class RunInside:
    """A run's gradient flow samples and histograms, in the order they were taken."""

    flow: list[FlowSample] = field(default_factory=list)
    histograms: list[EpochHistograms] = field(default_factory=list)

    def add_flow(self, sample: FlowSample) -> None:
        self.flow.append(sample)
        if len(self.flow) > MAX_FLOW_SAMPLES:
            self.flow = self.flow[::2]

    def add_histograms(self, histograms: EpochHistograms) -> None:
        self.histograms.append(histograms)

    def save(self, path: Path) -> None:
        replace_text(path, json.dumps(self.to_dict(), allow_nan=True, separators=(",", ":")))

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "flow": [
                {
                    "epoch": s.epoch,
                    "batch": s.batch,
                    "batches": s.batches,
                    "grad_norm": s.grad_norm,
                    "update_ratio": s.update_ratio,
                    "through_time": s.through_time,
                    "every": s.every,
                }
                for s in self.flow
            ],
            "histograms": [
                {
                    "epoch": h.epoch,
                    "samples": h.samples,
                    "weights": _histograms_out(h.weights),
                    "activations": _histograms_out(h.activations),
                }
                for h in self.histograms
            ],
        }

    @classmethod
    def load(cls, path: Path) -> RunInside:
        """Read a record; OSError if it cannot be read, InsideRecordError if it is not one."""
        data = path.read_bytes()
        try:  # binary data or another encoding is said in words (engine.common.json_text)
            return cls.from_dict(json.loads(decode(data, "a Look inside record")))
        except JsonTextError as err:
            raise InsideRecordError(f"{path}: {err}") from None
        except (ValueError, TypeError, KeyError, AttributeError, ArithmeticError) as err:
            raise InsideRecordError(f"{path}: not a Look inside record ({err})") from None
        except RecursionError:
            raise InsideRecordError(
                f"{path}: not a Look inside record (nested too deeply)"
            ) from None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunInside:
        if data.get("format") != FORMAT:
            raise ValueError(f"format {data.get('format')!r}, expected {FORMAT}")
        record = cls()
        record.flow = [
            FlowSample(
                _count(s["epoch"]),
                _count(s["batch"]),
                _count(s["batches"]),
                _figures(s["grad_norm"]),
                _figures(s["update_ratio"]),
                _figures(s.get("through_time", {})),
                _count(s.get("every", 0)),
            )
            for s in data["flow"]
        ]
        record.histograms = [
            EpochHistograms(
                _count(h["epoch"]),
                _histograms_in(h["weights"]),
                _histograms_in(h["activations"]),
                _count(h["samples"]),
            )
            for h in data["histograms"]
        ]
        return record


def _count(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{value!r} is not a count")
    return value


def _figures(values: Any) -> dict[str, float]:
    if not isinstance(values, dict):
        raise ValueError("figures per block are not a mapping")
    out = {}
    for node, value in values.items():
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise ValueError(f"{node}: {value!r} is not a number")
        out[str(node)] = float(value)
    return out


def _histograms_out(histograms: dict[str, Histogram]) -> dict[str, Any]:
    return {
        node: {"counts": h.counts.tolist(), "edges": h.edges.tolist()}
        for node, h in histograms.items()
    }


def _histograms_in(data: Any) -> dict[str, Histogram]:
    if not isinstance(data, dict):
        raise ValueError("histograms per block are not a mapping")
    out = {}
    for node, h in data.items():
        counts = np.asarray(h["counts"], dtype=np.int64)
        edges = np.asarray(h["edges"], dtype=np.float64)
        if counts.ndim != 1 or edges.shape != (counts.size + 1,) or (counts < 0).any():
            raise ValueError(f"{node}: histogram of {counts.size} bins, {edges.size} edges")
        if not all(math.isfinite(e) for e in edges):
            raise ValueError(f"{node}: histogram edges are not finite")
        out[str(node)] = Histogram(counts, edges)
    return out
