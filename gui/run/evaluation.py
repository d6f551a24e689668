"""The trained model's answers on held-out samples, for the results views.

Runs on the training thread right after `fit` (or after restoring a checkpoint), so
the window only receives numpy arrays. Imports torch: import this module lazily.
"""

from __future__ import annotations

import numpy as np
import torch

from engine.data import ArrayDataset
from engine.data.preprocess import target_units
from engine.train.trainer import Trainer
from gui.run.records import Evaluation

CHUNK = 256  # samples per forward pass: bounded memory on big inputs
SHOWN_SAMPLES = 400  # kept for browsing ("try a sample"); the confusion counts them all
SHOWN_MASKS = 64  # segmentation keeps fewer: each sample carries three images


@torch.no_grad()
def _outputs(trainer: Trainer, x: torch.Tensor) -> torch.Tensor:
    model = trainer.model
    was_training = model.training
    model.eval()
    try:
        return torch.cat([model(x[i : i + CHUNK]).cpu() for i in range(0, x.shape[0], CHUNK)])
    finally:
        model.train(was_training)


def _class_scores(output: torch.Tensor, loss: str) -> tuple[torch.Tensor, torch.Tensor]:
    """(predicted classes, probabilities per class) from raw scores."""
    if loss == "bce":  # one yes/no score: class 1 when positive
        yes = torch.sigmoid(output.reshape(output.shape[0], *output.shape[2:]))
        return (yes > 0.5).long(), torch.stack([1 - yes, yes], dim=1)
    probabilities = torch.softmax(output, dim=1)
    return probabilities.argmax(dim=1), probabilities


def _own_units(trainer: Trainer, values: np.ndarray) -> np.ndarray:
    """Regression values back in the target's own units, when training standardised it
    (the trainer's splits hold it standardised; the views show what the file holds)."""
    scale = (trainer.preprocessing or {}).get("target")
    if scale is None or len(values) == 0:
        return values
    return target_units(scale, values).astype(np.float32)


def evaluate(trainer: Trainer, data: ArrayDataset, metric_value: float | None = None) -> Evaluation:
    """Predict every sample of the validation split (or the training split without one)."""
    split = trainer.val_split if trainer.val_split is not None else trainer.train_split
    name = "validation" if trainer.val_split is not None else "training"
    objective = trainer.objective
    output = _outputs(trainer, split.x)
    truth = split.y.cpu()
    task = objective.task
    common = dict(
        task=task,
        split=name,
        samples=int(split.x.shape[0]),
        sequence=data.sequence,
        ordered=data.ordered,
        feature_names=data.feature_names,
        metric=objective.metric,
        metric_value=metric_value,
    )
    if task == "regression":
        shown = slice(0, SHOWN_SAMPLES if not data.ordered else None)  # a forecast: all of it
        predicted = output.reshape(truth.shape)
        return Evaluation(
            inputs=split.x[shown].cpu().numpy(),
            truth=_own_units(trainer, truth[shown].numpy()),
            predicted=_own_units(trainer, predicted[shown].numpy()),
            **common,
        )
    predicted, probabilities = _class_scores(output, objective.loss)
    classes = int(objective.num_classes or probabilities.shape[1])
    labels = truth.long().reshape(predicted.shape)
    pairs = (labels.reshape(-1) * classes + predicted.reshape(-1)).numpy()
    confusion = np.bincount(pairs, minlength=classes * classes).reshape(classes, classes)
    shown = slice(0, SHOWN_MASKS if task == "segmentation" else SHOWN_SAMPLES)
    names = list(data.class_names) if data.class_names else [str(i) for i in range(classes)]
    return Evaluation(
        inputs=split.x[shown].cpu().numpy(),
        truth=labels[shown].numpy(),
        predicted=predicted[shown].numpy(),
        scores=None if task == "segmentation" else probabilities[shown].numpy(),
        confusion=confusion,
        class_names=names,
        **common,
    )
