"""Where a classifier looks: gradient × input and Grad-CAM, with plain autograd.

Both explain one class score of one sample. Gradient × input marks the pixels whose
change would move the score most, weighted by the pixel's own value; Grad-CAM weighs
the last convolution's feature maps by how much the score depends on each map and
keeps the positive part, a coarser but steadier picture of the region that matters.
Inputs are images (C, H, W) or frames (T, C, H, W); maps come back per pixel, (H, W)
or (T, H, W), at the input's size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from engine.inspect.activations import evaluating, run_steps
from engine.model.build import NetLoomModel


@dataclass
class Saliency:
    """A heatmap per pixel (≥ 0) for the score of `target_class`."""

    method: str  # "gradient_x_input" or "grad_cam"
    target_class: int
    predicted_class: int
    heatmap: np.ndarray  # (H, W) for an image, (T, H, W) for frames
    node: str | None = None  # Grad-CAM: the convolution it looked at


def _class_score(output: torch.Tensor, target_class: int | None) -> tuple[torch.Tensor, int, int]:
    if output.dim() != 2:
        raise ValueError(
            "saliency needs one score per class (N, classes); "
            f"the model gives {tuple(output.shape)}"
        )
    predicted = int(output[0].argmax()) if output.shape[1] > 1 else int(output[0, 0] > 0)
    chosen = predicted if target_class is None else target_class
    if not 0 <= chosen < max(output.shape[1], 2):
        raise ValueError(f"class {chosen}: the model has {output.shape[1]} class scores")
    if output.shape[1] == 1:  # one yes/no score: class 1 is the score, class 0 its negation
        score = output[0, 0] if chosen == 1 else -output[0, 0]
    else:
        score = output[0, chosen]
    return score, chosen, predicted


def _check_pixels(sample: torch.Tensor) -> None:
    if sample.dim() not in (3, 4) or not sample.is_floating_point():
        raise ValueError(
            "saliency needs an image (C, H, W) or frames (T, C, H, W) of floats; "
            f"got {tuple(sample.shape)} {sample.dtype}"
        )


def gradient_x_input(
    model: NetLoomModel, sample: torch.Tensor | np.ndarray, target_class: int | None = None
) -> Saliency:
    """|∂score/∂x · x| summed over channels; the predicted class unless one is given."""
    x = torch.as_tensor(sample).float()
    _check_pixels(x)
    x = x.unsqueeze(0).requires_grad_(True)
    with torch.enable_grad(), evaluating(model):
        output = model(x)
        score, chosen, predicted = _class_score(output, target_class)
        (grad,) = torch.autograd.grad(score, [x])
    heat = (grad * x).detach()[0].abs().sum(dim=-3)  # sum over the channel axis
    return Saliency("gradient_x_input", chosen, predicted, heat.numpy())


def last_conv_block(model: NetLoomModel) -> str | None:
    """The node id of the model's last 2-D convolution (Grad-CAM's usual choice)."""
    found = None
    for step in model.steps:
        if isinstance(model._modules.get(step.node), nn.Conv2d):
            found = step.node
    return found


def grad_cam(
    model: NetLoomModel,
    sample: torch.Tensor | np.ndarray,
    target_class: int | None = None,
    node: str | None = None,
) -> Saliency:
    """Grad-CAM (Selvaraju et al., 2017) on `node`, by default the last Conv2d.

    The maps A_k of that block are weighted by the mean of ∂score/∂A_k over their pixels;
    the weighted sum's positive part is scaled up to the input's height and width.
    """
    x = torch.as_tensor(sample).float()
    _check_pixels(x)
    node = node or last_conv_block(model)
    if node is None:
        raise ValueError("Grad-CAM needs a Conv2d block; this model has none")
    with torch.enable_grad(), evaluating(model):
        values, _ = run_steps(model, (x.unsqueeze(0),))
        maps = values[node]
        output = values[model.output_ids[0]]
        score, chosen, predicted = _class_score(output, target_class)
        (grad,) = torch.autograd.grad(score, [maps])
    # maps are (1, C, h, w) for an image, (1, T, C, h, w) for frames.
    weights = grad.mean(dim=(-2, -1), keepdim=True)
    cam = F.relu((weights * maps).sum(dim=-3)).detach()[0]  # (h, w) or (T, h, w)
    size = tuple(x.shape[-2:])
    frames = cam if cam.dim() == 3 else cam.unsqueeze(0)
    upsampled = F.interpolate(frames.unsqueeze(1), size=size, mode="bilinear", align_corners=False)
    heat = upsampled[:, 0] if cam.dim() == 3 else upsampled[0, 0]
    return Saliency("grad_cam", chosen, predicted, heat.numpy(), node)
