"""How a recorded run reads, apart from the widgets that show it: its length as a
clock reads, its label in a legend, when it started, the metric it reports, its
per-epoch values of one key and its last result ("Validation accuracy: 0.9667").

Qt-free: imports numpy and the runs history's records only. The Runs view
(gui.results.runs_view) and the training panel's restored-run line use it.
"""

from __future__ import annotations

import time

import numpy as np

from engine.history.runs import EpochRecord, RunRecord


def clock_text(seconds: float) -> str:
    """A run's length as a clock reads: "42 s", "3:07", "1:02:05"."""
    whole = round(seconds)
    if whole < 60:
        return f"{seconds:.1f} s" if seconds < 10 else f"{whole} s"
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02}:{secs:02}" if hours else f"{minutes}:{secs:02}"


def run_label(record: RunRecord) -> str:
    """How a legend names a run: number, project and start time."""
    started = time.strftime("%m-%d %H:%M", time.localtime(record.started))
    return f"run {record.id} · {record.project_name} · {started}"


def primary_metric(record: RunRecord, rows: list[EpochRecord]) -> str | None:
    """The metric the run reported first (its config's choice, else the task's own)."""
    chosen = record.config.get("metric", "auto")
    if chosen != "auto":
        return chosen
    for row in rows:
        names = [k for k in row.metrics if k not in ("loss", "lr", "samples_per_s", "seconds")]
        if names:
            return names[0]
    return None


def started_text(started: float, now: float | None = None) -> str:
    """When a run started, as short as the list allows: a clock time for today's runs,
    the day too for older ones (the whole date is in the row's tooltip)."""
    when = time.localtime(started)
    today = time.localtime(time.time() if now is None else now)
    same_day = (when.tm_year, when.tm_yday) == (today.tm_year, today.tm_yday)
    return time.strftime("%H:%M" if same_day else "%m-%d %H:%M", when)


def curve(rows: list[EpochRecord], key: str) -> tuple[np.ndarray, np.ndarray]:
    """Per-epoch values of `key`: validation rows when the run had them, else training."""
    splits = {row.split for row in rows}
    split = "val" if "val" in splits else "train"
    points = [(r.epoch, r.metrics[key]) for r in rows if r.split == split and key in r.metrics]
    if not points:
        return np.empty(0), np.empty(0)
    x, y = np.array(points, dtype=float).T
    keep = np.isfinite(y)
    return x[keep], y[keep]


def recorded_result(record: RunRecord, rows: list[EpochRecord]) -> str:
    """The run's last recorded value of its metric: "Validation accuracy: 0.9667"."""
    metric = primary_metric(record, rows)
    if not metric:
        return ""
    _x, y = curve(rows, metric)
    if not len(y):
        return ""
    split = "Validation" if any(row.split == "val" for row in rows) else "Training"
    return f"{split} {metric.replace('_', ' ')}: {y[-1]:.4f}"
