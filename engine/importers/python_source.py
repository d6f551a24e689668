"""Load `path/to/file.py:ClassName` and build the model. This runs the user's file.

Every way it can fail becomes one `Unreadable` line naming the place (file:line where
the file itself raised), never a traceback; running out of memory is `OutOfMemory`, so
the import's cage (engine.importers.cage) can name the ceiling it hit.
"""

from __future__ import annotations

import functools
import importlib.util
import inspect
import json
import sys
import traceback
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

from torch import nn

from engine.importers.report import Unreadable


class OutOfMemory(Unreadable):
    """The user's code could not get the memory it asked for; the message is the place."""


def is_out_of_memory(err: BaseException) -> bool:
    """Python's MemoryError, or torch's CPU allocator refusing (a RuntimeError)."""
    return isinstance(err, MemoryError) or "can't allocate memory" in str(err)


def split_source(source: str) -> tuple[Path, str]:
    path_text, sep, class_name = source.rpartition(":")
    if not sep or not path_text.endswith(".py") or not class_name.isidentifier():
        raise Unreadable(f"{source}: expected path/to/file.py:ClassName or model.onnx")
    return Path(path_text), class_name


def shown(path: str | Path) -> str:
    """A path as the user would type it: relative to the working folder when inside it."""
    path = Path(path)
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def place_in(tb: TracebackType | None, files: set[str]) -> str | None:
    """file:line of the innermost frame of `tb` in one of `files`."""
    found = None
    for frame in traceback.extract_tb(tb):
        if str(Path(frame.filename).resolve()) in files:
            found = f"{shown(frame.filename)}:{frame.lineno}"
    return found


def first_line(err: BaseException) -> str:
    lines = str(err).strip().splitlines()
    return f"{type(err).__name__}: {lines[0][:300]}" if lines else type(err).__name__


@contextmanager
def loaded_module(path: Path) -> Iterator[Any]:
    """The file imported as a fresh module (its folder on sys.path while it loads)."""
    if not path.is_file():
        raise Unreadable(f"{path}: no such file")
    name = f"netloom_import_{uuid.uuid4().hex}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise Unreadable(f"{path}: cannot be imported as Python")
    module = importlib.util.module_from_spec(spec)
    folder = str(path.resolve().parent)
    sys.modules[name] = module
    sys.path.insert(0, folder)
    try:
        try:
            spec.loader.exec_module(module)
        except SyntaxError as err:
            raise Unreadable(f"{shown(path)}:{err.lineno}: SyntaxError: {err.msg}") from None
        except Exception as err:  # the user's file may raise anything while it loads
            where = place_in(err.__traceback__, {str(path.resolve())}) or shown(path)
            if is_out_of_memory(err):
                raise OutOfMemory(where) from None
            raise Unreadable(f"{where}: running the file raised {first_line(err)}") from None
        finally:
            if folder in sys.path:
                sys.path.remove(folder)
        yield module
    finally:
        sys.modules.pop(name, None)


def parse_args(text: str | None) -> tuple[list[Any], dict[str, Any]]:
    if not text:
        return [], {}
    try:
        value = json.loads(text)
    except ValueError as err:
        raise Unreadable(f"--args: invalid JSON: {err}") from None
    if isinstance(value, dict):
        return [], value
    if isinstance(value, list):
        return value, {}
    raise Unreadable(f"--args: expected a JSON object or list, got {text[:60]}")


Arguments = dict[str, dict[str, Any]]  # module path → its constructor's arguments


def _plain(value: Any) -> bool:
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    return isinstance(value, (bool, int, float, str)) or value is None


@contextmanager
def recording_arguments(module: Any) -> Iterator[dict[int, dict[str, Any]]]:
    """While open, each object built from one of the file's nn.Module classes leaves
    the plain values (numbers, strings, tuples of them) its constructor took, by the
    constructor's argument names, defaults included; keyed by the object's id."""
    recorded: dict[int, dict[str, Any]] = {}
    patched = []
    for cls in vars(module).values():
        if not (
            isinstance(cls, type)
            and issubclass(cls, nn.Module)
            and cls.__module__ == module.__name__
            and "__init__" in vars(cls)
        ):
            continue
        original = cls.__init__
        try:
            signature = inspect.signature(original)
        except (TypeError, ValueError):
            continue

        def init(
            self: nn.Module,
            *args: Any,
            _original: Any = original,
            _signature: inspect.Signature = signature,
            **kwargs: Any,
        ) -> None:
            if id(self) not in recorded:  # the outermost class's own arguments
                try:
                    bound = _signature.bind(self, *args, **kwargs)
                except TypeError:
                    bound = None
                if bound is not None:
                    bound.apply_defaults()
                    recorded[id(self)] = {
                        name: value
                        for name, value in list(bound.arguments.items())[1:]
                        if _signature.parameters[name].kind
                        in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
                        and _plain(value)
                    }
            _original(self, *args, **kwargs)

        functools.update_wrapper(init, original)
        patched.append((cls, original))
        cls.__init__ = init  # type: ignore[method-assign]
    try:
        yield recorded
    finally:
        for cls, original in patched:
            cls.__init__ = original  # type: ignore[method-assign]


def constructor_arguments(model: nn.Module, recorded: dict[int, dict[str, Any]]) -> Arguments:
    """The recorded constructor arguments of the model's submodules, by module path."""
    return {path: recorded[id(m)] for path, m in model.named_modules() if id(m) in recorded}


def build_module(module: Any, path: Path, class_name: str, args_text: str | None) -> nn.Module:
    cls = getattr(module, class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
        found = sorted(
            k
            for k, v in vars(module).items()
            if isinstance(v, type) and issubclass(v, nn.Module) and v.__module__ == module.__name__
        )
        what = "has no nn.Module class" if cls is None else "defines, but not as an nn.Module,"
        raise Unreadable(
            f"{shown(path)} {what} {class_name} (its nn.Module classes: "
            f"{', '.join(found) or 'none'})"
        )
    args, kwargs = parse_args(args_text)
    try:
        return cls(*args, **kwargs)
    except Exception as err:  # the constructor is the user's code
        where = place_in(err.__traceback__, {str(path.resolve())}) or shown(path)
        if is_out_of_memory(err):
            raise OutOfMemory(where) from None
        raise Unreadable(f"{where}: {class_name}(…) raised {first_line(err)}") from None
