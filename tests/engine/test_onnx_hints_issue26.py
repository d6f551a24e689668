"""ONNX import: an op NetLoom cannot run is named as such, and the tolerance scales.

Issue 26: an ONNX file with a custom op told the user to check --input-shape (ONNX
Runtime could not run the file, and that failure was blamed on the input). Now each such
node is reported with its op, its domain, its name and the nearest op NetLoom maps.
And a deep net whose outputs reach the thousands differs from ONNX Runtime by more than
1e-4 while agreeing to six digits: the check allows 1e-5 of the largest magnitude too.
"""

from __future__ import annotations

from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper

from engine.cli.main import run
from engine.importers.check import onnx_agreement
from engine.importers.from_onnx import import_onnx
from engine.importers.hints import shape_hint


def custom_op_file(path: Path, op_type: str, domain: str) -> Path:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 4])
    nodes = [
        helper.make_node("Relu", ["x"], ["h"], name="relu"),
        helper.make_node(op_type, ["h"], ["y"], name="block/act", domain=domain),
    ]
    opsets = [helper.make_opsetid("", 17)]
    if domain:
        opsets.append(helper.make_opsetid(domain, 1))
    model = helper.make_model(helper.make_graph(nodes, "g", [x], [y]), opset_imports=opsets)
    model.ir_version = 8  # one every ONNX Runtime in use loads
    onnx.save(model, str(path))
    return path


@pytest.mark.parametrize(
    ("op_type", "domain", "nearest"),
    [
        ("Swoosh", "com.example", "no op NetLoom maps is near it"),
        ("Relu", "com.example", "the standard ai.onnx Relu maps to a block"),
        ("FusedConv", "com.microsoft", "export without ONNX Runtime's graph optimizations"),
        ("Reluu", "", "the nearest op NetLoom maps is Relu"),
    ],
    ids=["custom", "custom-named-like-a-standard-op", "fused", "misspelt"],
)
def test_a_custom_op_is_named_with_its_domain_not_blamed_on_the_input_shape(
    op_type: str, domain: str, nearest: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = custom_op_file(tmp_path / "custom.onnx", op_type, domain)
    assert run(["import", str(path), "--input-shape", "4", "-o", str(tmp_path / "p.json")]) == 1
    err = capsys.readouterr().err
    assert "input-shape" not in err
    shown = domain or "ai.onnx"
    assert f"node block/act: {op_type} (domain {shown}) — " in err
    assert nearest in err
    assert "Traceback" not in err
    assert not (tmp_path / "p.json").exists()


def test_onnx_outputs_pass_within_1e_4_absolute() -> None:
    line, ok = onnx_agreement(6.1e-5, 3.0, "3 and 2")
    assert ok
    assert "allowed 0.0001 absolute" in line


def test_large_onnx_outputs_pass_within_1e_5_of_their_largest_magnitude() -> None:
    line, ok = onnx_agreement(6.7e-4, 210.0, "3 and 2")  # dla34's outputs on the probe
    assert ok
    assert "3.2e-06 of their largest magnitude 210 (allowed 1e-05 relative)" in line


def test_a_difference_large_for_its_outputs_fails() -> None:
    assert not onnx_agreement(6.7e-4, 2.0, "3")[1]
    assert not onnx_agreement(2e-4, 0.0, "3")[1]


def test_a_file_onnx_runtime_cannot_load_is_not_blamed_on_the_input_shape(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = custom_op_file(tmp_path / "future.onnx", "Relu", "")
    model = onnx.load(str(path))
    model.ir_version = 99  # from an ONNX newer than this ONNX Runtime
    onnx.save(model, str(path))
    assert run(["import", str(path), "--input-shape", "4", "-o", str(tmp_path / "p.json")]) == 2
    err = capsys.readouterr().err
    assert "loading the file fails" in err and "IR version 99 with opset 17" in err
    assert "input-shape" not in err


def test_the_dialogs_hint_names_a_custom_op_before_the_import_runs(tmp_path: Path) -> None:
    path = custom_op_file(tmp_path / "custom.onnx", "Swoosh", "com.example")
    hint = shape_hint(str(path))
    assert hint is not None and hint.dims == (4,)
    assert hint.text.endswith(
        "; but node block/act is Swoosh (domain com.example), which NetLoom cannot import"
    )


def test_a_standard_op_without_a_block_names_the_nearest_blocks(tmp_path: Path) -> None:
    path = custom_op_file(tmp_path / "softplus.onnx", "Softplus", "")
    result = import_onnx(path, (4,), False, None)
    (issue,) = result.report.errors
    assert str(issue) == (
        "node block/act: Softplus — no NetLoom block does this; "
        "the nearest: ELU, SiLU and Mish (smooth ReLUs)"
    )
