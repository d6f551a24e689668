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


def per_axis(values: Any) -> int | list[int]:
    """A size as a per-axis parameter: one number when every axis agrees, else a list."""
    sizes = [int(v) for v in values] if isinstance(values, (tuple, list)) else [int(values)]
    return sizes[0] if len(set(sizes)) == 1 else sizes


def _require(ok: bool, why: str) -> None:
    if not ok:
        raise Unsupported(why)


def conv(m: nn.Module) -> tuple[str, dict[str, Any]]:
    block = type(m).__name__
    if isinstance(m.padding, str):
        padding: Any = m.padding
        kernels = m.kernel_size if isinstance(m.kernel_size, tuple) else (m.kernel_size,)
        _require(
            padding == "valid" or all(k % 2 == 1 for k in kernels),
            f"padding 'same' with the even kernel {per_axis(kernels)} pads one side more; "
            f"{block}'s 'same' needs an odd kernel",
        )
    else:
        padding = per_axis(m.padding)
    return block, {
        "out_channels": m.out_channels,
        "kernel_size": per_axis(m.kernel_size),
        "stride": per_axis(m.stride),
        "padding": padding,
        "dilation": per_axis(m.dilation),
        "groups": m.groups,
        "bias": m.bias is not None,
        "padding_mode": m.padding_mode,
    }


def conv_transpose(m: nn.Module) -> tuple[str, dict[str, Any]]:
    block = type(m).__name__
    _require(m.padding_mode == "zeros", f"padding_mode {m.padding_mode!r}: {block} pads with zeros")
    return block, {
        "out_channels": m.out_channels,
        "kernel_size": per_axis(m.kernel_size),
        "stride": per_axis(m.stride),
        "padding": per_axis(m.padding),
        "output_padding": per_axis(m.output_padding),
        "groups": m.groups,
        "dilation": per_axis(m.dilation),
        "bias": m.bias is not None,
    }


def pool(m: nn.Module) -> tuple[str, dict[str, Any]]:
    block = type(m).__name__
    params: dict[str, Any] = {}
    if isinstance(m, (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d)):
        _require(not m.return_indices, f"return_indices: {block} returns values only")
        params["dilation"] = per_axis(m.dilation)
    else:
        _require(
            getattr(m, "divisor_override", None) is None,
            f"divisor_override: {block} divides by the cells it averages",
        )
        params["count_include_pad"] = bool(m.count_include_pad)
    kernel = per_axis(m.kernel_size)
    stride = per_axis(m.stride) if m.stride not in (None, (), []) else kernel
    return block, {
        "kernel_size": kernel,
        "stride": "kernel" if stride == kernel else stride,
        "padding": per_axis(m.padding),
        **params,
        "ceil_mode": bool(m.ceil_mode),
    }


def adaptive(m: nn.Module) -> tuple[str, dict[str, Any]]:
    block = type(m).__name__
    _require(not getattr(m, "return_indices", False), f"return_indices: {block} returns values")
    sizes = m.output_size if isinstance(m.output_size, (tuple, list)) else (m.output_size,)
    _require(None not in sizes, f"output_size {tuple(sizes)} keeps an axis (None)")
    return block, {"output_size": per_axis(sizes)}


def linear(m: nn.Module) -> tuple[str, dict[str, Any]]:
    return "Dense", {"units": m.out_features, "bias": m.bias is not None}


def over_input(type_name: str, params: dict[str, Any], axes: int) -> dict[str, Any]:
    """A Dense's params for an input of `axes` axes after N: over the last axis when
    there are more than its features rule takes ((N, F), (N, T, F)), as torchvision's
    ConvNeXt runs nn.Linear on channels-last (N, H, W, C). Other blocks are unchanged."""
    if type_name == "Dense" and axes > 2:
        return {**params, "over": "last axis"}
    return params


def batchnorm(m: nn.Module) -> tuple[str, dict[str, Any]]:
    name = type(m).__name__
    _require(name != "SyncBatchNorm", "SyncBatchNorm: NetLoom trains on one device")
    tracked = bool(m.track_running_stats)
    _require(
        m.momentum is not None or not tracked,
        "momentum=None (a cumulative average): BatchNorm's running statistics move by a "
        "fixed momentum",
    )
    return "BatchNorm", {
        "momentum": m.momentum if m.momentum is not None else 0.1,
        "affine": m.affine,
        "eps": float(m.eps),
        "track_running_stats": tracked,
    }


def layernorm(m: nn.Module) -> tuple[str, dict[str, Any]]:
    affine = m.elementwise_affine
    return "LayerNorm", {
        "axes": len(m.normalized_shape),
        "affine": affine,
        "bias": affine and getattr(m, "bias", True) is not None,
        "eps": float(m.eps),
    }


def groupnorm(m: nn.Module) -> tuple[str, dict[str, Any]]:
    return "GroupNorm", {"num_groups": m.num_groups, "affine": m.affine, "eps": float(m.eps)}


