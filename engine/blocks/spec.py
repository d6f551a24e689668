"""Block specifications: the one place a block type is declared.

A `BlockSpec` holds everything the rest of NetLoom needs to know about a block type:
its typed parameters, its input ports, a pure-Python shape rule, parameter and
multiply-add counts, the torch operation it becomes, and the text shown to users.
The palette, inspector, shape pass, builder, exporter and tests all read specs from
`REGISTRY`; none of them names a block type.

This module imports neither torch nor Qt.
"""

from __future__ import annotations

import keyword
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

# "per_axis": one size for every axis (an int, as older files hold it), or a list of
# exactly `max_len` sizes, one per spatial axis; and, when `choices` are given, a name.
ParamKind = Literal["int", "float", "bool", "choice", "int_or_choice", "ints", "per_axis"]


class RegistryError(Exception):
    """A block type was declared twice, or looked up but never declared."""


class ParamError(ValueError):
    """A parameter value does not fit its declaration.

    `str(error)` reads "expected an integer ≥ 1, got -2"; callers add the place.
    """


class ShapeMismatch(Exception):
    """Raised by a shape rule when its inputs do not fit the block.

    The message reads as the rest of "<node>: <Type> ...", e.g.
    "needs 4-D input (N, C, H, W); got (N, 64) from dense1".
    """


# ---------------------------------------------------------------- parameters


def _describe_int(minimum: float | None, maximum: float | None) -> str:
    if minimum is not None and maximum is not None:
        return f"an integer in {int(minimum)}..{int(maximum)}"
    if minimum is not None:
        return f"an integer ≥ {int(minimum)}"
    if maximum is not None:
        return f"an integer ≤ {int(maximum)}"
    return "an integer"


def is_finite_number(value: float) -> bool:
    """math.isfinite, but an int too large for a float (10**400) is not finite either,
    where math.isfinite would raise OverflowError."""
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class Param:
    """One typed, bounded parameter of a block."""

    name: str
    kind: ParamKind
    default: Any
    help: str = ""
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    min_len: int = 1
    max_len: int = 8
    # A cap on sizes that is no part of the param's meaning (see MAX_WIDTH): checked
    # after the type and range, and named in its own message rather than in
    # `expectation()`, which says what the param means.
    limit: float | None = None

    @property
    def required(self) -> bool:
        """True when the default is only a placeholder and a value must be given."""
        return False

    def expectation(self) -> str:
        """What a valid value looks like, in words."""
        if self.kind == "int":
            return _describe_int(self.minimum, self.maximum)
        if self.kind == "float":
            low = "-inf" if self.minimum is None else f"{self.minimum:g}"
            high = "inf" if self.maximum is None else f"{self.maximum:g}"
            return f"a number in [{low}, {high}]"
        if self.kind == "bool":
            return "true or false"
        if self.kind == "choice":
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.kind == "int_or_choice":
            options = ", ".join(repr(c) for c in self.choices)
            return f"{_describe_int(self.minimum, self.maximum)} or one of {options}"
        bound = _describe_int(self.minimum, self.maximum).removeprefix("an integer").strip()
        if self.kind == "per_axis":
            text = (
                f"{_describe_int(self.minimum, self.maximum)} "
                f"or a list of {self.max_len} of them (one per axis)"
            )
            if self.choices:
                text += " or one of " + ", ".join(repr(c) for c in self.choices)
            return text
        return f"a list of {self.min_len}..{self.max_len} integers {bound}".rstrip()

    def validate(self, value: Any) -> Any:
        """Return `value` normalised to this parameter's type, or raise ParamError."""
        if self.kind == "int":
            if _is_int(value) and self._in_bounds(value):
                return self._check_limit(value)
        elif self.kind == "float":
            if (
                isinstance(value, (int, float))
                and not isinstance(value, bool)
                and is_finite_number(value)
                and self._in_bounds(value)
            ):
                return float(value)
        elif self.kind == "bool":
            if isinstance(value, bool):
                return value
        elif self.kind == "choice":
            if isinstance(value, str) and value in self.choices:
                return value
        elif self.kind == "int_or_choice":
            if isinstance(value, str) and value in self.choices:
                return value
            if _is_int(value) and self._in_bounds(value):
                return self._check_limit(value)
        elif self.kind == "ints":
            if (
                isinstance(value, (list, tuple))
                and self.min_len <= len(value) <= self.max_len
                and all(_is_int(v) and self._in_bounds(v) for v in value)
            ):
                return self._check_limit([int(v) for v in value])
        elif self.kind == "per_axis":
            if isinstance(value, str) and value in self.choices:
                return value
            if _is_int(value) and self._in_bounds(value):
                return self._check_limit(value)
            if (
                isinstance(value, (list, tuple))
                and len(value) == self.max_len
                and all(_is_int(v) and self._in_bounds(v) for v in value)
            ):
                return self._check_limit([int(v) for v in value])
        raise ParamError(f"expected {self.expectation()}, got {_show(value)}")

    def _check_limit(self, value: Any) -> Any:
        """Refuse a size over `limit`, in words of its own (see `Param.limit`)."""
        if self.limit is None:
            return value
        values = value if isinstance(value, list) else [value]
        if any(_is_int(v) and v > self.limit for v in values):
            raise ParamError(
                f"expected {'sizes' if isinstance(value, list) else 'an integer'} "
                f"≤ {int(self.limit)} (NetLoom's size limit), got {_show(value)}"
            )
        return value

    def _in_bounds(self, value: float) -> bool:
        if self.minimum is not None and value < self.minimum:
            return False
        return self.maximum is None or value <= self.maximum


