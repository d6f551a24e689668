"""Hostile ONNX files and checkpoints: every one answered in one line naming the place,
exit 1 or 2, nothing written, no traceback and no hang (the fast share of
bench/fuzz_inputs.py, in-process, fixed seeds), and the attacks the fuzz found, one
test each.

Before: an ONNX input declaring 10¹² values, or an initializer whose bytes did not fit
its dims, ended in a traceback; a ConstantOfShape of 40,000×40,000 made the probe
allocate 6 GB; a Loop of 2⁶² turns never ended; external data was read through `..`
or a symlink from outside the model's folder. A checkpoint with a view claiming 10¹²
elements over one stored number was scanned for NaN element by element, and one with
12,000 tensors took over 20 s to read.
"""

from __future__ import annotations

import math
import random
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.cli.main import run
from engine.common.limits import MAX_CHECKPOINT_TENSORS
from tests.engine import hostile_checkpoints, hostile_onnx
from tests.engine.hostile_cases import CORPUS, Case, run_case

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SEED = 0
CASES_PER_FAMILY = {"onnx": 3, "checkpoint": 3}
QUICK = 5.0  # seconds: a refusal comes before any large allocation or long run


def cases(kind: str, families: list[str]) -> list[Case]:
    return [
        Case(kind, SEED, position + round_ * len(families))
        for round_ in range(CASES_PER_FAMILY[kind])
        for position in range(len(families))
    ]


@pytest.mark.parametrize("case", cases("onnx", hostile_onnx.FAMILIES), ids=str)
def test_a_hostile_onnx_file_is_answered_in_one_line(case: Case, tmp_path: Path) -> None:
    outcome = run_case(case, tmp_path)
    assert outcome.problem is None, f"{case} ({outcome.family}): {outcome.problem}"


@pytest.mark.parametrize("case", cases("checkpoint", hostile_checkpoints.FAMILIES), ids=str)
def test_a_hostile_checkpoint_is_answered_in_one_line(case: Case, tmp_path: Path) -> None:
    outcome = run_case(case, tmp_path)
    assert outcome.problem is None, f"{case} ({outcome.family}): {outcome.problem}"


# ---------------------------------------------------------------- ONNX attacks

TEXT_LSTM = CORPUS / "text_lstm_dynamo.onnx"
RESIDUAL = CORPUS / "residual_concat_dynamo.onnx"


def import_file(path: Path, capsys, *shape: str) -> tuple[int, str]:
    out = path.parent / "out"
    out.mkdir(exist_ok=True)
    args = ["import", str(path), *shape, "-o", str(out / "p.json")]
    started = time.perf_counter()
    code = run([*args, "--weights-out", str(out / "w.pt")])
    assert time.perf_counter() - started < QUICK
    err = capsys.readouterr().err
    assert "Traceback" not in err
    if code != 0:
        assert list(out.iterdir()) == []
    return code, err.strip()


def mutated(tmp_path: Path, source: Path, change) -> Path:
    import onnx

    model = onnx.load(str(source))
    change(model)
    folder = tmp_path / "model"
    folder.mkdir(exist_ok=True)
    path = folder / "model.onnx"
    path.write_bytes(model.SerializeToString())
    return path


def external(model, location: str, length: int | None = None) -> None:
    from onnx import TensorProto

    init = next(i for i in model.graph.initializer if i.name == "stem.weight")
    size = len(init.raw_data)
    init.ClearField("raw_data")
    init.data_location = TensorProto.EXTERNAL
    entries = {"location": location, "offset": "0", "length": str(length or size)}
    for key, value in entries.items():
        entry = init.external_data.add()
        entry.key, entry.value = key, value


def stem_bytes() -> bytes:
    import onnx

    model = onnx.load(str(RESIDUAL))
    return next(i for i in model.graph.initializer if i.name == "stem.weight").raw_data


def test_external_data_beside_the_model_imports(tmp_path: Path, capsys) -> None:
    path = mutated(tmp_path, RESIDUAL, lambda m: external(m, "stem.bin"))
    (path.parent / "stem.bin").write_bytes(stem_bytes())
    assert import_file(path, capsys, "--input-shape", "3,16,16")[0] == 0