def instancenorm(m: nn.Module) -> tuple[str, dict[str, Any]]:
    _require(
        not m.track_running_stats,
        "track_running_stats=True: InstanceNorm always normalises with each sample's own stats",
    )
    return "InstanceNorm", {"affine": m.affine, "eps": float(m.eps)}


def embedding(m: nn.Module) -> tuple[str, dict[str, Any]]:
    _require(m.max_norm is None, "max_norm: Embedding does not renormalise")
    _require(not m.scale_grad_by_freq and not m.sparse, "sparse or frequency-scaled gradients")
    return "Embedding", {
        "num_embeddings": m.num_embeddings,
        "embedding_dim": m.embedding_dim,
        "padding_idx": "none" if m.padding_idx is None else m.padding_idx,
    }


def dropout(m: nn.Module) -> tuple[str, dict[str, Any]]:
    if type(m) is nn.Dropout2d:
        return "Dropout2d", {"p": m.p}
    _require(
        type(m) is nn.Dropout,
        f"{type(m).__name__}: NetLoom has Dropout (single values) and Dropout2d (channels)",
    )
    return "Dropout", {"p": m.p}


def recurrent_params(m: nn.Module) -> tuple[str, dict[str, Any]]:
    cell = type(m).__name__
    _require(m.batch_first, f"batch_first=False: NetLoom's {cell} reads (N, T, F)")
    _require(getattr(m, "proj_size", 0) == 0, "proj_size: NetLoom's LSTM has no projection")
    params: dict[str, Any] = {
        "hidden_size": m.hidden_size,
        "num_layers": m.num_layers,
        "bidirectional": m.bidirectional,
        "dropout": m.dropout,
        "bias": bool(m.bias),
    }
    if cell == "RNN":
        params["nonlinearity"] = m.nonlinearity
    return cell, params


def _plain(block: str) -> Rule:
    return lambda m: (block, {})


def leaky_relu(m: nn.Module) -> tuple[str, dict[str, Any]]:
    return "LeakyReLU", {"negative_slope": m.negative_slope}


def gelu(m: nn.Module) -> tuple[str, dict[str, Any]]:
    return "GELU", {"approximate": m.approximate}


def hardtanh(m: nn.Module) -> tuple[str, dict[str, Any]]:
    return "Hardtanh", {"min_val": float(m.min_val), "max_val": float(m.max_val)}


def elu(m: nn.Module) -> tuple[str, dict[str, Any]]:
    return "ELU", {"alpha": m.alpha}


def prelu(m: nn.Module) -> tuple[str, dict[str, Any]]:
    return "PReLU", {"slopes": "one" if m.num_parameters == 1 else "channels"}


def upsample(m: nn.Module) -> tuple[str, dict[str, Any]]:
    """Named "Upsample" here; `upsample_block` picks the 1-D/3-D block from the input."""
    _require(m.size is None, "size=: Upsample takes a scale_factor")
    scales = m.scale_factor if isinstance(m.scale_factor, (tuple, list)) else (m.scale_factor,)
    _require(
        all(float(s).is_integer() for s in scales), f"scale_factor {m.scale_factor}: whole numbers"
    )
    params: dict[str, Any] = {"scale_factor": per_axis([int(s) for s in scales]), "mode": m.mode}
    if m.mode != "nearest":
        params["align_corners"] = bool(m.align_corners)
    return "Upsample", params


def upsample_block(spatial_axes: int) -> str:
    """The Upsample block for an input with this many axes after the channels."""
    return "Upsample" if spatial_axes == 2 else f"Upsample{spatial_axes}d"


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
    nn.AdaptiveAvgPool1d: adaptive,
    nn.AdaptiveAvgPool2d: adaptive,
    nn.AdaptiveAvgPool3d: adaptive,
    nn.AdaptiveMaxPool1d: adaptive,
    nn.AdaptiveMaxPool2d: adaptive,
    nn.AdaptiveMaxPool3d: adaptive,
    nn.Linear: linear,
    nn.BatchNorm1d: batchnorm,
    nn.BatchNorm2d: batchnorm,
    nn.BatchNorm3d: batchnorm,
    nn.LayerNorm: layernorm,
    nn.GroupNorm: groupnorm,
    nn.InstanceNorm1d: instancenorm,
    nn.InstanceNorm2d: instancenorm,
    nn.InstanceNorm3d: instancenorm,
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
    nn.SiLU: _plain("SiLU"),
    nn.ELU: elu,
    nn.PReLU: prelu,
    nn.Hardswish: _plain("Hardswish"),
    nn.Hardsigmoid: _plain("Hardsigmoid"),
    nn.ReLU6: _plain("ReLU6"),
    nn.Hardtanh: hardtanh,
    nn.Mish: _plain("Mish"),
    nn.Upsample: upsample,
}

RECURRENT = (nn.RNN, nn.GRU, nn.LSTM)

# Modules whose block depends on the input (the axis of a softmax, the span of a flatten);
# engine.importers.from_torch handles them beside the functional forms.
SHAPED = (nn.Softmax, nn.LogSoftmax, nn.Flatten, nn.Identity)
