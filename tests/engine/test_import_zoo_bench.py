"""bench/import_zoo.py's own logic: which rows count, which models `--models` picks, the
tolerance, and the BatchNorm statistics it randomises. No torchvision or timm here: the
zoo's entries are only built by the bench itself."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from bench.import_zoo import (
    Row,
    chosen,
    from_python,
    importer_check,
    markdown,
    pass_rates,
    randomise_norm_statistics,
    within,
)
from bench.zoo_models import ZooModel
from engine.importers.check import InputSpec, onnx_agreement
from tests.engine.roundtrip_checks import first_mismatch


def test_pass_rates_leave_exports_the_exporter_refused_out_of_the_share() -> None:
    rows = [
        Row("tv:a", "py", "pass"),
        Row("tv:b", "py", "FAIL", "1 unsupported"),
        Row("tv:a", "onnx", "pass"),
        Row("tv:b", "onnx", "no file", "export refused: …"),
        Row("tv:a", "onnx-dynamo", "FAIL", "differs"),
    ]
    assert pass_rates(rows) == [
        "py: 1/2 pass = 50%",
        "onnx: 1/1 pass = 100% (1 the exporter could not write)",
        "onnx-dynamo: 0/1 pass = 0%",
    ]


def test_models_takes_full_or_short_names_and_a_short_name_in_both_zoos_picks_both() -> None:
    names = [m.name for m in chosen("resnet18,efficientnet_b0,idiom:text_cnn,resnet18")]
    assert names == ["tv:resnet18", "tv:efficientnet_b0", "timm:efficientnet_b0", "idiom:text_cnn"]


def test_models_with_an_unknown_name_says_which_in_one_line() -> None:
    with pytest.raises(SystemExit) as stop:
        chosen("resnet18,resnet9000")
    message = str(stop.value)
    assert message.startswith("--models: no model 'resnet9000'") and "\n" not in message


def test_tolerance_is_absolute_or_relative_to_the_largest_output() -> None:
    assert within(1e-4, 1.0)
    assert not within(2e-4, 1.0)
    assert within(2e-4, 100.0)  # 2e-6 of the largest magnitude


def test_norm_statistics_are_randomised_and_the_model_left_in_eval_mode() -> None:
    model = nn.Sequential(
        nn.Conv2d(3, 4, 1), nn.BatchNorm2d(4), nn.BatchNorm1d(2, track_running_stats=False)
    )
    randomise_norm_statistics(model)
    norm = model[1]
    assert not model.training and not norm.training
    assert not torch.equal(norm.running_mean, torch.zeros(4))
    assert not torch.equal(norm.running_var, torch.ones(4))
    assert bool(((norm.running_var >= 0.5) & (norm.running_var <= 1.5)).all())
    assert model[2].running_mean is None  # a norm without running statistics is left alone


def test_markdown_table_escapes_pipes_in_reasons_and_ends_with_the_summary() -> None:
    text = markdown([Row("tv:a", "py", "FAIL", "a | b", seconds=1.25)], ["py: 0/1 pass = 0%"])
    lines = text.splitlines()
    assert lines[0].startswith("| model | source |")
    assert lines[2] == "| tv:a | py | – | – | – | 1.2 | – | – | – | – | FAIL: a \\| b |"
    assert lines[-1] == "- py: 0/1 pass = 0%"


def test_the_importers_check_line_is_shortened_to_its_figure() -> None:
    close, _ = onnx_agreement(1.4e-06, 3.0, "3 and 2")
    far, _ = onnx_agreement(0.5, 10.0, "3")
    assert importer_check(close + "; 51 weights") == "1.4e-06 vs ORT"
    assert importer_check(far) == "0.5 vs ORT"
    bit = "outputs bit-identical to the original at batch 3 and 2; 87 weights"
    assert importer_check(bit) == "bit-identical"
    assert importer_check("outputs differ from the original by up to 3e-07; 9 weights") == (
        "differs 3e-07"
    )
    assert importer_check("") == ""


def test_the_default_list_holds_25_zoo_models_and_the_idioms_and_all_adds_the_heavy_ones() -> None:
    default = chosen(None)
    zoo = [m for m in default if m.name.startswith(("tv:", "timm:"))]
    assert len(zoo) >= 25 and len({m.family for m in zoo}) >= 15
    assert len(default) - len(zoo) >= 5  # text and sequence idioms
    assert "tv:wide_resnet50_2" not in {m.name for m in default}
    everything = chosen(None, everything=True)
    assert set(everything) > set(default) and "tv:wide_resnet50_2" in {m.name for m in everything}


def test_a_model_imported_from_python_is_round_tripped_and_the_summary_counts_it() -> None:
    entry = ZooModel("idiom:tiny", "mlp", lambda: nn.Sequential(nn.Linear(4, 3)), InputSpec((4,)))
    row = from_python(entry, randomise_norm_statistics(entry.make()))
    assert (row.result, row.round_trip) == ("pass", "same")
    other = Row("tv:b", "py", "pass", round_trip="nodes[2]: ('relu', 'ReLU', {}) vs …")
    skipped = Row("tv:c", "py", "pass")  # --no-round-trip
    assert pass_rates([row, other, skipped])[-1] == "round trip (py): 1/2 the same project"


def test_the_first_difference_of_a_round_trip_names_its_place() -> None:
    want = {"nodes": [("x", "Input"), ("fc", "Linear")], "units": {"Block": {"promoted": []}}}
    assert first_mismatch(want, want) is None
    renamed = {"nodes": [("x", "Input"), ("fc1", "Linear")], "units": want["units"]}
    assert first_mismatch(want, renamed) == "nodes[1][0]: 'fc' vs 'fc1'"
    promoted = {"nodes": want["nodes"], "units": {"Block": {"promoted": ["stride"]}}}
    assert first_mismatch(want, promoted) == "units.Block.promoted: 0 items, 1 after the round trip"
