"""Hostile data files under `check`, in-process: exit 0, 1 or 2, never an exception.

For each kind of a person's data (a table, arrays, an image folder, a series) a good
file is damaged by seeded byte mutations (truncated, bytes flipped, bytes spliced in or
cut out) and written beside hand-made hostile ones (empty, no line break in megabytes,
NUL bytes, UTF-16, a PNG claiming 900 megapixels, object arrays, labels of 10^9, …).
`check` on a project pointing at each must end in one of its exit codes with its own
kind of message: exit 2 is one `error:` line naming the project; exit 1 lists the
problems under "N error(s):". Every check stays bounded: a second at most each.
"""

from __future__ import annotations

import io
import random
import struct
import time
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from engine.cli.main import run
from tests.engine.byte_mutations import flip, splice, truncate
from tests.helpers import classifier_doc as classifier
from tests.helpers import write_project

SEEDS = range(8)
MUTATIONS = {"truncate": truncate, "flip": flip, "splice": splice}
SLOWEST = 5.0  # seconds one check may take: generous on busy cores; a runaway read takes far longer


def forecaster(dataset: dict[str, Any]) -> dict[str, Any]:
    doc = classifier(dataset, [8, 1])
    doc["nodes"][0]["params"]["sequence"] = True
    doc["nodes"][1] = {"id": "flat", "type": "LSTM", "params": {"hidden_size": 4}}
    doc["nodes"][2]["params"]["units"] = 1
    doc["nodes"][3]["params"]["loss"] = "mse"
    return doc


# ------------------------------------------------------------------ good files


def good_table() -> bytes:
    rows = ['\ufeffpatient_id;size;"clinic; wing";kind;diagnosis']
    for i in range(30):
        rows.append(f'{1000 + i};{i * 0.5:.1f};"north; {i % 3}";{"ab"[i % 2]};{"yn"[i % 3 == 0]}')
    return "\n".join(rows).replace(".", ",").encode("utf-8")


def good_series() -> bytes:
    rows = ["date,co2,temp"]
    for i in range(40):
        day = np.datetime64("2001-01-01") + i
        rows.append(f"{day},{330 + i * 0.1:.2f},{np.sin(i):.3f}")
    return "\n".join(rows).encode("utf-8")


def good_npz() -> bytes:
    buffer = io.BytesIO()
    rng = np.random.default_rng(0)
    np.savez(buffer, x=rng.normal(size=(20, 4)).astype(np.float32), y=np.arange(20) % 2)
    return buffer.getvalue()


def good_png(mode: str = "L") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (8, 8), 90).save(buffer, format="PNG")
    return buffer.getvalue()


