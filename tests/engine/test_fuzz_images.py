"""Seeded damage to image folders: whatever a folder holds, reading it ends in images or
in one DataError line naming the file or folder — never another exception — and a
header claiming a huge image is refused before any pixel is decoded.

Families:
  bytes    small valid images of every format, truncated, bytes flipped, spliced
  headers  the same images with their width and height fields set far over 4096
  folders  empty class folders, hidden files only, links that loop or lead nowhere,
           a folder named like an image, a file name that is no UTF-8
"""

from __future__ import annotations

import io
import os
import random
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.data import DataError, dataset_input_shape, load_dataset
from engine.data.image_folder import load_image
from tests.engine.byte_mutations import flip, splice, truncate

SEEDS = 6  # per format and family: 7 formats × 3 families × 6 = 126 damaged files
RECORD = {"mode": "L", "size": [16, 16]}


def encoded(suffix: str) -> bytes:
    """A small noisy image in the format `suffix` names."""
    pixels = np.random.default_rng(len(suffix)).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    image = Image.fromarray(pixels)
    if suffix == ".gif":
        image = image.convert("P")
    if suffix == ".png":
        image = image.convert("RGBA")
    options = {"lossless": True} if suffix == ".webp" else {}
    out = io.BytesIO()
    image.save(out, format=Image.registered_extensions()[suffix], **options)
    return out.getvalue()


FORMATS = (".png", ".jpg", ".bmp", ".gif", ".webp", ".tiff", ".jpeg")


def judged(read: Callable[[], object], place: Path) -> str | None:
    """None when reading worked, the error's text when it was a DataError naming
    `place`; any other exception fails the test."""
    try:
        read()
    except DataError as err:
        message = str(err)
        assert message.startswith(str(place)), message
        assert "\n" not in message and "Traceback" not in message
        return message
    return None


@pytest.mark.parametrize("suffix", FORMATS)
@pytest.mark.parametrize("damage", [truncate, flip, splice], ids=lambda f: f.__name__)
def test_damaged_images_read_or_are_named(
    tmp_path: Path,
    suffix: str,
    damage: Callable[[random.Random, bytes], bytes],
    caplog: pytest.LogCaptureFixture,
) -> None:
    good = encoded(suffix)
    for seed in range(SEEDS):
        root = tmp_path / str(seed)
        for label in ("a", "b"):
            (root / label).mkdir(parents=True)
            (root / label / f"good{suffix}").write_bytes(good)
        bad = root / "b" / f"damaged{suffix}"
        bad.write_bytes(damage(random.Random(seed), good))
        judged(lambda: load_image(bad, RECORD), bad)  # noqa: B023 (called at once)
        for read in (dataset_input_shape, load_dataset):
            message = judged(lambda: read("image_folder", {"path": str(root)}), bad)  # noqa: B023
            if message is None and read is load_dataset:
                data = load_dataset("image_folder", {"path": str(root)})
                assert np.isfinite(data.x).all() and data.x.min() >= 0 and data.x.max() <= 1
    # Pillow's own complaints ("More samples per pixel than can be decoded") stay off
    # the screen: the one line is NetLoom's.
    assert [r.getMessage() for r in caplog.records if r.name.startswith("PIL")] == []


def _png_size(data: bytes, width: int, height: int) -> bytes:
    header = data[12:16] + struct.pack(">II", width, height) + data[24:29]
    crc = struct.pack(">I", zlib.crc32(header) & 0xFFFFFFFF)
    return data[:12] + header + crc + data[33:]


def _jpeg_size(data: bytes, width: int, height: int) -> bytes:
    at = data.index(b"\xff\xc0") + 5  # SOF0: marker, length, precision, then height, width
    return data[:at] + struct.pack(">HH", height, width) + data[at + 4 :]


def _bmp_size(data: bytes, width: int, height: int) -> bytes:
    return data[:18] + struct.pack("<ii", width, height) + data[26:]


def _gif_size(data: bytes, width: int, height: int) -> bytes:
    return data[:6] + struct.pack("<HH", min(width, 65535), min(height, 65535)) + data[10:]


def _webp_size(data: bytes, width: int, height: int) -> bytes:
    bits = struct.unpack("<I", data[21:25])[0]  # VP8L: 14 bits width-1, 14 height-1, …
    bits = (bits & ~((1 << 28) - 1)) | min(width - 1, 16383) | (min(height - 1, 16383) << 14)
    return data[:21] + struct.pack("<I", bits) + data[25:]


