"""A hint for the import's input shape, read from the file without running it.

The import dialog asks for one sample's shape. Where the file says it, the field starts
filled; where it half says it, the hint shows what it knows:

- an ONNX file: its first graph input's declared shape, the batch axis left out, and the
  first node NetLoom cannot import at all (a custom op), if any;
- a .py file, read with `ast` only (no code runs): an `input_shape = (1, 28, 28)`
  assignment, an `# input shape: 1,28,28` comment, or else the first Conv/Linear/
  recurrent/Embedding layer the class makes (its in_channels, in_features, input_size).

Pure Python (onnx loads only for an .onnx file); any failure is "no hint", never an error.
"""

from __future__ import annotations

import ast
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from engine.importers.onnx_foreign import foreign_nodes, foreign_op

log = logging.getLogger(__name__)

MAX_SOURCE_BYTES = 2 * 1024**2  # a .py file larger than this is not read for a hint
MAX_ONNX_BYTES = 64 * 1024**2  # parsed on the GUI thread: keep it quick

SHAPE_NAMES = {"input_shape", "input_size_hw", "sample_shape", "example_input_shape"}
COMMENT = re.compile(
    r"#\s*input(?:[ _]shape)?\s*[:=]\s*\(?\s*((?:[NB]|batch)\s*[,x×]\s*)?(\d+(?:\s*[,x×]\s*\d+)*)",
    re.IGNORECASE,
)

# Layer → (the argument that fixes the input's features, its position, the shape's form)
FIRST_LAYERS = {
    "Conv1d": ("in_channels", "{n},L", "e.g. {n},100"),
    "Conv2d": ("in_channels", "{n},H,W", "e.g. {n},32,32"),
    "Conv3d": ("in_channels", "{n},D,H,W", "e.g. {n},8,32,32"),
    "Linear": ("in_features", "{n}", ""),
    "LSTM": ("input_size", "T,{n}", "e.g. 20,{n}, the first axis time"),
    "GRU": ("input_size", "T,{n}", "e.g. 20,{n}, the first axis time"),
    "RNN": ("input_size", "T,{n}", "e.g. 20,{n}, the first axis time"),
    "Embedding": ("num_embeddings", "T", "e.g. 20 token ids below {n} (dtype int64)"),
}


@dataclass(frozen=True)
class ShapeHint:
    text: str  # what the dialog shows: "3,H,W — the first layer is Conv2d(in_channels=3)"
    dims: tuple[int, ...] | None = None  # the whole shape, when the file fixes it
    sequence: bool = False
    dtype: str | None = None

    @property
    def field_text(self) -> str:
        return ",".join(str(d) for d in self.dims) if self.dims else ""


def shape_hint(path_text: str, class_name: str = "") -> ShapeHint | None:
    """The hint for `path_text` (a .py or .onnx file), or None when it says nothing."""
    path = Path(path_text.strip())
    try:
        if path.suffix.lower() == ".onnx":
            return _onnx_hint(path)
        if path.suffix.lower() == ".py":
            return _python_hint(path, class_name.strip())
    except Exception as err:  # a hint is optional: any file may be odd
        log.info("no input-shape hint from %s: %s", path, err)
    return None


def model_classes(path_text: str) -> list[str]:
    """The top-level classes of a .py file that derive from something named *Module or
    Sequential (nn.Module, torch.nn.Module, nn.Sequential), read with ast; [] on failure."""
    path = Path(path_text.strip())
    try:
        if path.suffix.lower() != ".py" or path.stat().st_size > MAX_SOURCE_BYTES:
            return []
        tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, SyntaxError, ValueError):
        return []
    found = []
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            bases = [
                b.attr if isinstance(b, ast.Attribute) else getattr(b, "id", "") for b in node.bases
            ]
            if any(b.endswith("Module") or b == "Sequential" for b in bases):
                found.append(node.name)
    return found


# ---------------------------------------------------------------------- ONNX


def _onnx_hint(path: Path) -> ShapeHint | None:
    if not path.is_file() or path.stat().st_size > MAX_ONNX_BYTES:
        return None
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    weights = {init.name for init in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in weights]
    if not inputs:
        return None
    first = inputs[0]
    tensor = first.type.tensor_type
    axes = [
        d.dim_value if d.HasField("dim_value") else (d.dim_param or "?") for d in tensor.shape.dim
    ]
    if len(axes) < 2:
        return None
    sample = axes[1:]  # the first axis is the batch
    dtype = "int64" if tensor.elem_type == onnx.TensorProto.INT64 else None
    declared = ",".join(str(a) for a in sample)
    text = f"{declared} — declared by the file's input {first.name!r} (batch axis left out)"
    if foreign := foreign_nodes(model):  # the shape is not what will stop this import
        index, node = foreign[0]
        name = node.name or f"#{index}"
        more = f" and {len(foreign) - 1} more" if len(foreign) > 1 else ""
        text += f"; but node {name} is {foreign_op(node)}, which NetLoom cannot import{more}"
    if all(isinstance(a, int) and a > 0 for a in sample):
        return ShapeHint(text, tuple(int(a) for a in sample), dtype=dtype)
    return ShapeHint(text, dtype=dtype)


# ---------------------------------------------------------------------- Python


