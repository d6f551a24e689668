"""Seeded mutations of every template through `check`, in-process.

Whatever a file holds, `check` ends with exit 0, 1 or 2, never an exception; a
refusal says why on stderr in lines that start with the place, and a mutation that
must break the file (truncation, deep nesting, surrogates, duplicate ids, cycles,
wires to missing ports) is refused. Families of attacks:

  truncate      the file cut at a random byte
  retype        a value at a random JSON path replaced by one of another type
  numbers       a number replaced by a huge, negative, tiny or over-long one
  nesting       a value replaced by lists nested 40 to 100,000 deep
  surrogate     a lone surrogate escape written into a string
  duplicate-id  one node given another's id
  colliding-id  an id upper-cased beside the original ("Dense1" and "dense1")
  cycle         a wire from a later block back to an earlier one
  missing-port  a wire into a port the block does not have, or from no block
  training      a training setting given a wrong type or value

Every case is derived from its seed, so a failure names a reproducible file.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from engine.cli.main import run
from tests.engine.json_mutations import VALUES, Case, json_paths, json_type, judge, path_text
from tests.helpers import TEMPLATES

CASES_PER_FAMILY = 4  # per template: 10 families × 9 templates × 4 = 360 files

Mutation = Callable[[random.Random, dict[str, Any], str], str]


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every JSON path in a document, as tuples of keys and indices."""
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += paths(item, (*prefix, i))
    return found