@pytest.mark.parametrize("how", ["dotdot", "absolute", "symlink"])
def test_external_data_outside_the_models_folder_is_never_read(
    tmp_path: Path, capsys, how: str
) -> None:
    secret = tmp_path / "secret.bin"
    secret.write_bytes(stem_bytes())  # readable, and the right size: only the place is wrong
    location = {"dotdot": "../secret.bin", "absolute": str(secret), "symlink": "link.bin"}[how]
    path = mutated(tmp_path, RESIDUAL, lambda m: external(m, location))
    if how == "symlink":
        (path.parent / "link.bin").symlink_to(secret)
    code, err = import_file(path, capsys, "--input-shape", "3,16,16")
    assert code == 2
    assert err.startswith("error: ") and "initializer stem.weight: external data" in err
    assert "outside the model's folder" in err or "beside the model" in err


def test_external_data_past_the_end_of_its_file_is_refused(tmp_path: Path, capsys) -> None:
    path = mutated(tmp_path, RESIDUAL, lambda m: external(m, "stem.bin", length=10**12))
    (path.parent / "stem.bin").write_bytes(stem_bytes())
    code, err = import_file(path, capsys, "--input-shape", "3,16,16")
    assert code == 2
    assert "initializer stem.weight: external data asks for bytes 0…1000000000000" in err


@pytest.mark.parametrize("size", [10**12, 2**31])
def test_a_huge_declared_input_is_refused_before_it_is_made(
    tmp_path: Path, capsys, size: int
) -> None:
    def grow(model) -> None:
        model.graph.input[0].type.tensor_type.shape.dim[1].dim_value = size

    code, err = import_file(mutated(tmp_path, TEXT_LSTM, grow), capsys)
    assert code == 2
    assert "input tokens at the probe batch" in err
    assert "MAX_IMPORT_TENSOR_ELEMENTS" in err


def test_an_initializer_whose_bytes_misfit_its_dims_is_named(tmp_path: Path, capsys) -> None:
    def reshape(model) -> None:
        model.graph.initializer[0].dims[0] += 1

    path = mutated(tmp_path, RESIDUAL, reshape)
    code, err = import_file(path, capsys, "--input-shape", "3,16,16")
    assert code == 2
    assert f"initializer {_first_initializer(RESIDUAL)}: its data does not fit its dims" in err


def _first_initializer(path: Path) -> str:
    import onnx

    return onnx.load(str(path)).graph.initializer[0].name


@pytest.mark.parametrize("seed", [0, 1])
def test_a_node_that_would_allocate_gigabytes_is_refused_before_running(
    tmp_path: Path, capsys, seed: int
) -> None:
    from onnx import helper, numpy_helper

    def bomb(model) -> None:
        shape = numpy_helper.from_array(np.array([40_000, 40_000], dtype=np.int64), "size")
        model.graph.initializer.append(shape)
        model.graph.node.insert(
            seed, helper.make_node("ConstantOfShape", ["size"], ["big"], "bomb")
        )

    code, err = import_file(mutated(tmp_path, RESIDUAL, bomb), capsys, "--input-shape", "3,16,16")
    assert code == 2
    assert "node bomb output big: shape [40000, 40000]" in err


def test_a_loop_is_reported_at_its_node_without_running(tmp_path: Path, capsys) -> None:
    rng = random.Random(0)
    path = tmp_path / "model" / "model.onnx"
    path.parent.mkdir()
    template = RESIDUAL.read_bytes()
    hostile_onnx.write_case(rng, template, path.parent, "control")  # a Loop of 2⁶² turns
    code, err = import_file(path, capsys, "--input-shape", "3,16,16")
    assert code == 1
    assert "node spin: Loop — holds a subgraph (control flow" in err


# ----------------------------------------------------------- checkpoint attacks


def export_with(tmp_path: Path, document, capsys) -> tuple[int, str]:
    weights = tmp_path / "model.pt"
    weights.write_bytes(hostile_checkpoints.saved(document))
    out = tmp_path / "m.pt"
    project = str(hostile_checkpoints.DATA)
    started = time.perf_counter()
    code = run(
        ["export", project, "--to", "torchscript", "-o", str(out), "--weights", str(weights)]
    )
    assert time.perf_counter() - started < QUICK
    err = capsys.readouterr().err.strip()
    assert not out.exists()
    assert "Traceback" not in err and len(err.splitlines()) == 1
    return code, err


