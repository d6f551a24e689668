"""Reading an ONNX file without trusting it.

An ONNX file from a colleague, a forum or a download can be cut short, flipped, or
crafted: sizes of 10¹², initializers whose bytes do not fit their dims, external data
that points outside the model's folder (`../../home/me/.ssh/id_rsa`) or at terabytes,
a Loop of 2⁶² turns, a node that would make the probe allocate terabytes. Everything
here runs before ONNX Runtime sees the file or anything large is allocated, and
refuses in one line (`Unreadable`) that names the initializer or node, against the
limits in `engine.common.limits`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from engine.common.limits import (
    MAX_IMPORT_PROBE_BYTES,
    MAX_IMPORT_TENSOR_ELEMENTS,
    MAX_ONNX_FILE_BYTES,
    count_text,
)
from engine.importers.python_source import first_line
from engine.importers.report import Unreadable

# Nodes whose attributes hold graphs run those graphs a data-dependent number of times
# (a Loop of 2⁶² turns never ends); no NetLoom block is control flow.
CONTROL_FLOW = "holds a subgraph (control flow: Loop, If, Scan); NetLoom blocks are not"
ITEM_BYTES = 8  # the widest element NetLoom reads (int64, float64) when a type is unknown


def read_model(path: Path, name: str) -> Any:
    """The parsed model with its external data loaded from inside its folder only."""
    import onnx
    from onnx.external_data_helper import load_external_data_for_model

    size = path.stat().st_size
    if size > MAX_ONNX_FILE_BYTES:
        raise Unreadable(
            f"{name}: {count_text(size)} bytes; an ONNX file can be at most "
            f"{count_text(MAX_ONNX_FILE_BYTES)} (engine.common.limits.MAX_ONNX_FILE_BYTES)"
        )
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as err:  # protobuf raises several kinds for a damaged file
        raise Unreadable(f"{name}: not a readable ONNX file ({first_line(err)})") from None
    check_text(model, name)
    external = [t for t in tensors(model) if t.data_location == onnx.TensorProto.EXTERNAL]
    folder = path.resolve().parent
    for tensor in external:
        check_external(tensor, folder, name)
    if external:
        try:
            load_external_data_for_model(model, str(folder))
        except Exception as err:  # onnx checks the file again, in its own words
            raise Unreadable(f"{name}: external data: {first_line(err)}") from None
    return model


def check_text(model: Any, name: str) -> None:
    """Every name the import reads must be text: protobuf hands a string field that is
    not UTF-8 (a flipped byte) back as bytes, which no later step expects."""
    graph = model.graph
    for index, node in enumerate(graph.node):
        fields = [node.name, node.op_type, node.domain, *node.input, *node.output]
        fields += [a.name for a in node.attribute]
        if not all(isinstance(text, str) for text in fields):
            raise Unreadable(f"{name}: node #{index}: a name that is not UTF-8 text")
    for kind in ("initializer", "input", "output", "value_info"):
        for index, item in enumerate(getattr(graph, kind)):
            if not isinstance(item.name, str):
                raise Unreadable(f"{name}: {kind} #{index}: a name that is not UTF-8 text")
    for index, entry in enumerate(model.opset_import):
        if not isinstance(entry.domain, str):
            raise Unreadable(f"{name}: opset #{index}: a domain that is not UTF-8 text")


@cache
def bounded_runtime_memory() -> bool:
    """Give ONNX Runtime's CPU sessions one shared arena of at most
    MAX_IMPORT_PROBE_BYTES, so a size computed from the data (which shape inference
    cannot see) fails to allocate instead of exhausting the machine. Once per process;
    False when this ONNX Runtime cannot (the sessions then use their own arenas)."""
    import onnxruntime

    try:
        memory = onnxruntime.OrtMemoryInfo(
            "Cpu",
            onnxruntime.OrtAllocatorType.ORT_ARENA_ALLOCATOR,
            0,
            onnxruntime.OrtMemType.DEFAULT,
        )
        arena = onnxruntime.OrtArenaCfg(MAX_IMPORT_PROBE_BYTES, -1, -1, -1)
        onnxruntime.create_and_register_allocator(memory, arena)
    except Exception:  # an older or different build; the shape checks above still hold
        return False
    return True


def session_options() -> Any:
    """Options for a session on an untrusted file: one thread, quiet, bounded memory."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 4  # fatal only: its errors reach the user as our one line
    options.intra_op_num_threads = 1
    if bounded_runtime_memory():
        options.add_session_config_entry("session.use_env_allocators", "1")
    return options


def tensors(model: Any) -> Iterable[Any]:
    """The initializers, and the tensors held by Constant nodes' attributes."""
    yield from model.graph.initializer
    for node in model.graph.node:
        for attribute in node.attribute:
            if attribute.HasField("t"):
                yield attribute.t


