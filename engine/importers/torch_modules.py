"""torch.nn modules → NetLoom blocks: one rule per module class.

A rule reads the module's settings and returns the block type and its parameters,
or raises `Unsupported` saying which setting no block offers yet. NetLoom builds the
same torch class from those parameters, so the module's own `state_dict` carries
over key for key.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import nn

from engine.importers.report import Unsupported

Rule = Callable[[nn.Module], tuple[str, dict[str, Any]]]

BN_EPS = 1e-5  # NetLoom's BatchNorm and LayerNorm use torch's default eps


def one(values: Any, what: str, block: str) -> int:
    """The single size NetLoom takes for every axis, or Unsupported if they differ."""
    sizes = tuple(values) if isinstance(values, (tuple, list)) else (values,)
    if len(set(sizes)) != 1:
        raise Unsupported(
            f"{what} {sizes} differs per axis; NetLoom's {block} takes one {what} for all axes"
        )
    return int(sizes[0])


def _require(ok: bool, why: str) -> None:
    if not ok:
        raise Unsupported(why)


def conv(m: nn.Module) -> tuple[str, dict[str, Any]]:
    block = type(m).__name__
    _require(m.groups == 1, f"groups={m.groups} (grouped or depthwise): {block} has no groups")
    _require(m.padding_mode == "zeros", f"padding_mode {m.padding_mode!r}: {block} pads with zeros")
    kernel = one(m.kernel_size, "kernel_size", block)
    if isinstance(m.padding, str):
        padding: Any = m.padding
        _require(
            padding == "valid" or kernel % 2 == 1,
            f"padding 'same' with the even kernel {kernel} pads one side more; "
            f"{block}'s 'same' needs an odd kernel",
        )
    else:
        padding = one(m.padding, "padding", block)
    return block, {
        "out_channels": m.out_channels,
        "kernel_size": kernel,
        "stride": one(m.stride, "stride", block),
        "padding": padding,
        "dilation": one(m.dilation, "dilation", block),
        "bias": m.bias is not None,
    }


def conv_transpose(m: nn.Module) -> tuple[str, dict[str, Any]]:
    block = type(m).__name__
    _require(block == "ConvTranspose2d", f"{block}: NetLoom has ConvTranspose2d only")
    _require(m.groups == 1, f"groups={m.groups}: ConvTranspose2d has no groups")
    _require(one(m.dilation, "dilation", block) == 1, "dilation: ConvTranspose2d has none")
    return block, {
        "out_channels": m.out_channels,
        "kernel_size": one(m.kernel_size, "kernel_size", block),
        "stride": one(m.stride, "stride", block),
        "padding": one(m.padding, "padding", block),
        "output_padding": one(m.output_padding, "output_padding", block),
        "bias": m.bias is not None,
    }


def pool(m: nn.Module) -> tuple[str, dict[str, Any]]:
    block = type(m).__name__
    _require(not m.ceil_mode, f"ceil_mode=True: {block} rounds output sizes down")
    if isinstance(m, (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d)):
        _require(one(m.dilation, "dilation", block) == 1, f"dilation: {block} has none")
        _require(not m.return_indices, f"return_indices: {block} returns values only")
    else:
        _require(m.count_include_pad, f"count_include_pad=False: {block} counts padding")
        _require(
            getattr(m, "divisor_override", None) is None, f"divisor_override: {block} has none"
        )
    kernel = one(m.kernel_size, "kernel_size", block)
    stride = one(m.stride if m.stride is not None else kernel, "stride", block)
    return block, {
        "kernel_size": kernel,
        "stride": "kernel" if stride == kernel else stride,
        "padding": one(m.padding, "padding", block),
    }


def adaptive_avg(m: nn.Module) -> tuple[str, dict[str, Any]]:
    block = type(m).__name__
    _require(block != "AdaptiveAvgPool3d", "AdaptiveAvgPool3d: NetLoom has the 1-D and 2-D ones")
    sizes = m.output_size if isinstance(m.output_size, (tuple, list)) else (m.output_size,)
    _require(None not in sizes, f"output_size {tuple(sizes)} keeps an axis (None)")
    return block, {"output_size": one(sizes, "output_size", block)}


def linear(m: nn.Module) -> tuple[str, dict[str, Any]]:
    return "Dense", {"units": m.out_features, "bias": m.bias is not None}


def batchnorm(m: nn.Module) -> tuple[str, dict[str, Any]]:
    name = type(m).__name__
    _require(m.affine, f"affine=False: BatchNorm always learns scale and shift ({name})")
    _require(m.track_running_stats, "track_running_stats=False: BatchNorm keeps running stats")
    _require(m.eps == BN_EPS, f"eps={m.eps:g}: BatchNorm uses eps {BN_EPS:g}")
    _require(m.momentum is not None, "momentum=None (a cumulative average): BatchNorm has none")
    return "BatchNorm", {"momentum": m.momentum}


def layernorm(m: nn.Module) -> tuple[str, dict[str, Any]]:
    _require(
        len(m.normalized_shape) == 1,
        f"normalized_shape {tuple(m.normalized_shape)}: LayerNorm normalises the last axis only",
    )
    _require(m.eps == BN_EPS, f"eps={m.eps:g}: LayerNorm uses eps {BN_EPS:g}")
    _require(m.elementwise_affine, "elementwise_affine=False: LayerNorm learns scale and shift")
    _require(getattr(m, "bias", True) is not None, "bias=False: LayerNorm learns a shift")
    return "LayerNorm", {}


def embedding(m: nn.Module) -> tuple[str, dict[str, Any]]:
    _require(m.padding_idx is None, f"padding_idx={m.padding_idx}: Embedding has no padding_idx")
    _require(m.max_norm is None, "max_norm: Embedding does not renormalise")
    _require(not m.scale_grad_by_freq and not m.sparse, "sparse or frequency-scaled gradients")
    return "Embedding", {"num_embeddings": m.num_embeddings, "embedding_dim": m.embedding_dim}


def dropout(m: nn.Module) -> tuple[str, dict[str, Any]]:
    _require(type(m) is nn.Dropout, f"{type(m).__name__}: NetLoom's Dropout drops single values")
    return "Dropout", {"p": m.p}


def recurrent_params(m: nn.Module) -> tuple[str, dict[str, Any]]:
    cell = type(m).__name__
    _require(m.batch_first, f"batch_first=False: NetLoom's {cell} reads (N, T, F)")
    _require(m.bias, f"bias=False: NetLoom's {cell} always has biases")
    _require(getattr(m, "proj_size", 0) == 0, "proj_size: NetLoom's LSTM has no projection")
    params: dict[str, Any] = {
        "hidden_size": m.hidden_size,
        "num_layers": m.num_layers,
        "bidirectional": m.bidirectional,
        "dropout": m.dropout,
    }
    if cell == "RNN":
        params["nonlinearity"] = m.nonlinearity
    return cell, params


def _plain(block: str) -> Rule:
    return lambda m: (block, {})


def leaky_relu(m: nn.Module) -> tuple[str, dict[str, Any]]:
    return "LeakyReLU", {"negative_slope": m.negative_slope}


def gelu(m: nn.Module) -> tuple[str, dict[str, Any]]:
    _require(m.approximate == "none", f"approximate={m.approximate!r}: GELU is the exact one")
    return "GELU", {}


def upsample(m: nn.Module) -> tuple[str, dict[str, Any]]:
    _require(m.size is None, "size=: Upsample takes a scale_factor")
    scales = m.scale_factor if isinstance(m.scale_factor, (tuple, list)) else (m.scale_factor,)
    _require(
        all(float(s).is_integer() for s in scales), f"scale_factor {m.scale_factor}: whole numbers"
    )
    factor = one([int(s) for s in scales], "scale_factor", "Upsample")
    _require(m.mode in ("nearest", "bilinear"), f"mode {m.mode!r}: Upsample has nearest, bilinear")
    _require(not m.align_corners, "align_corners=True: Upsample uses align_corners=False")
    return "Upsample", {"scale_factor": int(factor), "mode": m.mode}


MODULE_RULES: dict[type, Rule] = {
    nn.Conv1d: conv,
    nn.Conv2d: conv,
    nn.Conv3d: conv,
    nn.ConvTranspose1d: conv_transpose,
    nn.ConvTranspose2d: conv_transpose,
    nn.ConvTranspose3d: conv_transpose,
    nn.MaxPool1d: pool,
    nn.MaxPool2d: pool,
    nn.MaxPool3d: pool,
    nn.AvgPool1d: pool,
    nn.AvgPool2d: pool,
    nn.AvgPool3d: pool,
    nn.AdaptiveAvgPool1d: adaptive_avg,
    nn.AdaptiveAvgPool2d: adaptive_avg,
    nn.AdaptiveAvgPool3d: adaptive_avg,
    nn.Linear: linear,
    nn.BatchNorm1d: batchnorm,
    nn.BatchNorm2d: batchnorm,
    nn.BatchNorm3d: batchnorm,
    nn.LayerNorm: layernorm,
    nn.Embedding: embedding,
    nn.Dropout: dropout,
    nn.Dropout1d: dropout,
    nn.Dropout2d: dropout,
    nn.Dropout3d: dropout,
    nn.ReLU: _plain("ReLU"),
    nn.LeakyReLU: leaky_relu,
    nn.GELU: gelu,
    nn.Tanh: _plain("Tanh"),
    nn.Sigmoid: _plain("Sigmoid"),
    nn.Upsample: upsample,
}

RECURRENT = (nn.RNN, nn.GRU, nn.LSTM)

# Modules whose block depends on the input (the axis of a softmax, the span of a flatten);
# engine.importers.from_torch handles them beside the functional forms.
SHAPED = (nn.Softmax, nn.Flatten, nn.Identity)
