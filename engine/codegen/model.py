"""The model class as Python source: the same network `engine.model.build` makes, written out.

Each block's `Op` (from `engine.graph.shapes.analyze`) becomes plain torch code, in the
order `engine.model.build.NetLoomModel` runs them, so the two are the same network:
submodules named by node id (the same `state_dict` keys), the same torch operations
in the same order (bit-identical outputs and gradients). Every forward line carries
the shape it produces. This module imports neither torch nor Qt.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

from engine.blocks.spec import Op, Shape
from engine.codegen.parameters import parameter_lines
from engine.codegen.problems import require_exportable
from engine.codegen.text import (
    INDENT,
    LINE_LENGTH,
    bracketed,
    call,
    comment_lines,
    line,
    literal,
    shortest_drop,
    with_comment,
)
from engine.codegen.units import UnitClasses
from engine.graph.graph import Edge, Graph
from engine.graph.names import RESERVED
from engine.graph.shapes import Analysis, analyze

BODY = INDENT * 2
ValueNames = dict[tuple[str, str], str]  # (node id, output port) → its variable in forward


@dataclass(frozen=True)
class Port:
    """A forward argument or a returned value: its node id and shape."""

    name: str
    shape: Shape
    dtype: str = "float32"


@dataclass(frozen=True)
class ModelCode:
    """The class source and what a caller needs to drive it."""

    class_name: str
    lines: list[str]
    inputs: list[Port]
    outputs: list[Port]
    uses_frames: bool


@dataclass(frozen=True)
class Step:
    node: str
    op: Op
    sources: tuple[str, ...]  # variable names, in port order
    shape: Shape
    input_shape: Shape | None  # the first operand's shape
    # The variable the result lands in: the node id, or "_" for a block that feeds
    # nothing (NetLoom runs it all the same, so the exported code does too).
    target: str
    # A unit with several outputs: one variable per output (`enc1_skip`, or "_").
    targets: tuple[str, ...] = ()


# ---------------------------------------------------------------- forward lines


def _per_frame(shape: Shape) -> str:
    """A folded shape: (N*T, …) for a frames shape (N, T, …)."""
    return "(" + ", ".join(["N*T", *(str(d) for d in shape.features)]) + ")"


def _module(step: Step) -> list[str]:
    node, src, out = step.node, step.sources[0], step.target
    if step.op.args.get("along_time"):
        # A 1-D block on a sequence (N, T, F), as engine.model.build runs it: channels F first.
        swapped = call(f"{node} = ", f"self.{node}", [f"{src}.transpose(1, 2)"], BODY)
        return swapped + call(f"{out} = ", f"{node}.transpose", ["1", "2"], BODY, str(step.shape))
    if not step.op.fold:
        return call(f"{out} = ", f"self.{node}", [src], BODY, str(step.shape))
    # Per frame: (N, T) folded into one batch axis, exactly as engine.model.build.fold_frames.
    return [
        *line(f"n, t = {src}.shape[:2]", BODY, str(step.input_shape)),
        *call(f"{node} = ", f"self.{node}", [f"{src}.flatten(0, 1)"], BODY, _per_frame(step.shape)),
        *call(f"{out} = ", f"{node}.unflatten", ["0", "(n, t)"], BODY, str(step.shape)),
    ]


def _recurrent(step: Step) -> list[str]:
    node, src, out = step.node, step.sources[0], step.target
    width = step.shape.dims[-1]
    steps = step.input_shape.dims[0] if step.input_shape else 1
    pair = step.op.args.get("state_pair", False)
    args = [src]
    if len(step.sources) > 1:
        # NetLoom's state (N, rows, hidden) as torch takes it, as engine.model.build does
        args.append(f"{step.sources[1]}.transpose(0, 1).contiguous(){'.chunk(2)' if pair else ''}")
    output = step.op.args["output"]
    if output == "state":
        # nn.RNN/GRU/LSTM return (every step's output, the final state); the block uses the
        # latter, batch first: (N, rows, hidden), an LSTM's h_n rows then its c_n rows.
        lines = call(f"_, {node} = ", f"self.{node}", args, BODY)
        rows = f"torch.cat({node}, dim=0)" if pair else node
        return lines + call(f"{out} = ", f"{rows}.transpose", ["0", "1"], BODY, str(step.shape))
    sequence = Shape((steps, width), time=True)
    # nn.RNN/GRU/LSTM return (every step's output, the final state); the block uses the former.
    if output == "sequence":
        return call(f"{out}, _ = ", f"self.{node}", args, BODY, str(sequence))
    lines = call(f"{node}, _ = ", f"self.{node}", args, BODY, str(sequence))
    if not step.op.args["bidirectional"]:
        return lines + line(f"{out} = {node}[:, -1]", BODY, str(step.shape))
    half = step.op.args["hidden_size"]
    ends = f"[{node}[:, -1, :{half}], {node}[:, 0, {half}:]]"
    lines += line("# the forward half ends at the last step, the backward half at step 0", BODY)
    return lines + call(f"{out} = ", "torch.cat", [ends, "dim=-1"], BODY, str(step.shape))


def _add(step: Step, sign: str = "+") -> list[str]:
    total = f" {sign} ".join(step.sources)
    if len(f"{BODY}{step.target} = {total}") <= LINE_LENGTH:
        return line(f"{step.target} = {total}", BODY, str(step.shape))
    # Too long for a line (long ids): parenthesised, one operand a line if need be, as ruff does.
    inner = BODY + INDENT
    terms = (
        [f"{inner}{total}"]
        if len(inner + total) <= LINE_LENGTH
        else [f"{inner}{sign + ' ' if i else ''}{source}" for i, source in enumerate(step.sources)]
    )
    lines = [f"{BODY}{step.target} = (", *terms, f"{BODY})"]
    return with_comment(lines, str(step.shape), BODY)


def _multiply(step: Step) -> list[str]:
    return _add(step, "*")


def _concat(step: Step) -> list[str]:
    listed = f"[{', '.join(step.sources)}]"
    lines = call(f"{step.target} = ", "torch.cat", [listed, f"dim={step.op.args['dim']}"], BODY)
    if all(len(text) <= LINE_LENGTH for text in lines):
        return with_comment(lines, str(step.shape), BODY)
    # Even split, the list is too long (long ids): one value a line inside it, as ruff does.
    inner = BODY + INDENT
    values = bracketed("[", list(step.sources), "],", inner)
    lines = [f"{BODY}{step.target} = torch.cat(", *values, f"{inner}dim={step.op.args['dim']},"]
    return with_comment([*lines, f"{BODY})"], str(step.shape), BODY)


def _reshape(step: Step) -> list[str]:
    src = step.sources[0]
    kept = [f"{src}.shape[{i}]" for i in range(step.op.args["keep"])]
    sizes = kept + [str(d) for d in step.op.args["shape"]]
    return call(f"{step.target} = ", f"{src}.reshape", sizes, BODY, str(step.shape))


def _permute(step: Step) -> list[str]:
    order = [str(d) for d in step.op.args["dims"]]
    return call(f"{step.target} = ", f"{step.sources[0]}.permute", order, BODY, str(step.shape))


def _global_pool(step: Step) -> list[str]:
    reduce = REDUCTIONS[step.op.args["mode"]]
    args = [f"dim={literal(tuple(step.op.args['dims']))}"]
    if step.op.args.get("keepdim", False):
        args.append("keepdim=True")
    return call(f"{step.target} = ", f"{step.sources[0]}.{reduce}", args, BODY, str(step.shape))


def _split(step: Step) -> list[str]:
    args = step.op.args
    src = step.sources[0]
    shapes = ", ".join(str(shape) for shape in args["output_shapes"].values())
    if args["squeeze"]:
        # Every part is one position: unbind gives them without the axis.
        callee, sizes = "torch.unbind", []
    else:
        callee, sizes = "torch.split", [str(size) for size in args["sizes"]]
    dim = f"dim={args['dim']}"
    listed = [src, *([f"[{', '.join(sizes)}]"] if sizes else []), dim]
    lines = call(f"{', '.join(step.targets)} = ", callee, listed, BODY)
    if all(len(text) <= LINE_LENGTH for text in lines):
        return with_comment(lines, shapes, BODY)
    # Too long for ruff's one-line split: the targets parenthesised one a line when they
    # do not fit before the call, the sizes one a line when they do not fit on theirs.
    inner = BODY + INDENT
    opening = f"{', '.join(step.targets)} = {callee}("
    head = (
        [f"{BODY}{opening}"]
        if len(BODY + opening) <= LINE_LENGTH
        else bracketed("(", list(step.targets), f") = {callee}(", BODY)
    )
    body = [f"{inner}{src},"]
    if sizes:
        body += bracketed("[", sizes, "],", inner)
    return with_comment([*head, *body, f"{inner}{dim},", f"{BODY})"], shapes, BODY)


def indexed(src: str, dim: int, index: str) -> str:
    """`src[:, :, index]`: `index` applied to axis `dim`, every axis before it kept."""
    return f"{src}[{', '.join([':'] * dim + [index])}]"


def _slice(step: Step) -> list[str]:
    args = step.op.args
    start = str(args["start"]) if args["start"] else ""
    stop = "" if args["stop"] is None else str(args["stop"])
    step_size = f":{args['step']}" if args["step"] != 1 else ""
    value = indexed(step.sources[0], args["dim"], f"{start}:{stop}{step_size}")
    return line(f"{step.target} = {value}", BODY, str(step.shape))


def _select(step: Step) -> list[str]:
    value = indexed(step.sources[0], step.op.args["dim"], str(step.op.args["index"]))
    return line(f"{step.target} = {value}", BODY, str(step.shape))


def _layer_scale(step: Step) -> list[str]:
    return line(f"{step.target} = {step.sources[0]} * self.{step.node}", BODY, str(step.shape))


def _drop_path(step: Step) -> list[str]:
    """Stochastic depth inline, as engine.model.build.drop_path computes it (and
    torchvision.ops.stochastic_depth): the same random draws in the same order."""
    src, out = step.sources[0], step.target
    p, rank = step.op.args["p"], step.shape.rank
    lines = line(f"{out} = {src}", BODY, str(step.shape))
    if p == 0.0:
        return lines
    # 1 − p as Python computes it (the same float the in-app model draws with), written
    # as a difference when its shortest form is long (1 - 0.833, not 0.16700000000000004).
    # Written `1 - p` too where 1 − p alone would read back as another p (0.075 for
    # 0.07500000000000001): the import reads p from the line.
    survival = literal(1.0 - p)
    if len(survival) > len(literal(p)) + 2 or shortest_drop(1.0 - p) != p:
        survival = f"1 - {literal(p)}"
    ones = ["1"] * (rank - 1)
    size = [f"{src}.shape[0]", *ones] if step.op.args["mode"] == "row" else ["1", *ones]
    whom = "each sample" if step.op.args["mode"] == "row" else "the whole batch"
    inner = BODY + INDENT
    empty = [literal_tuple(size), f"dtype={src}.dtype", f"device={src}.device"]
    return [
        *lines,
        f"{BODY}if self.training:",
        *comment_lines(f"stochastic depth: keep {whom} with probability {survival}", inner),
        *call(f"{out} = ", "torch.empty", empty, inner),
        *call(f"{out} = ", f"{out}.bernoulli_", [survival], inner),
        *call(f"{out} = {src} * ", f"{out}.div_", [survival], inner),
    ]


def literal_tuple(items: list[str]) -> str:
    """A tuple of expressions as source: `(x.shape[0], 1, 1)`, `(1,)`."""
    return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"


def _unit(step: Step) -> list[str]:
    if step.targets:  # several outputs: one variable each
        shapes = ", ".join(str(shape) for shape in step.op.args["output_shapes"].values())
        return call(
            f"{', '.join(step.targets)} = ", f"self.{step.node}", list(step.sources), BODY, shapes
        )
    return call(f"{step.target} = ", f"self.{step.node}", list(step.sources), BODY, str(step.shape))


# A global_pool's mode → the tensor method that reduces.
REDUCTIONS = {"avg": "mean", "sum": "sum", "max": "amax"}

WRITERS: dict[str, Callable[[Step], list[str]]] = {
    "unit": _unit,
    "module": _module,
    "recurrent": _recurrent,
    "add": _add,
    "multiply": _multiply,
    "concat": _concat,
    "reshape": _reshape,
    "permute": _permute,
    "global_pool": _global_pool,
    "split": _split,
    "slice": _slice,
    "select": _select,
    "layer_scale": _layer_scale,
    "drop_path": _drop_path,
}


# ------------------------------------------------------------------- the class


def _steps(graph: Graph, analysis: Analysis, names: ValueNames) -> list[Step]:
    # An Output block is the identity: later blocks never read it, and forward
    # returns the value wired into it, so its name is the source's variable.
    steps = []
    for node_id in graph.topological_order():
        node = graph.node(node_id)
        info = analysis.nodes[node_id]
        assert info.op is not None and info.shape is not None  # checked exportable
        if info.op.kind in ("input", "output"):
            continue
        incoming = graph.incoming_edges(node_id)
        sources = tuple(_value_of(graph, incoming[p], names) for p in node.ports)
        first = next(iter(info.input_shapes.values()), None)
        leaving = graph.outgoing(node_id)
        target = node_id if leaving else "_"
        read = {edge.source_port for edge in leaving}
        targets = tuple(
            names[(node_id, port)] if port in read else "_" for port in node.outputs if port
        )
        steps.append(Step(node_id, info.op, sources, info.shape, first, target, targets))
    return steps


def value_names(graph: Graph) -> ValueNames:
    """The variable of each node output, keyed by (node id, output port).

    A plain output is named by its node id; a unit's named output `<id>_<port>`
    (`enc1_skip`). That name could be another block's id (a block `enc1_skip`) or the
    name of another unit's output (`enc1` with `skip_a`, `enc1_skip` with `a`): then
    it takes the first free `_2`, `_3`, … in graph order, so the code stays the same
    for the same project.
    """
    names: ValueNames = {(node.id, ""): node.id for node in graph.nodes}
    taken = {node.id for node in graph.nodes} | RESERVED
    for node in graph.nodes:
        for port in node.outputs:
            if not port:
                continue
            base = name = f"{node.id}_{port}"
            count = 1
            while name in taken:
                count += 1
                name = f"{base}_{count}"
            taken.add(name)
            names[(node.id, port)] = name
    return names


def _value_of(graph: Graph, edge: Edge, names: ValueNames) -> str:
    """The variable a wire carries (an Output block passes its source's on)."""
    while graph.node(edge.source).spec.role == "output":
        edge = graph.incoming_edges(edge.source)["x"]
    return names[(edge.source, edge.source_port)]


def _return(values: list[str], names: list[str]) -> list[str]:
    comment = ", ".join(names)
    if len(values) == 1:
        return line(f"return {values[0]}", BODY, comment)
    # Several values: a tuple, parenthesised and split when it does not fit, as ruff would.
    one_line = line(f"return {', '.join(values)}", BODY, comment)
    if all(len(text) <= LINE_LENGTH for text in one_line):
        return one_line
    return bracketed("return (", values, ")", BODY, comment)


def _init_lines(graph: Graph, analysis: Analysis, units: UnitClasses) -> list[str]:
    lines = [f"{INDENT}def __init__(self) -> None:", f"{BODY}super().__init__()"]
    for node_id in graph.topological_order():
        op = analysis.nodes[node_id].op
        if op is not None and op.kind in ("module", "recurrent"):
            args = [f"{key}={literal(value)}" for key, value in op.kwargs.items()]
            lines += call(f"self.{node_id} = ", f"nn.{op.target}", args, BODY)
        elif op is not None and op.kind == "unit":
            lines += units.init_lines(graph, analysis, node_id, BODY)
        elif op is not None and op.kind == "layer_scale":
            shape, init = literal(tuple(op.args["shape"])), literal(op.args["init"])
            lines += parameter_lines(node_id, shape, init, BODY)
    return lines


def _signature(inputs: list[Port], outputs: list[Port]) -> list[str]:
    returns = (
        "torch.Tensor"
        if len(outputs) == 1
        else "tuple[" + ", ".join(["torch.Tensor"] * len(outputs)) + "]"
    )
    params = ["self", *(f"{p.name}: torch.Tensor" for p in inputs)]
    one_line = f"{INDENT}def forward({', '.join(params)}) -> {returns}:"
    if len(one_line) <= 88:
        return [one_line]
    closing = [f"{INDENT}) -> {returns}:"]
    if len(closing[0]) > LINE_LENGTH:  # many outputs: one a line, as ruff lays them out
        closing = [f"{INDENT}) -> tuple[", *[f"{BODY}torch.Tensor,"] * len(outputs), f"{INDENT}]:"]
    return [f"{INDENT}def forward(", *(f"{BODY}{p}," for p in params), *closing]


def _forward_doc(inputs: list[Port], outputs: list[Port], uses_frames: bool) -> list[str]:
    def described(ports: list[Port]) -> str:
        return ", ".join(f"{p.name} {p.shape}" for p in ports)

    doc = [f'{BODY}"""Inputs: {described(inputs)}.', "", f"{BODY}Returns: {described(outputs)}."]
    if uses_frames:
        doc += [
            "",
            f"{BODY}Blocks made for single images run on each frame of (N, T, ...) input:",
            f"{BODY}(N, T) is folded into one batch axis and unfolded after.",
        ]
    return [*doc, f'{BODY}"""']


def forward_lines(graph: Graph, analysis: Analysis) -> list[str]:
    """`def forward(...)`: the graph's steps, each line with its shape, and the return."""
    inputs = [
        Port(i, analysis.nodes[i].shape, graph.node(i).params.get("dtype", "float32"))
        for i in graph.ids_of_role("input")
    ]
    outputs = [Port(o, analysis.nodes[o].shape) for o in graph.ids_of_role("output")]
    names = value_names(graph)
    steps = _steps(graph, analysis, names)
    uses_frames = any(s.op.fold for s in steps)
    forward = [*_signature(inputs, outputs), *_forward_doc(inputs, outputs, uses_frames)]
    for step in steps:
        if step.target == "_":
            note = f"{step.node} feeds no output; it runs all the same, as in NetLoom"
            forward += comment_lines(note, indent=BODY)
        forward += WRITERS[step.op.kind](step)
    returned = [_value_of(graph, graph.incoming_edges(o.name)["x"], names) for o in outputs]
    forward += _return(returned, [o.name for o in outputs])
    return forward


def model_code(
    graph: Graph, class_name: str, analysis: Analysis | None = None, avoid: Collection[str] = ()
) -> ModelCode:
    """The `nn.Module` class for `graph`; raises ExportError naming each problem.

    A graph with unit instances gets one class per unit definition first (see
    `engine.codegen.units`); the model class holds the instances as submodules.
    """
    analysis = analysis or analyze(graph)
    require_exportable(graph, analysis)
    inputs = [
        Port(i, analysis.nodes[i].shape, graph.node(i).params.get("dtype", "float32"))
        for i in graph.ids_of_role("input")
    ]
    outputs = [Port(o, analysis.nodes[o].shape) for o in graph.ids_of_role("output")]
    uses_frames = any(info.op is not None and info.op.fold for info in analysis.nodes.values())
    # Unit classes take other names than the model class and `avoid` (the script's own).
    taken = {class_name, *avoid}
    units = UnitClasses(graph, analysis, lambda g, a, _: forward_lines(g, a), taken)
    lines = [
        *units.lines,
        f"class {class_name}(nn.Module):",
        f'{INDENT}"""The network, block for block; submodules carry the NetLoom block ids."""',
        "",
        *_init_lines(graph, analysis, units),
        "",
        *forward_lines(graph, analysis),
    ]
    return ModelCode(class_name, lines, inputs, outputs, uses_frames)
