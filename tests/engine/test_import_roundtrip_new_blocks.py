"""Round trips of the issue's new blocks that the random graphs meet only by chance:
a LayerScale whose init float32 cannot hold (read back from the exported source), and
a LayerScale inside a unit with several outputs (which comes back as its blocks)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from engine.codegen import to_python
from engine.graph.graph import Graph
from engine.importers.check import InputSpec
from engine.importers.from_torch import import_python
from engine.importers.parameter_source import written_fill
from engine.project.project import Project
from engine.units.edits import make_unit
from tests.engine.test_import_roundtrip import round_trip_problems

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def scaled(init: float) -> Graph:
    graph = Graph()
    graph.add_node("Input", {"shape": [3, 4, 4]}, node_id="image")
    graph.add_node("LayerScale", {"init": init}, node_id="ls1")
    graph.add_node("Output", {"loss": "mse"}, node_id="output1")
    graph.connect("image", "ls1")
    graph.connect("ls1", "output1")
    return graph


@pytest.mark.parametrize("init", [-999999.941, 0.1, 1e-06, 3])
def test_a_layer_scale_init_comes_back_as_written(init: float, tmp_path: Path) -> None:
    # float32 holds -999999.941 as -999999.9375, whose shortest form is -999999.94
    project = Project(scaled(init), name="Scaled")
    path = tmp_path / "scaled.py"
    path.write_text(to_python(project), encoding="utf-8")
    result = import_python(f"{path}:Scaled", InputSpec((3, 4, 4), False, "float32"))
    assert result.project is not None, result.report.errors
    assert result.project.graph.node("ls1").params["init"] == init
    assert round_trip_problems(project, tmp_path) == []


class Written(nn.Module):
    def __init__(self, init: float = 0.5) -> None:
        super().__init__()
        self.literal = nn.Parameter(torch.full((4,), -2.5))
        self.argument = nn.Parameter(torch.full((4,), init))
        self.ones = nn.Parameter(init * torch.ones(4))


def test_only_a_number_written_in_the_constructor_is_read() -> None:
    assert written_fill(Written, "literal") == -2.5
    assert written_fill(Written, "argument") is None  # a constructor argument
    assert written_fill(Written, "ones") is None  # not torch.full
    assert written_fill(nn.Linear, "weight") is None


def test_a_layer_scale_inside_a_unit_of_two_outputs_keeps_its_path_as_its_id(
    tmp_path: Path,
) -> None:
    # The unit comes back as its blocks (it has two outputs), each named after its place
    # in the exported model, `part1.ls1` → part1_ls1 as `part1.relu1` → part1_relu1.
    graph = Graph()
    graph.add_node("Input", {"shape": [4]}, node_id="features")
    graph.add_node("LayerScale", {"axis": "last", "init": 0.5}, node_id="ls1")
    graph.add_node("ReLU", {}, node_id="relu1")
    graph.add_node("Output", {"loss": "mse"}, node_id="scaled")
    graph.add_node("Output", {"loss": "mse"}, node_id="kept")
    graph.connect("features", "ls1")
    graph.connect("ls1", "relu1")
    graph.connect("ls1", "scaled")
    graph.connect("relu1", "kept")
    make_unit(graph, ["ls1", "relu1"], "Part")
    project = Project(graph, name="TwoWays")
    path = tmp_path / "two_ways.py"
    path.write_text(to_python(project), encoding="utf-8")
    result = import_python(f"{path}:TwoWays", InputSpec((4,), False, "float32"))
    assert result.project is not None, result.report.errors
    ids = {n.type: n.id for n in result.project.graph.nodes}
    assert (ids["LayerScale"], ids["ReLU"]) == ("part1_ls1", "part1_relu1")
    assert round_trip_problems(project, tmp_path) == []


def dropped(p: float) -> Graph:
    graph = Graph()
    graph.add_node("Input", {"shape": [3, 4, 4]}, node_id="image")
    graph.add_node("DropPath", {"p": p}, node_id="droppath1")
    graph.add_node("Output", {"loss": "mse"}, node_id="output1")
    graph.connect("image", "droppath1")
    graph.connect("droppath1", "output1")
    return graph


# torchvision's linear schedules: 0.2 * 3 / 8 and 0.1 * 1 / 17. The export writes the keep
# probability, 1 − p, which loses p's last digits; the line then writes it `1 - p`.
@pytest.mark.parametrize("p", [0.07500000000000001, 0.0058823529411764705, 0.1, 1 / 6])
def test_a_drop_path_probability_comes_back_as_it_was(p: float, tmp_path: Path) -> None:
    project = Project(dropped(p), name="Dropped")
    path = tmp_path / "dropped.py"
    path.write_text(to_python(project), encoding="utf-8")
    result = import_python(f"{path}:Dropped", InputSpec((3, 4, 4), False, "float32"))
    assert result.project is not None, result.report.errors
    assert result.project.graph.node("droppath1").params["p"] == p
    assert round_trip_problems(project, tmp_path) == []
