"""PyTorch → NetLoom: map each node of the model's torch.fx trace to a block.

The model is traced and run once on a probe input by `engine.importers.torch_trace`,
so each mapping knows the exact shape the original produced and the builder can check
the block gives the same. Modules map by class (`engine.importers.torch_modules`; the
module calls are mapped here); functions and tensor methods (`F.relu`, `torch.cat`,
`+`, `flatten`, `view`, `permute`, `mean`, …) by the tables of
`engine.importers.torch_functions` and `engine.importers.torch_shapes`, which see this
importer as a `torch_context.TorchContext`.
Node ids follow the module paths (`features.0` → `features_0`). A class of the
model's own built more than once becomes a unit (`engine.importers.grouping`).
"""

from __future__ import annotations

import copy
import logging
from pathlib import Path
from typing import Any

import torch
from torch import fx, nn

from engine.blocks.spec import Operand, ParamError, Shape, ShapeMismatch, get_spec
from engine.importers import python_source, source_names, torch_modules
from engine.importers.builder import GraphBuilder, Recurrent, Value
from engine.importers.check import PROBE_BATCH, ImportResult, InputSpec, example_input, verify
from engine.importers.grouping import group_repeated
from engine.importers.nearest import with_nearest
from engine.importers.parameter_source import own_tensors
from engine.importers.repeats import fold_repeats
from engine.importers.report import ImportReport, Unsupported
from engine.importers.threads import idle_cores, run_work
from engine.importers.torch_functions import map_call, map_shaped_module, qualified_name
from engine.importers.torch_recurrent import direction, is_zero_state
from engine.importers.torch_trace import Arguments, node_place, node_scope, probe_results, trace
from engine.importers.torch_values import (
    RECURRENT_PARTS,
    BatchSecond,
    Broken,
    Const,
    Folded,
    MaxPair,
    Meta,
    Parts,
    RecPart,
    Swapped,
    Zeros,
)
from engine.importers.unit_notes import left_as_blocks, units_made

log = logging.getLogger(__name__)


def _from_torch(cls: type) -> bool:
    return cls.__module__ == "torch" or cls.__module__.startswith("torch.")


def import_python(source: str, spec: InputSpec, args_text: str | None = None) -> ImportResult:
    path, class_name = python_source.split_source(source)
    with python_source.loaded_module(path) as module:
        with python_source.recording_arguments(module) as recorded:
            model = python_source.build_module(module, path, class_name, args_text)
        name = f"{python_source.shown(path)}:{class_name}"
        importer = TorchImporter(model, spec, name, path)
        importer.constructed = python_source.constructor_arguments(model, recorded)
        return importer.run()


def import_module(model: nn.Module, spec: InputSpec, name: str) -> ImportResult:
    """Import a model object already in memory (tests, the round trip)."""
    return TorchImporter(model, spec, name, None).run()


