"""An operation no block computes is reported with the nearest blocks, from Python as
from ONNX: one table (engine/importers/nearest.py) for both importers."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from engine.importers.check import InputSpec
from engine.importers.from_onnx import unmapped_reason
from engine.importers.from_torch import import_module


class Smooth(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.act = nn.Softplus()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.softsign(self.act(self.fc(x)))


def test_a_module_and_a_function_without_a_block_name_the_nearest_blocks() -> None:
    result = import_module(Smooth(), InputSpec((4,)), "Smooth")
    assert result.project is None
    lines = [str(issue) for issue in result.report.errors]
    assert len(lines) == 2, lines
    assert lines[0].endswith(
        "no NetLoom block is a Softplus; the nearest: ELU, SiLU and Mish (smooth ReLUs)"
    )
    assert lines[1].endswith("no NetLoom block computes F.softsign; the nearest: Tanh")


def test_the_onnx_op_of_the_same_name_names_the_same_blocks() -> None:
    assert unmapped_reason("Softplus").endswith("the nearest: ELU, SiLU and Mish (smooth ReLUs)")
    assert unmapped_reason("Softsign").endswith("the nearest: Tanh")
    assert unmapped_reason("NoSuchOp") == "no NetLoom block does this"
