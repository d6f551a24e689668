"""User code in a cage: an import runs in a child process, bounded in time, memory and output.

Importing `file.py:Class` runs the user's file and the model's code. That code may loop
forever, allocate without end, end the process or print without end; none of it may
touch the caller (the CLI or the window and its open project). So the import runs in a
child process of the same interpreter (`engine.importers.cage_child`), and this module
keeps it on a leash:

- time: the user's code gets `CageLimits.timeout` seconds from the moment it starts
  (NetLoom's own start in the child, mostly loading torch, has `STARTUP_LIMIT`);
- memory: on Linux the child sets its own address-space ceiling (RLIMIT_AS) before
  anything runs, so an endless allocation fails inside the child;
- output: what the child prints is drained and dropped; past `OUTPUT_LIMIT` bytes the
  child is stopped;
- the result comes back as data: the report and the project as plain JSON, the weights
  as a state_dict file read with `torch.load(weights_only=True)`. Nothing the user's
  code could have shaped is unpickled.

Every way the child can misbehave ends in one `CageFailure` line (exit 1), e.g.
`the model's __init__ did not return within 120 s`. No Qt here; the window polls a
`CagedImport` from a timer and can `cancel()` it at any moment.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from engine.graph.memory import available_bytes, human_bytes
from engine.importers.report import ImportReport, Issue, Unreadable

if TYPE_CHECKING:
    from engine.importers.check import ImportResult

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]  # the folder holding the `engine` package

DEFAULT_TIMEOUT = 120.0  # seconds the user's code may run (import --timeout)
STARTUP_LIMIT = 120.0  # seconds NetLoom's own start in the child may take (loading torch)
OUTPUT_LIMIT = 1024**2  # bytes the user's code may print before it is stopped
MIN_MEMORY_CEILING = 2 * 1024**3  # the default ceiling is never below this
RESULT_LIMIT = 256 * 1024**2  # bytes of JSON the child may hand back
POLL_SECONDS = 0.05

# What the child is doing, as it writes to its stage file; a time-out names the stage.
STAGES = {
    "start": "NetLoom's import process did not start within {limit}",
    "load": "running {file} did not finish within {limit}",
    "init": "the model's __init__ did not return within {limit}",
    "forward": "the model's forward did not return within {limit} (tracing and checking it)",
    "onnx": "reading the ONNX file did not finish within {limit}",
    "save": "handing back the imported model did not finish within {limit}",
}
USER_STAGES = ("load", "init", "forward", "onnx", "save")


class CageFailure(Exception):
    """The user's code misbehaved (hung, ended the process, ran out of memory, printed
    without end) or the child's answer is damaged: one line; `import` exits 1."""


@dataclass(frozen=True)
class ImportRequest:
    """One import, as the child receives it (plain JSON)."""

    source: str  # "path/to/file.py:Class" or "model.onnx"
    dims: tuple[int, ...] | None
    sequence: bool = False
    dtype: str | None = None
    args_text: str | None = None


@dataclass(frozen=True)
class CageLimits:
    timeout: float = DEFAULT_TIMEOUT
    memory_bytes: int | None = None  # None: default_memory_ceiling(); 0: no ceiling
    output_bytes: int = OUTPUT_LIMIT


def memory_ceiling_supported() -> bool:
    """RLIMIT_AS bounds a process's memory on Linux; macOS does not enforce it."""
    return sys.platform.startswith("linux")


def default_memory_ceiling() -> int:
    """The memory free when the import starts (at least `MIN_MEMORY_CEILING`): past it the
    machine would swap or the kernel would kill something."""
    return max(available_bytes() or 0, MIN_MEMORY_CEILING)


def memory_ceiling(limits: CageLimits) -> int | None:
    if not memory_ceiling_supported() or limits.memory_bytes == 0:
        return None
    return limits.memory_bytes or default_memory_ceiling()


def seconds(value: float) -> str:
    return f"{value:g} s"


