"""Fine-tune an imported model: freeze its body, replace its head, train.

A torchvision-style ResNet (tests/engine/tiny_resnet.py) is imported with its weights,
its body frozen and its classifier's units changed 1000 → 10; one epoch on the digits
leaves every frozen weight and BatchNorm statistic bit for bit as imported, while the
new head learns — through the Trainer, through `main.py train --weights`, and in the
exported training script.
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import pytest
import torch

from engine.cli.main import run
from engine.codegen.python_file import to_python
from engine.data import load_dataset
from engine.graph.shapes import analyze
from engine.project.project import ProjectError, from_dict, to_dict
from engine.train.checkpoint import load_checkpoint, save_checkpoint
from engine.train.config import TrainConfig
from engine.train.trainer import Trainer
from engine.units.edits import make_unit, ungroup
from engine.units.frozen import frozen_paths
from tests.engine.helpers import load_file
from tests.engine.test_codegen import script_ruff_failures
from tests.engine.tiny_resnet import imported
from tests.helpers import template_doc

TRAINING = {
    "dataset": {"name": "digits", "params": {}},
    "optimizer": "sgd",
    "lr": 0.05,
    "momentum": 0.9,
    "batch_size": 128,
    "epochs": 1,
    "val_split": 0.2,
    "seed": 0,
}
HEAD_NOTE = "fc: new weights (its shape changed: 10 × 16, was 1000 × 16)"


@pytest.fixture(scope="module")
def original() -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """The stand-in's project document and weights, as imported (once)."""
    result = imported()
    assert result.project is not None
    return to_dict(result.project), result.state_dict


def body_ids(doc: dict[str, Any]) -> list[str]:
    """The ids of the blocks and units with weights, but the head (`fc`)."""
    project = from_dict(doc)
    facts = analyze(project.graph).nodes
    return [n.id for n in project.graph.nodes if facts[n.id].params and n.id != "fc"]


def fine_tune_doc(doc: dict[str, Any], frozen: list[str] | None = None) -> dict[str, Any]:
    """The imported project with `frozen` (its body unless told) frozen, a 10-class head,
    set to train on digits."""
    frozen = body_ids(doc) if frozen is None else frozen
    doc = json.loads(json.dumps(doc))
    for node in doc["nodes"]:
        if node["id"] in frozen:
            node["frozen"] = True
        if node["id"] == "fc":
            node["params"]["units"] = 10
    doc["training"] = dict(TRAINING)
    return doc