# Upper bounds of size parameters. A network over them could not be trained on any
# machine NetLoom runs on (a Dense of 65,536 units after 65,536 inputs already holds
# 17 GB of weights); they keep a typo or a hostile file from reaching torch's allocator.
# Within them, the memory estimate (engine.graph.memory) decides what fits this machine.
MAX_WIDTH = 65_536  # units, channels, hidden size, embedding length
MAX_WINDOW = 1_024  # kernel size, stride, padding, dilation, pooled size
MAX_VOCABULARY = 10_000_000  # Embedding rows
MAX_SIDE = 1_000_000  # one axis of an input sample (a million-step waveform fits)


# Shared by the Input block and by data files that can hold token ids, so both speak of
# the same two dtypes in the same words.
DTYPE_PARAM = Param(
    "dtype",
    "choice",
    "float32",
    "float32 for measurements and pixels; int64 for token ids (feed an Embedding).",
    choices=("float32", "int64"),
)


def _show(value: Any) -> str:
    """A value as the user wrote it, cut to one short line (a file may hold anything)."""
    text = _show_full(value)
    return text if len(text) <= 60 else text[:57] + "…"


def _show_full(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_show(v) for v in value[:20]) + (", …]" if len(value) > 20 else "]")
    if isinstance(value, int) and abs(value) >= 10**60:
        return f"{str(value)[:20]}… ({len(str(abs(value)))} digits)"
    return str(value)[:200]


# -------------------------------------------------------------------- shapes


@dataclass(frozen=True)
class Shape:
    """A tensor shape after the batch axis.

    `dims` are concrete sizes of every axis but the batch axis N. When `time` is
    true, `dims[0]` is the time axis T (shown symbolically, its length kept so that
    counts of multiply-adds stay concrete).
    """

    dims: tuple[int, ...]
    time: bool = False
    ids: bool = False  # integer token ids rather than floats

    def __post_init__(self) -> None:
        if self.time and not self.dims:
            raise ValueError("a shape with a time axis needs at least one dimension")

    @property
    def rank(self) -> int:
        """Rank including the batch axis, as torch counts it."""
        return len(self.dims) + 1

    @property
    def features(self) -> tuple[int, ...]:
        """The per-frame dimensions: everything after N and, if present, T."""
        return self.dims[1:] if self.time else self.dims

    @property
    def steps(self) -> int:
        return self.dims[0] if self.time else 1

    def with_features(self, features: tuple[int, ...]) -> Shape:
        """Same batch/time layout, new per-frame dimensions."""
        if self.time:
            return Shape((self.dims[0], *features), time=True)
        return Shape(tuple(features))

    def numel(self) -> int:
        return math.prod(self.dims)

    def __str__(self) -> str:
        parts = ["N"]
        for i, d in enumerate(self.dims):
            parts.append("T" if (self.time and i == 0) else str(d))
        return "(" + ", ".join(parts) + ")"

    def detailed(self) -> str:
        """Like str(), but with the length of the time axis: (N, T=8, 16, 32, 32)."""
        text = str(self)
        return text.replace("T", f"T={self.dims[0]}", 1) if self.time else text


@dataclass(frozen=True)
class Operand:
    """A shape arriving at an input port, and the node it came from."""

    shape: Shape
    source: str

    def __str__(self) -> str:
        return f"{self.shape} from {self.source}"


# ----------------------------------------------------------------------- ops

OpKind = Literal[
    "input",  # the model's forward argument
    "output",  # identity; marks a model output and its loss
    "module",  # a torch.nn module, optionally applied per frame
    "recurrent",  # nn.RNN/GRU/LSTM returning the sequence or its last step
    "add",  # element-wise sum of all inputs
    "multiply",  # element-wise product of all inputs, broadcasting axes of size 1
    "concat",  # torch.cat along args["dim"]
    "reshape",  # x.reshape(N[, T], *args["shape"])
    "permute",  # x.permute(*args["dims"])
    "global_pool",  # mean, sum or amax over args["dims"] (args["keepdim"]: keep them, size 1)
    "unit",  # a unit instance: args["copies"] are its definition's passes, in series
    "split",  # torch.split along args["dim"] into args["sizes"], one output each
    "slice",  # x[..., start:stop:step] along args["dim"]
    "select",  # x[..., index] along args["dim"], which goes away
    "layer_scale",  # x times a learned parameter of args["shape"], named by the node id
    "drop_path",  # stochastic depth (torchvision.ops.stochastic_depth)
]