def set_at(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return doc


MARK = "@@FUZZ@@"


def with_raw(doc: Any, path: tuple[Any, ...], raw: str) -> str:
    """The document as text with the value at `path` replaced by raw JSON text."""
    return json.dumps(set_at(doc, path, MARK)).replace(json.dumps(MARK), raw, 1)


def truncate(rng: random.Random, doc: dict[str, Any], text: str) -> str:
    return text[: rng.randrange(0, len(text) - 1)]


OTHER_TYPES: list[Any] = [None, True, 0, -1, 2.5, "x", "", [], [1, "a"], {}, {"a": 1}]


def retype(rng: random.Random, doc: dict[str, Any], text: str) -> str:
    path = rng.choice(paths(doc))
    current = _get(doc, path)
    choices = [v for v in OTHER_TYPES if type(v) is not type(current)]
    return json.dumps(set_at(doc, path, rng.choice(choices)))


def _get(doc: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        doc = doc[key]
    return doc


NUMBERS = ["1" * 5000, "9" * 400, "-1", "-100000000000000000000", "1e308", "1e400", "-0.0", "0"]


def numbers(rng: random.Random, doc: dict[str, Any], text: str) -> str:
    numeric = [
        p for p in paths(doc) if isinstance(_get(doc, p), (int, float)) and p[-1:] != ("version",)
    ]
    path = rng.choice(numeric)
    return with_raw(doc, path, rng.choice(NUMBERS))


def nesting(rng: random.Random, doc: dict[str, Any], text: str) -> str:
    depth = rng.choice([40, 500, 5000, 100_000])
    path = rng.choice(paths(doc))
    return with_raw(doc, path, "[" * depth + "]" * depth)


def surrogate(rng: random.Random, doc: dict[str, Any], text: str) -> str:
    strings = [p for p in paths(doc) if isinstance(_get(doc, p), str)]
    path = rng.choice(strings)
    escape = rng.choice(["\\ud800", "\\udc80", "\\udfff"])
    return with_raw(doc, path, json.dumps(_get(doc, path))[:-1] + escape + '"')


def duplicate_id(rng: random.Random, doc: dict[str, Any], text: str) -> str:
    a, b = rng.sample(range(len(doc["nodes"])), 2)
    doc["nodes"][a]["id"] = doc["nodes"][b]["id"]
    return json.dumps(doc)


def colliding_id(rng: random.Random, doc: dict[str, Any], text: str) -> str:
    node = rng.choice(doc["nodes"])
    twin = {**node, "id": node["id"].capitalize(), "pos": [0, 0]}
    doc["nodes"].insert(rng.randrange(len(doc["nodes"]) + 1), twin)
    return json.dumps(doc)


def cycle(rng: random.Random, doc: dict[str, Any], text: str) -> str:
    # A wire into a free port of an Add made for it, from a block downstream of it,
    # or (when the template's order allows) straight back into an earlier block.
    edge = rng.choice([e for e in doc["edges"] if not e["target"].startswith("__")])
    doc["nodes"].append({"id": "fuzzadd", "type": "Add", "params": {}, "pos": [0, 0]})
    doc["edges"].remove(edge)
    doc["edges"] += [
        {"source": edge["source"], "target": "fuzzadd", "target_port": "in1"},
        {"source": "fuzzadd", "target": edge["target"], "target_port": edge["target_port"]},
        {"source": edge["target"], "target": "fuzzadd", "target_port": "in2"},
    ]
    return json.dumps(doc)


def missing_port(rng: random.Random, doc: dict[str, Any], text: str) -> str:
    edge = rng.choice(doc["edges"])
    if rng.random() < 0.5:
        edge["target_port"] = rng.choice(["image", "in9", "", "x "])
    else:
        edge[rng.choice(["source", "target"])] = rng.choice(["nowhere", "Conv1", "0"])
    return json.dumps(doc)


TRAINING_VALUES: list[Any] = ["abc", -1, 0, 10**30, None, [], {"a": 1}, True, 1e-300]


def training(rng: random.Random, doc: dict[str, Any], text: str) -> str:
    key = rng.choice(
        ["lr", "batch_size", "optimizer", "momentum", "val_split", "schedule", "dataset", "typo"]
    )
    doc.setdefault("training", {})[key] = rng.choice(TRAINING_VALUES)
    return json.dumps(doc)


# Families whose every mutation leaves a file `check` must refuse.
MUST_BREAK: dict[str, Mutation] = {
    "truncate": truncate,
    "nesting": nesting,
    "surrogate": surrogate,
    "duplicate-id": duplicate_id,
    "cycle": cycle,
    "missing-port": missing_port,
}
# Families that may happen to leave a valid file (a name retyped to "x" still reads).
MAY_PASS: dict[str, Mutation] = {
    "retype": retype,
    "numbers": numbers,
    "colliding-id": colliding_id,
    "training": training,
}

CASES = [
    (template, family, seed)
    for template in TEMPLATES
    for family in (*MUST_BREAK, *MAY_PASS)
    for seed in range(CASES_PER_FAMILY)
]


def mutate(template: Path, family: str, seed: int) -> str:
    text = template.read_text(encoding="utf-8")
    rng = random.Random(f"{template.stem}/{family}/{seed}")
    mutation = MUST_BREAK.get(family) or MAY_PASS[family]
    return mutation(rng, json.loads(text), text)


def check_once(path: Path, family: str, capsys: pytest.CaptureFixture[str]) -> str | None:
    """Run `check` on one mutated file; what is wrong with the outcome, or None."""
    code = run(["check", str(path)])  # an exception escaping fails the test here
    captured = capsys.readouterr()
    if code not in (0, 1, 2):
        return f"exit {code}"
    if family in MUST_BREAK and code == 0:
        return "accepted, but the mutation breaks the file"
    if code == 0:
        return f"exit 0 with errors: {captured.err!r}" if captured.err else None
    lines = captured.err.strip().splitlines()
    if not lines:
        return f"exit {code} without a message"
    if code == 2:  # unreadable: exactly one line, naming the file and the place
        if len(lines) != 1 or not lines[0].startswith(f"error: {path}: ") or len(lines[0]) > 400:
            return f"not one line naming the file: {captured.err!r}"
        return None
    # graph errors: a count, then one line per problem
    if not lines[0].endswith("error(s):") or not all(
        line.startswith("  ") and len(line) < 400 for line in lines[1:]
    ):
        return f"unexpected error listing: {captured.err!r}"
    return None


@pytest.mark.parametrize("template", TEMPLATES, ids=[t.stem for t in TEMPLATES])
def test_mutations_of_a_template_are_checked_without_an_exception(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], template: Path
) -> None:
    failures = []
    cases = [(t, f, s) for t, f, s in CASES if t == template]
    for _, family, seed in cases:
        path = tmp_path / f"{template.stem}-{family}-{seed}.json"
        path.write_text(mutate(template, family, seed), encoding="utf-8")
        try:
            problem = check_once(path, family, capsys)
        except BaseException as err:  # noqa: BLE001 - any escape is the failure sought
            problem = f"{type(err).__name__}: {str(err)[:200]}"
        if problem:
            failures.append(f"{family} seed {seed}: {problem}")
    assert not failures, f"{len(failures)} of {len(cases)} cases:\n" + "\n".join(failures)


def test_the_fuzz_covers_a_few_hundred_files() -> None:
    assert len(TEMPLATES) >= 9
    assert len(CASES) >= 300
    assert {f for _, f, _ in CASES} == {*MUST_BREAK, *MAY_PASS}


# ------------------------------------------- every field, every JSON type
#
# The value at every path of every template (containers and leaves, inside unit bodies
# too) replaced by a value of each JSON type (json_mutations.VALUES). The whole
# product is ~22,500 files, for bench/fuzz_bench.py; here each path gets
# TYPES_PER_PATH of the twelve values, rotating so that every value is used evenly,
# and the units template (resnet_digits) twice as many.
TYPES_PER_PATH = 1
UNITS_TEMPLATE = "resnet_digits"


def every_field_cases(template: Path) -> list[Case]:
    doc = json.loads(template.read_text(encoding="utf-8"))
    per_path = TYPES_PER_PATH * (2 if template.stem == UNITS_TEMPLATE else 1)
    step = len(VALUES) // per_path
    return [
        Case(template.stem, path, VALUES[(p + i * step) % len(VALUES)])
        for p, path in enumerate(json_paths(doc))
        for i in range(per_path)
    ]


@pytest.mark.parametrize("template", TEMPLATES, ids=[t.stem for t in TEMPLATES])
def test_every_field_holding_every_json_type_is_checked_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], template: Path
) -> None:
    original = json.loads(template.read_text(encoding="utf-8"))
    path = tmp_path / "mutated.json"
    failures = []
    for case in every_field_cases(template):
        path.write_text(case.text(copy.deepcopy(original)), encoding="utf-8")
        try:
            code = run(["check", str(path)])
        except BaseException as err:  # noqa: BLE001 - any escape is the failure sought
            problem: str | None = f"{type(err).__name__}: {str(err)[:200]}"
        else:
            captured = capsys.readouterr()
            problem = judge(case, original, code, captured.out, captured.err, str(path))
        if problem:
            failures.append(f"{path_text(case.path)} = {case.value!r}: {problem}")
    assert not failures, f"{len(failures)} cases:\n" + "\n".join(failures[:40])


def test_every_field_covers_every_path_and_every_type() -> None:
    cases = [case for template in TEMPLATES for case in every_field_cases(template)]
    for template in TEMPLATES:
        doc = json.loads(template.read_text(encoding="utf-8"))
        covered = {case.path for case in cases if case.template == template.stem}
        assert covered == set(json_paths(doc))
    units = [
        case for case in cases if case.template == UNITS_TEMPLATE and case.path[:1] == ("units",)
    ]
    assert {json_type(case.value) for case in units} == {json_type(v) for v in VALUES}
    assert {repr(case.value) for case in cases} == {repr(v) for v in VALUES}
    assert len(cases) > 2000
