"""`export --to torchscript|onnx`: compiled models, each checked against the in-app model.

Both start from the exported Python source (so what is compiled is the code a user
reads), load the in-app model's weights into it strictly, compile, and compare the
compiled model's outputs with the in-app model's at two batch sizes before the file
is moved into place. Nothing is written when any step fails.

torch (and onnx) are imported inside the functions: importing this module is cheap.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import sys
import tempfile
import uuid
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.codegen.model import ModelCode, Port
from engine.codegen.problems import ExportError
from engine.codegen.python_file import project_model, python_source
from engine.common.atomic import replace_file
from engine.project.project import Project

if TYPE_CHECKING:
    import torch
    from torch import nn

    from engine.graph.shapes import Analysis

log = logging.getLogger(__name__)

# The batch sizes a compiled model is checked at: one it was traced with, one it was not.
CHECK_BATCHES = (2, 3)
# Kernels differ between eager torch and ONNX Runtime; a few ulps of float32 are expected.
ONNX_RTOL, ONNX_ATOL = 1e-3, 1e-4
ONNX_PACKAGES = ("onnx", "onnxscript", "onnxruntime")


class MissingPackages(Exception):
    """An optional package the export needs is not installed; the message says what to run."""


@dataclass(frozen=True)
class CheckResult:
    """How closely the compiled model matched the in-app model."""

    batches: tuple[int, ...]
    max_abs_diff: float


# ------------------------------------------------------------------ the model


@contextmanager
def exported_module(source: str, class_name: str) -> Iterator[nn.Module]:
    """Import the generated source as a module and construct its model class.

    It is imported from a real file, kept while the context lasts, because
    TorchScript reads a class's source through `inspect`, which needs one.
    """
    with tempfile.TemporaryDirectory(prefix="netloom-export-") as folder:
        module_name = f"netloom_export_{uuid.uuid4().hex}"
        file = Path(folder) / f"{module_name}.py"
        file.write_text(source, encoding="utf-8")
        spec = importlib.util.spec_from_file_location(module_name, file)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        try:
            spec.loader.exec_module(module)
            yield getattr(module, class_name)()
        finally:
            sys.modules.pop(module_name, None)


@contextmanager
def reference_and_export(
    project: Project,
    state_dict: dict[str, torch.Tensor] | None = None,
    analysis: Analysis | None = None,
) -> Iterator[tuple[nn.Module, nn.Module, ModelCode]]:
    """The in-app model and the exported module holding the same weights, in eval mode.

    Both are built from one shape pass: `analysis` if the caller has it, else run here.
    """
    from engine.graph.shapes import analyze
    from engine.model.build import build_model
    from engine.train.checkpoint import load_weights_strictly

    if analysis is None:
        analysis = analyze(project.graph)
    code = project_model(project, analysis)
    reference = build_model(project.graph, analysis)
    if state_dict is not None:
        load_weights_strictly(reference, state_dict)
    with exported_module(python_source(project, code), code.class_name) as exported:
        exported.load_state_dict(reference.state_dict(), strict=True)
        yield reference.eval(), exported.eval(), code


def example_inputs(ports: Sequence[Port], batch: int, seed: int = 0) -> tuple[torch.Tensor, ...]:
    """Random inputs fit for the model: floats, or token ids valid for any vocabulary."""
    import torch

    generator = torch.Generator().manual_seed(seed + batch)
    tensors = []
    for port in ports:
        size = (batch, *port.shape.dims)
        if port.dtype == "int64":
            tensors.append(torch.zeros(size, dtype=torch.long))
        else:
            tensors.append(torch.randn(size, generator=generator))
    return tuple(tensors)


def as_tuple(value: Any) -> tuple[Any, ...]:
    return value if isinstance(value, (tuple, list)) else (value,)


def compare(
    reference: nn.Module,
    run: Callable[[tuple[torch.Tensor, ...]], Sequence[Any]],
    code: ModelCode,
    rtol: float,
    atol: float,
    what: str,
) -> CheckResult:
    """Run both models at each check batch size; raise ExportError on any mismatch."""
    import numpy as np
    import torch

    worst = 0.0
    for batch in CHECK_BATCHES:
        inputs = example_inputs(code.inputs, batch)
        with torch.no_grad():
            expected = [t.numpy() for t in as_tuple(reference(*inputs))]
        got = [np.asarray(v) for v in run(inputs)]
        for port, want, have in zip(code.outputs, expected, got, strict=True):
            if want.shape != have.shape:
                raise ExportError(
                    [
                        f"{port.name}: the {what} gives shape {have.shape} at batch {batch}, "
                        f"the in-app model {want.shape}"
                    ]
                )
            diff = float(np.max(np.abs(want.astype(np.float64) - have))) if want.size else 0.0
            worst = max(worst, diff)
            if not np.allclose(have, want, rtol=rtol, atol=atol):
                raise ExportError(
                    [
                        f"{port.name}: the {what} differs from the in-app model by up to "
                        f"{diff:.3g} at batch {batch}"
                    ]
                )
    return CheckResult(CHECK_BATCHES, worst)


def _replace_atomically(write: Callable[[Path], None], path: Path) -> None:
    """Write through a temporary file in the target folder, renamed only on success.

    The file gets the mode any new file would (or keeps the one it had); see engine.common.atomic.
    """
    replace_file(path, write)


# ---------------------------------------------------------------- torchscript


def to_torchscript(
    project: Project,
    path: Path,
    state_dict: dict[str, torch.Tensor] | None = None,
    analysis: Analysis | None = None,
) -> CheckResult:
    """Script the exported module, check it (also after a save/load), write `path`."""
    import torch

    with reference_and_export(project, state_dict, analysis) as (reference, exported, code):
        scripted = _script(exported)

    def run(inputs: tuple[torch.Tensor, ...]) -> list[Any]:
        with torch.no_grad():
            return [t.numpy() for t in as_tuple(scripted(*inputs))]

    # The scripted graph runs the same kernels as eager torch: the outputs match exactly.
    compare(reference, run, code, rtol=0.0, atol=0.0, what="TorchScript model")

    def write(tmp: Path) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", (DeprecationWarning, FutureWarning))
            torch.jit.save(scripted, str(tmp))
            reloaded = torch.jit.load(str(tmp))

        def run_reloaded(inputs: tuple[torch.Tensor, ...]) -> list[Any]:
            with torch.no_grad():
                return [t.numpy() for t in as_tuple(reloaded(*inputs))]

        compare(reference, run_reloaded, code, 0.0, 0.0, "saved TorchScript model")

    _replace_atomically(write, path)
    log.info("%s: TorchScript outputs identical to the in-app model", path)
    return CheckResult(CHECK_BATCHES, 0.0)


# ----------------------------------------------------------------------- onnx


def missing_onnx_packages() -> list[str]:
    """The ONNX packages that cannot be imported (absent, or installed but broken)."""
    missing = []
    for name in ONNX_PACKAGES:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    return missing


def require_onnx() -> None:
    from engine.common.dependencies import missing_message

    if missing := missing_onnx_packages():
        raise MissingPackages(missing_message("ONNX export", missing))


def to_onnx(
    project: Project,
    path: Path,
    state_dict: dict[str, torch.Tensor] | None = None,
    analysis: Analysis | None = None,
) -> CheckResult:
    """Export with a dynamic batch axis, check with ONNX Runtime, write `path`."""
    require_onnx()
    import onnxruntime

    with reference_and_export(project, state_dict, analysis) as (reference, exported, code):
        program = _onnx_program(exported, code)
    result: list[CheckResult] = []

    def write(tmp: Path) -> None:
        program.save(str(tmp), external_data=False)
        session = onnxruntime.InferenceSession(str(tmp), providers=["CPUExecutionProvider"])
        names = [i.name for i in session.get_inputs()]

        def run(inputs: tuple[torch.Tensor, ...]) -> list[Any]:
            return session.run(None, {n: t.numpy() for n, t in zip(names, inputs, strict=True)})

        result.append(compare(reference, run, code, ONNX_RTOL, ONNX_ATOL, "ONNX model"))

    _replace_atomically(write, path)
    log.info("%s: ONNX Runtime within %.3g of the in-app model", path, result[0].max_abs_diff)
    return result[0]


def _script(exported: nn.Module) -> torch.jit.ScriptModule:
    import torch

    with warnings.catch_warnings():
        # torch.jit is deprecated in favour of torch.export, but it is still the one
        # format that loads in C++ and Python without the model's source.
        warnings.simplefilter("ignore", (DeprecationWarning, FutureWarning, UserWarning))
        try:
            return torch.jit.script(exported)
        except Exception as err:  # torch.jit raises many types; each is a refusal here
            raise ExportError(
                [f"TorchScript cannot compile the model: {_first_line(err)}"]
            ) from None


def _onnx_program(exported: nn.Module, code: ModelCode) -> Any:
    import torch

    batch = torch.export.Dim("batch")
    dynamic = {port.name: {0: batch} for port in code.inputs}
    example = example_inputs(code.inputs, CHECK_BATCHES[0])
    with warnings.catch_warnings(), _quiet_exporter_logs():
        warnings.simplefilter("ignore")
        try:
            return torch.onnx.export(
                exported,
                example,
                dynamo=True,
                input_names=[p.name for p in code.inputs],
                output_names=[p.name for p in code.outputs],
                dynamic_shapes=dynamic,
                verbose=False,
            )
        except Exception as err:  # the exporter raises many types; each is a refusal here
            raise ExportError([f"ONNX cannot express the model: {_first_line(err)}"]) from None


@contextmanager
def _quiet_exporter_logs() -> Iterator[None]:
    """Errors only from the exporter's loggers while it runs (it warns once for each
    torchvision operator it cannot register), their levels restored after."""
    loggers = [logging.getLogger(n) for n in ("torch.onnx", "torch.export", "onnxscript")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0][:300] if text else type(err).__name__