class _Drain(threading.Thread):
    """Reads one of the child's output pipes to its end, so the child never blocks on a
    full pipe; counts the bytes and keeps the last few for a crash's message."""

    def __init__(self, stream: IO[bytes], cage: CagedImport) -> None:
        super().__init__(daemon=True, name="netloom-import-drain")
        self.stream = stream
        self.cage = cage
        self.tail: deque[bytes] = deque(maxlen=8)

    def run(self) -> None:
        with self.stream:
            while chunk := self.stream.read1(65536):  # type: ignore[attr-defined]
                self.tail.append(chunk[-512:])
                self.cage._printed(len(chunk))

    def last_line(self) -> str:
        text = b"".join(self.tail).decode("utf-8", "replace").strip()
        return text.splitlines()[-1][:200] if text else ""


class CagedImport:
    """One import running in a child process. `poll()` from a timer (the window) or
    `wait()` (the CLI); `cancel()` kills the child at once."""

    def __init__(self, request: ImportRequest, limits: CageLimits | None = None) -> None:
        self.request = request
        self.limits = limits or CageLimits()
        self.memory = memory_ceiling(self.limits)
        self.work = Path(tempfile.mkdtemp(prefix="netloom-import-"))
        self._lock = threading.Lock()
        self._output = 0
        self._overflowed = False
        self._done = False
        self._started = time.monotonic()
        self._user_started: float | None = None  # when the user's code began
        self._stage = "start"
        self._write_request()
        self.process = subprocess.Popen(
            [sys.executable, "-c", _CHILD_BOOT, str(self.work)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_child_environment(),
            start_new_session=os.name == "posix",  # its own group: kill takes its children too
        )
        # Dropped unfinished (a window closed mid-import, the interpreter exiting): the
        # child goes too.
        self._reaper = weakref.finalize(self, _reap, self.process, self.work)
        assert self.process.stdout is not None and self.process.stderr is not None
        self._drains = [_Drain(self.process.stdout, self), _Drain(self.process.stderr, self)]
        for drain in self._drains:
            drain.start()
        log.info("import of %s started in process %d", request.source, self.process.pid)

    # ------------------------------------------------------------------ the leash

    def _write_request(self) -> None:
        document: dict[str, Any] = {
            "source": self.request.source,
            "dims": list(self.request.dims) if self.request.dims is not None else None,
            "sequence": self.request.sequence,
            "dtype": self.request.dtype,
            "args_text": self.request.args_text,
            "memory_bytes": self.memory,
            "rng_state": _torch_rng_state(),
        }
        (self.work / "request.json").write_text(json.dumps(document), encoding="utf-8")

    def _printed(self, count: int) -> None:
        with self._lock:
            self._output += count
            over = self._output > self.limits.output_bytes and not self._overflowed
            if over:
                self._overflowed = True
        if over:
            self._kill()

    def _kill(self) -> None:
        if self.process.poll() is not None:
            return
        _kill_group(self.process)

    def _read_stage(self) -> str:
        try:
            stage = (self.work / "stage").read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            return self._stage
        return stage if stage in STAGES else self._stage

    def _time_out(self, now: float) -> str | None:
        """The message when the running stage has overrun its time, else None."""
        stage = self._read_stage()
        if stage != self._stage:
            self._stage = stage
            if stage in USER_STAGES and self._user_started is None:
                self._user_started = now
        if self._user_started is None:
            limit, began = STARTUP_LIMIT, self._started
        else:
            limit, began = self.limits.timeout, self._user_started
        if now - began <= limit:
            return None
        file = Path(self.request.source.rpartition(":")[0] or self.request.source).name
        return STAGES[self._stage].format(limit=seconds(limit), file=file)

    # ------------------------------------------------------------------ public

    @property
    def stage(self) -> str:
        """What the child is doing now (a key of STAGES)."""
        return self._stage

    @property
    def running(self) -> bool:
        return not self._done

    def poll(self) -> ImportResult | None:
        """None while the child runs; the result once it is done. Raises CageFailure
        (misbehaving code, cancelled) or Unreadable (the source cannot be imported)."""
        if self._done:
            raise CageFailure("this import has already finished")
        code = self.process.poll()
        if code is None:
            message = self._time_out(time.monotonic())
            if message is None:
                return None
            self._finish(kill=True)
            raise CageFailure(message)
        self._stage = self._read_stage()
        # Whatever the model's code started and left running (it would hold the output
        # pipes open) goes with the child.
        _kill_group(self.process)
        try:
            for drain in self._drains:
                drain.join(timeout=2)
            return self._collect(code)
        finally:
            self._finish(kill=False)

    def wait(self) -> ImportResult:
        while True:
            result = self.poll()
            if result is not None:
                return result
            try:
                self.process.wait(timeout=POLL_SECONDS)
            except subprocess.TimeoutExpired:
                pass

    def cancel(self) -> None:
        """Stop the import now (the window's Cancel); the child and its own children die."""
        if self._done:
            return
        self._finish(kill=True)
        log.info("import of %s cancelled", self.request.source)

    def _finish(self, kill: bool) -> None:
        if kill:
            self._kill()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                log.warning("import process %d did not end after SIGKILL", self.process.pid)
        self._done = True
        for drain in self._drains:  # each closes its pipe at the end of the child's output
            drain.join(timeout=1)
        shutil.rmtree(self.work, ignore_errors=True)

    # ------------------------------------------------------------------ the answer

    def _collect(self, code: int) -> ImportResult:
        if self._overflowed:
            raise CageFailure(
                f"the model's code printed more than {human_bytes(self.limits.output_bytes)}; "
                "the import was stopped"
            )
        answer = self.work / "result.json"
        if not answer.is_file():
            raise CageFailure(self._ended_without_answer(code))
        if answer.stat().st_size > RESULT_LIMIT:
            raise CageFailure(f"the import process handed back over {human_bytes(RESULT_LIMIT)}")
        try:
            document = json.loads(answer.read_text(encoding="utf-8"))
        except (ValueError, RecursionError) as err:
            raise CageFailure(f"the import process handed back damaged data ({err})") from None
        if not isinstance(document, dict):
            raise CageFailure("the import process handed back damaged data (not an object)")
        return self._outcome(document)

    def _ended_without_answer(self, code: int) -> str:
        last = self._drains[1].last_line()
        if self._stage == "start":  # NetLoom's own child failed before any user code ran
            return f"NetLoom's import process failed to start: {last or f'exit status {code}'}"
        if code >= 0:
            return f"the model's code ended the process (os._exit({code}))"
        name = _signal_name(-code)
        if -code == getattr(signal, "SIGKILL", None):
            return (
                f"the model's code was killed by the system ({name}), most likely for using "
                "more memory than the machine has free"
            )
        if self.memory is not None and -code in (signal.SIGABRT, signal.SIGSEGV):
            return (
                f"the model's code crashed the process ({name}); it may have run out of memory "
                f"(limit {human_bytes(self.memory)})"
            )
        return f"the model's code crashed the process ({name})" + (f": {last}" if last else "")

    def _outcome(self, document: dict[str, Any]) -> ImportResult:
        outcome = document.get("outcome")
        message = str(document.get("message", ""))[:1000]
        if outcome == "unreadable":
            raise Unreadable(message)
        if outcome == "exit":
            raise CageFailure(f"the model's code called sys.exit({message})")
        if outcome == "memory":
            where = f" at {message}" if message else ""
            limit = f"limit {human_bytes(self.memory)}" if self.memory else "no ceiling was set"
            raise CageFailure(f"the model's code ran out of memory{where} ({limit})")
        if outcome == "failed":
            raise CageFailure(f"the import failed: {message}")
        if outcome != "imported":
            raise CageFailure(f"the import process handed back an unknown outcome {outcome!r}")
        return self._imported(document)

    def _imported(self, document: dict[str, Any]) -> ImportResult:
        from engine.importers.check import ImportResult
        from engine.project.project import ProjectError, loads

        report = report_from_dict(document.get("report"))
        project_text = document.get("project")
        if project_text is None:
            return ImportResult(report)
        if not isinstance(project_text, str):
            raise CageFailure("the import process handed back damaged data (project)")
        try:
            project = loads(project_text)
        except ProjectError as err:
            raise CageFailure(f"the imported project does not load: {err}") from None
        return ImportResult(report, project, self._weights())

    def _weights(self) -> dict[str, Any]:
        import torch

        path = self.work / "weights.pt"
        if not path.is_file():
            return {}
        try:
            weights = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as err:  # a damaged or foreign file: weights_only refuses code
            raise CageFailure(f"the imported weights do not load: {err}") from None
        if not isinstance(weights, dict) or not all(
            isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in weights.items()
        ):
            raise CageFailure("the imported weights are not a state_dict of named tensors")
        return weights


def report_from_dict(doc: Any) -> ImportReport:
    """The child's report, checked field by field (it is data from another process)."""
    if not isinstance(doc, dict) or not isinstance(doc.get("source"), str):
        raise CageFailure("the import process handed back damaged data (report)")
    report = ImportReport(doc["source"])
    mapped, check = doc.get("mapped", 0), doc.get("check", "")
    if not isinstance(mapped, int) or not isinstance(check, str):
        raise CageFailure("the import process handed back damaged data (report counts)")
    report.mapped, report.check = mapped, check
    for raw in doc.get("issues", []):
        fields = ("place", "op", "why", "severity")
        if not isinstance(raw, dict) or not all(isinstance(raw.get(k), str) for k in fields):
            raise CageFailure("the import process handed back damaged data (report issue)")
        if raw["severity"] not in ("error", "note"):
            raise CageFailure(f"unknown report severity {raw['severity']!r}")
        report.issues.append(Issue(raw["place"], raw["op"], raw["why"], raw["severity"]))
    return report


def report_to_dict(report: ImportReport) -> dict[str, Any]:
    return {
        "source": report.source,
        "mapped": report.mapped,
        "check": report.check,
        "issues": [
            {"place": i.place, "op": i.op, "why": i.why, "severity": i.severity}
            for i in report.issues
        ],
    }


def import_in_cage(request: ImportRequest, limits: CageLimits | None = None) -> ImportResult:
    """Run the import in a child process and wait for it (the CLI's path)."""
    cage = CagedImport(request, limits)
    try:
        return cage.wait()
    finally:
        cage.cancel()


# The child's first lines: the working folder must not shadow torch or engine (a user's
# `torch.py` beside them), so it leaves sys.path, and NetLoom's root comes first.
_CHILD_BOOT = (
    "import sys; sys.path[:] = [p for p in sys.path if p not in ('', '.')]; "
    "from engine.importers.cage_child import main; main(sys.argv[1])"
)


def _child_environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    env["PYTHONIOENCODING"] = "utf-8"
    # glibc reserves 64 MB of address space per thread arena: under an address-space
    # ceiling that is waste, not memory the model uses.
    env.setdefault("MALLOC_ARENA_MAX", "2")
    return env


def _torch_rng_state() -> str | None:
    """The caller's torch random state, when torch is loaded: the child builds the model
    with the weights the same call in this process would have given."""
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    return bytes(torch.get_rng_state().tolist()).hex()


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the child and whatever it started (its own process group)."""
    try:
        if os.name == "posix":
            os.killpg(process.pid, signal.SIGKILL)
        elif process.poll() is None:
            process.kill()
    except (ProcessLookupError, PermissionError):  # the group is gone already
        if process.poll() is None:
            process.kill()


def _reap(process: subprocess.Popen[bytes], work: Path) -> None:
    if process.poll() is None:
        _kill_group(process)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            log.warning("import process %d did not end after SIGKILL", process.pid)
    shutil.rmtree(work, ignore_errors=True)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"