class TorchImporter:
    """One model's import: the handler tables see it as a `torch_context.TorchContext`."""

    def __init__(self, model: nn.Module, spec: InputSpec, name: str, path: Path | None) -> None:
        self.model = model
        self.spec = spec
        self.name = name
        self.path = path
        self.builder = GraphBuilder(ImportReport(name))
        self.report = self.builder.report
        self.env: dict[fx.Node, Any] = {}
        self.results: dict[fx.Node, Any] = {}
        self.calls: dict[str, int] = {}
        self.arguments: Arguments = {}
        # module path → its constructor's arguments (known for a model built from a file)
        self.constructed: python_source.Arguments = {}
        self.recurrents: list[Recurrent] = []
        self.swaps: dict[fx.Node, Value] = {}  # the Permute made for a Swapped, once
        # one direction's final state of a bidirectional layer, made once: (layer, part)
        self.directions: dict[tuple[int, str], Value] = {}
        # Add and Multiply blocks by the operation that made them, with their inputs
        self.merged: dict[fx.Node, tuple[str, list[Value]]] = {}

    # ------------------------------------------------------------------ run

    def run(self) -> ImportResult:
        with idle_cores(run_work(self.model, self.spec.dims)):  # (busy cores slow threads)
            return self._run()

    def _run(self) -> ImportResult:
        traced = trace(self.model, self.report, self.name)
        if traced is None:
            return ImportResult(self.report)
        gm, self.arguments = traced.module, traced.arguments
        vocabulary = self._vocabulary()
        probe = example_input(self.spec, PROBE_BATCH, vocabulary)
        self.results = probe_results(gm, probe, self.name)
        paths = {}  # node id kept for a module path → that path
        for module_path, _ in gm.named_modules():
            if module_path:
                paths[self.builder.reserve(module_path)] = module_path
        for held in own_tensors(self.model, _from_torch):  # LayerScale: `self.ls1`
            paths[self.builder.reserve(held)] = held
        scopes: dict[str, str] = {}  # node id → the module path that made it
        made_by: dict[str, fx.Node] = {}  # node id → the fx node that made it
        for node in gm.graph.nodes:
            made = set(self.builder.places)
            try:
                self.env[node] = self._map(node)
            except Unsupported as err:
                self.report.error(self.place(node), self._describe(node), str(err))
                self.env[node] = self.broken(node)
            except Exception as err:  # a case the mapping did not foresee: a line, not a crash
                log.warning("mapping %s failed", node.format_node(), exc_info=True)
                why = f"NetLoom's importer could not map it ({type(err).__name__}: {err})"
                self.report.error(self.place(node), self._describe(node), why)
                self.env[node] = self.broken(node)
            for node_id in set(self.builder.places) - made:
                scopes[node_id] = paths.get(node_id) or node_scope(node)
                made_by[node_id] = node
        for rec in self.recurrents:
            if rec.value is None and self.report.ok:
                # Called, but its result feeds nothing (exported NetLoom code runs such a
                # block all the same: `_, _ = self.lstm1(x)`); the sequence is its output.
                made = set(self.builder.places)
                self.builder.recurrent(rec, "sequence")
                for node_id in set(self.builder.places) - made:
                    scopes[node_id] = paths.get(node_id) or rec.hint or ""
        if self.report.ok:  # blocks of function calls named after their variables
            scopes = source_names.name_after_variables(self.builder, made_by, paths, scopes)
            self._group_units(scopes)
        if self.report.ok:
            verify(self.builder, self._reference, self.spec, vocabulary, exact=True)
        if not self.report.ok:
            return ImportResult(self.report)
        total = sum(p.numel() for p in self.model.parameters())
        self.report.check += f" (the model has {total:,})"
        said = f"Imported from {self.name} by `python main.py import`."
        header = source_names.exported_header(self.model)  # a NetLoom export keeps its own
        project = self.builder.project(*(header or (type(self.model).__name__, said)))
        return ImportResult(self.report, project, dict(self.builder.weights))

    def _group_units(self, scopes: dict[str, str]) -> None:
        """Classes of the model's own built more than once (or exported by NetLoom as
        units) become units."""
        classes, sources = source_names.unit_classes(self.model, _from_torch)
        if not classes:
            return
        builder = self.builder
        saved = copy.deepcopy(builder.graph), dict(builder.weights), dict(builder.places)
        arguments = {  # instance path → {node id feeding it: the forward's argument name}
            path: {
                value.node: name
                for fx_node, name in given.items()
                if isinstance(value := self.env.get(fx_node), Value) and value.node
            }
            for path, given in self.arguments.items()
            if path in classes
        }
        sequences = {  # nn.Sequential of instances → the paths of its children
            path: [f"{path}.{name}" for name, _ in module.named_children()]
            for path, module in self.model.named_modules()
            if isinstance(module, nn.Sequential)
        }
        left: dict[str, str] = {}  # instance path → why it stayed blocks
        try:
            made = group_repeated(
                builder, scopes, classes, arguments, self.constructed, sources, left
            )
            repeated = fold_repeats(builder, sequences, made)
        except Exception as error:  # a bug here must not cost the import: keep the blocks flat
            log.warning("units from repeated modules failed; left as blocks", exc_info=True)
            builder.graph, builder.weights, builder.places = saved
            why = f"{type(error).__name__}: {error}"
            self.report.note(self.name, "units", f"the model stays flat blocks: grouping {why}")
            return
        for line in left_as_blocks(classes, left):
            self.report.note(self.name, "units", line)
        if (said := units_made(builder.graph, repeated)) is not None:
            self.report.note(self.name, "units", said)

    def _reference(self, x: torch.Tensor) -> list[torch.Tensor]:
        out = self.model(x)
        return list(out) if isinstance(out, (tuple, list)) else [out]

    def _vocabulary(self) -> int:
        sizes = [m.num_embeddings for m in self.model.modules() if isinstance(m, nn.Embedding)]
        return min(sizes, default=2)

    # --------------------------------------------------------------- places

    def place(self, node: fx.Node) -> str:
        return node_place(node, self.name)

    def _describe(self, node: fx.Node) -> str:
        if node.op == "call_module":
            return f"self.{node.target} ({type(self.model.get_submodule(node.target)).__name__})"
        if node.op == "call_function":
            return qualified_name(node.target)
        if node.op == "call_method":
            return f".{node.target}()"
        if node.op == "placeholder":
            return f"forward argument {node.target}"
        if node.target is getattr:
            return f".{node.args[1]}"
        return str(node.target)

    # ---------------------------------------------------------------- values

    def broken(self, node: fx.Node) -> Any:
        result = self.results.get(node)
        if isinstance(result, torch.Tensor) and result.dim() >= 1:
            return Value(None, Shape(tuple(result.shape[1:])))
        return Broken()

    def tensor(self, arg: Any) -> Value:
        value = self.env[arg] if isinstance(arg, fx.Node) else arg
        if isinstance(value, Value):
            return value
        if isinstance(value, RecPart):
            if value.part == "seq":
                return self.builder.recurrent(value.rec, "sequence")
            if value.part in ("forward", "backward"):
                key = (id(value.rec), value.part)
                if key not in self.directions:
                    self.directions[key] = direction(self.builder, value.rec, value.part)
                return self.directions[key]
            raise Unsupported(RECURRENT_PARTS[value.part].format(op=value.rec.op))
        if isinstance(value, Broken):
            return Value(None, Shape(()))
        if isinstance(value, Const):
            raise Unsupported(f"uses the tensor self.{value.name} directly; no block holds it")
        if isinstance(value, Parts):
            raise Unsupported(
                "uses the whole tuple a split returns; take each part (a, b = x.chunk(2, 1))"
            )
        if isinstance(value, MaxPair):
            raise Unsupported("uses x.max(dim) whole; take its values: x.max(dim)[0] or .values")
        if isinstance(value, Zeros):
            raise Unsupported(
                "uses a tensor of zeros made in forward other than as a recurrent layer's "
                "initial state (there it is torch's default, and left out); no block holds it"
            )
        if isinstance(value, Swapped):
            if value.node not in self.swaps:
                self.swaps[value.node] = self.block(
                    value.node, "Permute", {"dims": [2, 1]}, [value.value]
                )
            return self.swaps[value.node]
        if isinstance(value, BatchSecond):
            raise Unsupported(
                "uses a tensor with its batch axis moved (x.transpose(0, 1)) other than as a "
                "recurrent layer's initial state; NetLoom keeps N first"
            )
        if isinstance(value, Folded):
            raise Unsupported(
                "uses frames folded into the batch axis (x.flatten(0, 1)) other than as the "
                "input of a layer; NetLoom keeps N first (a per-frame block folds by itself)"
            )
        raise Unsupported(f"a constant ({value.value!r}) where a layer's output is expected")

    def expect(self, node: fx.Node) -> tuple[int, ...]:
        result = self.results[node]
        if not isinstance(result, torch.Tensor):
            raise Unsupported("does not give one tensor")
        if result.dim() == 0 or result.shape[0] != PROBE_BATCH:
            raise Unsupported(
                f"gives shape {tuple(result.shape)}, which mixes or drops the batch axis N "
                f"(the probe batch was {PROBE_BATCH}); NetLoom blocks keep N first"
            )
        return tuple(result.shape[1:])

    def block(
        self,
        node: fx.Node,
        type_name: str,
        params: dict[str, Any],
        inputs: list[Value],
        hint: str | None = None,
        weights: dict[str, Any] | None = None,
        expect: tuple[int, ...] | None = None,
    ) -> Value:
        return self.builder.add(
            type_name,
            params,
            inputs,
            place=self.place(node),
            op=self._describe(node),
            expect=self.expect(node) if expect is None else expect,
            hint=hint,
            weights=weights,
        )

    def passthrough(self, node: fx.Node, x: Value, why: str) -> Value:
        if self.expect(node) != x.shape.dims:
            raise Unsupported("changes the shape, so it cannot be left out")
        self.report.note(self.place(node), self._describe(node), why)
        return x

    # ---------------------------------------------------------------- nodes

    def _map(self, node: fx.Node) -> Any:
        if node.op == "placeholder":
            return self._placeholder(node)
        if node.op == "get_attr":
            return Const(str(node.target))
        if node.op == "output":
            return self._output(node)
        if node.op == "call_module":
            return self._call_module(node)
        result = self.results.get(node)
        feeds_on_recurrent = any(isinstance(self.env.get(a), RecPart) for a in node.all_input_nodes)
        holds_tensors = isinstance(result, (tuple, list)) and any(
            isinstance(r, torch.Tensor) for r in result
        )
        sizes = node.target is getattr and not isinstance(result, torch.Tensor)  # x.shape
        if sizes or not (isinstance(result, torch.Tensor) or feeds_on_recurrent or holds_tensors):
            return Meta(result)  # sizes and other numbers: they only shape later operations
        return map_call(self, node)

    def _placeholder(self, node: fx.Node) -> Any:
        if not any(isinstance(v, Value) for v in self.env.values()):
            return self.builder.add_input(
                str(node.target), self.spec.dims, self.spec.sequence, self.spec.dtype
            )
        if node.args:  # an argument with a default value: a constant for this import
            return Meta(node.args[0])
        raise Unsupported("a second tensor argument: import takes models with one input")

    def _output(self, node: fx.Node) -> Any:
        outputs = node.args[0]
        items = list(outputs.values()) if isinstance(outputs, dict) else outputs
        items = items if isinstance(items, (tuple, list)) else [items]
        names = source_names.returned_names(self.model.forward, len(items), outputs)
        for i, item in enumerate(items):
            value = self.tensor(item)
            self.builder.add_output(value, f"{self.name} (returns)", names[i] if names else None)
        return None

    def _initial_state(self, node: fx.Node, given: Any, cell: str) -> Value | None:
        """The final state of another recurrent layer, passed as this one's h_0 (or
        (h_0, c_0)): that layer outputs its 'state' into this one's state input. Or, as
        exported code passes a state input (N, rows, hidden): `s.transpose(0, 1)`, for an
        LSTM `.chunk(2)` into (h_0, c_0). None for zeros made in forward: torch's default."""
        if is_zero_state(self, given):
            self.report.note(
                self.place(node),
                self._describe(node),
                "starts from zeros made in forward, as torch does by default: no state input",
            )
            return None
        moved = self.env.get(given) if isinstance(given, fx.Node) else None
        if isinstance(moved, BatchSecond) and moved.halves == (cell == "LSTM"):
            return moved.value
        parts = [self.env.get(g) for g in given] if isinstance(given, tuple) else [self.env[given]]
        if cell == "LSTM":
            wanted = ["hidden", "cell"] if len(parts) == 2 else ["state"]
        else:
            wanted = ["hidden"]
        if not (
            all(isinstance(p, RecPart) for p in parts)
            and [p.part for p in parts] == wanted
            and all(p.rec is parts[0].rec for p in parts)
        ):
            raise Unsupported(
                "passes an initial state that is not another recurrent layer's whole final "
                "state (h_n, or (h_n, c_n) for an LSTM); NetLoom's state input takes that"
            )
        source = parts[0].rec
        if (source.cell == "LSTM") != (cell == "LSTM"):
            raise Unsupported(f"passes the final state of a {source.cell} to a {cell}")
        return self.builder.recurrent(source, "state")

    def _call_module(self, node: fx.Node) -> Any:
        target = str(node.target)
        module = self.model.get_submodule(target)
        has_state = bool(list(module.parameters())) or bool(list(module.buffers()))
        self.calls[target] = self.calls.get(target, 0) + 1
        if has_state and self.calls[target] > 1:
            raise Unsupported(
                f"self.{target} is called again; its weights would be shared, and a NetLoom "
                "block owns its weights"
            )
        weights = {k: v.detach().clone() for k, v in module.state_dict().items()}
        if isinstance(module, torch_modules.RECURRENT):
            cell, params = torch_modules.recurrent_params(module)
            x = self.tensor(node.args[0])
            given = node.args[1] if len(node.args) > 1 else node.kwargs.get("hx")
            state = None if given is None else self._initial_state(node, given, cell)
            rec = Recurrent(
                cell,
                params,
                x,
                target,
                self.place(node),
                self._describe(node),
                weights,
                steps=x.shape.dims[0] if x.shape.dims else 0,
                state=state,
            )
            self.recurrents.append(rec)
            return RecPart(rec, "all")
        if isinstance(module, torch_modules.SHAPED):
            return map_shaped_module(self, node, module)
        rule = torch_modules.MODULE_RULES.get(type(module))
        if rule is None:
            name = type(module).__name__
            raise Unsupported(with_nearest(f"no NetLoom block is a {name}", name))
        if len(node.args) != 1 or node.kwargs:
            raise Unsupported("called with more than one argument")
        type_name, params = rule(module)
        source = self.env.get(node.args[0]) if isinstance(node.args[0], fx.Node) else None
        if isinstance(source, Folded):
            return Folded(self._per_frame(node, type_name, params, source, weights), node)
        if isinstance(source, Swapped):
            along = torch_modules.upsample_block(1) if type_name == "Upsample" else type_name
            if self._slides_along_time(along, params, source.value):
                expect = self._unwrapped_expect(node, source)
                value = self.block(node, along, params, [source.value], target, weights, expect)
                return Swapped(value, node)
        x = self.tensor(node.args[0])  # a Swapped no 1-D layer takes becomes its Permute
        if type_name == "Upsample":  # the block for the axes after the channels
            type_name = torch_modules.upsample_block(len(x.shape.features) - 1)
        params = torch_modules.over_input(type_name, params, len(x.shape.dims))
        return self.block(node, type_name, params, [x], target, weights)

    def _per_frame(
        self,
        node: fx.Node,
        type_name: str,
        params: dict[str, Any],
        source: Folded,
        weights: dict[str, Any],
    ) -> Value:
        """A layer called on frames folded into the batch axis, as exported code runs a
        per-frame block: the block on the frames themselves, which folds by itself."""
        x = source.value
        if type_name == "Upsample":  # the axes of one frame after its channels
            type_name = torch_modules.upsample_block(len(x.shape.dims) - 2)
        expect = self._unwrapped_expect(node, source)
        value = self.block(node, type_name, params, [x], str(node.target), weights, expect)
        # Per frame is the same as on the whole only for a block that folds frames
        # itself, or one that works value by value.
        if value.node is not None and not (
            self.builder.ops[value.node].fold or get_spec(type_name).category == "Activation"
        ):
            self.builder.remove(value.node)
            raise Unsupported(
                f"runs on frames folded into the batch axis (x.flatten(0, 1)), where "
                f"NetLoom's {type_name} on {x.shape} would not work frame by frame"
            )
        return value

    def _slides_along_time(self, type_name: str, params: dict[str, Any], x: Value) -> bool:
        """Whether NetLoom's block slides along the time of sequence `x` by itself, as
        torch's 1-D layer does on it transposed (N, F, T)."""
        spec = get_spec(type_name)
        try:
            values = spec.resolve_params(dict(params))
            operands = {port: Operand(x.shape, "x") for port in spec.ports(values)}
            shape = spec.shape(values, operands)
            op = spec.op(values, {port: x.shape for port in operands}, shape)
        except (ParamError, ShapeMismatch):
            return False
        return bool(op.args.get("along_time"))

    def _unwrapped_expect(self, node: fx.Node, source: Folded | Swapped) -> tuple[int, ...]:
        """The shape the block gives on the unwrapped input: (T, …) where the module gave
        (N·T, …) on folded frames; (T′, C′) where it gave (N, C′, T′) on a swapped sequence."""
        result = self.results[node]
        if not isinstance(result, torch.Tensor) or result.dim() < 2:
            raise Unsupported("does not give one tensor of frames")
        if isinstance(source, Swapped):
            if result.dim() != 3 or result.shape[0] != PROBE_BATCH:
                raise Unsupported(f"gives shape {tuple(result.shape)} on a swapped sequence")
            return (int(result.shape[2]), int(result.shape[1]))
        frames = source.value.shape.dims[0]
        if result.shape[0] != PROBE_BATCH * frames:
            raise Unsupported(
                f"gives shape {tuple(result.shape)} on {frames} folded frames; a per-frame "
                f"block keeps {PROBE_BATCH * frames} (N·T) first"
            )
        return (frames, *(int(d) for d in result.shape[1:]))
