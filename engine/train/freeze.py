"""Freezing in training: the frozen parts of a model keep their weights.

Their parameters stop asking for gradients and stay out of the optimizer, and their
modules stay in eval mode while the rest trains, so a BatchNorm's running statistics do
not move either: a frozen block's whole state_dict is the same after training. Which
parts are frozen is the graph's (engine.units.frozen); the exported training script
applies the same paths the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from torch import nn

from engine.train.fit import FitError

SHOWN_PATHS = 6  # frozen paths a message names before "and N more"


class FreezeError(FitError):
    """Everything with weights is frozen: training would change nothing."""

    def __init__(self, message: str) -> None:
        super().__init__([message])


@dataclass
class Frozen:
    """The model's frozen parts: their paths, their modules and the weights they hold."""

    paths: list[str] = field(default_factory=list)
    modules: list[nn.Module] = field(default_factory=list)
    weights: int = 0
    total: int = 0

    def hold(self) -> None:
        """Put the frozen modules back in eval mode (after `model.train()`)."""
        for module in self.modules:
            module.eval()

    def describe(self) -> str:
        """`11,176,512 of 11,181,642 weights frozen (conv1, bn1, layer1, …)`."""
        return f"{self.weights:,} of {self.total:,} weights frozen ({named(self.paths)})"


def named(paths: list[str]) -> str:
    shown = ", ".join(paths[:SHOWN_PATHS])
    more = len(paths) - SHOWN_PATHS
    return f"{shown} and {more} more" if more > 0 else shown


def freeze(model: nn.Module, paths: list[str]) -> Frozen:
    """Freeze the parts of `model` at `paths` (a submodule, or a parameter of the model's
    own such as a layer scale). Raises FreezeError when nothing with weights is left."""
    frozen = Frozen(paths=list(paths))
    params: dict[int, nn.Parameter] = {}
    for path in paths:
        try:
            module = model.get_submodule(path)
        except AttributeError:
            try:
                parameter = model.get_parameter(path)
            except AttributeError:
                continue  # a node that owns nothing in this model
            params[id(parameter)] = parameter
            continue
        frozen.modules.append(module)
        params.update((id(p), p) for p in module.parameters())
    for parameter in params.values():
        parameter.requires_grad_(False)
    frozen.weights = sum(p.numel() for p in params.values())
    frozen.total = sum(p.numel() for p in model.parameters())
    if paths and frozen.total and frozen.weights == frozen.total:
        raise FreezeError(
            f"every weight is frozen ({named(frozen.paths)}): training would change "
            "nothing; untick Freeze on the blocks you want to train (the new head)"
        )
    return frozen


def trainable(model: nn.Module) -> list[nn.Parameter]:
    """The parameters training changes: those not frozen."""
    return [p for p in model.parameters() if p.requires_grad]
