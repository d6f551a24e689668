"""The constructor line of a parameter a block owns directly, not through a torch.nn
module (LayerScale): shared by the model class and the unit classes."""

from __future__ import annotations

from engine.codegen.text import call


def parameter_lines(node_id: str, shape: str, init: str, indent: str) -> list[str]:
    """`self.ls1 = nn.Parameter(torch.full((96, 1, 1), 1e-06))`: `shape` and `init` are
    source (literals, or a unit class's constructor arguments)."""
    return call(f"self.{node_id} = ", "nn.Parameter", [f"torch.full({shape}, {init})"], indent)
