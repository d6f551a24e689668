"""A broken Look inside record (run-<id>-inside.json) is one InsideRecordError line, which
the Look inside view shows; before, bytes that are not UTF-8 and a count of 1e309 escaped
as UnicodeDecodeError and OverflowError (found by bench/fuzz_bench.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gui.run.inside_record import InsideRecordError, RunInside

RECORD = {
    "format": 1,
    "flow": [],
    "histograms": [
        {
            "epoch": 1,
            "samples": 4,
            "weights": {"conv1": {"counts": [1, 2], "edges": [0.0, 0.5, 1.0]}},
            "activations": {},
        }
    ],
}


def test_the_sample_record_loads(tmp_path: Path) -> None:
    path = tmp_path / "run-1-inside.json"
    path.write_text(json.dumps(RECORD))
    assert RunInside.load(path).histograms[0].samples == 4


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (json.dumps(RECORD).encode().replace(b'"flow"', b'"fl\xf5w"'), "not UTF-8 text: line 1"),
        (bytes(range(256)), "not a Look inside record: it is binary data, not text"),
        (json.dumps(RECORD).encode("utf-16"), "the file is UTF-16 text; save it as UTF-8"),
        (json.dumps(RECORD).replace("[1, 2]", "[1e309, 2]").encode(), "not a Look inside record"),
        (b"[" * 100_000, "nested too deeply"),
    ],
    ids=["latin-1 byte", "binary", "utf-16", "huge count", "deep nesting"],
)
def test_a_broken_record_is_one_line_in_words(tmp_path: Path, data: bytes, words: str) -> None:
    path = tmp_path / "run-1-inside.json"
    path.write_bytes(data)
    with pytest.raises(InsideRecordError) as caught:
        RunInside.load(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    assert words in message