def check_external(tensor: Any, folder: Path, name: str) -> None:
    """External data must be a regular file inside the model's folder, and the range
    read from it must lie inside the file and fit the limits."""
    place = f"{name}: initializer {tensor.name}"
    info = {entry.key: entry.value for entry in tensor.external_data}
    location = info.get("location", "")
    if not location or Path(location).is_absolute() or ".." in Path(location).parts:
        raise Unreadable(
            f"{place}: external data must be a file beside the model, got {location!r}"
        )
    target = (folder / location).resolve()  # follows symlinks: a link out is refused too
    if not target.is_relative_to(folder):
        raise Unreadable(f"{place}: external data {location!r} leads outside the model's folder")
    if not target.is_file():
        raise Unreadable(f"{place}: external data {location!r} is not a file beside the model")
    try:
        offset = int(info.get("offset", "0"))
        length = int(info["length"]) if "length" in info else os.path.getsize(target) - offset
    except ValueError:
        raise Unreadable(f"{place}: external data offset or length is not a number") from None
    available = os.path.getsize(target)
    if offset < 0 or length < 0 or offset + length > available:
        raise Unreadable(
            f"{place}: external data asks for bytes {offset}…{offset + length} of "
            f"{location!r}, which holds {available}"
        )
    limit = MAX_IMPORT_TENSOR_ELEMENTS * ITEM_BYTES
    if length > limit:
        raise Unreadable(
            f"{place}: {count_text(length)} bytes of external data, over the limit of "
            f"{count_text(limit)} (engine.common.limits.MAX_IMPORT_TENSOR_ELEMENTS)"
        )


def elements(dims: Iterable[int], place: str) -> int:
    """The product of `dims`, refused when negative or over MAX_IMPORT_TENSOR_ELEMENTS."""
    dims = list(dims)
    if any(d < 0 for d in dims):
        raise Unreadable(f"{place}: a negative size in {dims}")
    count = math.prod(dims)
    if count > MAX_IMPORT_TENSOR_ELEMENTS:
        raise Unreadable(
            f"{place}: shape {dims} holds {count_text(count)} elements, over the limit "
            f"of {count_text(MAX_IMPORT_TENSOR_ELEMENTS)} "
            "(engine.common.limits.MAX_IMPORT_TENSOR_ELEMENTS)"
        )
    return count


def tensor_array(tensor: Any, name: str) -> np.ndarray:
    """An initializer as an array, its declared size checked before it is made."""
    from onnx import numpy_helper

    place = f"{name}: initializer {tensor.name or '(no name)'}"
    elements(tensor.dims, place)
    try:
        return numpy_helper.to_array(tensor)
    except Exception as err:  # onnx and numpy raise several kinds for bytes that misfit
        raise Unreadable(f"{place}: its data does not fit its dims ({first_line(err)})") from None


def control_flow_nodes(model: Any) -> list[tuple[int, Any]]:
    """Nodes (with their index) that hold subgraphs: never run by the probe."""
    from onnx import AttributeProto

    graph_types = (AttributeProto.GRAPH, AttributeProto.GRAPHS)
    return [
        (index, node)
        for index, node in enumerate(model.graph.node)
        if any(a.type in graph_types or a.HasField("g") or a.graphs for a in node.attribute)
    ]


def check_probe_sizes(model: Any, input_name: str, input_dims: tuple[int, ...], name: str) -> None:
    """Refuse a file whose probe would allocate too much, from the sizes ONNX shape
    inference gives every value at the probe's input shape (nothing is run)."""
    import onnx
    from onnx import helper, shape_inference

    elements(input_dims, f"{name}: input {input_name} at the probe batch")
    sized = onnx.ModelProto()
    sized.CopyFrom(model)
    for value in sized.graph.input:
        if value.name == input_name:
            shape = value.type.tensor_type.shape
            del shape.dim[:]
            for size in input_dims:
                shape.dim.add().dim_value = size
    try:
        inferred = shape_inference.infer_shapes(
            sized, check_type=False, strict_mode=False, data_prop=True
        )
    except Exception:  # inference gives up on some damaged graphs; ONNX Runtime will say why
        return
    producers = {out: node for node in model.graph.node for out in node.output}
    total = 0
    for value in [*inferred.graph.value_info, *inferred.graph.output]:
        tensor_type = value.type.tensor_type
        dims = [d.dim_value if d.HasField("dim_value") else None for d in tensor_type.shape.dim]
        if not tensor_type.HasField("shape") or None in dims:
            continue
        node = producers.get(value.name)
        where = f"node {node.name or node.op_type}" if node is not None else "value"
        count = elements(dims, f"{name}: {where} output {value.name}")
        try:
            item = helper.tensor_dtype_to_np_dtype(tensor_type.elem_type).itemsize
        except Exception:  # an unknown or undefined type
            item = ITEM_BYTES
        total += count * item
        if total > MAX_IMPORT_PROBE_BYTES:
            raise Unreadable(
                f"{name}: running the file once to learn its shapes would hold over "
                f"{count_text(MAX_IMPORT_PROBE_BYTES)} bytes (reached at {where} output "
                f"{value.name}; engine.common.limits.MAX_IMPORT_PROBE_BYTES)"
            )
