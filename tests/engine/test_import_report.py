"""The import report: what a user sees when a model cannot be imported, or not read.

Unsupported operations: exit 1, every one listed with its place (file:line in Python
source, the node name in ONNX) and why, nothing written, no traceback. A source that
cannot be read or run at all: exit 2 and one line naming the place.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

from engine.cli.main import run

CORPUS = Path(__file__).resolve().parent / "import_corpus"
UNSUPPORTED = CORPUS / "unsupported.py"


def marked_line(marker: str) -> int:
    """The line of unsupported.py carrying `# UNSUPPORTED <marker>`."""
    lines = UNSUPPORTED.read_text(encoding="utf-8").splitlines()
    (number,) = [i + 1 for i, line in enumerate(lines) if f"# UNSUPPORTED {marker}" in line]
    return number


def import_and_fail(
    args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str], code: int = 1
) -> str:
    output = tmp_path / "project.json"
    assert run(["import", *args, "-o", str(output)]) == code
    captured = capsys.readouterr()
    assert not output.exists(), "nothing may be written when the import fails"
    assert "Traceback" not in captured.err + captured.out
    return captured.err


@pytest.mark.parametrize(
    ("cls", "shape", "expected"),
    [
        (
            "SpectralGate",
            "16",
            {
                "fft": "torch.fft.fft — a Fourier transform",
                "subtraction": "- — a subtraction: no block subtracts",
                "Softplus": "self.act (Softplus) — no NetLoom block is a Softplus",
            },
        ),
        (
            "DataDependentIf",
            "8",
            {"if": "control flow on a tensor — an `if`, loop or len() that depends on"},
        ),
        (
            "FeatureGaps",
            "3,8,8",
            {
                "even same": "padding 'same' with the even kernel [1, 4] pads one side more",
                "momentum": "momentum=None (a cumulative average)",
                "divisor_override": "divisor_override: AvgPool2d divides by the cells it averages",
            },
        ),
        (
            "RecurrentStates",
            "5,4",
            {
                "cell state": "uses c_n of self.lstm (LSTM) (the cell state)",
            },
        ),
        ("SharedLayer", "6", {"shared": "self.fc is called again; its weights would be shared"}),
        (
            "TimeFirst",
            "5,4",
            {"batch second": "uses a tensor with its batch axis moved (x.transpose(0, 1))"},
        ),
    ],
)
def test_each_unsupported_operation_is_listed_at_its_line(
    cls: str,
    shape: str,
    expected: dict[str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    err = import_and_fail([f"{UNSUPPORTED}:{cls}", "--input-shape", shape], tmp_path, capsys)
    assert f"NOT imported: {len(expected)} unsupported" in err
    listed = [
        line.strip() for line in err.splitlines() if re.search(r"unsupported\.py:\d+: ", line)
    ]
    assert len(listed) == len(expected), err
    for marker, text in expected.items():
        place = f"unsupported.py:{marked_line(marker)}: "
        assert any(place in line and text in line for line in listed), (marker, err)


def onnx_with_unsupported_nodes(path: Path) -> None:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    weight = numpy_helper.from_array(torch.randn(4, 4).numpy(), "fc.weight")
    graph = helper.make_graph(
        [
            helper.make_node("Gemm", ["x", "fc.weight"], ["h"], name="fc", transB=1),
            helper.make_node("Sub", ["h", "h"], ["zero"], name="gate"),
            helper.make_node("Erf", ["zero"], ["y"], name="act"),
        ],
        "unsupported",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 4])],
        [weight],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.save(model, str(path))


def test_onnx_report_names_the_nodes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "gated.onnx"
    onnx_with_unsupported_nodes(path)
    err = import_and_fail([str(path)], tmp_path, capsys)
    assert "1 operation(s) mapped to blocks; NOT imported: 2 unsupported" in err
    assert "node gate: Sub — a subtraction: no block subtracts" in err
    assert "node act: Erf — the error function" in err


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


NET = """from torch import nn