@dataclass(frozen=True)
class Op:
    """The torch operation a block becomes, as plain data.

    `engine.model.build` interprets it and `engine.codegen` writes it out; both read only
    this record, so the in-app model and the exported code cannot drift apart.
    For "module" and "recurrent", `target` names a class in `torch.nn` and
    `kwargs` its constructor arguments. `fold` applies the module per frame: the
    leading (N, T) axes are folded into one batch axis and unfolded after.
    """

    kind: OpKind
    target: str = ""
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    fold: bool = False
    args: Mapping[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------- specs

ShapeRule = Callable[[Mapping[str, Any], Mapping[str, Operand]], Shape]
CountRule = Callable[[Mapping[str, Any], Mapping[str, Shape], Shape], int]
OpRule = Callable[[Mapping[str, Any], Mapping[str, Shape], Shape], Op]
PortsRule = Callable[[Mapping[str, Any]], tuple[str, ...]]

Role = Literal["input", "output", "layer"]


def no_count(params: Mapping[str, Any], inputs: Mapping[str, Shape], out: Shape) -> int:
    return 0


def single_port(params: Mapping[str, Any]) -> tuple[str, ...]:
    return ("x",)


def single_output(params: Mapping[str, Any]) -> tuple[str, ...]:
    """A block's one output, which wires leave from without naming it."""
    return ("",)


@dataclass(frozen=True)
class BlockSpec:
    """Everything about one block type."""

    name: str
    category: str
    summary: str
    shape_formula: str
    weight_formula: str
    params: tuple[Param, ...]
    shape: ShapeRule
    op: OpRule
    id_prefix: str
    ports: PortsRule = single_port
    # Output ports: ("",) for the one plain output; a unit with several Output blocks
    # inside names each (wires then say which one they leave from).
    outputs: PortsRule = single_output
    count_params: CountRule = no_count
    flops: CountRule = no_count
    role: Role = "layer"
    aliases: tuple[str, ...] = ()
    takes_ids: bool = False  # accepts integer token ids (every other block needs floats)

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(f"{self.name} has no parameter {name!r}")

    def defaults(self) -> dict[str, Any]:
        return {p.name: _copy(p.default) for p in self.params}

    def resolve_params(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """Defaults overlaid with `given`, each validated (see `resolve_params`)."""
        return resolve_params(self.name, self.params, given)

    @property
    def doc(self) -> str:
        """The tooltip/inspector text: what it does, its shape and weight formulas."""
        return (
            f"{self.summary}\n\nOutput shape: {self.shape_formula}\nWeights: {self.weight_formula}"
        )


def _copy(value: Any) -> Any:
    return list(value) if isinstance(value, list) else value


def resolve_params(
    owner: str, params: tuple[Param, ...], given: Mapping[str, Any]
) -> dict[str, Any]:
    """Defaults overlaid with `given`, each validated, for a block or a dataset `owner`.

    Raises ParamError prefixed with the parameter name:
    "kernel_size: expected an integer ≥ 1, got -2". A parameter whose `required` is
    true has no usable default and must be given.
    """
    names = {p.name for p in params}
    for key in given:
        if key not in names:
            known = ", ".join(sorted(names)) or "none"
            raise ParamError(f"{key}: {owner} has no such parameter (it has: {known})")
    values = {}
    for p in params:
        if p.name not in given:
            if p.required:
                raise ParamError(f"{p.name}: {owner} needs {p.expectation()}")
            values[p.name] = _copy(p.default)
            continue
        try:
            values[p.name] = p.validate(given[p.name])
        except ParamError as err:
            raise ParamError(f"{p.name}: {err}") from None
    return values


# Filled before anyone can look a block up: importing this module runs
# engine/blocks/__init__.py first (Python imports a package before its modules), and that
# imports every block module, each of which registers its specs. So the lookups below
# never import the blocks package back.
REGISTRY: dict[str, BlockSpec] = {}


def register(spec: BlockSpec) -> BlockSpec:
    if spec.name in REGISTRY:
        raise RegistryError(f"block {spec.name!r} is already registered")
    if not spec.id_prefix.isidentifier() or keyword.iskeyword(spec.id_prefix):
        raise RegistryError(f"block {spec.name!r}: id prefix {spec.id_prefix!r} is no identifier")
    for p in spec.params:
        try:
            p.validate(p.default)
        except ParamError as err:
            raise RegistryError(f"block {spec.name!r}: default of {p.name}: {err}") from None
    REGISTRY[spec.name] = spec
    return spec


def get_spec(name: str) -> BlockSpec:
    spec = REGISTRY.get(name)
    if spec is None:
        raise RegistryError(f"unknown block type {name!r}")
    return spec


# The order categories appear in (palette, docs): the path data takes through a network.
CATEGORIES = (
    "Input/Output",
    "Convolution",
    "Pooling",
    "Core",
    "Recurrent",
    "Normalization",
    "Activation",
    "Merge",
    "Reshape",
)


def all_specs() -> list[BlockSpec]:
    """Every block type, grouped by category in `CATEGORIES` order."""
    rank = {c: i for i, c in enumerate(CATEGORIES)}
    return sorted(REGISTRY.values(), key=lambda s: rank.get(s.category, len(rank)))
