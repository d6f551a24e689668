"""Opening a broken file in the window: one dialog with one line in words, and the open
project (its blocks, its edits, its undo history, its file) is left as it was."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import QPointF

from engine.project.project import to_dict
from tests.helpers import template

DIGITS = template("cnn_digits")
RESNET = template("resnet_digits")


def binary() -> bytes:
    return bytes(range(256)) * 8


def utf16() -> bytes:
    return DIGITS.read_text(encoding="utf-8").encode("utf-16")


def cut_short() -> bytes:
    text = DIGITS.read_text(encoding="utf-8")
    return text[: text.index('{"id": "pool1"')].encode()


def list_as_unit_block_type() -> bytes:
    doc = json.loads(RESNET.read_text(encoding="utf-8"))
    doc["units"]["ResidualBlock"]["nodes"][2]["type"] = ["Conv2d"]
    return json.dumps(doc).encode()


CASES = {
    "binary": (binary, "not a NetLoom project: it is binary data, not text"),
    "utf-16": (utf16, "the file is UTF-16 text; save it as UTF-8"),
    "cut short": (cut_short, "the file ends in the middle of the `nodes` list (line "),
    "wrong type in a unit": (
        list_as_unit_block_type,
        "units.ResidualBlock.nodes[2].type: expected a block name, got a list",
    ),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_a_broken_file_gives_one_line_and_leaves_the_open_project_alone(
    video_window, dialogs, tmp_path: Path, case: str
) -> None:
    window = video_window
    window.add_block("Dense", QPointF(0, 400))  # an unsaved edit the failed open must keep
    before = to_dict(window.project)
    undo_steps = window.undo_stack.count()
    make, words = CASES[case]
    broken = tmp_path / "colleague.json"
    broken.write_bytes(make())

    assert not window.open_path(broken)

    [(kind, title, message)] = dialogs.shown
    assert (kind, title) == ("critical", "Cannot open project")
    assert "\n" not in message and message.startswith(f"{broken}: ")
    assert words in message
    for python_word in ("Traceback", "Error", "b'\\x", "unhashable"):
        assert python_word not in message
    assert to_dict(window.project) == before
    assert window.undo_stack.count() == undo_steps and window.isWindowModified()
    assert window.path is None
