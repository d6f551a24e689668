"""Broken and hostile data through `adapt`: each is one line, exit 2, no file written and
never a traceback — the kind is told from a bounded look, before anything large is read."""

from __future__ import annotations

import os
import threading
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.cli.main import run
from engine.data.adapt import detect_kind
from engine.data.registry import DataError
from tests.engine.test_hostile_data import png_header
from tests.helpers import template


def text(name: str, content: str | bytes) -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        return path

    return write


def arrays(**values: np.ndarray) -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        np.savez(folder / "data.npz", **values)
        return folder / "data.npz"

    return write


def garbage_npz(folder: Path) -> Path:
    with zipfile.ZipFile(folder / "data.npz", "w") as archive:
        archive.writestr("x.npy", b"\x93NUMPY not really")
        archive.writestr("y.npy", b"")
    return folder / "data.npz"


def images(*classes: tuple[str, list[bytes]]) -> Callable[[Path], Path]:
    """A folder of class folders; b"GREY" stands for a real 4×4 grey PNG."""

    def write(folder: Path) -> Path:
        root = folder / "pets"
        for name, files in classes:
            (root / name).mkdir(parents=True)
            for i, content in enumerate(files):
                (root / name / f"{i}.png").write_bytes(content)
        return root

    return write


def grey_png(folder: Path) -> bytes:
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(folder / "grey.png")
    return (folder / "grey.png").read_bytes()


HOSTILE: dict[str, Callable[[Path], Path]] = {
    "empty csv": text("a.csv", ""),
    "header only": text("a.csv", "x,y,label\n"),
    "binary bytes": text("a.csv", b"\x00\x81\xfe\x00abc\n\x00\x00\x9c\x01\n"),
    "one line of 300 KB": text("a.csv", "x" * 300_000),
    "a cell over 128 KiB": text("a.csv", "a,b\n" + '"' + "x" * 140_000 + '",1\n'),
    "one column": text("a.csv", "value\n1\n2\n3\n"),
    "a text target different in every row": text(
        "a.csv", "x,name\n" + "".join(f"{i},n{i}\n" for i in range(50))
    ),
    "series of text values": text(
        "s.csv", "date,value\n" + "".join(f"2024-01-{d:02d},v{d}\n" for d in range(1, 29))
    ),
    "npz of garbage": garbage_npz,
    "npz without y": arrays(x=np.zeros((4, 2))),
    "npz of objects": arrays(x=np.array([[1, "a"]], dtype=object), y=np.zeros(1)),
    "npz labels of 10^9": arrays(x=np.zeros((3, 2)), y=np.array([0, 1, 10**9])),
    "not a zip": text("a.npz", b"PK\x03\x04 truncated"),
    "one class folder": images(("cat", [b"GREY"])),
    "empty class folder": images(("cat", [b"GREY"]), ("dog", [])),
    "a png bomb": images(("cat", [png_header(30_000, 30_000)]), ("dog", [b"GREY"])),
    "a png that is none": images(("cat", [b"\x89PNG\r\n\x1a\nbroken"]), ("dog", [b"GREY"])),
}


@pytest.mark.parametrize("case", HOSTILE, ids=list(HOSTILE))
def test_hostile_data_is_one_line_and_exit_2(
    tmp_path: Path, case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    grey = grey_png(tmp_path)
    data = HOSTILE[case](tmp_path)
    for png in data.rglob("*.png") if data.is_dir() else ():
        if png.read_bytes() == b"GREY":
            png.write_bytes(grey)
    new = tmp_path / "new.json"
    code = run(["adapt", str(template("mlp_iris")), "--data", str(data), "-o", str(new)])
    out, err = capsys.readouterr()
    assert code == 2, (case, out, err)
    assert err.startswith("error: ") and err.count("\n") == 1, (case, err)
    assert "Traceback" not in out + err
    assert not new.exists()


def test_a_fifo_named_like_a_table_is_refused_without_reading_it(tmp_path: Path) -> None:
    fifo = tmp_path / "rows.csv"
    os.mkfifo(fifo)  # opening it to read would wait for a writer forever
    answers: list[str] = []

    def look() -> None:
        try:
            answers.append(detect_kind(fifo))
        except DataError as err:
            answers.append(str(err))

    # In a thread of its own, so that a read that blocks fails this test, not the run.
    looking = threading.Thread(target=look, daemon=True)
    looking.start()
    looking.join(timeout=20)
    assert answers and "is not a regular file or folder" in answers[0]