def test_a_view_claiming_a_trillion_elements_is_refused_by_its_shape(
    tmp_path: Path, capsys
) -> None:
    document = hostile_checkpoints.good_document()
    document["state_dict"]["dense1.weight"] = torch.zeros(1).expand(10**6, 10**6)
    code, err = export_with(tmp_path, document, capsys)
    assert code == 2
    assert "state_dict.dense1.weight: shape [1000000, 1000000] holds 1×10¹² elements" in err


def test_a_sparse_weight_is_refused_by_name(tmp_path: Path, capsys) -> None:
    document = hostile_checkpoints.good_document()
    document["state_dict"]["dense1.weight"] = document["state_dict"]["dense1.weight"].to_sparse()
    code, err = export_with(tmp_path, document, capsys)
    assert code == 2
    assert "state_dict.dense1.weight: expected a dense tensor, got a sparse_coo one" in err


def test_a_checkpoint_of_too_many_tensors_is_refused_before_reading(tmp_path: Path, capsys) -> None:
    document = hostile_checkpoints.good_document()
    extra = MAX_CHECKPOINT_TENSORS + 1 - len(document["state_dict"])
    document["state_dict"].update({f"w{i}": torch.zeros(1) for i in range(extra)})
    code, err = export_with(tmp_path, document, capsys)
    assert code == 2
    assert f"stores {MAX_CHECKPOINT_TENSORS + 1:,} tensors, over the limit" in err


def test_torchs_paragraphs_become_one_short_line(tmp_path: Path, capsys) -> None:
    good = hostile_checkpoints.saved(hostile_checkpoints.good_document())
    weights = tmp_path / "model.pt"
    weights.write_bytes(good[: math.floor(len(good) * 0.9)])
    code = run(
        [
            "inspect",
            str(hostile_checkpoints.DATA),
            "--weights",
            str(weights),
            "--out",
            str(tmp_path / "v"),
        ]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err) < 400 and "If you are seeing this error" not in err


def test_onnx_runtimes_own_error_log_stays_quiet(tmp_path: Path, capfd) -> None:
    # ONNX Runtime logs a failed kernel to the process's stderr itself (in colour,
    # beside NetLoom's line); the reason is already in that line.
    from onnx import numpy_helper

    def misfit_bias(model) -> None:
        init = next(i for i in model.graph.initializer if i.name == "stem.bias")
        init.CopyFrom(numpy_helper.from_array(np.zeros([5], dtype=np.float32), "stem.bias"))

    path = mutated(tmp_path, RESIDUAL, misfit_bias)
    out = tmp_path / "p.json"
    assert run(["import", str(path), "--input-shape", "3,16,16", "-o", str(out)]) == 2
    err = capfd.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert "ONNX Runtime cannot run it" in err and not out.exists()


def test_a_size_computed_from_the_data_cannot_exhaust_memory(tmp_path: Path) -> None:
    # Found by the long fuzz: a flipped byte made the LSTM's initial state 654,311,448
    # wide through shape arithmetic shape inference cannot follow; ONNX Runtime's arena
    # is bounded, so the probe's allocation fails in one line instead of taking 16 GB.
    outcome = run_case(Case("onnx", SEED, 6769), tmp_path)
    assert outcome.problem is None and outcome.code == 2
    assert "node node_zeros: running the file once to learn its shapes" in outcome.first_line
    assert "MAX_IMPORT_PROBE_BYTES" in outcome.first_line


@pytest.mark.parametrize("index", [2673, 5441])
def test_a_name_that_is_not_utf8_is_one_line(tmp_path: Path, index: int) -> None:
    # Found by the long fuzz: protobuf returns such a name as bytes, which crashed later.
    outcome = run_case(Case("onnx", SEED, index), tmp_path)
    assert outcome.code == 2 and "a name that is not UTF-8 text" in outcome.first_line


@pytest.mark.parametrize("failing", ["save", "write_checkpoint"])
def test_a_write_that_fails_leaves_neither_the_project_nor_the_weights(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    import engine.importers.run as import_run

    def disk_full(*_args, **_kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(import_run, failing, disk_full)
    path = mutated(tmp_path, RESIDUAL, lambda m: None)
    code, err = import_file(path, capsys, "--input-shape", "3,16,16")  # checks out/ is empty
    assert code != 0 and "No space left on device" in err