def png_header(width: int, height: int) -> bytes:
    """A PNG of a header and no pixels: a few dozen bytes claiming any size."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


def npz_member(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def header_only(shape: tuple[int, ...], descr: str = "<f4") -> bytes:
    """An .npy member whose header claims `shape` and that holds no values."""
    buffer = io.BytesIO()
    header = {"descr": descr, "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue()


def npz_of(**arrays: Any) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


# ---------------------------------------------------------------- hostile files

HOSTILE_TABLES: dict[str, bytes] = {
    "empty": b"",
    "bom only": b"\xef\xbb\xbf",
    "header only": b"size;diagnosis\n",
    "nul bytes": b"size,diagnosis\n1,\x00\x00\n",
    "utf-16": "size,diagnosis\n1,y\n2,n\n".encode("utf-16"),
    "unclosed quote": b'size,diagnosis\n"1,y\n2,n\n' + b"3,y\n" * 2000,
    "cr line ends": b"size,diagnosis\r1,y\r2,n\r3,y",
    "no line break in 5 MB": b"1," * 2_600_000,
    "one huge cell": b"size,diagnosis\n" + b"9" * 300_000 + b",y\n",
    "duplicate names": b"size,size,diagnosis\n1,2,y\n",
    "nameless column": b"size,,diagnosis\n1,2,y\n",
    "short row": b"size,weight,diagnosis\n1,2,y\n1,n\n",
    "wide header": (",".join(f"c{i}" for i in range(20_000)) + ",diagnosis\n").encode(),
    "one label": b"size,diagnosis\n" + b"1,y\n" * 10,
    "text everywhere": b"size,diagnosis\n" + b"".join(b"w%d,y\n" % i for i in range(50)),
    "latin-1 and control bytes": b"size,diagnosis\n\xe9,\x01\x02\n",
}
HOSTILE_ARRAYS: dict[str, bytes] = {
    "not a zip": b"hello",
    "empty zip": zip_of({}),
    "x only": npz_of(x=np.zeros((3, 4))),
    "object arrays": zip_of({"x.npy": b"\x93NUMPY\x01\x00" + b"{}", "y.npy": b"junk"}),
    "labels of 10^9": npz_of(x=np.zeros((3, 4)), y=np.array([0, 1, 10**9])),
    "negative labels": npz_of(x=np.zeros((3, 4)), y=np.array([0, -1, 1])),
    "x of one axis": npz_of(x=np.zeros(3), y=np.array([0, 1, 1])),
    "text x": npz_of(x=np.array(["a", "b"]), y=np.array([0, 1])),
    "huge claimed shape": zip_of(
        {"x.npy": header_only((10**12, 999_999_999)), "y.npy": npz_member(np.array([0, 1]))}
    ),
    "claimed y without data": zip_of(
        {"x.npy": npz_member(np.zeros((2, 4))), "y.npy": header_only((10**6,), "<i8")}
    ),
}
HOSTILE_IMAGES: dict[str, bytes] = {
    "900 megapixels": png_header(30_000, 30_000),
    "5000 square": png_header(5_000, 5_000),
    "zero pixels": png_header(0, 0),
    "text named png": b"not an image at all",
    "empty file": b"",
    "rgba": good_png("RGBA"),
}


# --------------------------------------------------------------------- cases


def table_case(folder: Path, data: bytes) -> Path:
    (folder / "t.csv").write_bytes(data)
    dataset = {"name": "csv", "params": {"path": "t.csv", "target": "diagnosis"}}
    return write_project(folder, classifier(dataset, [5]))


def series_case(folder: Path, data: bytes) -> Path:
    (folder / "s.csv").write_bytes(data)
    dataset = {"name": "series", "params": {"path": "s.csv", "window": 8}}
    return write_project(folder, forecaster(dataset))


def arrays_case(folder: Path, data: bytes) -> Path:
    (folder / "a.npz").write_bytes(data)
    dataset = {"name": "npz", "params": {"path": "a.npz"}}
    return write_project(folder, classifier(dataset, [4]))


def images_case(folder: Path, odd: bytes) -> Path:
    for kind in ("cats", "dogs"):
        (folder / "pics" / kind).mkdir(parents=True)
        for i in range(2):
            (folder / "pics" / kind / f"{i}.png").write_bytes(good_png())
    # The odd file comes first in its folder: the image check decodes.
    (folder / "pics" / "dogs" / "0.png").write_bytes(odd)
    (folder / "pics" / ".DS_Store").write_bytes(b"\x00\x01")
    dataset = {"name": "image_folder", "params": {"path": "pics"}}
    return write_project(folder, classifier(dataset, [1, 8, 8]))


Maker = Callable[[Path, bytes], Path]
KINDS: dict[str, tuple[Maker, Callable[[], bytes], dict[str, bytes]]] = {
    "table": (table_case, good_table, HOSTILE_TABLES),
    "series": (series_case, good_series, HOSTILE_TABLES),
    "arrays": (arrays_case, good_npz, HOSTILE_ARRAYS),
    "images": (images_case, good_png, HOSTILE_IMAGES),
}


def cases(kind: str) -> list[tuple[str, bytes]]:
    _, good, hostile = KINDS[kind]
    made = [(f"hostile {name}", data) for name, data in hostile.items()]
    original = good()
    for name, mutate in MUTATIONS.items():
        for seed in SEEDS:
            made.append((f"{name} seed {seed}", mutate(random.Random(seed), original)))
    return made


def judge(project: Path, code: int, out: str, err: str) -> str | None:
    """Why this run of `check` is wrong, or None."""
    if code not in (0, 1, 2):
        return f"exit {code}"
    lines = err.strip().splitlines()  # notes go to stdout with the report
    if code == 0:
        return f"exit 0 with errors: {err!r}" if lines else None
    if code == 2:
        if len(lines) != 1 or not lines[0].startswith(f"error: {project}: "):
            return f"not one line naming the project: {err!r}"
        return None
    if (
        not lines
        or not lines[0].endswith("error(s):")
        or not all(line.startswith("  ") for line in lines[1:])
    ):
        return f"unexpected error listing: {err!r}"
    return None


@pytest.mark.parametrize("kind", list(KINDS))
def test_hostile_data_is_checked_without_an_exception(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    make, good, _ = KINDS[kind]
    warm = tmp_path / "warm-up"  # the first check imports the readers; time the others
    warm.mkdir()
    run(["check", str(make(warm, good()))])
    capsys.readouterr()
    failures, codes = [], set()
    for i, (name, data) in enumerate(cases(kind)):
        folder = tmp_path / f"case{i}"
        folder.mkdir()
        project = make(folder, data)
        start = time.perf_counter()
        try:
            code = run(["check", str(project)])
            captured = capsys.readouterr()
            problem = judge(project, code, captured.out, captured.err)
        except BaseException as err:  # noqa: BLE001 - any escape is the failure sought
            capsys.readouterr()
            code, problem = -1, f"{type(err).__name__}: {str(err)[:300]}"
        took = time.perf_counter() - start
        if took > SLOWEST:
            problem = (problem or "") + f" took {took:.2f} s"
        if problem:
            failures.append(f"{name}: {problem}")
        codes.add(code)
    assert not failures, f"{len(failures)} cases:\n" + "\n".join(failures)
    assert 2 in codes  # the hostile files are refused, not all passed over


def test_every_kind_of_data_is_fuzzed() -> None:
    assert set(KINDS) == {"table", "series", "arrays", "images"}
    assert all(len(cases(kind)) >= 30 for kind in KINDS)
