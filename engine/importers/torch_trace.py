"""Tracing a PyTorch model for import: torch.fx's graph of it, one run of that graph on
the probe input, and where in the model's own code a node or an error comes from.

`engine.importers.from_torch` maps the traced nodes to blocks; this module only reads
the model. A trace it cannot make goes into the report at the model's line; a forward
that fails on the probe raises `Unreadable` naming that line.
"""

from __future__ import annotations

import functools
import inspect
import re
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import fx, nn

from engine.importers import python_source
from engine.importers.report import ImportReport, Unreadable

_FRAME = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+)')
_TORCH_DIR = str(Path(torch.__file__).resolve().parent)
_IMPORTERS_DIR = str(Path(__file__).resolve().parent)

# module path → the fx nodes its forward got, by argument name (`x`, `skip`)
Arguments = dict[str, dict[fx.Node, str]]


@dataclass(frozen=True)
class Trace:
    """A traced model: its graph, and what each of its own modules' forward was given."""

    module: fx.GraphModule
    arguments: Arguments


def node_scope(node: fx.Node) -> str:
    """The path of the innermost module whose forward made this fx node ("" for the model's)."""
    stack = node.meta.get("nn_module_stack") or {}
    return str(list(stack.values())[-1][0]) if stack else ""


class _Tracer(fx.Tracer):
    def __init__(self) -> None:
        super().__init__()
        self.record_stack_traces = True
        self.arguments: Arguments = {}

    def call_module(
        self, m: nn.Module, forward: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        try:
            path = self.path_of_module(m)
            bound = inspect.signature(m.forward).bind(*args, **kwargs).arguments
        except (NameError, TypeError, ValueError):
            bound = {}
        if bound and not self.is_leaf_module(m, path):
            self.arguments[path] = {
                v.node: name for name, v in bound.items() if isinstance(v, fx.Proxy)
            }
        return super().call_module(m, forward, args, kwargs)


class _Recorder(fx.Interpreter):
    """Runs the traced graph and keeps every node's result."""

    def __init__(self, gm: fx.GraphModule) -> None:
        super().__init__(gm, garbage_collect_values=False)
        self.results: dict[fx.Node, Any] = {}
        self.failed: fx.Node | None = None

    def run_node(self, n: fx.Node) -> Any:
        self.failed = n
        result = super().run_node(n)
        self.failed = None
        self.results[n] = result
        return result


@contextmanager
def buffers_kept(model: nn.Module) -> Iterator[None]:
    """Running the model in training mode moves its BatchNorm statistics (a functional
    F.batch_norm(…, training=True) does, traced so): put them back as they were."""
    kept = [(buffer, buffer.detach().clone()) for buffer in model.buffers()]
    try:
        yield
    finally:
        with torch.no_grad():
            for buffer, value in kept:
                buffer.copy_(value)


def trace(model: nn.Module, report: ImportReport, name: str) -> Trace | None:
    """The model traced in training mode, or None with the reason in `report`."""
    tracer = _Tracer()
    # Traced in training mode, so `if self.training:` branches and F.dropout(…,
    # self.training) come out as the model trains; probed and compared in eval mode.
    model.train()
    try:
        with buffers_kept(model):  # timm's BatchNormAct2d counts the trace as a batch
            graph = tracer.trace(model)
    except Exception as err:  # fx refuses in many ways; each is reported at its line
        text = str(err)
        if "control flow" in text or "iterate" in text.lower():
            op = "control flow on a tensor"
            why = (
                "an `if`, loop or len() that depends on the input's values or sizes; "
                "a NetLoom graph is the same for every input (torch.export cannot "
                "trace it either without torch.cond)"
            )
        else:
            op, why = (
                "trace",
                f"torch.fx cannot trace the model: {python_source.first_line(err)}",
            )
        report.error(error_place(err, name), op, why)
        return None
    finally:
        model.eval()
    # No dead-code elimination: a layer whose result feeds nothing still runs (in
    # training it updates BatchNorm statistics), as it does in NetLoom; an unused part
    # of a result (the c_n of `out, (h, c) = self.lstm(x)`) maps to nothing anyway.
    return Trace(fx.GraphModule(tracer.root, graph), tracer.arguments)


def probe_results(gm: fx.GraphModule, probe: torch.Tensor, name: str) -> dict[fx.Node, Any]:
    """Every node's result on the probe input; `Unreadable` at the line that fails."""
    recorder = _Recorder(gm)
    try:
        with torch.no_grad(), buffers_kept(gm):
            recorder.run(probe)
    except Exception as err:  # the model's own forward failed on this input
        failed = recorder.failed
        where = node_place(failed, name) if failed is not None else error_place(err, name)
        raise Unreadable(
            f"{where}: the model fails on an input of shape {tuple(probe.shape)} "
            f"({python_source.first_line(err)}); check --input-shape and --dtype"
        ) from None
    return recorder.results


@functools.cache  # asked for every frame of every node's stack: thousands per model
def _user_file(filename: str) -> bool:
    """Whether a stack frame is the model's code rather than torch's or NetLoom's."""
    where = str(Path(filename).resolve())
    return not filename.startswith("<") and not where.startswith((_TORCH_DIR, _IMPORTERS_DIR))


def error_place(err: BaseException, name: str) -> str:
    """file:line of the innermost frame of the model's own code in a traceback (else
    `name`, the model's)."""
    found = name
    for frame in traceback.extract_tb(err.__traceback__):
        if _user_file(frame.filename):
            found = f"{python_source.shown(frame.filename)}:{frame.lineno}"
    return found


def node_place(node: fx.Node, name: str) -> str:
    """file:line of the model's own code that made an fx node (else `name (node)`)."""
    frames = [(f, line) for f, line in _FRAME.findall(node.stack_trace or "") if _user_file(f)]
    if frames:
        file, line = frames[-1]
        return f"{python_source.shown(file)}:{line}"
    return f"{name} ({node.name})"
