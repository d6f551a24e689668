"""Training from imported weights: `import --weights-out W.pt`, then `train --weights W.pt`.

The imported model starts where the original is: its weights before the first step are
the imported ones, and its first batch's loss is the original model's loss on that batch.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch import nn

from engine.cli.main import run
from engine.data import load_dataset
from engine.project.project import load
from engine.train.checkpoint import load_checkpoint, load_weights_for
from engine.train.config import TrainConfig
from engine.train.trainer import Trainer
from tests.engine.helpers import load_file

CORPUS = Path(__file__).resolve().parent / "import_corpus"
TRAINING = {
    "dataset": {"name": "iris", "params": {}},
    "optimizer": "adam",
    "lr": 0.01,
    "batch_size": 16,
    "epochs": 1,
    "val_split": 0.2,
    "seed": 3,
}


def original_mlp() -> nn.Module:
    module = load_file(CORPUS / "mlp.py")
    torch.manual_seed(0)
    return module.MLP()


@pytest.fixture
def imported(tmp_path: Path) -> tuple[Path, Path]:
    """The corpus MLP imported with its weights, set to train on iris."""
    project, weights = tmp_path / "mlp.json", tmp_path / "mlp.pt"
    source = f"{CORPUS / 'mlp.py'}:MLP"
    torch.manual_seed(0)  # the command builds the class with the weights original_mlp() has
    args = ["import", source, "--input-shape", "4", "-o", str(project)]
    assert run([*args, "--weights-out", str(weights)]) == 0
    document = json.loads(project.read_text(encoding="utf-8"))
    document["training"] = TRAINING
    project.write_text(json.dumps(document), encoding="utf-8")
    return project, weights


def first_batch_loss(trainer: Trainer, model: nn.Module) -> float:
    """`model`'s loss on the batch the trainer will take first, with its dropout masks."""
    generator = torch.Generator()
    generator.set_state(trainer.generator.get_state())
    order = torch.randperm(len(trainer.train_split), generator=generator)
    index = order[: trainer.config.batch_size]
    torch.manual_seed(trainer.config.seed)  # as the trainer seeds before its first batch
    model.train()
    with torch.no_grad():
        return trainer.loss_fn(
            model(trainer.train_split.x[index]), trainer.train_split.y[index]
        ).item()


def test_training_from_imported_weights_starts_where_the_original_is(
    imported: tuple[Path, Path], tmp_path: Path
) -> None:
    project_path, weights = imported
    project = load(project_path)
    config = TrainConfig.from_dict(project.training)
    data = load_dataset("iris", {}, tmp_path)

    trainer = Trainer(project, data, config, threads=1)
    state = load_weights_for(weights, {n.id for n in project.graph.nodes})
    trainer.start_from(state)
    for key, value in trainer.model.state_dict().items():
        assert torch.equal(value, state[key]), key
    want = first_batch_loss(trainer, original_mlp())
    trainer.fit()
    assert trainer.start_loss == want

    fresh = Trainer(project, data, config, threads=1)  # without the weights: another start
    fresh.fit()
    assert fresh.start_loss != want


def test_train_command_takes_imported_weights(
    imported: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project, weights = imported
    out = tmp_path / "run"
    assert run(["train", str(project), "--weights", str(weights), "--out", str(out)]) == 0
    assert "final: accuracy=" in capsys.readouterr().out
    trained = load_checkpoint(out / "model.pt").state_dict
    assert set(trained) == set(load_checkpoint(weights).state_dict)

    other = tmp_path / "other.pt"  # weights of another graph: one line naming the blocks
    code = run(
        ["import", f"{CORPUS / 'lenet.py'}:LeNet5", "--input-shape", "1,28,28"]
        + ["-o", str(tmp_path / "lenet.json"), "--weights-out", str(other)]
    )
    assert code == 0
    capsys.readouterr()
    assert run(["train", str(project), "--weights", str(other), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{other}: the weights are for another graph (blocks " in err
    assert "Traceback" not in err

    assert run(["train", str(project), "--weights", str(tmp_path / "none.pt")]) == 2
    assert "none.pt: no such file" in capsys.readouterr().err
