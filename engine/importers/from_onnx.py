"""ONNX → NetLoom: walk the graph's nodes in order and map each to a block.

The file is first run once by ONNX Runtime on a probe input with every intermediate
value exposed, so each mapping knows the exact shapes (and the values of shape
arithmetic) the original produced. Nodes that only compute shapes or constants (Shape,
Gather on a shape, ConstantOfShape, …) feed the blocks' settings and become no block.
Recurrent layers (LSTM, GRU, RNN) are followed through the Transpose/Squeeze/Reshape/
Gather nodes exporters put around them until their output is the batch-first sequence
or its last step (`engine.importers.onnx_recurrent`).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import numpy as np
import torch

from engine.blocks.spec import Shape
from engine.common.limits import MAX_IMPORT_PROBE_BYTES, count_text
from engine.importers.builder import GraphBuilder, Value
from engine.importers.check import PROBE_BATCH, ImportResult, InputSpec, example_input, verify
from engine.importers.nearest import with_nearest
from engine.importers.onnx_context import Broken, Static, Transposed
from engine.importers.onnx_decomposed import decomposed_pools, pool_block
from engine.importers.onnx_file import (
    CONTROL_FLOW,
    check_probe_sizes,
    control_flow_nodes,
    read_model,
    session_options,
    tensor_array,
)
from engine.importers.onnx_foreign import foreign_nodes, foreign_op, foreign_reason
from engine.importers.onnx_ops import HANDLERS
from engine.importers.onnx_recurrent import RnnPart, materialize
from engine.importers.onnx_units import group_units
from engine.importers.python_source import first_line, shown
from engine.importers.report import ImportReport, Unreadable, Unsupported

log = logging.getLogger(__name__)

_PARAM_NAME = re.compile(r"^([A-Za-z_][\w.]*)\.(weight|bias)$")
DTYPES = {1: "float32", 7: "int64"}  # onnx.TensorProto.FLOAT, INT64


def import_onnx(
    path: Path, dims: tuple[int, ...] | None, sequence: bool, dtype: str | None
) -> ImportResult:
    if not path.is_file():
        raise Unreadable(f"{path}: no such file")
    model = read_model(path, shown(path))
    return OnnxImporter(model, shown(path), dims, sequence, dtype).run()


class OnnxImporter:
    """One file's import: the handler tables see it as an `onnx_context.OnnxContext`."""

    def __init__(
        self,
        model: Any,
        name: str,
        dims: tuple[int, ...] | None,
        sequence: bool,
        dtype: str | None,
    ) -> None:
        self.model = model
        self.name = name
        self.graph = model.graph
        self.builder = GraphBuilder(ImportReport(name))
        self.report = self.builder.report
        self.opset = next(
            (o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 13
        )
        self.initializers = {i.name: tensor_array(i, name) for i in self.graph.initializer}
        # torch's exporter writes a weight equal to an earlier one (a fresh BatchNorm's
        # ones, say) as an Identity of it; each is still a weight of its own.
        for node in self.graph.node:
            if node.op_type == "Identity" and node.input[:1] and node.input[0] in self.initializers:
                self.initializers[node.output[0]] = self.initializers[node.input[0]].copy()
        inputs = [i for i in self.graph.input if i.name not in self.initializers]
        if len(inputs) != 1:
            raise Unreadable(
                f"{name}: the graph takes {len(inputs)} inputs; import takes models with one"
            )
        self.input = inputs[0]
        tensor_type = self.input.type.tensor_type
        declared = [d.dim_value if d.HasField("dim_value") else None for d in tensor_type.shape.dim]
        if any(d is not None and d < 0 for d in declared) or 0 in declared[1:]:
            raise Unreadable(
                f"{name}: input {self.input.name} declares the sizes {declared}; "
                "expected sizes of at least 1"
            )
        self.batch = declared[0] if declared and declared[0] else PROBE_BATCH
        if dims is None:
            if not declared[1:] or None in declared[1:]:
                raise Unreadable(
                    f"{name}: the file does not fix the input's size; give --input-shape"
                )
            dims = tuple(int(d) for d in declared[1:])
        file_dtype = DTYPES.get(tensor_type.elem_type)
        if file_dtype is None:
            raise Unreadable(f"{name}: input {self.input.name} is neither float32 nor int64")
        if dtype is not None and dtype != file_dtype:
            raise Unreadable(f"{name}: input {self.input.name} is {file_dtype}, not {dtype}")
        self.spec = InputSpec(tuple(dims), sequence, file_dtype)
        self.values: dict[str, Any] = {}
        self.probe: dict[str, np.ndarray] = {}
        self.consumers: dict[str, list[Any]] = {}
        self.absorbed: dict[str, Value] = {}  # Add nodes folded into the Dense before them

    # ------------------------------------------------------------------- run

    def session(self, model: Any) -> Any:
        import onnxruntime

        options = session_options()
        return onnxruntime.InferenceSession(
            model.SerializeToString(), options, providers=["CPUExecutionProvider"]
        )

    def _probe(self, x: torch.Tensor) -> None:
        import onnx

        probing = onnx.ModelProto()
        probing.CopyFrom(self.model)
        exposed = {o.name for o in probing.graph.output}
        for node in probing.graph.node:
            for name in node.output:
                if name and name not in exposed:
                    probing.graph.output.append(onnx.ValueInfoProto(name=name))
                    exposed.add(name)
        try:
            session = self.session(probing)
        except Exception as err:  # the file itself, before any input: not a shape problem
            self._runtime_memory(err)
            raise Unreadable(
                f"{self.name}: ONNX Runtime cannot run it: loading the file fails "
                f"({first_line(err)}); the file is IR version {self.model.ir_version} with "
                f"opset {self.opset}: check it with onnx.checker.check_model, or export it again"
            ) from None
        try:
            results = session.run(None, {self.input.name: x.numpy()})
        except Exception as err:  # onnxruntime refuses an input in many ways
            self._runtime_memory(err)
            raise Unreadable(
                f"{self.name}: ONNX Runtime cannot run it on an input of shape "
                f"{tuple(x.shape)} ({first_line(err)}); check --input-shape"
            ) from None
        self.probe = {o.name: r for o, r in zip(session.get_outputs(), results, strict=True)}

    def _runtime_memory(self, err: Exception) -> None:
        """Refuse in one line when ONNX Runtime ran out of its bounded memory."""
        if "Failed to allocate memory" in str(err) or "Available memory of" in str(err):
            node = re.search(r"Name:'([^']*)'", str(err))
            where = f"node {node.group(1)}: " if node else ""
            raise Unreadable(
                f"{self.name}: {where}running the file once to learn its shapes needs "
                f"more than {count_text(MAX_IMPORT_PROBE_BYTES)} bytes "
                "(engine.common.limits.MAX_IMPORT_PROBE_BYTES)"
            )

    def vocabulary(self) -> int:
        sizes = [
            self.initializers[n.input[0]].shape[0]
            for n in self.graph.node
            if n.op_type == "Gather"
            and n.input[:1]
            and n.input[0] in self.initializers
            and self.initializers[n.input[0]].ndim >= 1
        ]
        return int(min(sizes, default=2))

    def run(self) -> ImportResult:
        vocabulary = self.vocabulary()
        if looping := control_flow_nodes(self.model):
            for index, node in looping:
                self.report.error(self.place(node, index), node.op_type, CONTROL_FLOW)
            return ImportResult(self.report)
        if foreign := foreign_nodes(self.model):  # ONNX Runtime could not run the probe
            for index, node in foreign:
                why = foreign_reason(node, HANDLERS)
                self.report.error(self.place(node, index), foreign_op(node), why)
            return ImportResult(self.report)
        check_probe_sizes(self.model, self.input.name, (self.batch, *self.spec.dims), self.name)
        self._probe(example_input(self.spec, self.batch, vocabulary))
        for node in self.graph.node:
            for i, name in enumerate(node.input):
                self.consumers.setdefault(name, []).append((node, i))
        self.values[self.input.name] = self.builder.add_input(
            self.input.name, self.spec.dims, self.spec.sequence, self.spec.dtype
        )
        for name, array in self.initializers.items():
            self.values[name] = Static(array)
        pools = decomposed_pools(self.graph, self.initializers, self.probe)
        taken = {index: group for group in pools for index in group.nodes}
        for index, node in enumerate(self.graph.node):
            outputs = [o for o in node.output]
            if (group := taken.get(index)) is not None:  # a module written out as many nodes
                if index == group.last:
                    try:
                        self.values[group.result] = pool_block(self, node, group)
                    except Unsupported as err:
                        self.report.error(self.place(node, index), group.block, str(err))
                        self.values[group.result] = self.broken(group.result)
                continue
            if node.op_type == "Constant" or self._static(node):
                for name in outputs:
                    if name:
                        self.values[name] = Static(self.probe[name])
                continue
            try:
                if node.name in self.absorbed:
                    results: list[Any] = [self.absorbed[node.name]]
                else:
                    handler = HANDLERS.get(node.op_type)
                    if handler is None:
                        raise Unsupported(unmapped_reason(node.op_type))
                    results = handler(self, node)
            except Unsupported as err:
                self.report.error(self.place(node, index), node.op_type, str(err))
                results = [self.broken(name) for name in outputs]
            for name, value in zip(outputs, results, strict=False):
                if name:
                    self.values[name] = value
        for output in self.graph.output:
            try:
                self.builder.add_output(self.tensor(output.name), f"graph output {output.name}")
            except Unsupported as err:
                self.report.error(f"graph output {output.name}", "output", str(err))
        if self.report.ok:  # units from the module structure the dynamo exporter wrote
            places = {self.place(node, i): node for i, node in enumerate(self.graph.node)}
            group_units(self.builder, places, self.name)
        if self.report.ok:
            verify(
                self.builder,
                self._reference,
                self.spec,
                vocabulary,
                exact=False,
                batches=(self.batch,) if self.batch != PROBE_BATCH else None,
            )
        if not self.report.ok:
            return ImportResult(self.report)
        stem = Path(self.name).stem
        project = self.builder.project(
            stem, f"Imported from {self.name} by `python main.py import`."
        )
        return ImportResult(self.report, project, dict(self.builder.weights))

    def _reference(self, x: torch.Tensor) -> list[np.ndarray]:
        if not hasattr(self, "_session"):
            self._session = self.session(self.model)
        return self._session.run(None, {self.input.name: x.numpy()})

    def _static(self, node: Any) -> bool:
        """Whether a node computes from constants and shapes only."""
        if node.op_type in ("Shape", "Size"):
            return True
        inputs = [n for n in node.input if n]
        return bool(inputs) and all(isinstance(self.values.get(n), Static) for n in inputs)

    def broken(self, name: str) -> Any:
        """What stands for tensor `name` after the node making it could not be mapped."""
        array = self.probe.get(name)
        if array is not None and array.ndim >= 1 and array.shape[0] == self.batch:
            return Value(None, Shape(tuple(array.shape[1:])))
        return Broken()

    # --------------------------------------------------------------- helpers

    def place(self, node: Any, index: int | None = None) -> str:
        if node.name:
            return f"node {node.name}"
        position = index if index is not None else list(self.graph.node).index(node)
        return f"node #{position} ({node.op_type})"

    def hint(self, node: Any) -> str | None:
        """A node id from the weights' names (`features.0.weight` → features_0)."""
        for name in node.input:
            if match := _PARAM_NAME.match(name):
                return match.group(1)
        parts = node.name.split("/")
        if node.name.startswith("/") and len(parts) >= 3:
            return parts[-2]
        return None

    def producer(self, name: str) -> Any | None:
        if not hasattr(self, "_producers"):
            self._producers = {out: n for n in self.graph.node for out in n.output if out}
        return self._producers.get(name)

    def attrs(self, node: Any) -> dict[str, Any]:
        from onnx import helper

        return {a.name: helper.get_attribute_value(a) for a in node.attribute}

    def static(self, name: str, what: str) -> np.ndarray:
        value = self.values.get(name)
        if not isinstance(value, Static):
            raise Unsupported(f"its {what} is computed from the data; a block needs it fixed")
        return value.array

    def tensor(self, name: str) -> Value:
        value = self.values.get(name)
        if isinstance(value, Value):
            return value
        if isinstance(value, RnnPart):
            return materialize(self, value)
        if isinstance(value, Broken):
            return Value(None, Shape(()))
        if isinstance(value, Transposed):
            raise Unsupported(f"moves the batch axis N (order {list(value.perm)})")
        raise Unsupported(f"uses the constant {name} as data; no block holds free tensors")

    def expect(self, name: str) -> tuple[int, ...]:
        array = self.probe[name]
        if array.ndim == 0 or array.shape[0] != self.batch:
            raise Unsupported(
                f"gives shape {tuple(array.shape)}, which mixes or drops the batch axis N "
                f"(the probe batch was {self.batch}); NetLoom blocks keep N first"
            )
        return tuple(array.shape[1:])

    def block(
        self,
        node: Any,
        type_name: str,
        params: dict[str, Any],
        inputs: list[Value],
        weights: dict[str, Any] | None = None,
        output: str | None = None,
    ) -> Value:
        name = output or node.output[0]
        return self.builder.add(
            type_name,
            params,
            inputs,
            place=self.place(node),
            op=node.op_type,
            expect=self.expect(name) if name else None,
            hint=self.hint(node),
            weights={k: torch.from_numpy(np.array(v)) for k, v in (weights or {}).items()},
        )

    def passthrough(self, node: Any, x: Value, why: str) -> list[Value]:
        if self.expect(node.output[0]) != x.shape.dims:
            raise Unsupported("changes the shape, so it cannot be left out")
        self.report.note(self.place(node), node.op_type, why)
        return [x]


REASONS = {
    "Sub": "a subtraction: no block subtracts",
    "Div": "a division: no block divides",
    "Erf": "the error function (a GELU written out by an older exporter?): export with "
    "opset ≥ 20 for a Gelu node",
    "Pad": "explicit padding: pad inside the Conv or Pool",
    "Where": "chooses between two tensors by a mask (torch.where, masked_fill): no block chooses",
}


def unmapped_reason(op_type: str) -> str:
    """Why a standard op without a handler is not imported, with the nearest block."""
    if op_type in REASONS:
        return REASONS[op_type]
    return with_nearest("no NetLoom block does this", op_type)
