"""Ctrl+G asks the new unit's name (suggested from its blocks), the unit's inside reads
left to right, and exported classes are named after the project and its units."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QDialogButtonBox

from engine.codegen.command import export
from engine.codegen.python_file import to_python
from engine.graph.graph import Graph
from engine.project.project import Project, load, save
from engine.units.edits import suggest_unit_name


def conv_bn_relu_project(path: Path, name: str = "Untitled") -> Path:
    """image → c1 Conv2d → bn1 BatchNorm → r1 ReLU → c2 Conv2d → bn2 → r2 → pool → fc → out,
    with the six middle blocks wrapped into two rows, as the template layout leaves a
    long chain (the second row starts back at the left)."""
    graph = Graph()
    graph.add_node("Input", {"shape": [3, 8, 8]}, (0, 0), "image")
    chain = [
        ("Conv2d", "c1", (300, 0)),
        ("BatchNorm", "bn1", (600, 0)),
        ("ReLU", "r1", (900, 0)),
        ("Conv2d", "c2", (0, 250)),
        ("BatchNorm", "bn2", (300, 250)),
        ("ReLU", "r2", (600, 250)),
        ("GlobalPool", "pool", (900, 250)),
        ("Dense", "fc", (0, 500)),
    ]
    for type_name, node_id, pos in chain:
        params = {"out_channels": 4} if type_name == "Conv2d" else {}
        graph.add_node(type_name, params, pos, node_id)
    graph.add_node("Output", {}, (300, 500), "out")
    ids = ["image", *(node_id for _, node_id, _ in chain), "out"]
    for source, target in zip(ids, ids[1:], strict=False):
        graph.connect(source, target)
    save(Project(graph, name=name), path)
    return path


def ask(window, ids: list[str]):
    window.scene.select_nodes(ids)
    window.actions_["make_unit"].trigger()
    dialog = window.unit_name_dialog
    assert dialog is not None and dialog.isVisible(), "Ctrl+G asks the unit's name"
    return dialog


def test_ctrl_g_suggests_a_name_from_the_blocks_and_makes_the_unit_under_it(window, tmp_path):
    assert window.open_path(conv_bn_relu_project(tmp_path / "net.json"))
    assert window.actions_["make_unit"].shortcut().toString() == "Ctrl+G"
    dialog = ask(window, ["c1", "bn1", "r1"])
    assert dialog.name() == "ConvBnReLU"
    dialog.accept()
    (instance,) = window.scene.selected_node_ids()
    assert window.project.graph.node(instance).type == "ConvBnReLU"
    assert window.undo_stack.count() == 1

    # The same blocks again: the suggestion steps past the name now taken.
    dialog = ask(window, ["c2", "bn2", "r2"])
    assert dialog.name() == "ConvBnReLU2"
    dialog.name_edit.setText("Stage2")
    dialog.accept()
    (second,) = window.scene.selected_node_ids()
    assert window.project.graph.node(second).type == "Stage2"


def test_cancel_leaves_the_graph_as_it_was(window, tmp_path):
    start = conv_bn_relu_project(tmp_path / "net.json")
    assert window.open_path(start)
    dialog = ask(window, ["c1", "bn1", "r1"])
    dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel).click()
    assert window.undo_stack.count() == 0
    assert not window.project.graph.library.definitions
    again = tmp_path / "again.json"
    assert window.write_to(again)
    assert again.read_bytes() == start.read_bytes()


def test_a_name_that_cannot_be_used_keeps_make_unit_off_and_says_why(window, tmp_path):
    assert window.open_path(conv_bn_relu_project(tmp_path / "net.json"))
    dialog = ask(window, ["c1", "bn1", "r1"])
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    for bad, why in (("my unit", "Python name"), ("Conv2d", "block type"), ("", "needs a name")):
        dialog.name_edit.setText(bad)
        assert not ok.isEnabled() and why in dialog.problem.text()
        dialog.accept()  # Enter in the field: refused too
        assert window.undo_stack.count() == 0
    dialog.name_edit.setText("Stem")
    assert ok.isEnabled()
    ok.click()
    assert window.undo_stack.count() == 1


def test_suggestions_read_as_names() -> None:
    graph = Graph()
    graph.add_node("Input", {"shape": [3, 8, 8]}, (0, 0), "image")
    for node_id, type_name in (
        ("d1", "Dense"),
        ("up", "ConvTranspose2d"),
        ("ln", "LayerNorm"),
        ("p", "MaxPool2d"),
        ("d2", "Dense"),
    ):
        graph.add_node(type_name, {}, (0, 0), node_id)
    assert suggest_unit_name(graph, ["d1"]) == "DenseBlock", "not the block type's own name"
    assert suggest_unit_name(graph, ["d1", "d2"]) == "DenseBlock"
    assert suggest_unit_name(graph, ["up", "ln", "p"]) == "DeconvLnMaxPool"
    # Units in the selection: their names stand; too long to join, the first names it.
    resnet = load(Path(__file__).resolve().parents[2] / "templates" / "resnet_digits.json")
    assert suggest_unit_name(resnet.graph, ["block1", "down", "block2"]) == "ResidualBlockStage"
    assert suggest_unit_name(resnet.graph, ["stem", "block1"]) == "ConvBnReLUResidualBlock"


def rects(scene) -> dict[str, QRectF]:
    return {node_id: item.sceneBoundingRect() for node_id, item in scene.nodes.items()}


def test_a_wrapped_chain_opens_inside_its_unit_reading_left_to_right(window, tmp_path):
    """Inside, the chain reads like text: left to right along each row, the next row
    below; no block on another; and the whole unit in view, readable, when opened."""
    assert window.open_path(conv_bn_relu_project(tmp_path / "net.json"))
    chain = ["c1", "bn1", "r1", "c2", "bn2", "r2"]
    dialog = ask(window, chain)
    dialog.accept()
    (instance,) = window.scene.selected_node_ids()
    assert window.open_unit(instance)
    inside = rects(window.scene)
    order = ["x", *chain, "out"]
    rows = 1
    for left, right in zip(order, order[1:], strict=False):
        a, b = inside[left], inside[right]
        same_row = a.center().y() == b.center().y()
        rows += not same_row
        assert (same_row and a.right() < b.left()) or b.top() > a.bottom(), (left, right)
    assert rows < len(order), "rows, not a column"
    for node_id, rect in inside.items():
        others = [n for n, r in inside.items() if n != node_id and r.intersects(rect)]
        assert not others, f"{node_id} overlaps {others}"
    view = window.view
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    assert all(visible.contains(r) for r in inside.values()), "the whole unit in view"
    assert view.zoom >= 0.5


def test_a_chain_already_left_to_right_keeps_its_places_and_ports_stand_clear(window, tmp_path):
    assert window.open_path(conv_bn_relu_project(tmp_path / "net.json"))
    graph = window.project.graph
    before = {n: graph.node(n).pos for n in ("c1", "bn1", "r1")}
    dialog = ask(window, ["c1", "bn1", "r1"])
    dialog.accept()
    (instance,) = window.scene.selected_node_ids()
    assert window.open_unit(instance)
    inside = rects(window.scene)
    assert inside["x"].right() < inside["c1"].left() and inside["r1"].right() < inside["out"].left()
    window.go_back()
    window.scene.select_nodes([instance])
    window.ungroup_selection()
    assert {n: graph.node(n).pos for n in before} == before, "ungroup puts them back"


def test_exported_classes_are_named_after_the_project_and_its_units(window, tmp_path):
    path = conv_bn_relu_project(tmp_path / "video_net.json", name="CNN+LSTM video")
    assert window.open_path(path)
    ask(window, ["c1", "bn1", "r1"]).accept()
    source = to_python(window.project)
    assert "class CnnLstmVideo(nn.Module):" in source
    assert "class ConvBnReLU(nn.Module):" in source


def test_an_untitled_project_exports_a_class_named_after_its_file(tmp_path):
    path = conv_bn_relu_project(tmp_path / "my_classifier.json")
    assert load(path).name == "Untitled"
    out = tmp_path / "model.py"
    export(str(path), "python", str(out))
    source = out.read_text()
    assert "class MyClassifier(nn.Module):" in source and "Untitled" not in source
    # Not saved yet, and nobody named it: Model.
    assert "class Model(nn.Module):" in to_python(load(path))
