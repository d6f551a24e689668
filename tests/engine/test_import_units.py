"""Importing Python: a module class built more than once becomes a unit.

Instances of one structure share a definition, with the params that differ promoted;
instances wired differently get their own (`BasicBlock`, `BasicBlock_2`). Node ids and
weight keys follow the module paths: `layer1.0.conv1` → instance `layer1_0`, inner
block `conv1`, weight `layer1_0.conv1.weight`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from engine.cli.main import run
from engine.importers.check import InputSpec
from engine.importers.from_torch import import_module, import_python
from engine.project.project import load
from engine.train.checkpoint import load_checkpoint
from tests.engine.helpers import load_file
from tests.engine.test_import import CASES, Case, import_cli, original


def case(cls: str) -> Case:
    return next(c for c in CASES if c.cls == cls)


def test_resnet_blocks_become_two_units_by_shortcut(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project, weights = import_cli(case("CifarResNet").source, case("CifarResNet"), tmp_path)
    out = capsys.readouterr().out
    assert "BasicBlock ×3, promoting out_channels; BasicBlock_2 ×2, promoting c_out" in out
    # layer1 is nn.Sequential(BasicBlock(16, 16), BasicBlock(16, 16)): one instance ×2
    assert "layer1 is BasicBlock repeated ×2 (an nn.Sequential)" in out
    graph = load(project).graph
    library = graph.library
    types = {n.id: n.type for n in graph.nodes}
    assert {k: v for k, v in types.items() if k.startswith("layer")} == {
        "layer1": "BasicBlock",
        "layer2_0": "BasicBlock_2",
        "layer2_1": "BasicBlock",
        "layer3_0": "BasicBlock_2",
        "layer3_1": "BasicBlock",
    }
    # c_in == c_out in every identity block: which argument it follows is not known
    assert graph.node("layer3_1").params == {"out_channels": 64, "repeat": 1}
    assert graph.node("layer1").params == {"out_channels": 16, "repeat": 2}
    identity = library.definition("BasicBlock")
    projection = library.definition("BasicBlock_2")
    assert [n.id for n in identity.graph.nodes if n.spec.role == "layer"] == [
        "conv1",
        "bn1",
        "relu1",
        "conv2",
        "bn2",
        "add1",
        "relu2",
    ]
    assert {"shortcut_0", "shortcut_1"} <= {n.id for n in projection.graph.nodes}
    # the promoted param takes the name of BasicBlock's argument it follows, c_out
    assert projection.promoted == {
        "c_out": [
            ("conv1", "out_channels"),
            ("conv2", "out_channels"),
            ("shortcut_0", "out_channels"),
        ]
    }
    state = load_checkpoint(weights).state_dict
    reference = original(case("CifarResNet")).state_dict()
    assert torch.equal(state["layer2_0.shortcut_0.weight"], reference["layer2.0.shortcut.0.weight"])
    assert torch.equal(state["layer1.1.conv2.weight"], reference["layer1.1.conv2.weight"])
    assert len(state) == len(reference)

    exported = tmp_path / "resnet.py"
    assert run(["export", str(project), "--to", "python", "-o", str(exported)]) == 0
    module = load_file(exported)
    assert module.BasicBlock.__name__ == "BasicBlock"
    assert module.BasicBlock2(conv1_in_channels=16, c_out=32).shortcut_0.stride == (2, 2)


def test_unet_units_nest_three_levels(tmp_path: Path) -> None:
    project, weights = import_cli(case("UNet").source, case("UNet"), tmp_path)
    graph = load(project).graph
    library = graph.library
    assert [graph.node(n).type for n in ("inc", "down1", "up1", "outc")] == [
        "DoubleConv",
        "Down",
        "Up",
        "Conv2d",
    ]
    # the unit's ports take the names of Up.forward's arguments
    assert graph.incoming("up1") == {"x": "down3", "skip": "down2"}
    down = library.definition("Down").graph
    assert down.node("conv").type == "DoubleConv"
    assert library.definition("Up").graph.node("conv").type == "DoubleConv"
    state = load_checkpoint(weights).state_dict
    assert "up3.conv.double_conv_3.weight" in state
    assert state["down2.conv.double_conv_0.weight"].shape == (32, 16, 3, 3)


def test_a_class_built_once_stays_blocks(tmp_path: Path) -> None:
    graph = load(import_cli(case("SENet").source, case("SENet"), tmp_path)[0]).graph
    assert graph.library is None or not graph.library.definitions
    assert graph.node("se_reduce").type == "Conv2d"


class Encoder(nn.Module):
    def __init__(self, features: int) -> None:
        super().__init__()
        self.proj = nn.Linear(features, 8)
        self.rnn = nn.GRU(8, 8, batch_first=True)

    def forward(self, x):
        out, _ = self.rnn(torch.tanh(self.proj(x)))
        return out


class Pair(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(8, 8)
        self.b = nn.Linear(8, 8)

    def forward(self, x):
        return self.a(x), self.b(x)


class Stacked(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.enc1 = Encoder(6)
        self.enc2 = Encoder(8)
        self.pair1 = Pair()
        self.pair2 = Pair()

    def forward(self, x):
        a, b = self.pair1(self.enc2(self.enc1(x))[:, -1])
        c, d = self.pair2(a + b)
        return c * d


def test_recurrent_units_and_two_output_classes_left_as_blocks() -> None:
    torch.manual_seed(0)
    result = import_module(Stacked(), InputSpec((5, 6), sequence=True), "Stacked")
    assert result.project is not None, result.report.text()
    graph = result.project.graph
    assert [graph.node(n).type for n in ("enc1", "enc2")] == ["Encoder", "Encoder"]
    encoder = graph.library.definition("Encoder")
    assert encoder.graph.node("rnn").type == "GRU"
    # enc1 gives enc2 the sequence; enc2's last step is all the model reads
    assert encoder.promoted == {"output": [("rnn", "output")]}
    assert [graph.node("enc1").params["output"], graph.node("enc2").params["output"]] == [
        "sequence",
        "last",
    ]
    # A Pair returns two tensors; a unit has one output, so its blocks stay as they are.
    assert {"pair1_a", "pair1_b", "pair2_a", "pair2_b"} <= {n.id for n in graph.nodes}
    assert "bit-identical" in result.report.check
    assert set(result.state_dict) >= {"enc2.rnn.weight_ih_l0", "pair1_a.weight"}


SEQUENTIAL_BLOCKS = """
import torch.nn.functional as F
from torch import nn