def _tiff_size(data: bytes, width: int, height: int) -> bytes:
    order = "<" if data[:2] == b"II" else ">"
    ifd = struct.unpack(order + "I", data[4:8])[0]
    count = struct.unpack(order + "H", data[ifd : ifd + 2])[0]
    changed = bytearray(data)
    for i in range(count):
        at = ifd + 2 + 12 * i
        tag = struct.unpack(order + "H", data[at : at + 2])[0]
        if tag in (256, 257):  # ImageWidth, ImageLength: made LONG
            value = width if tag == 256 else height
            changed[at + 2 : at + 12] = struct.pack(order + "HII", 4, 1, value)
    return bytes(changed)


HUGE = {
    ".png": _png_size,
    ".jpg": _jpeg_size,
    ".bmp": _bmp_size,
    ".gif": _gif_size,
    ".webp": _webp_size,
    ".tiff": _tiff_size,
}


@pytest.mark.parametrize("suffix", sorted(HUGE))
@pytest.mark.parametrize("size", [(5000, 5000), (16383, 16383), (60000, 60000)])
def test_a_header_claiming_a_huge_image_is_refused_unread(
    tmp_path: Path, suffix: str, size: tuple[int, int]
) -> None:
    for label in ("a", "b"):
        (tmp_path / label).mkdir()
        (tmp_path / label / f"good{suffix}").write_bytes(encoded(suffix))
    bomb = tmp_path / "b" / f"bomb{suffix}"
    bomb.write_bytes(HUGE[suffix](encoded(suffix), *size))
    with pytest.MonkeyPatch.context() as patch:  # the forged header says what it was made to
        patch.setattr(Image, "MAX_IMAGE_PIXELS", None)
        with Image.open(bomb) as opened:
            assert opened.size[0] * opened.size[1] > 4096 * 4096
    for read in (
        lambda: load_image(bomb, RECORD),
        lambda: dataset_input_shape("image_folder", {"path": str(tmp_path)}),
        lambda: load_dataset("image_folder", {"path": str(tmp_path)}),
    ):
        message = judged(read, bomb)
        assert message is not None
        assert "more than the 4096×4096" in message or "far larger than 4096×4096" in message


def _folder(root: Path, *classes: str) -> Path:
    for label in classes:
        (root / label).mkdir(parents=True)
        Image.new("L", (4, 4), 9).save(root / label / "0.png")
    return root


def test_hostile_folders_are_named_in_one_line(tmp_path: Path) -> None:
    def refusal(root: Path) -> str:
        for read in (dataset_input_shape, load_dataset):
            with pytest.raises(DataError) as caught:
                read("image_folder", {"path": str(root)})
            assert "\n" not in str(caught.value)
        return str(caught.value)

    empty = _folder(tmp_path / "empty", "a")
    (empty / "b").mkdir()
    assert refusal(empty).startswith(f"{empty / 'b'}: class folder 'b' has no images")

    hidden_only = _folder(tmp_path / "hidden_only", "a")
    (hidden_only / "b").mkdir()
    (hidden_only / "b" / "._0.png").write_bytes(b"\x00\x05\x16\x07")
    (hidden_only / "b" / ".DS_Store").write_bytes(b"Bud1")
    assert refusal(hidden_only).startswith(f"{hidden_only / 'b'}: class folder 'b' has no")

    # A class folder that is a link back to the folder itself: read once, not followed.
    looped = _folder(tmp_path / "looped", "a")
    os.symlink(looped, looped / "b")
    assert refusal(looped).startswith(f"{looped / 'b'}: class folder 'b' has no images")

    # Links to themselves and to nothing, a folder named like an image, a FIFO named
    # like an image (reading it would wait forever), a name that is no UTF-8.
    odd = _folder(tmp_path / "odd", "a", "b")
    os.symlink("self.png", odd / "b" / "self.png")
    os.symlink(odd / "gone.png", odd / "b" / "dangling.png")
    (odd / "b" / "folder.png").mkdir()
    os.mkfifo(odd / "b" / "pipe.png")
    Image.new("L", (4, 4), 9).save(os.fsencode(odd / "b") + b"/\xff.png")
    data = load_dataset("image_folder", {"path": str(odd)})
    assert len(data) == 3  # a/0.png, b/0.png and the one with the undecodable name
    assert data.notes == [
        "4 entries that are no image, ignored: b/dangling.png, b/folder.png/, b/pipe.png, "
        "b/self.png"
    ]