class Net(nn.Module):
    def __init__(self, width=4):
        super().__init__()
        self.fc = nn.Linear(width, 2)

    def forward(self, x):
        return self.fc(x)
"""


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("missing file", r"missing\.py: no such file"),
        ("syntax error", r"broken\.py:3: SyntaxError"),
        ("raises on import", r"raises\.py:2: running the file raised ZeroDivisionError"),
        ("no such class", r"has no nn\.Module class Missing \(its nn\.Module classes: Net\)"),
        ("constructor raises", r"Net\(…\) raised TypeError"),
        ("bad --args", r"--args: invalid JSON"),
        ("wrong input shape", r"net\.py:10: the model fails on an input of shape \(3, 7\)"),
        ("no class given", r"expected path/to/file\.py:ClassName or model\.onnx"),
        ("damaged onnx", r"damaged\.onnx: not a readable ONNX file"),
        ("no input shape", r"--input-shape is required for a \.py source"),
    ],
)
def test_unreadable_sources_exit_2_with_one_line(
    case: str, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = write(tmp_path, "net.py", NET)
    broken = write(tmp_path, "broken.py", "import torch\n\ndef f(:\n")
    raises = write(tmp_path, "raises.py", "x = 1\ny = 1 / 0\n")
    sources = {
        "missing file": [f"{tmp_path / 'missing.py'}:Net", "--input-shape", "4"],
        "syntax error": [f"{broken}:Net", "--input-shape", "4"],
        "raises on import": [f"{raises}:Net", "--input-shape", "4"],
        "no such class": [f"{good}:Missing", "--input-shape", "4"],
        "constructor raises": [f"{good}:Net", "--input-shape", "4", "--args", '{"depth": 2}'],
        "bad --args": [f"{good}:Net", "--input-shape", "4", "--args", "{width: 4}"],
        "wrong input shape": [f"{good}:Net", "--input-shape", "7"],
        "no class given": [str(good), "--input-shape", "4"],
        "damaged onnx": [str(write(tmp_path, "damaged.onnx", "not protobuf at all"))],
        "no input shape": [f"{good}:Net"],
    }
    err = import_and_fail(sources[case], tmp_path, capsys, code=2)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    assert re.search(expected, lines[0]), lines[0]


def test_args_reach_the_constructor(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    net = write(tmp_path, "net.py", NET)
    out = tmp_path / "p.json"
    args = ["--input-shape", "9", "--args", '{"width": 9}', "-o", str(out)]
    assert run(["import", f"{net}:Net", *args]) == 0
    assert "20 weights (the model has 20)" in capsys.readouterr().out  # 9 × 2 + 2


def test_help_says_importing_python_runs_it(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        run(["import", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "RUNS that file" in text
    assert "Opening a NetLoom project never runs code" in text


def test_weights_out_is_a_checkpoint_train_and_export_accept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project, weights = tmp_path / "mlp.json", tmp_path / "mlp.pt"
    args = [f"{CORPUS / 'mlp.py'}:MLP", "--input-shape", "4", "-o", str(project)]
    assert run(["import", *args, "--weights-out", str(weights)]) == 0
    document = torch.load(weights, weights_only=True)
    assert document["format"] == "netloom-checkpoint"
    assert set(document["state_dict"]) == {
        f"net_{i}.{p}" for i in (0, 3, 5) for p in ("weight", "bias")
    }
    scripted = tmp_path / "mlp.torchscript"
    assert (
        run(
            [
                "export",
                str(project),
                "--to",
                "torchscript",
                "--weights",
                str(weights),
                "-o",
                str(scripted),
            ]
        )
        == 0
    )
    loaded = torch.jit.load(str(scripted))
    assert torch.equal(loaded.state_dict()["net_0.weight"], document["state_dict"]["net_0.weight"])
