"""Hostile ONNX files made from good ones, for the fuzz test and the long fuzz bench.

`write_case(rng, template, folder)` writes `folder/model.onnx` (and any files beside it
that the mutation points at) and returns the family's name. Every case is derived
from the random generator it is given, so a seed names a reproducible file.

Byte level:
  truncate   the file cut at a random byte
  flip       1 to 16 random bytes changed
  splice     random bytes inserted or a run of bytes deleted
Protobuf level (onnx.load, change, save):
  input-dims   the input's declared sizes set to 10¹², negative, 0 or 2⁶²
  init-dims    an initializer's dims changed (huge, negative, 0, one more or fewer)
  init-type    an initializer's or the input's element type changed
  drop-init    an initializer removed
  external     an initializer's data moved to a file beside the model, then its
               location pointed at a missing file, a file outside the folder (by `..`,
               an absolute path, or a symlink), a wrong offset or length, or a huge one
  cycle        a node fed by its own or a later node's output
  unknown-op   a node's op type or domain changed to one nobody implements
  attr-type    an attribute given another type (a float for ints, a string, a graph)
  empty        the nodes, the inputs or the outputs removed
  duplicate    a node name, an output name or an initializer name given twice
  opset        the opset version set to 0, 1 or 10⁶
  allocation   a node that would allocate terabytes (ConstantOfShape, Expand, Tile)
  control      a Loop with 2⁶² iterations
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from tests.engine.byte_mutations import flip, splice, truncate

HUGE_DIMS = (10**12, -5, 0, 2**62, 2**31)

Mutation = Callable[[random.Random, Any, Path], None]


# ------------------------------------------------------------------ byte level


BYTE_MUTATIONS: dict[str, Callable[[random.Random, bytes], bytes]] = {
    "truncate": truncate,
    "flip": flip,
    "splice": splice,
}


# ------------------------------------------------------------- protobuf level


def _initializer(rng: random.Random, model: Any) -> Any | None:
    inits = list(model.graph.initializer)
    return rng.choice(inits) if inits else None


def _node(rng: random.Random, model: Any) -> Any | None:
    nodes = list(model.graph.node)
    return rng.choice(nodes) if nodes else None


def input_dims(rng: random.Random, model: Any, folder: Path) -> None:
    dims = model.graph.input[0].type.tensor_type.shape.dim
    for dim in dims:
        if rng.random() < 0.6:
            dim.dim_value = rng.choice(HUGE_DIMS)


def init_dims(rng: random.Random, model: Any, folder: Path) -> None:
    init = _initializer(rng, model)
    if init is None:
        return
    choice = rng.randrange(3)
    if choice == 0 and init.dims:
        init.dims[rng.randrange(len(init.dims))] = rng.choice(HUGE_DIMS)
    elif choice == 1:
        init.dims.append(rng.choice((1, 2, 10**9)))
    elif init.dims:
        del init.dims[-1]


def init_type(rng: random.Random, model: Any, folder: Path) -> None:
    kind = rng.choice((0, 2, 3, 8, 9, 10, 11, 16, 99))  # undefined, ints, string, bool…
    if rng.random() < 0.5 and (init := _initializer(rng, model)) is not None:
        init.data_type = kind
    else:
        model.graph.input[0].type.tensor_type.elem_type = kind


def drop_init(rng: random.Random, model: Any, folder: Path) -> None:
    inits = model.graph.initializer
    if inits:
        del inits[rng.randrange(len(inits))]


def external(rng: random.Random, model: Any, folder: Path) -> None:
    from onnx import TensorProto

    inits = [i for i in model.graph.initializer if i.raw_data]
    if not inits:
        return
    init = rng.choice(inits)
    data = init.raw_data
    (folder / "weights.bin").write_bytes(data)
    outside = folder.parent / f"{folder.name}-outside.bin"
    outside.write_bytes(data)
    where = rng.choice(
        ["good", "missing", "dotdot", "absolute", "symlink", "offset", "length", "huge", "dir"]
    )
    location, offset, length = "weights.bin", 0, len(data)
    if where == "missing":
        location = "nowhere.bin"
    elif where == "dotdot":
        location = f"../{outside.name}"
    elif where == "absolute":
        location = str(outside)
    elif where == "symlink":
        (folder / "link.bin").symlink_to(outside)
        location = "link.bin"
    elif where == "offset":
        offset = len(data) + rng.randint(1, 10**12)
    elif where == "length":
        length = rng.choice((0, 1, len(data) - 1, len(data) + 1, -1))
    elif where == "huge":
        length = 10**13
        init.dims[:] = [10**13 // 4]
    elif where == "dir":
        location = "."
    init.ClearField("raw_data")
    init.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", offset), ("length", length)):
        entry = init.external_data.add()
        entry.key, entry.value = key, str(value)


def cycle(rng: random.Random, model: Any, folder: Path) -> None:
    nodes = list(model.graph.node)
    if not nodes:
        return
    at = rng.randrange(len(nodes))
    later = rng.randrange(at, len(nodes))
    node = nodes[at]
    if node.input and nodes[later].output:
        node.input[rng.randrange(len(node.input))] = nodes[later].output[0]


def unknown_op(rng: random.Random, model: Any, folder: Path) -> None:
    node = _node(rng, model)
    if node is None:
        return
    if rng.random() < 0.5:
        node.op_type = rng.choice(["FooBar", "", "Conv2d", "LSTM ", "\u00e9"])
    else:
        node.domain = rng.choice(["com.evil", "ai.onnx.ml", "com.microsoft"])


def attr_type(rng: random.Random, model: Any, folder: Path) -> None:
    from onnx import AttributeProto, helper

    nodes = [n for n in model.graph.node if n.attribute]
    if not nodes:
        return
    node = rng.choice(nodes)
    attribute = rng.choice(list(node.attribute))
    choice = rng.randrange(6)
    if choice == 0:
        attribute.type = AttributeProto.FLOAT
        attribute.f = 1.5
    elif choice == 1:
        attribute.type = AttributeProto.STRING
        attribute.s = b"x"
    elif choice == 2:
        attribute.type = AttributeProto.INTS
        del attribute.ints[:]
        attribute.ints.extend(rng.choice(([], [10**12], [-7, -7, -7], [0] * 9)))
    elif choice == 3:
        attribute.type = AttributeProto.GRAPH
        attribute.g.CopyFrom(helper.make_graph([], "g", [], []))
    elif choice == 4:
        attribute.type = 0  # UNDEFINED
    else:
        attribute.type = AttributeProto.INT
        attribute.i = rng.choice((10**12, -(2**62), 0))


def empty(rng: random.Random, model: Any, folder: Path) -> None:
    part = rng.choice(["node", "input", "output", "all"])
    for field in ("node", "input", "output") if part == "all" else (part,):
        del getattr(model.graph, field)[:]


def duplicate(rng: random.Random, model: Any, folder: Path) -> None:
    nodes = list(model.graph.node)
    inits = list(model.graph.initializer)
    choice = rng.randrange(3)
    if choice == 0 and len(nodes) >= 2:
        a, b = rng.sample(nodes, 2)
        b.name = a.name
    elif choice == 1 and len(nodes) >= 2:
        a, b = rng.sample(nodes, 2)
        if a.output and b.output:
            b.output[0] = a.output[0]
    elif len(inits) >= 2:
        a, b = rng.sample(inits, 2)
        b.name = a.name
    else:
        model.graph.initializer.append(model.graph.initializer[0])


def opset(rng: random.Random, model: Any, folder: Path) -> None:
    for entry in model.opset_import:
        entry.version = rng.choice((0, 1, 10**6))


def allocation(rng: random.Random, model: Any, folder: Path) -> None:
    from onnx import TensorProto, helper, numpy_helper

    size = rng.choice(([10**6, 10**6], [2**31, 4], [40_000, 40_000], [10**12]))
    name = f"big{rng.randrange(10**6)}"
    shape = numpy_helper.from_array(np.array(size, dtype=np.int64), f"{name}_shape")
    model.graph.initializer.append(shape)
    op = rng.choice(["ConstantOfShape", "Expand"])
    if op == "ConstantOfShape":
        node = helper.make_node(op, [shape.name], [name], name=name)
    else:
        one = numpy_helper.from_array(np.ones([1], dtype=np.float32), f"{name}_one")
        model.graph.initializer.append(one)
        node = helper.make_node(op, [one.name, shape.name], [name], name=name)
    model.graph.node.insert(rng.randrange(len(model.graph.node) + 1), node)
    if rng.random() < 0.5:
        model.graph.output.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, None))


def control(rng: random.Random, model: Any, folder: Path) -> None:
    from onnx import TensorProto, helper, numpy_helper

    count = numpy_helper.from_array(np.array(2**62, dtype=np.int64), "loop_count")
    keep = numpy_helper.from_array(np.array(True), "loop_keep")
    start = numpy_helper.from_array(np.zeros([1], dtype=np.float32), "loop_start")
    body = helper.make_graph(
        [
            helper.make_node("Identity", ["cond_in"], ["cond_out"]),
            helper.make_node("Identity", ["v_in"], ["v_out"]),
        ],
        "body",
        [
            helper.make_tensor_value_info("i", TensorProto.INT64, []),
            helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
            helper.make_tensor_value_info("v_in", TensorProto.FLOAT, [1]),
        ],
        [
            helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
            helper.make_tensor_value_info("v_out", TensorProto.FLOAT, [1]),
        ],
    )
    loop = helper.make_node(
        "Loop", ["loop_count", "loop_keep", "loop_start"], ["spun"], name="spin", body=body
    )
    model.graph.initializer.extend([count, keep, start])
    model.graph.node.insert(0, loop)


PROTO_MUTATIONS: dict[str, Mutation] = {
    "input-dims": input_dims,
    "init-dims": init_dims,
    "init-type": init_type,
    "drop-init": drop_init,
    "external": external,
    "cycle": cycle,
    "unknown-op": unknown_op,
    "attr-type": attr_type,
    "empty": empty,
    "duplicate": duplicate,
    "opset": opset,
    "allocation": allocation,
    "control": control,
}

FAMILIES = [*BYTE_MUTATIONS, *PROTO_MUTATIONS]


def write_case(rng: random.Random, template: bytes, folder: Path, family: str) -> Path:
    """Write `folder/model.onnx`, a `family` mutation of the ONNX file `template`."""
    import onnx

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "model.onnx"
    if family in BYTE_MUTATIONS:
        path.write_bytes(BYTE_MUTATIONS[family](rng, template))
        return path
    model = onnx.load_from_string(template)
    PROTO_MUTATIONS[family](rng, model, folder)
    path.write_bytes(model.SerializeToString())
    return path