class Block(nn.Module):
    def __init__(self, c_in, c_out, k=3):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, k, padding=k // 2)
        self.bn = nn.BatchNorm2d(c_out)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(Block(3, 8), Block(8, 8))
        self.mid = nn.Sequential(Block(8, 8, 5), Block(8, 8, 5), Block(8, 8, 5))
        self.tail = nn.Sequential(Block(8, 4, 1))
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        x = self.tail(self.mid(self.stem(x)))
        return self.fc(x.mean(dim=(2, 3)))
"""


def test_sequential_copies_are_one_instance_repeated_with_argument_names(tmp_path: Path) -> None:
    path = tmp_path / "blocks.py"
    path.write_text(SEQUENTIAL_BLOCKS, encoding="utf-8")
    result = import_python(f"{path}:Net", InputSpec((3, 8, 8)))
    assert result.project is not None, result.report.text()
    graph = result.project.graph
    # the first copy of stem takes 3 channels, the second 8: still one instance ×2
    assert graph.node("stem").params == {"c_out": 8, "k": 3, "padding": 1, "repeat": 2}
    assert graph.node("mid").params == {"c_out": 8, "k": 5, "padding": 2, "repeat": 3}
    assert graph.node("tail_0").params["repeat"] == 1  # one copy: the instance as it is
    # c_out and k are Block's arguments; padding = k // 2 is no argument of its own
    assert set(graph.library.definition("Block").promoted) == {"c_out", "k", "padding"}
    assert {"stem.1.conv.weight", "mid.2.bn.running_mean"} <= set(result.state_dict)
    assert "bit-identical" in result.report.check


class Gate(nn.Module):
    def __init__(self, features: int) -> None:
        super().__init__()
        self.fc = nn.Linear(features, features)

    def forward(self, x, gate):
        return torch.sigmoid(gate) * self.fc(x)  # gate is used first


class Gated(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.pre = nn.Linear(4, 4)
        self.g1 = Gate(4)
        self.g2 = Gate(4)

    def forward(self, x):
        h = self.pre(x)
        return self.g2(self.g1(x, h), h)


def test_a_units_ports_follow_its_forwards_arguments() -> None:
    torch.manual_seed(0)
    result = import_module(Gated(), InputSpec((4,)), "Gated")
    assert result.project is not None, result.report.text()
    graph = result.project.graph
    assert graph.library.definition("Gate").inputs == ("x", "gate")
    assert graph.incoming("g2") == {"x": "g1", "gate": "pre"}