def _python_hint(path: Path, class_name: str) -> ShapeHint | None:
    if not path.is_file() or path.stat().st_size > MAX_SOURCE_BYTES:
        return None
    text = path.read_text(encoding="utf-8", errors="replace")
    tree = ast.parse(text)
    classes = {n.name: n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)}
    builders: dict[str, Builder] = {
        n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
    }
    builders.update(classes)
    # Without a class named, the file's last top-level class: helpers usually come first.
    last = [n for n in tree.body if isinstance(n, ast.ClassDef)][-1:]
    chosen = classes.get(class_name) or (last[0] if last else None)
    for scope in (chosen, tree):
        if scope is not None and (hint := _declared_shape(scope)):
            return hint
    if hint := _comment_shape(text):
        return hint
    for scope in (chosen, tree):
        if scope is not None and (hint := _first_layer(scope, builders)):
            return hint
    return None


def _int_tuple(node: ast.AST) -> tuple[int, ...] | None:
    if isinstance(node, (ast.Tuple, ast.List)) and node.elts:
        values = [e.value for e in node.elts if isinstance(e, ast.Constant)]
        if len(values) == len(node.elts) and all(
            isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in values
        ):
            return tuple(values)
    return None


def _declared_shape(scope: ast.AST) -> ShapeHint | None:
    for node in ast.walk(scope):
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        for target in targets:
            name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
            if name.lower() in SHAPE_NAMES and (dims := _int_tuple(value)):
                shown = ",".join(map(str, dims))
                return ShapeHint(f"{shown} — the file's {name} (line {node.lineno})", dims)
    return None


def _comment_shape(text: str) -> ShapeHint | None:
    for number, line in enumerate(text.splitlines(), 1):
        if found := COMMENT.search(line):
            dims = tuple(int(d) for d in re.split(r"\s*[,x×]\s*", found.group(2)))
            if all(d > 0 for d in dims):
                shown = ",".join(map(str, dims))
                return ShapeHint(f"{shown} — a comment on line {number}", dims)
    return None


def _layer_name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


Builder = ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef


def _init_of(scope: ast.AST) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    """The code that builds the layers: a class's __init__, or a helper function itself."""
    if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return scope
    body = scope.body if isinstance(scope, ast.ClassDef) else []
    return next((n for n in body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None)


def _value(node: ast.AST | None, known: dict[str, int]) -> int | None:
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.Name):
        return known.get(node.id)
    return None


def _bound(
    init: ast.FunctionDef | None, call: ast.Call | None, known: dict[str, int]
) -> dict[str, int]:
    """The integer values of `init`'s parameters: its defaults, then what `call` passes."""
    if init is None:
        return {}
    params = [a.arg for a in init.args.posonlyargs + init.args.args]
    if params[:1] == ["self"]:
        params = params[1:]
    values: dict[str, int] = {}
    for statement in init.body:  # `c_in = 3` before a loop that makes the layers
        if (
            isinstance(statement, ast.Assign)
            and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name)
            and (v := _value(statement.value, {})) is not None
        ):
            values.setdefault(statement.targets[0].id, v)
    defaults = init.args.defaults
    for name, default in zip(params[len(params) - len(defaults) :], defaults, strict=True):
        if (v := _value(default, {})) is not None:
            values[name] = v
    for arg, default in zip(init.args.kwonlyargs, init.args.kw_defaults, strict=True):
        if (v := _value(default, {})) is not None:
            values[arg.arg] = v
    if call is not None:
        for name, given in zip(params, call.args, strict=False):
            values.pop(name, None)
            if (v := _value(given, known)) is not None:
                values[name] = v
        for kw in call.keywords:
            if kw.arg:
                values.pop(kw.arg, None)
                if (v := _value(kw.value, known)) is not None:
                    values[kw.arg] = v
    return values


def _first_layer(
    scope: ast.AST,
    classes: dict[str, Builder],
    known: dict[str, int] | None = None,
    depth: int = 0,
) -> ShapeHint | None:
    """The first layer `scope` makes, following the file's own classes and functions it
    calls first (`self.inc = DoubleConv(3, 8)` → DoubleConv's first Conv2d, c_in = 3)."""
    classes = classes or {}
    known = _bound(_init_of(scope), None, {}) if known is None else known
    walked = _init_of(scope) or scope
    calls = [
        n
        for n in ast.walk(walked)
        if isinstance(n, ast.Call)
        and (_layer_name(n) in FIRST_LAYERS or (_layer_name(n) in classes and depth < 4))
    ]
    if not calls:
        return None
    first = min(calls, key=lambda c: (c.lineno, c.col_offset))
    layer = _layer_name(first)
    if layer not in FIRST_LAYERS:
        inner = classes[layer]
        return _first_layer(inner, classes, _bound(_init_of(inner), first, known), depth + 1)
    keyword, form, example = FIRST_LAYERS[layer]
    given = next((kw.value for kw in first.keywords if kw.arg == keyword), None)
    n = _value(given if given is not None else (first.args[0] if first.args else None), known)
    if n is None:  # an argument passed in: the form is known, the size is not
        shape = form.format(n="C" if layer.startswith("Conv") else "F")
        return ShapeHint(
            f"{shape} — the first layer is {layer} (line {first.lineno}); "
            f"its {keyword} is not a literal number there",
            sequence=layer in ("LSTM", "GRU", "RNN"),
        )
    shape = form.format(n=n)
    why = f"the first layer is {layer}({keyword}={n}), line {first.lineno}"
    more = f"; {example.format(n=n)}" if example else ""
    if layer == "Linear":
        return ShapeHint(f"{shape} — {why}", (n,))
    recurrent = layer in ("LSTM", "GRU", "RNN")
    dtype = "int64" if layer == "Embedding" else None
    return ShapeHint(f"{shape} — {why}{more}", sequence=recurrent, dtype=dtype)
