"""ONNX import of a bidirectional layer's `out[:, -1]`: the sequence and a Select.

The last step of a bidirectional output holds the forward direction's end beside the
backward direction's *first* step, so NetLoom's 'last' output (each direction's end) is
not it. From both torch exporters the recurrent block gives its 'sequence' and a
Select(axis 1, index -1) picks the step, as the Python importer maps it. The legacy
exporter runs here (fast); the dynamo exporter needs 3–10 s a model, so its file is kept
in tests/engine/onnx_issue26/, written by running this module:

    .venv/bin/python -m tests.engine.test_onnx_bilstm_last
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from engine.importers.check import InputSpec, example_input
from engine.importers.from_onnx import import_onnx
from tests.engine.test_import_idioms_b2 import BiLSTMClassifier

from .onnx_checks import blocks, export_model, netloom, onnx_runtime

FOLDER = Path(__file__).resolve().parent / "onnx_issue26"
SHAPE = (7, 5)  # T, F


BiLSTMLast = BiLSTMClassifier  # the tutorial BiLSTM classifier: `self.fc(out[:, -1])`


class BiGRULastAndMean(nn.Module):
    """A bidirectional GRU's last step beside its mean over time: one sequence, used twice."""

    def __init__(self) -> None:
        super().__init__()
        self.gru = nn.GRU(5, 4, batch_first=True, bidirectional=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.gru(x)
        return torch.cat([out[:, -1], out.mean(1)], dim=1)


def export(cls: type[nn.Module], path: Path, dynamo: bool) -> Path:
    return export_model(cls, SHAPE, path, dynamo)


DYNAMO_FILE = FOLDER / "bilstm_last_dynamo.onnx"


def new_input() -> torch.Tensor:
    return example_input(InputSpec(SHAPE, sequence=True), 4, 2, seed=11)


@pytest.mark.parametrize("exporter", ["legacy", "dynamo"])
def test_a_bilstms_last_step_is_its_sequence_and_a_select(exporter: str, tmp_path: Path) -> None:
    if exporter == "dynamo":
        path = DYNAMO_FILE
    else:
        path = export(BiLSTMLast, tmp_path / "bilstm_last.onnx", dynamo=False)
    result = import_onnx(path, None, True, None)
    assert result.report.ok, result.report.text()
    assert "(allowed 0.0001 absolute)" in result.report.check
    made = blocks(result)
    assert [t for t, _ in made] == ["Input", "LSTM", "Select", "Dense", "Output"]
    lstm = made[1][1]
    assert (lstm["bidirectional"], lstm["output"]) == (True, "sequence")
    assert made[2] == ("Select", {"axis": 1, "index": -1})
    x = new_input()
    assert np.abs(netloom(result, x) - onnx_runtime(path, x)).max() <= 1e-5


def test_the_last_step_and_the_whole_sequence_share_one_block(tmp_path: Path) -> None:
    path = export(BiGRULastAndMean, tmp_path / "bigru_last_mean.onnx", dynamo=False)
    result = import_onnx(path, None, True, None)
    assert result.report.ok, result.report.text()
    made = blocks(result)
    assert [p["output"] for t, p in made if t == "GRU"] == ["sequence"]
    assert ("Select", {"axis": 1, "index": -1}) in made
    x = new_input()
    assert np.abs(netloom(result, x) - onnx_runtime(path, x)).max() <= 1e-5


if __name__ == "__main__":
    import tempfile

    import onnx

    with tempfile.TemporaryDirectory() as folder:  # the exporter puts weights beside it
        exported = export(BiLSTMLast, Path(folder) / DYNAMO_FILE.name, dynamo=True)
        onnx.save(onnx.load(str(exported)), str(DYNAMO_FILE))  # one file, weights inside
    print("wrote", DYNAMO_FILE)
