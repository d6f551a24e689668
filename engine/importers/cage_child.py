"""The child side of the import cage (engine.importers.cage): run one import, hand it back.

Started as `python -c "…main(WORK)"` by `CagedImport`. It reads WORK/request.json, sets
its own memory ceiling before anything else loads, marks each stage in WORK/stage (so a
time-out can say where the code hung), and writes WORK/weights.pt (a plain state_dict)
and then WORK/result.json (plain JSON). It leaves with `os._exit`, so threads or
`atexit` hooks the user's code left behind cannot keep it alive.
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from pathlib import Path
from typing import Any


def set_stage(work: Path, stage: str) -> None:
    temporary = work / "stage.tmp"
    temporary.write_text(stage, encoding="ascii")
    os.replace(temporary, work / "stage")


def limit_memory(ceiling: int | None) -> None:
    """The address-space ceiling (Linux): past it, allocations fail inside this process."""
    import resource

    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a crash leaves no core file
    if ceiling is None:
        return
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        ceiling = min(ceiling, hard)
    resource.setrlimit(resource.RLIMIT_AS, (ceiling, hard))


def write_answer(work: Path, document: dict[str, Any]) -> None:
    temporary = work / "result.tmp"
    temporary.write_text(json.dumps(document), encoding="utf-8")
    os.replace(temporary, work / "result.json")


def run_request(work: Path, request: dict[str, Any]) -> dict[str, Any]:
    import torch

    from engine.importers import python_source
    from engine.importers.cage import report_to_dict
    from engine.importers.check import ImportResult, InputSpec
    from engine.importers.run import import_onnx_source
    from engine.project.project import dumps

    if request.get("rng_state"):
        state = bytes.fromhex(request["rng_state"])
        torch.set_rng_state(torch.tensor(list(state), dtype=torch.uint8))
    dims = tuple(request["dims"]) if request.get("dims") is not None else None
    source: str = request["source"]
    result: ImportResult
    if source.lower().endswith(".onnx"):
        set_stage(work, "onnx")
        result = import_onnx_source(source, dims, request["sequence"], request["dtype"])
    else:
        from engine.importers.from_torch import TorchImporter

        # engine.importers.from_torch.import_python, with a stage mark between its steps
        if dims is None:
            raise python_source.Unreadable("--input-shape is required for a .py source")
        spec = InputSpec(dims, request["sequence"], request["dtype"] or "float32")
        path, class_name = python_source.split_source(source)
        set_stage(work, "load")
        with python_source.loaded_module(path) as module:
            set_stage(work, "init")
            with python_source.recording_arguments(module) as recorded:
                model = python_source.build_module(module, path, class_name, request["args_text"])
            set_stage(work, "forward")
            importer = TorchImporter(model, spec, f"{python_source.shown(path)}:{class_name}", path)
            importer.constructed = python_source.constructor_arguments(model, recorded)
            result = importer.run()
    set_stage(work, "save")
    document: dict[str, Any] = {"outcome": "imported", "report": report_to_dict(result.report)}
    document["project"] = dumps(result.project) if result.project is not None else None
    if result.project is not None:
        weights = {k: v.detach().cpu().contiguous() for k, v in result.state_dict.items()}
        torch.save(weights, work / "weights.pt")
    return document


def main(work_text: str) -> None:
    work = Path(work_text)
    set_stage(work, "start")
    request = json.loads((work / "request.json").read_text(encoding="utf-8"))
    memory = request.get("memory_bytes")
    answer: dict[str, Any]
    try:
        if sys.platform.startswith("linux"):
            limit_memory(memory)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            answer = run_request(work, request)
    except SystemExit as err:  # the user's code called sys.exit
        answer = {"outcome": "exit", "message": repr(err.code) if err.code is not None else ""}
    except BaseException as err:  # everything else becomes one line in the parent
        answer = describe(err)
    try:
        write_answer(work, answer)
    except MemoryError:
        os._exit(3)
    sys.stdout.flush()
    os._exit(0)


def describe(err: BaseException) -> dict[str, Any]:
    from engine.importers.python_source import OutOfMemory, first_line, is_out_of_memory
    from engine.importers.report import Unreadable

    if isinstance(err, OutOfMemory):
        return {"outcome": "memory", "message": str(err)}
    text = str(err)
    if isinstance(err, Unreadable):
        if is_out_of_memory(err) or "MemoryError" in text:  # the model's forward, reported
            return {"outcome": "memory", "message": text.partition(": ")[0]}
        return {"outcome": "unreadable", "message": text}
    if is_out_of_memory(err):
        return {"outcome": "memory", "message": ""}
    return {"outcome": "failed", "message": first_line(err)}
