"""Losses and metrics, chosen by the Output block's loss and the dataset's task.

Meters add up tensors batch by batch and read them out once per epoch (or when a
callback asks), so measuring costs no synchronisation per batch.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch.nn import functional as F

from engine.train.config import TASK_METRICS
from engine.train.fit import Objective

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

LOSSES: dict[str, LossFn] = {
    # Raw class scores in; per-pixel when scores are (N, C, H, W) and targets (N, H, W).
    "cross_entropy": F.cross_entropy,
    "mse": F.mse_loss,
    # Raw yes/no scores in (the sigmoid is inside, which keeps it stable).
    "bce": F.binary_cross_entropy_with_logits,
}


def loss_function(objective: Objective, class_weights: torch.Tensor | None = None) -> LossFn:
    """The Output's loss; with `class_weights` (one per class, engine.train.class_weights)
    each sample's loss counts its class's weight, and the mean divides by their sum."""
    if class_weights is None:
        return LOSSES[objective.loss]
    weights = class_weights.to(torch.float32)
    if objective.loss == "cross_entropy":

        def weighted_cross_entropy(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
            losses = F.cross_entropy(output, target, weight=weights, reduction="none")
            # A batch whose classes all weigh 0 adds nothing, rather than 0 / 0.
            return losses.sum() / weights[target].sum().clamp_min(1e-12)

        return weighted_cross_entropy

    def weighted_bce(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        each = weights[target.long()]
        losses = F.binary_cross_entropy_with_logits(output, target, weight=each, reduction="sum")
        return losses / each.sum().clamp_min(1e-12)

    return weighted_bce


def predicted_classes(output: torch.Tensor, loss: str) -> torch.Tensor:
    """The class each output scores highest: a yes/no score above 0 for bce."""
    if loss == "bce":
        return (output.detach() > 0).long()
    return output.argmax(dim=1)


def targets_tensor(y: np.ndarray, objective: Objective) -> torch.Tensor:
    """The dataset's targets in the form the loss takes, prepared once for all batches."""
    samples = len(y)
    if objective.loss == "cross_entropy":
        return torch.as_tensor(y, dtype=torch.int64)
    # mse and bce compare element-wise: shape the targets like the model's output, so
    # a (samples,) target meets an (N, 1) output without silently broadcasting.
    return torch.as_tensor(y, dtype=torch.float32).reshape(samples, *objective.output_dims)


def inputs_tensor(x: np.ndarray, objective: Objective) -> torch.Tensor:
    dtype = torch.int64 if objective.input_dtype == "int64" else torch.float32
    return torch.as_tensor(x, dtype=dtype)


class Meter:
    """Running mean loss plus the task's metrics over the batches seen since `reset`."""

    def __init__(self, objective: Objective, device: torch.device) -> None:
        self.objective = objective
        self.device = device
        self.names = TASK_METRICS[objective.task]
        # Regression errors are multiplied by this (a standardised target's std) so the
        # metrics read in the target's own units; None leaves them as they are.
        self.error_scale: torch.Tensor | None = None
        self.reset()

    def reset(self) -> None:
        self.loss_sum = 0.0
        self.samples = 0
        # Exact integer counts for classes; float64 sums for regression errors.
        self.correct = torch.zeros((), dtype=torch.int64, device=self.device)
        self.counted = 0  # predictions counted (samples or pixels)
        self.squared = torch.zeros((), dtype=torch.float64, device=self.device)
        self.absolute = torch.zeros((), dtype=torch.float64, device=self.device)
        classes = self.objective.num_classes or 0
        self.confusion = torch.zeros(classes * classes, dtype=torch.int64, device=self.device)

    def update(self, loss: float, output: torch.Tensor, target: torch.Tensor) -> None:
        """Add one batch. Runs every training step, so it stays a handful of tensor ops."""
        batch = output.shape[0]
        self.loss_sum += loss * batch
        self.samples += batch
        if self.objective.task == "regression":
            error = output.detach() - target
            if self.error_scale is not None:
                error = error * self.error_scale
            self.squared += error.square().sum()
            self.absolute += error.abs().sum()
            self.counted += error.numel()
            return
        # argmax, comparison and counting record no autograd history: no detach needed.
        predicted = self._predicted_classes(output)
        labels = target if self.objective.loss == "cross_entropy" else target.long()
        self.correct += (predicted == labels.view(predicted.shape)).sum()
        self.counted += labels.numel()
        if self.objective.task == "segmentation":
            classes = self.objective.num_classes or 0
            pairs = labels.reshape(-1) * classes + predicted.reshape(-1)
            self.confusion += torch.bincount(pairs, minlength=classes * classes)

    def _predicted_classes(self, output: torch.Tensor) -> torch.Tensor:
        return predicted_classes(output, self.objective.loss)

    @property
    def mean_loss(self) -> float:
        return self.loss_sum / max(self.samples, 1)

    def values(self) -> dict[str, float]:
        """The task's metrics; reading them synchronises, so call it per epoch."""
        counted = max(self.counted, 1)
        if self.objective.task == "regression":
            return {
                "mse": float(self.squared) / counted,
                "mae": float(self.absolute) / counted,
            }
        accuracy = float(self.correct) / counted
        if self.objective.task == "classification":
            return {"accuracy": accuracy}
        return {"mean_iou": self._mean_iou(), "pixel_accuracy": accuracy}

    def _mean_iou(self) -> float:
        """Intersection over union per class, averaged over classes that occur at all."""
        classes = self.objective.num_classes or 0
        confusion = self.confusion.reshape(classes, classes).double()
        intersection = confusion.diagonal()
        union = confusion.sum(0) + confusion.sum(1) - intersection
        present = union > 0
        if not bool(present.any()):
            return 0.0
        return float((intersection[present] / union[present]).mean())
