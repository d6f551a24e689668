"""Graph → torch `nn.Module`.

Submodules are named by node id, so `state_dict` keys read `conv1.weight` and
match the exported code one-to-one. The forward pass walks the nodes in
topological order and runs each block's `Op`, exactly as `engine.codegen` writes it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from engine.blocks.spec import Op
from engine.graph.graph import Graph
from engine.graph.memory import available_bytes, estimate, too_large
from engine.graph.shapes import Analysis, analyze


class BuildError(Exception):
    """The graph has problems; `problems` lists them, each naming its node."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Step:
    node: str
    op: Op
    sources: tuple[str, ...]  # the values read, in port order: `conv1`, or `enc1.skip`
    # A unit with several outputs: the names its values are kept under, in its order.
    outputs: tuple[str, ...] = ()


def fold_frames(module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Apply `module` to each frame: fold (N, T) into one batch axis and unfold after."""
    n, t = x.shape[:2]
    return module(x.flatten(0, 1)).unflatten(0, (n, t))


def last_step(y: torch.Tensor, op: Op) -> torch.Tensor:
    """The output at the end of the sequence.

    Forwards, that is the last step; a backward direction ends at step 0, so for a
    bidirectional layer the two halves come from opposite ends.
    """
    if op.args["bidirectional"]:
        h = op.args["hidden_size"]
        return torch.cat([y[:, -1, :h], y[:, 0, h:]], dim=-1)
    return y[:, -1]


def _module(model: NetLoomModel, step: Step, xs: list[torch.Tensor]) -> torch.Tensor:
    # _modules[...] rather than getattr: nn.Module.__getattr__ is a slow path, paid per block
    # per batch.
    module = model._modules[step.node]
    if step.op.args.get("along_time"):
        # A 1-D block on a sequence (N, T, F): torch slides over the last axis.
        return module(xs[0].transpose(1, 2)).transpose(1, 2)
    return fold_frames(module, xs[0]) if step.op.fold else module(xs[0])


def initial_state(state: torch.Tensor, op: Op) -> torch.Tensor | tuple[torch.Tensor, ...]:
    """NetLoom's state (N, rows, hidden) as torch takes it: (rows, N, hidden), and for an
    LSTM split into (h_0, c_0)."""
    rows_first = state.transpose(0, 1).contiguous()
    return rows_first.chunk(2) if op.args.get("state_pair") else rows_first


def _recurrent(model: NetLoomModel, step: Step, xs: list[torch.Tensor]) -> torch.Tensor:
    module = model._modules[step.node]
    y, state = module(xs[0], initial_state(xs[1], step.op)) if len(xs) > 1 else module(xs[0])
    output = step.op.args["output"]
    if output == "state":
        # (rows, N, hidden) → NetLoom's batch-first (N, rows, hidden); h_n rows, then c_n.
        rows = torch.cat(state, dim=0) if step.op.args.get("state_pair") else state
        return rows.transpose(0, 1)
    return y if output == "sequence" else last_step(y, step.op)


def _add(model: NetLoomModel, step: Step, xs: list[torch.Tensor]) -> torch.Tensor:
    total = xs[0]
    for x in xs[1:]:
        total = total + x
    return total


def _concat(model: NetLoomModel, step: Step, xs: list[torch.Tensor]) -> torch.Tensor:
    return torch.cat(xs, dim=step.op.args["dim"])


def _reshape(model: NetLoomModel, step: Step, xs: list[torch.Tensor]) -> torch.Tensor:
    x = xs[0]
    keep = step.op.args["keep"]
    return x.reshape(*x.shape[:keep], *step.op.args["shape"])


def _permute(model: NetLoomModel, step: Step, xs: list[torch.Tensor]) -> torch.Tensor:
    return xs[0].permute(*step.op.args["dims"])


def _global_pool(model: NetLoomModel, step: Step, xs: list[torch.Tensor]) -> torch.Tensor:
    dims, keep = step.op.args["dims"], step.op.args.get("keepdim", False)
    mode = step.op.args["mode"]
    if mode == "avg":
        return xs[0].mean(dim=dims, keepdim=keep)
    if mode == "sum":
        return xs[0].sum(dim=dims, keepdim=keep)
    return xs[0].amax(dim=dims, keepdim=keep)


def _multiply(model: NetLoomModel, step: Step, xs: list[torch.Tensor]) -> torch.Tensor:
    product = xs[0]
    for x in xs[1:]:
        product = product * x
    return product


def _split(model: NetLoomModel, step: Step, xs: list[torch.Tensor]) -> tuple[torch.Tensor, ...]:
    args = step.op.args
    if args["squeeze"]:
        # Every part is one position: unbind gives them without the axis.
        return torch.unbind(xs[0], dim=args["dim"])
    return torch.split(xs[0], list(args["sizes"]), dim=args["dim"])


def along(dim: int, index: int | slice) -> tuple[slice | int, ...]:
    """The index that applies `index` to axis `dim` and keeps every axis before it."""
    return (*(slice(None) for _ in range(dim)), index)


def _slice(model: NetLoomModel, step: Step, xs: list[torch.Tensor]) -> torch.Tensor:
    args = step.op.args
    return xs[0][along(args["dim"], slice(args["start"], args["stop"], args["step"]))]


def _select(model: NetLoomModel, step: Step, xs: list[torch.Tensor]) -> torch.Tensor:
    return xs[0][along(step.op.args["dim"], step.op.args["index"])]


def _layer_scale(model: NetLoomModel, step: Step, xs: list[torch.Tensor]) -> torch.Tensor:
    # The factor lives on the model under the node id (state_dict key `ls1`), as exported.
    return xs[0] * model._parameters[step.node]


def drop_path(x: torch.Tensor, p: float, mode: str, training: bool) -> torch.Tensor:
    """Stochastic depth, computed as torchvision.ops.stochastic_depth does (the same
    random draws in the same order), which the exported code writes out inline."""
    if not training or p == 0.0:
        return x
    survival = 1.0 - p
    size = (x.shape[0], *(1 for _ in x.shape[1:])) if mode == "row" else (1,) * x.dim()
    keep = torch.empty(size, dtype=x.dtype, device=x.device)
    return x * keep.bernoulli_(survival).div_(survival)


def _drop_path(model: NetLoomModel, step: Step, xs: list[torch.Tensor]) -> torch.Tensor:
    return drop_path(xs[0], step.op.args["p"], step.op.args["mode"], model.training)


def _identity(model: NetLoomModel, step: Step, xs: list[torch.Tensor]) -> torch.Tensor:
    return xs[0]


def _unit(model: NetLoomModel, step: Step, xs: list[torch.Tensor]) -> torch.Tensor:
    result: torch.Tensor = model._modules[step.node](*xs)
    return result


def unit_module(op: Op) -> nn.Module:
    """A unit instance: its definition's blocks as a nested model, or N of them in series.

    Nesting keeps the state_dict keys those of the exported classes: `stage2.res1.conv2.weight`,
    and `res.0.conv1.weight` for the copies of a repeated unit.
    """
    copies = [NetLoomModel(op.args["graph"], analysis) for analysis in op.args["copies"]]
    return copies[0] if len(copies) == 1 else nn.Sequential(*copies)


# A runner returns its block's value; a block with several outputs (Split, a unit) a
# tuple with one value per output, in order.
Result = torch.Tensor | tuple[torch.Tensor, ...]
RUNNERS: dict[str, Callable[[NetLoomModel, Step, list[torch.Tensor]], Result]] = {
    "module": _module,
    "recurrent": _recurrent,
    "add": _add,
    "multiply": _multiply,
    "concat": _concat,
    "reshape": _reshape,
    "permute": _permute,
    "global_pool": _global_pool,
    "output": _identity,
    "unit": _unit,
    "split": _split,
    "slice": _slice,
    "select": _select,
    "layer_scale": _layer_scale,
    "drop_path": _drop_path,
}


class NetLoomModel(nn.Module):
    """The network a graph describes.

    `forward` takes one tensor per Input block (in graph order) and returns the
    Output block's tensor, or a tuple of them when there are several.
    """

    def __init__(self, graph: Graph, analysis: Analysis) -> None:
        super().__init__()
        self.input_ids = graph.ids_of_role("input")
        self.output_ids = graph.ids_of_role("output")
        self.steps: list[Step] = []
        for node_id in graph.topological_order():
            node = graph.node(node_id)
            op = analysis.nodes[node_id].op
            assert op is not None  # analysis.ok was checked by build_model
            if op.kind in ("module", "recurrent"):
                self.add_module(node_id, getattr(nn, op.target)(**op.kwargs))
            elif op.kind == "unit":
                self.add_module(node_id, unit_module(op))
            elif op.kind == "layer_scale":
                factor = torch.full(op.args["shape"], op.args["init"])
                self.register_parameter(node_id, nn.Parameter(factor))
            if op.kind != "input":
                incoming = graph.incoming_edges(node_id)
                sources = tuple(incoming[p].value for p in node.ports)
                outputs = tuple(f"{node_id}.{port}" for port in node.outputs if port)
                self.steps.append(Step(node_id, op, sources, outputs))
        # Per step, the values no later step reads: forward drops them at once, so a
        # large activation is freed (and its memory reused) as soon as it is consumed,
        # as in hand-written code, instead of living until the forward pass ends.
        last_use = {source: i for i, step in enumerate(self.steps) for source in step.sources}
        self.releases: list[tuple[str, ...]] = [
            tuple(s for s in dict.fromkeys(step.sources) if last_use[s] == i)
            for i, step in enumerate(self.steps)
        ]

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, ...]:
        if len(inputs) != len(self.input_ids):
            raise TypeError(
                f"the model takes {len(self.input_ids)} input(s) "
                f"({', '.join(self.input_ids)}), got {len(inputs)}"
            )
        values = dict(zip(self.input_ids, inputs, strict=True))
        for step, releases in zip(self.steps, self.releases):
            xs = [values[s] for s in step.sources]
            keep_result(values, step, RUNNERS[step.op.kind](self, step, xs))
            for source in releases:
                del values[source]
        outputs = tuple(values[o] for o in self.output_ids)
        return outputs[0] if len(outputs) == 1 else outputs


def keep_result(values: dict[str, torch.Tensor], step: Step, result: Result) -> None:
    """Store a step's value under its node id; a unit with several outputs returns one
    tensor per output, each kept under its own name (`enc1.skip`)."""
    if step.outputs:
        values.update(zip(step.outputs, result, strict=True))
    else:
        values[step.node] = result


def build_model(graph: Graph, analysis: Analysis | None = None) -> NetLoomModel:
    """The graph's module. Raises BuildError for graph problems, and for weights that
    cannot fit in this machine's memory (said before torch tries to allocate them)."""
    analysis = analysis or analyze(graph)
    if not analysis.ok:
        raise BuildError([p.message for p in analysis.problems])
    # On the meta device nothing is allocated, so any size builds (the tests use it).
    if torch.get_default_device().type != "meta":
        weights = estimate(analysis, 1).weights
        if problem := too_large(weights, "for its weights", available_bytes()):
            raise BuildError([problem])
    try:
        return NetLoomModel(graph, analysis)
    except (MemoryError, RuntimeError) as err:
        # The estimate is rough; an allocation can still fail. Say so in one line.
        first = str(err).strip().splitlines()[0][:200] if str(err).strip() else type(err).__name__
        raise BuildError([f"the model cannot be built: {first}"]) from None
