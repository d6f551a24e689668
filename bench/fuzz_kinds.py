"""The kinds of broken input bench/fuzz_bench.py feeds NetLoom: project files, Look inside
records and run records. Each kind makes case `index` from its seed (the same index gives the
same file) and judges what NetLoom did with it as an Outcome."""

from __future__ import annotations

import codecs
import contextlib
import copy
import io
import json
import random
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.engine.json_mutations import (  # noqa: E402
    VALUES,
    Case,
    json_paths,
    judge,
    path_text,
)

TEMPLATES = sorted((ROOT / "templates").glob("*.json"))
MEMORY_LIMIT = 3 * 1024**3  # a worker that allocates without end fails, not the machine


@dataclass(frozen=True)
class Outcome:
    """What one case gave: "ok" (accepted or refused as it should be), "traceback" or
    "bad" (a refusal whose message is wrong); `detail` says what and where."""

    status: str
    detail: str = ""
    seconds: float = 0.0


# ------------------------------------------------------------- byte-level mutations


def cut(rng: random.Random, data: bytes) -> bytes:
    return data[: rng.randrange(len(data))]


def flip(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
    return bytes(out)


def insert(rng: random.Random, data: bytes) -> bytes:
    at = rng.randrange(len(data))
    noise = rng.choice([bytes(rng.randrange(256) for _ in range(rng.randint(1, 16))), b"\x00"])
    return data[:at] + noise + data[at:]


def delete(rng: random.Random, data: bytes) -> bytes:
    at = rng.randrange(len(data))
    return data[:at] + data[at + rng.randint(1, 64) :]


def splice(rng: random.Random, data: bytes) -> bytes:
    start = rng.randrange(len(data))
    chunk = data[start : start + rng.randint(1, 400)]
    at = rng.randrange(len(data))
    return data[:at] + chunk + data[at:]


def encoding(rng: random.Random, data: bytes) -> bytes:
    text = data.decode("utf-8").replace('"name": "', '"name": "é ', 1)
    chosen = rng.choice(["utf-16", "utf-16-le", "utf-16-be", "utf-32", "cp1252", "latin-1"])
    encoded = text.encode(chosen, errors="replace")
    return codecs.BOM_UTF8 + encoded if rng.random() < 0.2 else encoded


BYTE_FAMILIES: dict[str, Callable[[random.Random, bytes], bytes]] = {
    "cut": cut,
    "flip": flip,
    "insert": insert,
    "delete": delete,
    "splice": splice,
    "encoding": encoding,
}


# --------------------------------------------------------------- project files


class ProjectKind:
    """Project files through `check`: the every-field product, then other mutations."""

    name = "project"

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.docs = {t.stem: json.loads(t.read_text(encoding="utf-8")) for t in TEMPLATES}
        self.texts = {t.stem: t.read_bytes() for t in TEMPLATES}
        self.every_field = [
            Case(stem, path, value)
            for stem, doc in self.docs.items()
            for path in json_paths(doc)
            for value in VALUES
        ]
        self.file = Path(tempfile.mkdtemp(prefix="netloom-fuzz-")) / "mutated.json"

    def describe(self, index: int) -> str:
        if index < len(self.every_field):
            case = self.every_field[index]
            return f"{case.template}: {path_text(case.path) or '(whole file)'} = {case.value!r}"
        stem, family, _ = self._other(index)
        return f"{stem}: {family} #{index}"

    def _other(self, index: int) -> tuple[str, str, random.Random]:
        rng = random.Random(f"{self.seed}/project/{index}")
        from tests.engine import test_fuzz

        families = [*BYTE_FAMILIES, *test_fuzz.MUST_BREAK, *test_fuzz.MAY_PASS]
        return rng.choice(sorted(self.docs)), rng.choice(families), rng

    def make(self, index: int) -> tuple[bytes, Case, dict[str, Any]]:
        if index < len(self.every_field):
            case = self.every_field[index]
            doc = self.docs[case.template]
            return case.text(copy.deepcopy(doc)).encode(), case, doc
        stem, family, rng = self._other(index)
        doc = self.docs[stem]
        if family in BYTE_FAMILIES:
            data = BYTE_FAMILIES[family](rng, self.texts[stem])
        else:
            from tests.engine import test_fuzz

            mutation = test_fuzz.MUST_BREAK.get(family) or test_fuzz.MAY_PASS[family]
            text = self.texts[stem].decode()
            data = mutation(rng, copy.deepcopy(doc), text).encode("utf-8", "surrogatepass")
        return data, Case(stem, (), None), doc  # no path: any place may be named

    def run(self, index: int) -> Outcome:
        from engine.cli.main import run

        data, case, doc = self.make(index)
        self.file.write_bytes(data)
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = run(["check", str(self.file)])
        problem = judge(case, doc, code, out.getvalue(), err.getvalue(), str(self.file))
        return Outcome("bad", problem) if problem else Outcome("ok")

    def total(self, wanted: int) -> int:
        return max(wanted, len(self.every_field) + wanted // 4)


# ------------------------------------------------------------ Look inside records


def inside_record() -> dict[str, Any]:
    """A small valid Look inside record: two flow samples and one epoch's histograms."""
    histogram = {"counts": [1, 3, 2], "edges": [-1.0, 0.0, 0.5, 1.0]}
    sample = {
        "epoch": 1,
        "batch": 4,
        "batches": 10,
        "grad_norm": {"conv1": 0.5, "dense1": 0.25},
        "update_ratio": {"conv1": 0.001, "dense1": 0.002},
        "through_time": {"lstm1": 0.1},
        "every": 2,
    }
    return {
        "format": 1,
        "flow": [sample, {**sample, "batch": 8}],
        "histograms": [
            {
                "epoch": 1,
                "samples": 16,
                "weights": {"conv1": histogram},
                "activations": {"conv1": histogram, "relu1": histogram},
            }
        ],
    }


class InsideKind:
    """Look inside records through RunInside.load."""

    name = "inside"

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.doc = inside_record()
        self.text = json.dumps(self.doc).encode()
        self.every_field = [
            Case("inside", path, value) for path in json_paths(self.doc) for value in VALUES
        ]
        self.file = Path(tempfile.mkdtemp(prefix="netloom-fuzz-")) / "run-1-inside.json"

    def describe(self, index: int) -> str:
        if index < len(self.every_field):
            case = self.every_field[index]
            return f"inside: {path_text(case.path) or '(whole file)'} = {case.value!r}"
        return f"inside: {self._family(index)[0]} #{index}"

    def _family(self, index: int) -> tuple[str, random.Random]:
        rng = random.Random(f"{self.seed}/inside/{index}")
        return rng.choice(sorted(BYTE_FAMILIES)), rng

    def run(self, index: int) -> Outcome:
        from gui.run.inside_record import InsideRecordError, RunInside

        if index < len(self.every_field):
            data = self.every_field[index].text(copy.deepcopy(self.doc)).encode()
        else:
            family, rng = self._family(index)
            data = BYTE_FAMILIES[family](rng, self.text)
        self.file.write_bytes(data)
        try:
            RunInside.load(self.file)
        except (InsideRecordError, OSError) as err:
            message = str(err)
            if "\n" in message or not message.startswith(str(self.file)):
                return Outcome("bad", f"not one line naming the file: {message[:200]!r}")
        return Outcome("ok")

    def total(self, wanted: int) -> int:
        return max(wanted, len(self.every_field) * 2)


# ------------------------------------------------------------------ run records


class RunsKind:
    """Run records: the runs database (runs.db) as the Runs tab lists and restores it.

    A record's stored project, training config and epoch metrics get every field x
    every JSON type; the database file itself gets byte-level mutations. Reading
    lists the runs and their epochs and restores each run's project and config; a run
    listed as damaged, a RunStoreError, ProjectError or ConfigError is a refusal in
    words (one line), anything else a traceback.
    """

    name = "runs"
    COLUMNS = {"project": "project_json", "config": "config_json", "metrics": "metrics_json"}

    def __init__(self, seed: int) -> None:
        from engine.history.runs import RunStore

        self.seed = seed
        folder = Path(tempfile.mkdtemp(prefix="netloom-fuzz-"))
        self.project = json.loads((ROOT / "templates" / "cnn_digits.json").read_text())
        self.config = {**self.project["training"], "optimizer": "adam"}
        self.metrics = {"loss": 0.5, "accuracy": 0.875}
        original = folder / "original.db"
        store = RunStore(original)
        run_id = store.start_run(self.project, self.config)
        for epoch in (1, 2):
            store.add_epoch(run_id, epoch, "train", self.metrics)
            store.add_epoch(run_id, epoch, "val", self.metrics)
            store.add_batch_losses(run_id, epoch, 4, [0.9, 0.7, 0.6, 0.5])
        store.finish_run(run_id, "finished", "", str(folder / "run-1.pt"))
        store.close()
        self.data = original.read_bytes()
        self.file = folder / "runs.db"
        docs = {"project": self.project, "config": self.config, "metrics": self.metrics}
        self.docs = docs
        self.every_field = [
            Case(part, path, value)
            for part, doc in docs.items()
            for path in json_paths(doc)
            for value in VALUES
        ]

    def describe(self, index: int) -> str:
        if index < len(self.every_field):
            case = self.every_field[index]
            return f"runs: {case.template}.{path_text(case.path) or '(whole)'} = {case.value!r}"
        return f"runs: {self._family(index)[0]} of the database file #{index}"

    def _family(self, index: int) -> tuple[str, random.Random]:
        rng = random.Random(f"{self.seed}/runs/{index}")
        return rng.choice(sorted(set(BYTE_FAMILIES) - {"encoding"})), rng

    def _write(self, index: int) -> None:
        import sqlite3

        self.file.write_bytes(self.data)
        if index >= len(self.every_field):
            family, rng = self._family(index)
            self.file.write_bytes(BYTE_FAMILIES[family](rng, self.data))
            return
        case = self.every_field[index]
        text = case.text(copy.deepcopy(self.docs[case.template]))
        table = "epochs" if case.template == "metrics" else "runs"
        with contextlib.closing(sqlite3.connect(self.file)) as db, db:
            db.execute(f"UPDATE {table} SET {self.COLUMNS[case.template]} = ?", (text,))

    def run(self, index: int) -> Outcome:
        from engine.history.runs import RunStore, RunStoreError
        from engine.project.project import ProjectError, from_dict
        from engine.train.config import ConfigError, TrainConfig

        self._write(index)
        said: list[str] = []  # every refusal in words, each to be one line
        try:
            store = RunStore(self.file)
        except RunStoreError as err:
            said.append(str(err))
        else:
            try:
                for record in store.runs():
                    if record.damage:  # listed as damaged, as the Runs tab shows it
                        said.append(record.damage)
                        continue
                    try:
                        store.epochs(record.id)
                        from_dict(record.project)
                        TrainConfig.from_dict(record.config)
                    except (ProjectError, ConfigError, RunStoreError) as err:
                        said.append(str(err))
            except RunStoreError as err:
                said.append(str(err))
            finally:
                store.close()
        for message in said:
            if "\n" in message or not message:
                return Outcome("bad", f"not one line: {message[:200]!r}")
        return Outcome("ok")

    def total(self, wanted: int) -> int:
        return max(wanted, len(self.every_field) + wanted // 4)


KINDS: dict[str, Callable[[int], Any]] = {
    "project": ProjectKind,
    "inside": InsideKind,
    "runs": RunsKind,
}
