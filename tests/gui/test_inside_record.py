"""A run's Look inside record (gui.run.inside_record): what the trainer measured comes
back as it was; a long run's flow stays bounded; a damaged or foreign file is refused in
one line naming it."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from engine.inspect.histograms import histogram
from gui.run.inside_record import (
    MAX_FLOW_SAMPLES,
    InsideRecordError,
    RunInside,
    inside_file,
)
from gui.run.records import EpochHistograms, FlowSample


def flow(batch: int) -> FlowSample:
    return FlowSample(1, batch, 5000, {"conv1": 0.5 / batch, "lstm1": 1e-30},
                      {"conv1": 1e-3, "lstm1": math.nan}, {"lstm1": 1e-9}, 10)  # fmt: skip


def test_a_record_comes_back_as_it_was_taken(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    record = RunInside()
    record.add_flow(flow(10))
    record.add_flow(flow(20))
    weights = {"conv1": histogram(rng.normal(size=500))}
    outputs = {"conv1": histogram(rng.normal(size=90)), "relu1": histogram(np.zeros(4))}
    record.add_histograms(EpochHistograms(0, weights, outputs, 32))
    path = inside_file(tmp_path / "checkpoints" / "run-7.pt")
    assert path.name == "run-7-inside.json"
    path.parent.mkdir()
    record.save(path)

    back = RunInside.load(path)
    assert back.flow[0].grad_norm == {"conv1": 0.05, "lstm1": 1e-30}
    assert math.isnan(back.flow[0].update_ratio["lstm1"])  # "not known" stays so
    assert [s.x for s in back.flow] == [s.x for s in record.flow]
    assert back.flow[1].through_time == {"lstm1": 1e-9} and back.flow[1].every == 10
    [epoch] = back.histograms
    assert epoch.epoch == 0 and epoch.samples == 32 and set(epoch.activations) == {"conv1", "relu1"}
    np.testing.assert_array_equal(epoch.weights["conv1"].counts, weights["conv1"].counts)
    np.testing.assert_array_equal(epoch.weights["conv1"].edges, weights["conv1"].edges)


def test_a_long_runs_flow_is_thinned_over_the_whole_run() -> None:
    record = RunInside()
    for batch in range(1, 5 * MAX_FLOW_SAMPLES + 1):
        record.add_flow(flow(batch))
    assert MAX_FLOW_SAMPLES // 2 <= len(record.flow) <= MAX_FLOW_SAMPLES
    assert record.flow[0].batch == 1 and record.flow[-1].batch > 4.5 * MAX_FLOW_SAMPLES


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json",
        "[]",
        '{"format": 2, "flow": [], "histograms": []}',
        '{"format": 1, "flow": [{"epoch": -1, "batch": 1, "batches": 2, "grad_norm": {}, '
        '"update_ratio": {}}], "histograms": []}',
        '{"format": 1, "flow": [], "histograms": [{"epoch": 1, "samples": 3, "weights": '
        '{"a": {"counts": [1, 2], "edges": [0, 1]}}, "activations": {}}]}',
        '{"format": 1, "flow": [], "histograms": [{"epoch": 1, "samples": 3, "weights": '
        '{"a": {"counts": [1], "edges": [0, NaN]}}, "activations": {}}]}',
        '{"format": 1, "flow": [{"epoch": 1, "batch": 1, "batches": 2, "grad_norm": '
        '{"a": "1"}, "update_ratio": {}}], "histograms": []}',
        '{"format": 1, "flow": {"__class__": "os.system"}, "histograms": []}',
    ],
)
def test_a_damaged_or_foreign_record_is_refused_naming_the_file(tmp_path: Path, text: str) -> None:
    path = tmp_path / "run-1-inside.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InsideRecordError) as refused:
        RunInside.load(path)
    message = str(refused.value)
    assert message.startswith(f"{path}: not a Look inside record") and "\n" not in message


def test_the_file_is_plain_json(tmp_path: Path) -> None:
    record = RunInside()
    record.add_flow(flow(3))
    path = tmp_path / "run-1-inside.json"
    record.save(path)
    assert json.loads(path.read_text(encoding="utf-8"))["format"] == 1