def body(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {key: value for key, value in state.items() if not key.startswith("fc.")}


def assert_same(after: dict[str, torch.Tensor], before: dict[str, torch.Tensor]) -> None:
    assert after.keys() == before.keys()
    changed = [key for key in before if not torch.equal(after[key], before[key])]
    assert not changed, f"weights differ: {changed}"


def test_trainer_keeps_the_frozen_body_and_trains_the_new_head(original: Any) -> None:
    doc, weights = original
    project = from_dict(fine_tune_doc(doc))
    trainer = Trainer(project, load_dataset("digits", {}), TrainConfig.from_dict(TRAINING))

    assert trainer.start_from(weights) == [HEAD_NOTE]
    head = trainer.model.fc.weight.detach().clone()
    result = trainer.fit()

    assert result.status == "completed" and math.isfinite(result.history[-1].train.loss)
    after = trainer.model.state_dict()
    assert_same(body(after), body(weights))  # BatchNorm statistics and counts included
    assert not torch.equal(after["fc.weight"], head)
    total = sum(p.numel() for p in trainer.model.parameters())
    assert trainer.frozen.weights == total - 10 * 16 - 10


def test_without_freezing_the_same_run_moves_the_body(original: Any) -> None:
    """The check above can fail: unfrozen, one epoch changes weights and BN statistics."""
    doc, weights = original
    project = from_dict(fine_tune_doc(doc, frozen=[]))
    trainer = Trainer(project, load_dataset("digits", {}), TrainConfig.from_dict(TRAINING))
    trainer.start_from(weights)
    trainer.fit()
    after = trainer.model.state_dict()
    assert not torch.equal(after["bn1.running_mean"], weights["bn1.running_mean"])
    assert not torch.equal(after["conv1.weight"], weights["conv1.weight"])


def write_fine_tune(folder: Path, doc: dict[str, Any], weights: dict[str, torch.Tensor]) -> Path:
    """The project file of `doc` and the imported weights as `import --weights-out` writes them."""
    save_checkpoint(folder / "imported.pt", weights, doc, {}, {})
    path = folder / "fine_tune.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_train_command_fine_tunes_from_imported_weights(
    original: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc, weights = original
    project = write_fine_tune(tmp_path, fine_tune_doc(doc), weights)
    out = tmp_path / "run"

    code = run(
        ["train", str(project), "--weights", str(tmp_path / "imported.pt"), "--out", str(out)]
    )

    printed = capsys.readouterr().out
    assert code == 0
    assert HEAD_NOTE in printed.splitlines()
    total = sum(v.numel() for k, v in weights.items() if "running" not in k and "batches" not in k)
    total += 10 * 16 + 10 - 1000 * 16 - 1000  # the new head
    frozen = total - 10 * 16 - 10
    assert f"{frozen:,} of {total:,} weights frozen (conv1, bn1, layer1" in printed
    trained = load_checkpoint(out / "model.pt").state_dict
    assert_same(body(trained), body(weights))
    assert trained["fc.weight"].shape == (10, 16)
    saved = json.loads((out / "project.json").read_text(encoding="utf-8"))
    assert [n["id"] for n in saved["nodes"] if n.get("frozen")] == body_ids(doc)


def test_everything_frozen_is_one_line_and_exit_1(
    original: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc, weights = original
    project = write_fine_tune(tmp_path, fine_tune_doc(doc, [*body_ids(doc), "fc"]), weights)

    assert run(["train", str(project), "--out", str(tmp_path / "run")]) == 1

    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "every weight is frozen (conv1, bn1, layer1" in err[0]
    assert "untick Freeze" in err[0]


def test_the_project_file_holds_frozen_only_where_true(original: Any) -> None:
    doc, _ = original
    project = from_dict(fine_tune_doc(doc))
    assert [n.id for n in project.graph.nodes if n.frozen] == body_ids(doc)
    saved = to_dict(project)
    assert [n["id"] for n in saved["nodes"] if "frozen" in n] == body_ids(doc)
    assert all(n["frozen"] is True for n in saved["nodes"] if "frozen" in n)
    assert not any("frozen" in n for n in to_dict(from_dict(doc))["nodes"])


def test_a_frozen_field_that_is_no_boolean_names_its_place(original: Any) -> None:
    doc = fine_tune_doc(original[0])
    doc["nodes"][1]["frozen"] = "yes"
    with pytest.raises(
        ProjectError, match=r'nodes\[1\]\.frozen: expected true or false, got the string "yes"'
    ):
        from_dict(doc)


def test_a_block_frozen_inside_a_unit_is_frozen_in_every_instance_and_copy() -> None:
    """resnet_digits: `conv` inside ConvBnReLU (itself inside ResidualBlock ×2) and `conv2`
    inside ResidualBlock are frozen wherever the units are used."""
    doc = template_doc("resnet_digits")
    doc["training"]["epochs"] = 1
    for name, inner in (("ConvBnReLU", "conv"), ("ResidualBlock", "conv2")):
        for node in doc["units"][name]["nodes"]:
            if node["id"] == inner:
                node["frozen"] = True
    project = from_dict(doc)
    paths = frozen_paths(project.graph, analyze(project.graph))
    assert paths == [
        "stem.conv",
        "block1.0.cbr1.conv",
        "block1.0.conv2",
        "block1.1.cbr1.conv",
        "block1.1.conv2",
        "down.cbr1.conv",
        "block2.cbr1.conv",
        "block2.conv2",
    ]
    trainer = Trainer(project, load_dataset("digits", {}), TrainConfig.from_dict(doc["training"]))
    before = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    trainer.fit()
    after = trainer.model.state_dict()
    for path in paths:
        assert torch.equal(after[f"{path}.weight"], before[f"{path}.weight"]), path
    assert not torch.equal(after["block1.1.cbr1.bn.weight"], before["block1.1.cbr1.bn.weight"])
    assert not torch.equal(after["down.conv2.weight"], before["down.conv2.weight"])


def test_the_exported_script_keeps_the_frozen_weights(
    original: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc, weights = original
    project = write_fine_tune(tmp_path, fine_tune_doc(doc), weights)
    script = tmp_path / "fine_tune.py"
    assert run(["export", str(project), "--to", "script", "-o", str(script)]) == 0
    source = script.read_text(encoding="utf-8")
    assert "FROZEN = (\n    'conv1',\n" in source.replace('"', "'")
    assert script_ruff_failures(source, tmp_path) == {}

    module = load_file(script)
    out = tmp_path / "script_run"
    module.main(["--epochs", "1", "--out", str(out), "--start-from", str(tmp_path / "imported.pt")])

    assert "fc.weight: new weights (its shape changed: (10, 16), was (1000, 16))" in (
        capsys.readouterr().out
    )
    trained = torch.load(out / "model.pt", weights_only=True)["state_dict"]
    assert_same(body(trained), body(weights))
    assert trained["fc.weight"].shape == (10, 16)
    assert math.isfinite(torch.load(out / "model.pt", weights_only=True)["train"]["loss"])
    # NetLoom's own run of the project ends with the very same weights, head included.
    args = ["train", str(project), "--weights", str(tmp_path / "imported.pt")]
    assert run([*args, "--out", str(tmp_path / "netloom_run")]) == 0
    assert_same(load_checkpoint(tmp_path / "netloom_run" / "model.pt").state_dict, trained)
    with pytest.raises(SystemExit, match=r"^error: --start-from \S+missing\.pt: not a model\.pt"):
        module.main(["--out", str(out), "--start-from", str(tmp_path / "missing.pt")])


def test_making_a_unit_and_ungrouping_keep_freezing() -> None:
    """A frozen block made into a unit stays frozen inside it; a frozen instance ungrouped
    gives frozen blocks (repeated copies included)."""
    project = from_dict(template_doc("resnet_digits"))
    graph = project.graph
    graph.set_frozen("classify", True)
    made = make_unit(graph, ["pool", "classify"], "Head").instance.id
    body = graph.library.definition(graph.node(made).type).graph
    assert body.node("classify").frozen and not body.node("pool").frozen

    graph.set_frozen("block1", True)  # ResidualBlock ×2
    ungroup(graph, "block1")
    unfrozen = [n.id for n in graph.nodes if n.spec.role == "layer" and not n.frozen]
    assert "cbr1" not in unfrozen and "conv2" not in unfrozen
    assert sum(n.frozen for n in graph.nodes) == 10  # 5 blocks per copy, 2 copies


def test_other_exports_are_the_same_network_frozen_or_not(original: Any) -> None:
    doc = fine_tune_doc(original[0], frozen=[])
    assert to_python(from_dict(fine_tune_doc(original[0]))) == to_python(from_dict(doc))


def test_freezing_survives_delete_and_undo_and_copies() -> None:
    graph = from_dict(template_doc("resnet_digits")).graph
    graph.set_frozen("block1", True)
    node, wires = graph.remove_node("block1")
    graph.restore_node(node)  # as undoing a delete does
    assert graph.node("block1").frozen
    assert graph.copy().node("block1").frozen
    assert copy.deepcopy(graph).node("block1").frozen
    assert not graph.copy().node("block2").frozen


def test_a_frozen_layer_scale_keeps_its_factors_in_netloom_and_in_the_script(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A LayerScale's factors are a parameter of the model itself (no module): frozen, they
    stay as they are, directly and inside a unit."""
    doc = template_doc("mlp_iris")
    doc["training"]["epochs"] = 1
    doc["nodes"].insert(2, {"id": "ls1", "type": "LayerScale", "frozen": True, "pos": [0, 0]})
    doc["nodes"][2]["params"] = {"axis": "last", "init": 0.5}
    doc["edges"][1] = {"source": "dense1", "target": "ls1", "target_port": "x"}
    doc["edges"].insert(2, {"source": "ls1", "target": "relu1", "target_port": "x"})
    project = from_dict(doc)
    make_unit(project.graph, ["dense1", "ls1"], "Scaled")  # the factors inside a unit
    doc = to_dict(project)
    project = from_dict(doc)
    [path] = frozen_paths(project.graph, analyze(project.graph))
    assert path.endswith(".ls1")

    trainer = Trainer(project, load_dataset("iris", {}), TrainConfig.from_dict(doc["training"]))
    trainer.fit()
    assert torch.equal(trainer.model.get_parameter(path), torch.full((16,), 0.5))
    assert trainer.frozen.weights == 16

    (tmp_path / "scaled.json").write_text(json.dumps(doc), encoding="utf-8")
    script = tmp_path / "scaled.py"
    assert run(["export", str(tmp_path / "scaled.json"), "--to", "script", "-o", str(script)]) == 0
    load_file(script).main(["--out", str(tmp_path / "run")])
    trained = torch.load(tmp_path / "run" / "model.pt", weights_only=True)["state_dict"]
    assert torch.equal(trained[path], torch.full((16,), 0.5))
