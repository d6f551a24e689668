"""The import dialog's input-shape hint, read from the file without running it."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.importers.hints import model_classes, shape_hint
from engine.importers.report import ImportReport, unsupported_lines

CORPUS = Path(__file__).resolve().parent / "import_corpus"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "net.py"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_declared_input_shape_fills_the_field(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "raise SystemExit('never run')\nclass Net:\n    input_shape = (1, 28, 28)\n",
    )
    hint = shape_hint(str(path), "Net")
    assert hint is not None and hint.dims == (1, 28, 28)
    assert hint.text == "1,28,28 — the file's input_shape (line 3)"


def test_a_comment_names_the_shape(tmp_path: Path) -> None:
    path = write(tmp_path, "# Input shape: (N, 3, 64, 64)\nclass Net:\n    pass\n")
    hint = shape_hint(str(path), "Net")
    assert hint is not None and hint.dims == (3, 64, 64)


def test_the_first_layer_is_found_through_the_files_own_classes() -> None:
    # UNet builds DoubleConv(channels=3, …) first; its first Conv2d takes c_in = 3. The
    # output conv (Conv2d(width=8, …)) is written first in UNet's own __init__ body.
    hint = shape_hint(str(CORPUS / "unet.py"), "UNet")
    assert hint is not None and hint.dims is None
    assert hint.text.startswith("3,H,W — the first layer is Conv2d(in_channels=3)")


@pytest.mark.parametrize(
    ("name", "class_name", "dims", "sequence", "dtype", "start"),
    [
        ("mlp.py", "MLP", (4,), False, None, "4 — the first layer is Linear(in_features=4)"),
        ("cnn_bn.py", "SmallVGG", None, False, None, "3,H,W — "),  # through block(3, 8)
        ("gru_seq.py", "", None, True, None, "T,6 — the first layer is GRU(input_size=6)"),
        ("text_lstm.py", "", None, False, "int64", "T — the first layer is Embedding"),
        ("residual_concat_dynamo.onnx", "", (3, 16, 16), False, None, "3,16,16 — declared"),
        ("text_lstm_dynamo.onnx", "", (12,), False, "int64", "12 — declared"),
    ],
)
def test_hints_for_the_corpus(
    name: str,
    class_name: str,
    dims: tuple[int, ...] | None,
    sequence: bool,
    dtype: str | None,
    start: str,
) -> None:
    hint = shape_hint(str(CORPUS / name), class_name)
    assert hint is not None
    assert (hint.dims, hint.sequence, hint.dtype) == (dims, sequence, dtype)
    assert hint.text.startswith(start), hint.text


@pytest.mark.parametrize("text", ["def f(:\n", "\x00\x01binary", "class Net:\n    pass\n", ""])
def test_no_hint_rather_than_an_error(tmp_path: Path, text: str) -> None:
    assert shape_hint(str(write(tmp_path, text)), "Net") is None
    assert shape_hint(str(tmp_path / "missing.py"), "Net") is None
    (tmp_path / "broken.onnx").write_bytes(b"not protobuf")
    assert shape_hint(str(tmp_path / "broken.onnx")) is None


def test_unsupported_operations_come_with_their_source_line() -> None:
    report = ImportReport("unsupported.py:SpectralGate")
    lines = (CORPUS / "unsupported.py").read_text(encoding="utf-8").splitlines()
    number = next(i + 1 for i, line in enumerate(lines) if "# UNSUPPORTED fft" in line)
    place = f"{CORPUS / 'unsupported.py'}:{number}"
    report.error(place, "torch.fft.fft", "a Fourier transform")
    assert unsupported_lines(report) == [
        f"{place}: torch.fft.fft — a Fourier transform",
        "    spectrum = torch.fft.fft(x).real  # UNSUPPORTED fft",
    ]


def test_the_files_model_classes_are_listed_without_running_it(tmp_path: Path) -> None:
    assert model_classes(str(CORPUS / "unet.py")) == ["DoubleConv", "Down", "Up", "UNet"]
    path = write(
        tmp_path,
        "import sys\nsys.exit(1)\nclass Helper:\n    pass\n"
        "class Net(torch.nn.Module):\n    pass\nclass Body(nn.Sequential):\n    pass\n",
    )
    assert model_classes(str(path)) == ["Net", "Body"]
    assert model_classes(str(write(tmp_path, "def f(:\n"))) == []
