"""Renaming a unit or one of its ports (engine.unit_edits): every instance follows, at
any depth, and renaming back gives the same file."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.graph import GraphError
from engine.project import dumps, load
from engine.shapes import analyze
from engine.unit_edits import rename_port, rename_unit

RESNET = Path(__file__).resolve().parents[2] / "templates" / "resnet_digits.json"


def test_rename_unit_follows_nested_instances_and_back_is_exact():
    project = load(RESNET)
    graph = project.graph
    before = dumps(project)
    rename_unit(graph, "ConvBnReLU", "CBR")
    assert graph.node("stem").type == "CBR"
    body = graph.library.definition("ResidualBlock").graph
    assert body.node("cbr1").type == "CBR", "an instance inside another unit follows"
    assert not analyze(graph).problems
    rename_unit(graph, "CBR", "ConvBnReLU")
    assert dumps(project) == before


def test_rename_port_moves_the_wires_and_back_is_exact():
    project = load(RESNET)
    graph = project.graph
    before = dumps(project)
    rename_port(graph, "ResidualBlock", "x", "features")
    assert graph.incoming("block1") == {"features": "stem"}
    assert not analyze(graph).problems
    rename_port(graph, "ResidualBlock", "features", "x")
    assert dumps(project) == before


def test_rename_refusals_name_the_problem():
    graph = load(RESNET).graph
    with pytest.raises(GraphError, match="already used"):
        rename_unit(graph, "ConvBnReLU", "ResidualBlock")
    with pytest.raises(GraphError, match="no input port 'y'"):
        rename_port(graph, "ResidualBlock", "y", "z")
    with pytest.raises(GraphError, match="already has a block or port named 'add'"):
        rename_port(graph, "ResidualBlock", "x", "add")
