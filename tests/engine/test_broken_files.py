"""Broken project files say what is wrong in words, in one line: binary data, another
encoding, a file cut short, a value of the wrong JSON type (by its path).

Never `b'\\xed'`, never a Python exception's name, never a traceback; `check` exits 2.
"""

from __future__ import annotations

import codecs
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from engine.cli.main import run
from engine.project import project as proj
from engine.project.project import ProjectError
from tests.helpers import ROOT, template

DIGITS = template("cnn_digits")
RESNET = template("resnet_digits")
# What a message must never show: Python's bytes reprs and exception names.
PYTHON_WORDS = ("b'\\x", 'b"\\x', "Error", "Traceback", "Exception", "unhashable", "NoneType")


def check_line(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """`check` in-process: the exit code and its one error line, without `error: PATH: `."""
    code = run(["check", str(path)])
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    prefix = f"error: {path}: "
    assert lines[0].startswith(prefix), lines[0]
    message = lines[0][len(prefix) :]
    for word in PYTHON_WORDS:
        assert word not in message, message
    return code, message


def write_bytes(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "p.json"
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (bytes(range(256)) * 4, "not a NetLoom project: it is binary data, not text"),
        (b"\xed\x95\x9c\xa0\x01\x02" * 50, "not a NetLoom project: it is binary data, not text"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a NetLoom project: it is a PNG image"),
        (b"PK\x03\x04\x14\x00\x00\x00", "not a NetLoom project: it is a ZIP archive"),
        (b"", "the file is empty"),
        (b"  \n\n ", "the file holds only blank space"),
        (
            b"import torch\n",
            'not a NetLoom project: it is text but not JSON (it starts with "import',
        ),
        (b"[1, 2]", "not a NetLoom project: the file holds a list ([1, 2]), not a project object"),
        (b'{"layers": []}', 'not a NetLoom project: it has no "format": "netloom" field'),
    ],
    ids=["random", "high-bytes", "png", "zip", "empty", "blank", "python", "list", "no-format"],
)
def test_a_file_that_is_no_project_says_what_it_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], data: bytes, message: str
) -> None:
    code, line = check_line(write_bytes(tmp_path, data), capsys)
    assert code == 2
    assert line.startswith(message), line


@pytest.mark.parametrize(
    ("encoding", "name"),
    [
        ("utf-16", "UTF-16"),
        ("utf-16-le", "UTF-16"),
        ("utf-16-be", "UTF-16"),
        ("utf-32", "UTF-32"),
        ("utf-32-le", "UTF-32"),
        ("utf-32-be", "UTF-32"),
    ],
)
def test_a_project_in_a_wide_encoding_is_told_to_be_saved_as_utf8(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], encoding: str, name: str
) -> None:
    data = DIGITS.read_text(encoding="utf-8").encode(encoding)
    code, line = check_line(write_bytes(tmp_path, data), capsys)
    assert code == 2
    assert line == f"the file is {name} text; save it as UTF-8"


def test_a_windows_1252_project_names_the_line_and_the_byte(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = DIGITS.read_text(encoding="utf-8").replace('"CNN digits"', '"Chiffres écrits"')
    line_number = text[: text.index("Chiffres")].count("\n") + 1
    code, line = check_line(write_bytes(tmp_path, text.encode("cp1252")), capsys)
    assert code == 2
    assert line == (
        f"the file is not UTF-8 text: line {line_number} holds the byte 0xE9 "
        '("é" in Windows-1252 or Latin-1); save it as UTF-8'
    )


def test_a_utf8_file_with_a_byte_order_mark_opens(tmp_path: Path) -> None:
    data = codecs.BOM_UTF8 + DIGITS.read_bytes()  # as Windows Notepad saves
    project = proj.load(write_bytes(tmp_path, data))
    assert project.name == "CNN digits"


def test_a_file_cut_in_the_nodes_list_names_the_list_and_the_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = json.loads(DIGITS.read_text(encoding="utf-8"))
    text = json.dumps(doc, indent=2)
    cut = text[: text.index('"id": "pool1"')].rstrip().rstrip("{").rstrip()
    assert cut.endswith(",")
    code, line = check_line(write_bytes(tmp_path, cut.encode()), capsys)
    assert code == 2
    assert line == (
        f"invalid JSON: the file ends in the middle of the `nodes` list "
        f"(line {cut.count(chr(10)) + 1}); it was cut short"
    )


@pytest.mark.parametrize(
    ("marker", "place"),
    [
        ('"params": {"out_', "a key in the `nodes[1].params` object"),
        ('"type": "Conv', "the `nodes[1].type` string"),
        ('"dataset": {', "the `training.dataset` object"),
        ('"edges": [', "the `edges` list"),
        ('"edges"', "the top-level object"),
    ],
)
def test_a_file_cut_anywhere_names_what_was_open(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], marker: str, place: str
) -> None:
    text = DIGITS.read_text(encoding="utf-8")
    cut = text[: text.index(marker) + len(marker)]
    _, line = check_line(write_bytes(tmp_path, cut.encode()), capsys)
    assert f"the file ends in the middle of {place} (line " in line


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '{"format": "netloom", "nodes": [1,]}',
            "a stray comma before the closing ], in the `nodes`",
        ),
        (
            '{"format": "netloom", "name": "a",}',
            "a stray comma before the closing }, in the top-level",
        ),
        (
            '{"format": "netloom",\n "name": "a"\n "x": 1}',
            "line 3 column 2: invalid JSON: expected a comma",
        ),
        ('{"format": "netloom"} {}', "more text after the end of the document"),
    ],
)
def test_a_json_mistake_in_the_middle_is_said_in_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    _, line = check_line(write_bytes(tmp_path, text.encode()), capsys)
    assert message in line


