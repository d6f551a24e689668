"""A project whose units would expand to millions of blocks: the window answers in one
dialog within seconds and keeps the open project; an edit that makes one is one problem."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from engine.project.project import to_dict
from tests.engine import bombs

FAMILIES = {
    "nested_repeat": bombs.nested_repeat(4, 64),
    "nested_fan_out": bombs.nested_fan_out(7, 8),
    "deep_chain": bombs.deep_chain(100),
    "many_instances": bombs.many_instances(200, 1000),
}


@pytest.mark.parametrize("family", FAMILIES)
def test_opening_a_bomb_is_one_dialog_and_the_open_project_stays(
    video_window, dialogs, tmp_path: Path, family: str
) -> None:
    window = video_window
    before = to_dict(window.project)
    path = tmp_path / "download.json"
    path.write_text(json.dumps(FAMILIES[family]), encoding="utf-8")
    started = time.process_time()
    assert not window.open_path(path)
    assert time.process_time() - started < 2.0
    [(kind, title, message)] = dialogs.shown
    assert (kind, title) == ("critical", "Cannot open project")
    assert "\n" not in message and message.startswith(f"{path}: units ")
    assert "limit" in message
    assert to_dict(window.project) == before and window.path is None
