"""ONNX operators → NetLoom blocks: one handler per op_type.

A handler gets the importer (as an `onnx_context.OnnxContext`) and the node and
returns the node's outputs (a `Value` per output it maps), or raises `Unsupported`
with the reason. Weights are converted to the layout torch uses (Gemm's transB,
MatMul's (in, out) matrix, …).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from engine.importers.builder import Value
from engine.importers.onnx_context import OnnxContext, Static, Transposed
from engine.importers.onnx_norms import HANDLERS as NORMS
from engine.importers.onnx_parts import HANDLERS as PARTS
from engine.importers.onnx_pointwise import HANDLERS as POINTWISE
from engine.importers.onnx_pointwise import layer_scale
from engine.importers.onnx_recurrent import RnnPart, recurrent, stack, transpose_part
from engine.importers.report import Unsupported

Handler = Callable[[OnnxContext, Any], list[Any]]
EPS = 1e-5
MAX_MERGED = 64  # Add, Multiply and Concat take up to this many inputs


def per_axis(values: Any) -> int | list[int]:
    """A size as a per-axis parameter: one number when every axis agrees, else a list."""
    sizes = [int(v) for v in values]
    return sizes[0] if len(set(sizes)) == 1 else sizes


def symmetric_pads(pads: Any, spatial: int, block: str) -> int | list[int]:
    pads = [int(p) for p in pads] if pads is not None else [0] * (2 * spatial)
    if pads[:spatial] != pads[spatial:]:
        raise Unsupported(f"pads {pads} differ between the start and end: {block} pads evenly")
    return per_axis(pads[:spatial])


def _no_auto_pad(attrs: dict[str, Any]) -> None:
    auto = attrs.get("auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else auto
    if auto not in ("NOTSET", "VALID"):
        raise Unsupported(f"auto_pad {auto}: give explicit pads")


def conv(imp: OnnxContext, node: Any) -> list[Any]:
    attrs = imp.attrs(node)
    weight = imp.static(node.input[1], "weight")
    spatial = weight.ndim - 2
    block = f"Conv{spatial}d"
    _no_auto_pad(attrs)
    weights = {"weight": weight}
    if len(node.input) > 2 and node.input[2]:
        weights["bias"] = imp.static(node.input[2], "bias")
    params = {
        "out_channels": int(weight.shape[0]),
        "kernel_size": per_axis(weight.shape[2:]),
        "stride": per_axis(attrs.get("strides", [1] * spatial)),
        "padding": symmetric_pads(attrs.get("pads"), spatial, block),
        "dilation": per_axis(attrs.get("dilations", [1] * spatial)),
        "groups": int(attrs.get("group", 1)),
        "bias": "bias" in weights,
    }
    return [imp.block(node, block, params, [imp.tensor(node.input[0])], weights)]


def conv_transpose(imp: OnnxContext, node: Any) -> list[Any]:
    attrs = imp.attrs(node)
    weight = imp.static(node.input[1], "weight")
    spatial = weight.ndim - 2
    block = f"ConvTranspose{spatial}d"
    if "output_shape" in attrs:
        raise Unsupported(f"output_shape: {block} takes output_padding instead")
    _no_auto_pad(attrs)
    weights = {"weight": weight}
    if len(node.input) > 2 and node.input[2]:
        weights["bias"] = imp.static(node.input[2], "bias")
    groups = int(attrs.get("group", 1))
    params = {
        "out_channels": int(weight.shape[1]) * groups,
        "kernel_size": per_axis(weight.shape[2:]),
        "stride": per_axis(attrs.get("strides", [1] * spatial)),
        "padding": symmetric_pads(attrs.get("pads"), spatial, block),
        "output_padding": per_axis(attrs.get("output_padding", [0] * spatial)),
        "dilation": per_axis(attrs.get("dilations", [1] * spatial)),
        "groups": groups,
        "bias": "bias" in weights,
    }
    return [imp.block(node, block, params, [imp.tensor(node.input[0])], weights)]


def gemm(imp: OnnxContext, node: Any) -> list[Any]:
    attrs = imp.attrs(node)
    if attrs.get("transA", 0):
        raise Unsupported("transA=1: Dense multiplies its input as it comes")
    b = imp.static(node.input[1], "weight") * np.float32(attrs.get("alpha", 1.0))
    weight = b if attrs.get("transB", 0) else b.T
    weights = {"weight": np.ascontiguousarray(weight)}
    if len(node.input) > 2 and node.input[2]:
        c = imp.static(node.input[2], "bias") * np.float32(attrs.get("beta", 1.0))
        if c.size != weight.shape[0]:
            raise Unsupported(f"a bias of shape {c.shape}: Dense adds one per output")
        weights["bias"] = c.reshape(-1)
    params = {"units": int(weight.shape[0]), "bias": "bias" in weights}
    return [imp.block(node, "Dense", params, [imp.tensor(node.input[0])], weights)]


def matmul(imp: OnnxContext, node: Any) -> list[Any]:
    b = imp.static(node.input[1], "second operand (a product of two tensors)")
    if b.ndim != 2:
        raise Unsupported(f"a product with a {b.ndim}-D tensor: Dense holds a matrix")
    weights = {"weight": np.ascontiguousarray(b.T)}
    output = node.output[0]
    users = imp.consumers.get(output, [])
    if len(users) == 1 and users[0][0].op_type == "Add":
        add = users[0][0]
        other = add.input[1 - users[0][1]]
        bias = imp.values.get(other)
        if isinstance(bias, Static) and bias.array.size == b.shape[1]:
            weights["bias"] = bias.array.reshape(-1)
            output = add.output[0]
    params: dict[str, Any] = {"units": int(b.shape[1]), "bias": "bias" in weights}
    x = imp.tensor(node.input[0])
    if not x.shape.time and len(x.shape.features) > 1:  # convnext's Linear, channels last
        params["over"] = "last axis"
    value = imp.block(node, "Dense", params, [x], weights, output)
    if output != node.output[0]:
        imp.absorbed[users[0][0].name] = value
        imp.report.note(imp.place(users[0][0]), "Add", f"the bias of {value.node}")
    return [value]


def add(imp: OnnxContext, node: Any) -> list[Any]:
    for name in node.input:
        if isinstance(imp.values.get(name), Static):
            raise Unsupported(f"adds the constant {name}; no block adds a constant")
    inputs = [imp.tensor(name) for name in node.input]
    if len(inputs) == 1:  # a Sum of one tensor
        return imp.passthrough(node, inputs[0], "a sum of one tensor is that tensor; left out")
    if len(inputs) > MAX_MERGED:
        raise Unsupported(f"adds {len(inputs)} tensors; Add takes at most {MAX_MERGED}")
    return [imp.block(node, "Add", {"inputs": len(inputs)}, inputs)]


def multiply(imp: OnnxContext, node: Any) -> list[Any]:
    for i, name in enumerate(node.input):
        if isinstance(imp.values.get(name), Static):
            return layer_scale(imp, node, name, node.input[1 - i])
    inputs = [imp.tensor(name) for name in node.input]
    return [imp.block(node, "Multiply", {"inputs": 2}, inputs)]


def _softmax_of(block: str) -> Handler:
    def handle(imp: OnnxContext, node: Any) -> list[Any]:
        x = imp.tensor(node.input[0])
        rank = len(x.shape.dims) + 1
        axis = imp.attrs(node).get("axis", -1 if imp.opset >= 13 else 1) % rank
        if axis == rank - 1:
            choice = "last"
        elif axis == (2 if x.shape.time else 1) and imp.opset >= 13:
            choice = "channels"
        else:
            raise Unsupported(f"softmax over axis {axis}: {block} takes the last or channel axis")
        return [imp.block(node, block, {"axis": choice}, [x])]

    return handle


def pool(imp: OnnxContext, node: Any) -> list[Any]:
    attrs = imp.attrs(node)
    kernel_shape = attrs["kernel_shape"]
    spatial = len(kernel_shape)
    kind = "Max" if node.op_type == "MaxPool" else "Avg"
    block = f"{kind}Pool{spatial}d"
    _no_auto_pad(attrs)
    if len(node.output) > 1 and node.output[1]:
        raise Unsupported("returns indices: MaxPool gives values only")
    dilation = per_axis(attrs.get("dilations", [1] * spatial))
    if kind == "Avg" and dilation != 1:
        raise Unsupported(f"dilation: {block} has none")
    kernel = per_axis(kernel_shape)
    padding = symmetric_pads(attrs.get("pads"), spatial, block)
    stride = per_axis(attrs.get("strides", [1] * spatial))
    params: dict[str, Any] = {
        "kernel_size": kernel,
        "stride": "kernel" if stride == kernel else stride,
        "padding": padding,
        "ceil_mode": bool(attrs.get("ceil_mode", 0)),
    }
    if kind == "Max":
        params["dilation"] = dilation
    elif padding != 0:  # without padding there is none to count (ONNX's default: not)
        params["count_include_pad"] = bool(attrs.get("count_include_pad", 0))
    return [imp.block(node, block, params, [imp.tensor(node.input[0])])]


def global_pool(imp: OnnxContext, node: Any) -> list[Any]:
    x = imp.tensor(node.input[0])
    spatial = len(x.shape.features) - 1
    if spatial in (1, 2, 3):
        block = f"Adaptive{'Avg' if node.op_type == 'GlobalAveragePool' else 'Max'}Pool{spatial}d"
        return [imp.block(node, block, {"output_size": 1}, [x])]
    mode = "avg" if node.op_type == "GlobalAveragePool" else "max"
    pooled = imp.builder.add(
        "GlobalPool", {"mode": mode}, [x], place=imp.place(node), op=node.op_type, expect=None
    )
    return reshape_to(imp, node, pooled)


def reshape_to(imp: OnnxContext, node: Any, x: Value) -> list[Any]:
    """Flatten, Reshape, Squeeze, Unsqueeze: mapped from the shape ONNX Runtime produced."""
    out = imp.expect(node.output[0])
    if out == x.shape.dims:
        return imp.passthrough(node, x, "does not change the shape; left out")
    features = out
    if x.shape.time:
        if not out or out[0] != x.shape.dims[0]:
            raise Unsupported(f"reshapes {x.shape} across the time axis T; NetLoom keeps T")
        features = out[1:]
    if len(features) == 1 and len(x.shape.features) > 1:
        return [imp.block(node, "Flatten", {}, [x])]
    return [imp.block(node, "Reshape", {"shape": list(features)}, [x])]


def reshape(imp: OnnxContext, node: Any) -> list[Any]:
    value = imp.values.get(node.input[0])
    if isinstance(value, RnnPart):
        return [transpose_part(imp, node, value)]
    return reshape_to(imp, node, imp.tensor(node.input[0]))


def transpose(imp: OnnxContext, node: Any) -> list[Any]:
    value = imp.values.get(node.input[0])
    if isinstance(value, RnnPart):
        return [transpose_part(imp, node, value)]
    x = imp.tensor(node.input[0])
    rank = len(x.shape.dims) + 1
    perm = [int(p) for p in imp.attrs(node).get("perm", list(range(rank))[::-1])]
    if perm[0] != 0:
        return [Transposed(x, tuple(perm))]
    if perm == sorted(perm):
        return imp.passthrough(node, x, "keeps every axis in place; left out")
    return [imp.block(node, "Permute", {"dims": perm[1:]}, [x])]


def concat(imp: OnnxContext, node: Any) -> list[Any]:
    parts = [imp.values.get(n) for n in node.input]
    if all(isinstance(p, RnnPart) for p in parts):
        return [stack(imp, node, parts)]
    values = [imp.tensor(n) for n in node.input]
    rank = len(values[0].shape.dims) + 1
    channel = 2 if values[0].shape.time else 1
    axis = imp.attrs(node)["axis"] % rank
    if axis != channel:
        raise Unsupported(f"joins along axis {axis}; Concat joins along the channel axis")
    if len(values) == 1:  # densenet's first layer joins its one input: the identity
        return imp.passthrough(node, values[0], "a Concat of one tensor is that tensor; left out")
    if len(values) > MAX_MERGED:
        raise Unsupported(f"joins {len(values)} tensors; Concat takes at most {MAX_MERGED}")
    return [imp.block(node, "Concat", {"inputs": len(values)}, values)]


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def resize(imp: OnnxContext, node: Any) -> list[Any]:
    """Resize by whole-number factors: the Upsample blocks (nearest, linear, cubic)."""
    attrs = imp.attrs(node)
    x = imp.tensor(node.input[0])
    if x.shape.time:
        raise Unsupported("resizes frames (N, T, C, …): Upsample from ONNX takes (N, C, …)")
    out = imp.expect(node.output[0])
    if out is None or out[0] != x.shape.dims[0]:
        raise Unsupported("changes the channels: Upsample keeps them")
    factors = [o / i for o, i in zip(out[1:], x.shape.dims[1:], strict=True)]
    if not all(f.is_integer() and f >= 1 for f in factors):
        raise Unsupported(f"scales by {factors}: Upsample enlarges by whole numbers")
    spatial = len(factors)
    mode = _text(attrs.get("mode", "nearest"))
    transform = _text(attrs.get("coordinate_transformation_mode", "half_pixel"))
    params: dict[str, Any] = {"scale_factor": per_axis(factors)}
    if mode == "nearest":
        if transform != "asymmetric" or _text(attrs.get("nearest_mode", "")) != "floor":
            raise Unsupported(
                f"nearest with {transform} coordinates: Upsample repeats values as torch does"
            )
        params["mode"] = "nearest"
    else:
        if transform not in ("pytorch_half_pixel", "half_pixel", "align_corners"):
            raise Unsupported(f"{transform} coordinates: Upsample places samples as torch does")
        names = {"linear": {1: "linear", 2: "bilinear", 3: "trilinear"}, "cubic": {2: "bicubic"}}
        if spatial not in names.get(mode, {}):
            raise Unsupported(f"{mode} over {spatial} axes: no Upsample mode interpolates so")
        if mode == "cubic" and not math.isclose(attrs.get("cubic_coeff_a", -0.75), -0.75):
            raise Unsupported("cubic_coeff_a other than -0.75: torch's bicubic uses -0.75")
        params["mode"] = names[mode][spatial]
        params["align_corners"] = transform == "align_corners"
    block = "Upsample" if spatial == 2 else f"Upsample{spatial}d"
    return [imp.block(node, block, params, [x])]


REDUCTIONS = {"ReduceMean": "mean", "ReduceSum": "sum", "ReduceMax": "max"}
VERBS = {"mean": "averages", "sum": "sums", "max": "takes the largest"}


def reduce(imp: OnnxContext, node: Any) -> list[Any]:
    """ReduceMean / ReduceSum / ReduceMax over axes after N → Mean (reduce mean, sum, max);
    the average over every axis after the channels without keepdims → GlobalPool."""
    x = imp.tensor(node.input[0])
    how = REDUCTIONS[node.op_type]
    attrs = imp.attrs(node)
    axes = attrs.get("axes")
    if axes is None and len(node.input) > 1 and node.input[1]:
        axes = imp.static(node.input[1], "axes").reshape(-1).tolist()
    rank = len(x.shape.dims) + 1
    if not axes:
        if attrs.get("noop_with_empty_axes", 0):
            return imp.passthrough(node, x, "reduces over no axis; left out")
        raise Unsupported(f"{VERBS[how]} over every axis, the batch too")
    dims = sorted({int(a) % rank for a in axes})
    if 0 in dims:
        raise Unsupported(f"{VERBS[how]} over axes {dims}, the batch axis N too")
    first = 3 if x.shape.time else 2
    keepdim = bool(attrs.get("keepdims", 1))
    if how == "mean" and dims == list(range(first, rank)) and not keepdim:
        return [imp.block(node, "GlobalPool", {"mode": "avg"}, [x])]
    params: dict[str, Any] = {"axes": dims, "keepdim": keepdim}
    if how != "mean":
        params["reduce"] = how
    return [imp.block(node, "Mean", params, [x])]


def dropout(imp: OnnxContext, node: Any) -> list[Any]:
    ratio = imp.attrs(node).get("ratio", 0.5)
    if len(node.input) > 1 and node.input[1]:
        ratio = float(imp.static(node.input[1], "ratio"))
    x = imp.tensor(node.input[0])
    return [imp.block(node, "Dropout", {"p": round(float(ratio), 6)}, [x])]


def identity(imp: OnnxContext, node: Any) -> list[Any]:
    value = imp.values.get(node.input[0])
    if isinstance(value, (RnnPart, Transposed)):
        return [value]
    return imp.passthrough(node, imp.tensor(node.input[0]), "Identity does nothing; left out")


HANDLERS: dict[str, Handler] = {
    "Conv": conv,
    "ConvTranspose": conv_transpose,
    "Gemm": gemm,
    "MatMul": matmul,
    "Add": add,
    "Sum": add,
    "Softmax": _softmax_of("Softmax"),
    "LogSoftmax": _softmax_of("LogSoftmax"),
    "Mul": multiply,
    "MaxPool": pool,
    "AveragePool": pool,
    "GlobalAveragePool": global_pool,
    "GlobalMaxPool": global_pool,
    "Resize": resize,
    "Flatten": reshape,
    "Reshape": reshape,
    "Squeeze": reshape,
    "Unsqueeze": reshape,
    "Transpose": transpose,
    "Concat": concat,
    "ReduceMean": reduce,
    "ReduceSum": reduce,
    "ReduceMax": reduce,
    "Dropout": dropout,
    "Identity": identity,
    "LSTM": recurrent,
    "GRU": recurrent,
    "RNN": recurrent,
    **POINTWISE,
    **NORMS,
    **PARTS,
}