def unit_doc() -> dict[str, Any]:
    return json.loads(RESNET.read_text(encoding="utf-8"))


def test_a_list_as_a_block_type_inside_a_unit_is_named_by_its_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Found by fuzzing: this was `TypeError: unhashable type: 'list'`.
    doc = unit_doc()
    doc["units"]["ResidualBlock"]["nodes"][2]["type"] = ["Conv2d"]
    path = write_bytes(tmp_path, json.dumps(doc).encode())
    code, line = check_line(path, capsys)
    assert code == 2
    assert (
        line == 'units.ResidualBlock.nodes[2].type: expected a block name, got a list (["Conv2d"])'
    )


@pytest.mark.parametrize(
    ("where", "value", "message"),
    [
        (
            ("units", "ConvBnReLU", "promoted", "channels"),
            "conv.out_channels",
            "expected a list of",
        ),
        (("units", "ConvBnReLU", "promoted", "channels", 0), 7, 'expected a "block.param" name'),
        (
            ("units", "ConvBnReLU", "edges", 0, "target_port"),
            None,
            "expected a port name, got null",
        ),
        (("units", "ConvBnReLU", "description"), {}, "expected text (a string)"),
        (("units", "ConvBnReLU", "nodes", 1, "pos"), [1], "expected [x, y] numbers"),
        (("nodes", 0, "params"), [], "expected an object of params, got an empty list"),
        (("edges", 3, "source_port"), 1.5, "expected an output port name, got the number 1.5"),
        (("training", "dataset"), 3, 'expected a dataset name or {"name": ..., "params": {...}}'),
        (("training", "dataset", "params"), "x", "expected an object of dataset params"),
        (("training", "epochs"), 2.5, "expected a whole number, got the number 2.5"),
        (("training", "schedule"), {"name": "step", "gamma": "big"}, "expected a number"),
    ],
)
def test_a_value_of_the_wrong_type_is_named_by_its_path(
    where: tuple[Any, ...], value: Any, message: str
) -> None:
    doc = unit_doc()
    target = doc
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    with pytest.raises(ProjectError) as caught:
        proj.from_dict(doc)
    path = "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in where).lstrip(".")
    if where[-1] == "schedule":
        path += ".gamma"
    assert str(caught.value).startswith(f"{path}: {message}"), str(caught.value)


def test_the_command_line_says_binary_in_one_line_and_exits_2(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, bytes(range(256)))
    result = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "check", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 2
    assert result.stderr == f"error: {path}: not a NetLoom project: it is binary data, not text\n"
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("where", "line"),
    [
        (
            ("units", "ConvBnReLU", "promoted"),
            "units.ConvBnReLU.promoted.a\\nb: a promoted param needs a name usable in Python",
        ),
        (("nodes", 1, "params"), "nodes[1].params.a\\nb: ConvBnReLU has no such parameter"),
        (("training",), 'training."a\\nb": unknown setting'),
        (("training", "dataset", "params"), "training.dataset.params.a\\nb: digits has no such"),
    ],
)
def test_a_key_with_a_line_break_is_shown_escaped_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], where: tuple[Any, ...], line: str
) -> None:
    doc = unit_doc()
    target = doc
    for key in where:
        target = target[key]
    target["a\nb"] = ["conv.stride"] if where[-1] == "promoted" else 1
    _, message = check_line(write_bytes(tmp_path, json.dumps(doc).encode()), capsys)
    assert message.startswith(line)
