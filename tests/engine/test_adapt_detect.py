"""What `adapt` takes a path for: images, arrays, a table, or a series when a column is
time — read from the start of the file only."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.data.adapt import detect_kind
from engine.data.adapt_detect import PEEK_BYTES, default_target, peek_table, time_column
from engine.data.registry import DataError


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "time"),
    [
        ("date,co2\n2020-01-01,410.5\n2020-02-01,411.2\n", "date"),
        ("when;load\n01/03/2024 12:00;3,5\n01/03/2024 13:00;3,7\n", "when"),
        ("Year,rain\n1990,600\n1991,580\n", "Year"),
        ("stamp\tvalue\n2024-03-01T10:00:00\t1\n2024-03-01T11:00:00\t2\n", "stamp"),
        ("month,sales\nJan 2020,5\nFeb 2020,7\n", "month"),
    ],
)
def test_a_time_column_makes_a_series(tmp_path: Path, text: str, time: str) -> None:
    path = write(tmp_path / "series.csv", text)
    assert detect_kind(path) == "series"
    assert time_column(peek_table(path)) == time


@pytest.mark.parametrize(
    "text",
    [
        "a,b,label\n1.5,2,cat\n2.5,3,dog\n",
        "id,size,class\n17,2.5,x\n18,3.5,y\n",  # whole numbers are not years unless named so
        "code,size,label\nA12,2.5,x\nB7,3.5,y\n",  # text with digits that is no date
    ],
)
def test_a_table_without_time_is_a_table(tmp_path: Path, text: str) -> None:
    assert detect_kind(write(tmp_path / "table.csv", text)) == "table"


def test_a_time_column_given_makes_any_csv_a_series(tmp_path: Path) -> None:
    path = write(tmp_path / "t.csv", "step,value\n1,2\n2,3\n")
    assert detect_kind(path) == "table"
    assert detect_kind(path, time="step") == "series"


def test_folders_and_arrays(tmp_path: Path) -> None:
    (tmp_path / "pets" / "cat").mkdir(parents=True)
    (tmp_path / "pets" / ".git").mkdir()
    np.savez(tmp_path / "a.npz", x=np.zeros((2, 3)), y=np.zeros(2))
    assert detect_kind(tmp_path / "pets") == "images"
    assert detect_kind(tmp_path / "a.npz") == "arrays"
    (tmp_path / "hidden" / ".cache").mkdir(parents=True)
    with pytest.raises(DataError, match="a folder with no class subfolders"):
        detect_kind(tmp_path / "hidden")


def test_only_the_start_of_a_large_file_is_read(tmp_path: Path) -> None:
    # A valid header and rows, then a tail that is no text at all (read whole, the file
    # would be refused as "not a UTF-8 text file"): never reached.
    head = "date,value\n" + "".join(f"2024-01-{d % 28 + 1:02d},{d}\n" for d in range(60))
    path = tmp_path / "big.csv"
    path.write_bytes(head.encode() + b"\x00\xff" * (PEEK_BYTES // 2 + 512))
    assert detect_kind(path) == "series"


def test_the_default_target_is_a_named_one_or_the_last_column(tmp_path: Path) -> None:
    named = peek_table(write(tmp_path / "a.csv", "label,x,y2\ncat,1,2\ndog,3,4\n"))
    assert default_target(named, None) == "label"
    last = peek_table(write(tmp_path / "b.csv", "x,z,price\n1,2,3\n4,5,6\n"))
    assert default_target(last, None) == "price"
    series = peek_table(write(tmp_path / "c.csv", "date,temp,station\n2020-01-01,3.5,north\n"))
    assert default_target(series, "date") == "temp"  # the last numeric column
