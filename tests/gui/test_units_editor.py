"""Units in the editor: make unit, open, edit inside, repeat, ungroup, all undoable,
and the palette's units."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from engine.graph.graph import Graph
from engine.project.project import Project, save
from gui.canvas.commands import ConnectCommand, DisconnectCommand, SetParamsCommand
from tests.helpers import template

RESNET = template("resnet_digits")


def small_project(path: Path) -> Path:
    """image [4,8,8] → c1 Conv2d → r1 ReLU → pool → fc → out."""
    graph = Graph()
    graph.add_node("Input", {"shape": [4, 8, 8]}, (0, 0), "image")
    graph.add_node("Conv2d", {"out_channels": 4}, (260, 0), "c1")
    graph.add_node("ReLU", {}, (520, 0), "r1")
    graph.add_node("GlobalPool", {}, (780, 0), "pool")
    graph.add_node("Dense", {}, (1040, 0), "fc")
    graph.add_node("Output", {}, (1300, 0), "out")
    for source, target in (("image", "c1"), ("c1", "r1"), ("r1", "pool"), ("pool", "fc")):
        graph.connect(source, target)
    graph.connect("fc", "out")
    save(Project(graph, name="small"), path)
    return path


def shape(scene, node_id: str) -> list[int]:
    return list(scene.analysis.nodes[node_id].shape.dims)


def visible_rect(view) -> QRectF:
    """The scene area in view, give or take a pixel (the view cannot scroll past the
    blocks' outline, so an edge block may sit a fraction of a pixel outside)."""
    return view.mapToScene(view.viewport().rect()).boundingRect().adjusted(-2, -2, 2, 2)


def make_unit_of(window, ids: list[str]) -> str:
    window.scene.select_nodes(ids)
    before = window.undo_stack.count()
    window.actions_["make_unit"].trigger()  # asks the unit's name first
    window.unit_name_dialog.name_edit.setText("Unit")
    window.unit_name_dialog.accept()
    assert window.undo_stack.count() == before + 1, "Make unit is one undo step"
    (instance,) = window.scene.selected_node_ids()
    return instance


def test_make_open_edit_repeat_ungroup_then_undo_all_gives_the_same_file(window, tmp_path):
    start = small_project(tmp_path / "start.json")
    assert window.open_path(start)
    top = window.scene
    assert window.actions_["make_unit"].shortcut().toString() == "Ctrl+G"

    unit1 = make_unit_of(window, ["c1", "r1"])
    graph = window.project.graph
    assert "c1" not in graph and graph.node(unit1).type == "Unit"
    assert sorted(graph.node(unit1).ports) == ["x"], "one port: the wire that crossed in"
    assert shape(top, unit1) == [4, 8, 8]

    # A second instance of the same definition, fed by the same input.
    window.scene.select_nodes([unit1])
    (unit2,) = window.duplicate()
    window.undo_stack.push(ConnectCommand(graph, "image", unit2, "x"))
    top.refresh_if_dirty()
    assert shape(top, unit2) == [4, 8, 8]

    # Open the definition: its blocks show the values for the instance's input.
    assert window.open_unit(unit1)
    inner = window.scene
    assert inner.graph is graph.library.definition("Unit").graph
    assert window.breadcrumb.text() == f"Project › {unit1} › Unit"
    assert "changes 2 instances" in window.breadcrumb.note.text()
    assert shape(inner, "c1") == [4, 8, 8]
    # An edit inside changes every instance.
    window.undo_stack.push(SetParamsCommand(inner.graph, "c1", {"padding": "valid"}))
    assert shape(inner, "c1") == [4, 6, 6]
    assert "6" in inner.nodes["c1"].shape_text
    assert shape(top, unit1) == [4, 6, 6] and shape(top, unit2) == [4, 6, 6]

    window.go_back()
    assert window.scene is top and window.view.top_bar is None
    window.scene.select_nodes([unit1])
    assert window.repeat_selection(3)
    top.refresh_if_dirty()
    assert top.nodes[unit1].type_name == "Unit ×3"
    assert shape(top, unit1) == [4, 2, 2], "three copies in series: 8 → 6 → 4 → 2"

    window.scene.select_nodes([unit1])
    added = window.ungroup_selection()
    assert len(added) == 6 and "c1" in graph and unit1 not in graph

    while window.undo_stack.canUndo():
        window.undo_stack.undo()
    end = tmp_path / "end.json"
    assert window.write_to(end)
    assert end.read_bytes() == start.read_bytes()


def test_ungroup_is_one_step_and_restores_blocks_ids_positions_wires(window, tmp_path):
    start = small_project(tmp_path / "start.json")
    assert window.open_path(start)
    graph = window.project.graph
    unit = make_unit_of(window, ["c1", "r1"])
    window.scene.select_nodes([unit])
    count = window.undo_stack.count()
    assert window.actions_["ungroup"].shortcut().toString() == "Ctrl+Shift+G"
    window.actions_["ungroup"].trigger()
    assert window.undo_stack.count() == count + 1
    assert graph.node("c1").pos == (260.0, 0.0) and graph.node("r1").pos == (520.0, 0.0)
    assert graph.incoming("c1") == {"x": "image"} and graph.incoming("pool") == {"x": "r1"}
    window.undo_stack.undo()
    assert unit in graph and "c1" not in graph


def test_make_unit_refuses_with_a_message_and_no_step(window, tmp_path):
    assert window.open_path(small_project(tmp_path / "start.json"))
    window.scene.select_nodes(["image", "c1"])
    window.actions_["make_unit"].trigger()
    assert window.undo_stack.count() == 0
    assert "Input and Output blocks stay outside a unit" in window.statusBar().currentMessage()


def test_double_click_opens_a_unit_and_esc_or_the_breadcrumb_goes_back(window, qtbot):
    assert window.open_path(RESNET)
    top = window.scene
    item = top.nodes["block2"]
    window.view.centerOn(item)
    point = window.view.mapFromScene(item.sceneBoundingRect().center() + QPointF(0, 10))
    QTest.mouseDClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert window.scene is not top
    assert window.breadcrumb.text() == "Project › block2 › ResidualBlock"
    # Inside, the blocks show block2's actual input, not the definition's own Input.
    channels = window.project.graph.node("block2").params["channels"]
    assert shape(window.scene, "conv2") == shape(top, "block2")
    assert shape(window.scene, "conv2")[0] == channels

    # Nested: ResidualBlock holds a ConvBnReLU instance.
    assert window.open_unit("cbr1")
    assert window.breadcrumb.text() == "Project › block2 › cbr1 › ConvBnReLU"
    # stem, block1 (one instance, repeated ×2), down and block2 each hold a ConvBnReLU.
    assert "changes 4 instances" in window.breadcrumb.note.text()
    window.view.setFocus()
    QTest.keyClick(window.view, Qt.Key.Key_Escape)
    assert window.breadcrumb.text() == "Project › block2 › ResidualBlock"
    window.breadcrumb.crumbs[1].click()  # the crumb of the level shown does nothing
    assert window.breadcrumb.text() == "Project › block2 › ResidualBlock"
    window.breadcrumb.crumbs[0].click()
    assert window.scene is top
    assert top.selected_node_ids() == ["block2"]
    assert window.view.top_bar is None


def test_instance_inspector_shows_promoted_params_with_bounds(window):
    assert window.open_path(RESNET)
    window.scene.select_nodes(["block1"])
    editors = window.inspector.editors
    assert set(editors) == {"channels", "repeat"}
    # The instance's value, within the inner param's bounds; the help names the places.
    graph = window.project.graph
    value = graph.node("block1").params["channels"]
    assert editors["channels"].box.value() == value and editors["channels"].box.minimum() == 1
    assert editors["repeat"].box.value() == 2 and editors["repeat"].box.maximum() == 64
    channels = graph.node("block1").spec.param("channels")
    body = graph.library.definition("ResidualBlock").graph
    assert channels.default == body.node("conv2").params["out_channels"]
    assert "cbr1.channels" in channels.help
    tooltip = window.scene.nodes["block1"].tooltip_text()
    assert f"in 'x': (N, {value}, 8, 8)" in tooltip and "weights" in tooltip
    # Setting it is one undo step; more channels cannot be added to those coming in,
    # and the error names the place inside the unit.
    count = window.undo_stack.count()
    editors["channels"].box.setValue(value + 8)
    window.scene.refresh_if_dirty()
    assert window.undo_stack.count() == count + 1
    assert graph.node("block1").params["channels"] == value + 8
    assert window.scene.errors["block1"][0].startswith("block1/0/add: Add needs")


def test_palette_finds_and_drops_a_shipped_unit(window):
    window.palette.search.setText("Residual")
    assert "ResidualBlock" in window.palette.visible_blocks()
    mime = window.palette.mime_for("ResidualBlock")
    viewport = window.view.viewport()
    point = viewport.rect().center()
    args = (
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    enter = QDragEnterEvent(point, *args)
    QApplication.sendEvent(viewport, enter)
    assert enter.isAccepted()
    QApplication.sendEvent(viewport, QDropEvent(QPointF(point), *args))
    graph = window.project.graph
    (node,) = graph.nodes
    assert node.type == "ResidualBlock" and "ConvBnReLU" in graph.library
    # Now a project unit: listed once, under the project's units.
    assert window.palette.items["ResidualBlock"].parent().text(0) == "Project units"
    window.undo_stack.undo()
    assert len(graph) == 0 and "ResidualBlock" not in graph.library


def test_unit_and_port_rename_follow_every_instance_and_undo_exactly(window, tmp_path):
    start = small_project(tmp_path / "start.json")
    assert window.open_path(start)
    graph = window.project.graph
    unit = make_unit_of(window, ["c1", "r1"])
    made = tmp_path / "made.json"
    assert window.write_to(made)
    window.scene.select_nodes([unit])
    assert window.rename_unit("ConvReLU")
    assert graph.node(unit).type == "ConvReLU" and "Unit" not in graph.library
    assert not window.rename_unit("Conv2d"), "a block type's name is refused"
    assert "block type" in window.statusBar().currentMessage()

    assert window.open_unit(unit)
    assert window.breadcrumb.text() == f"Project › {unit} › ConvReLU"
    window.scene.select_nodes(["x"])
    assert window.rename_port("image_in")
    assert graph.incoming(unit) == {"image_in": "image"}
    assert window.scene.nodes["c1"].shape_text.startswith("(N, 4, 8, 8)")
    window.go_back()

    window.undo_stack.undo()
    window.undo_stack.undo()
    again = tmp_path / "again.json"
    assert window.write_to(again)
    assert again.read_bytes() == made.read_bytes()


def test_training_lock_blocks_unit_edits_and_the_breadcrumb_comes_back(window):
    assert window.open_path(RESNET)
    assert window.open_unit("block1")
    lock = window.training.lock
    lock.lock()
    assert window.view.top_bar is lock.banner
    window.scene.select_nodes(["conv2", "bn2"])
    window.actions_["make_unit"].trigger()
    assert window.undo_stack.count() == 0
    assert "locked" in window.statusBar().currentMessage()
    lock.unlock()
    assert window.view.top_bar is window.breadcrumb and window.breadcrumb.isVisible()
    window.go_back()
    assert window.view.top_bar is None


def test_the_tab_finder_places_a_shipped_unit(window):
    window.quick_search.open_at(window.view.mapToGlobal(window.view.rect().center()))
    window.quick_search.edit.setText("DoubleConv")
    assert window.quick_search.results.currentItem().data(Qt.ItemDataRole.UserRole) == "DoubleConv"
    window.quick_search._accept_current()
    (node,) = window.project.graph.nodes
    assert node.type == "DoubleConv" and window.undo_stack.count() == 1


def test_independent_copy_unlinks_one_instance_and_undo_relinks_it(window, tmp_path):
    assert window.open_path(RESNET)
    graph = window.project.graph
    first = tmp_path / "first.json"
    assert window.write_to(first)
    window.scene.select_nodes(["block2"])
    name = window.make_independent_copy()
    assert graph.node("block2").type == name != "ResidualBlock"
    assert graph.node("block1").type == "ResidualBlock"
    assert window.open_unit("block2")
    assert "changes 1 instance " in window.breadcrumb.note.text() + " "
    window.undo_stack.push(SetParamsCommand(window.scene.graph, "bn2", {"momentum": 0.25}))
    shared = graph.library.definition("ResidualBlock").graph
    assert shared.node("bn2").params["momentum"] != 0.25, "block1's unit is untouched"
    window.go_back()
    while window.undo_stack.canUndo():
        window.undo_stack.undo()
    again = tmp_path / "again.json"
    assert window.write_to(again)
    assert again.read_bytes() == first.read_bytes()


def test_an_opened_unit_shows_at_a_readable_zoom_its_input_in_view(window):
    from gui.canvas.node_item import DETAIL_ZOOM

    assert window.open_path(RESNET)
    window.scene.select_nodes(["block2"])
    window.open_selected_unit()
    view = window.view
    # ResidualBlock is a long row: shown whole if its blocks keep their text, else at
    # the smallest such size (not shrunk to tiles) with its input port in view.
    assert view.zoom >= DETAIL_ZOOM - 1e-6
    assert visible_rect(view).contains(window.scene.nodes["x"].sceneBoundingRect())
    assert view.top_bar is window.breadcrumb
    window.go_back()


def test_a_small_unit_opens_fitted_whole(window, tmp_path):
    # At the 1440 x 900: the Input and Output now stand a layout column clear of
    # the block (room for the shape on each wire), which a 600 px canvas cannot show
    # whole at a readable size.
    window.resize(1440, 900)
    assert window.open_path(small_project(tmp_path / "start.json"))
    unit = make_unit_of(window, ["c1"])
    window.view.set_zoom(0.2)
    assert window.open_unit(unit)
    view = window.view
    assert 0.45 <= view.zoom <= 1.0, "fitted whole, its blocks with their text"
    for item in window.scene.nodes.values():
        assert visible_rect(view).contains(item.sceneBoundingRect()), item.node_id


def test_the_breadcrumb_picks_which_instance_the_blocks_show_values_for(window):
    assert window.open_path(RESNET)
    top = window.scene
    summary = window.summary
    rows = {summary.cell(r, 0): r for r in range(summary.model.rowCount())}
    assert summary.cell(rows["block1"], 1) == "ResidualBlock ×2"
    assert window.open_unit("block2")
    picker = window.breadcrumb.places
    # block1 (16 channels, both copies alike) and block2 (32 channels) see different inputs.
    assert picker.isVisible() and picker.count() == 2
    assert picker.currentText() == "block2 · x (N, 32, 4, 4)"
    assert shape(window.scene, "conv2") == [32, 4, 4]
    labels = [picker.itemText(i) for i in range(picker.count())]
    assert labels[0] == "block1/0 +1 more · x (N, 16, 8, 8)"
    picker.setCurrentIndex(0)
    picker.activated.emit(0)  # as a person's choice in the list does
    assert shape(window.scene, "conv2") == [16, 8, 8]
    row = next(r for r in range(summary.model.rowCount()) if summary.cell(r, 0) == "conv2")
    assert summary.cell(row, 2) == "(N, 16, 8, 8)", "the Summary follows the choice"
    # An edit inside still changes every instance; the choice stays.
    window.undo_stack.push(SetParamsCommand(window.scene.graph, "conv2", {"bias": True}))
    assert picker.currentIndex() == 0 and shape(window.scene, "conv2") == [16, 8, 8]
    assert window.scene.analysis.nodes["conv2"].params == 16 * 16 * 9 + 16
    assert "changes 2 instances" in window.breadcrumb.note.text()
    window.go_back()
    assert window.scene is top

    # A unit used in one place (or places that all see the same input): no picker.
    assert window.open_unit("down")
    assert not window.breadcrumb.places.isVisible()


def test_a_unit_instance_pastes_into_another_project_with_its_definition(window, tmp_path):
    assert window.open_path(RESNET)
    window.scene.select_nodes(["block2"])
    assert window.copy()
    window.actions_["new"].trigger()
    empty = tmp_path / "empty.json"
    assert window.write_to(empty)
    assert not window.project.graph.library or not window.project.graph.library.definitions

    (pasted,) = window.paste()
    graph = window.project.graph
    library = graph.library
    assert graph.node(pasted).type == "ResidualBlock"
    # Its definition came along, with the unit it uses inside.
    assert set(library.definitions) == {"ResidualBlock", "ConvBnReLU"}
    assert graph.node(pasted).params == {"channels": 32, "repeat": 1}
    assert window.scene.nodes[pasted].type_name == "ResidualBlock"
    assert window.open_unit(pasted)
    assert window.breadcrumb.text() == f"Project › {pasted} › ResidualBlock"
    window.go_back()

    # Undo takes the definitions away again: the file is the empty one, byte for byte.
    window.undo_stack.undo()
    assert not library.definitions
    undone = tmp_path / "undone.json"
    assert window.write_to(undone)
    assert undone.read_bytes() == empty.read_bytes()
    window.undo_stack.redo()
    assert graph.node(pasted).type == "ResidualBlock" and "ConvBnReLU" in library


def test_pasting_a_unit_whose_name_means_another_unit_here_renames_it(window):
    assert window.open_path(RESNET)
    window.scene.select_nodes(["block2"])
    assert window.copy()
    # This project's ResidualBlock changes: the copied one is now a different unit.
    body = window.project.graph.library.definition("ResidualBlock").graph
    window.undo_stack.push(SetParamsCommand(body, "conv2", {"kernel_size": 5}))
    (pasted,) = window.paste()
    graph = window.project.graph
    assert graph.node(pasted).type == "ResidualBlock2"
    assert "ResidualBlock as ResidualBlock2" in window.statusBar().currentMessage()
    pasted_body = graph.library.definition("ResidualBlock2").graph
    assert pasted_body.node("conv2").params["kernel_size"] == 3
    assert graph.node("block2").type == "ResidualBlock", "the project's own keeps its name"
    # ConvBnReLU is the same in both: reused, not copied.
    assert "ConvBnReLU2" not in graph.library
    window.undo_stack.undo()
    assert "ResidualBlock2" not in graph.library and pasted not in graph


def test_a_unit_cannot_be_pasted_inside_itself(window):
    assert window.open_path(RESNET)
    window.scene.select_nodes(["block2"])
    assert window.copy()
    assert window.open_unit("block2")
    count = window.undo_stack.count()
    assert window.paste() == []
    assert window.undo_stack.count() == count
    assert "cannot contain itself" in window.statusBar().currentMessage()


def two_values_project(path: Path) -> Path:
    """image → c1 → r1 → c2; add(in1: c2, in2: r1) → pool → fc → out."""
    graph = Graph()
    graph.add_node("Input", {"shape": [4, 8, 8]}, (0, 0), "image")
    graph.add_node("Conv2d", {"out_channels": 4}, (260, 0), "c1")
    graph.add_node("ReLU", {}, (520, 0), "r1")
    graph.add_node("Conv2d", {"out_channels": 6, "kernel_size": 1}, (780, 0), "c2")
    graph.add_node("Concat", {}, (1040, 0), "cat")
    graph.add_node("GlobalPool", {}, (1300, 0), "pool")
    graph.add_node("Dense", {}, (1560, 0), "fc")
    graph.add_node("Output", {}, (1820, 0), "out")
    for source, target in (("image", "c1"), ("c1", "r1"), ("r1", "c2"), ("cat", "pool")):
        graph.connect(source, target)
    graph.connect("c2", "cat", "in1")
    graph.connect("r1", "cat", "in2")
    graph.connect("pool", "fc")
    graph.connect("fc", "out")
    save(Project(graph, name="two values"), path)
    return path


def test_a_unit_with_several_outputs_has_a_port_and_a_wire_for_each(window, tmp_path):
    from tests.gui.helpers import drag, port_pos

    start = two_values_project(tmp_path / "start.json")
    assert window.open_path(start)
    unit = make_unit_of(window, ["c1", "r1", "c2"])
    graph = window.project.graph
    scene = window.scene
    item = scene.nodes[unit]
    assert list(item.outputs) == ["r1_out", "c2_out"], "one output port per value leaving"
    scene.refresh_if_dirty()
    # Each wire leaves from its own port and is labelled with that output's shape.
    for port, out, shape_text in (
        ("in1", "c2_out", "(N, 6, 8, 8)"),
        ("in2", "r1_out", "(N, 4, 8, 8)"),
    ):
        wire = scene.wires[("cat", port)]
        assert wire.out == out and wire.label.startswith(shape_text)
        assert wire.path().pointAtPercent(0) == item.outputs[out].scenePos()
    assert item.shape_text.startswith("(N, 4, 8, 8) · (N, 6, 8, 8)")
    assert "output 'c2_out': (N, 6, 8, 8)" in item.outputs["c2_out"].tooltip_text()
    assert shape(scene, "cat") == [10, 8, 8]

    # Rewire by hand: cat.in2 from the other output port, one undo step.
    window.undo_stack.push(DisconnectCommand(graph, "cat", "in2"))
    count = window.undo_stack.count()
    drag(window.view, port_pos(window, unit, None, "c2_out"), port_pos(window, "cat", "in2"))
    assert window.undo_stack.count() == count + 1
    assert graph.incoming_edges("cat")["in2"].source_port == "c2_out"
    scene.refresh_if_dirty()
    assert shape(scene, "cat") == [12, 8, 8]

    # Copy and paste keep which output each wire leaves from.
    window.scene.select_nodes([unit, "cat"])
    assert window.copy()
    pasted = window.paste()
    (cat2,) = [n for n in pasted if graph.node(n).type == "Concat"]
    assert {p: e.source_port for p, e in graph.incoming_edges(cat2).items()} == {
        "in1": "c2_out",
        "in2": "c2_out",
    }

    while window.undo_stack.canUndo():
        window.undo_stack.undo()
    end = tmp_path / "end.json"
    assert window.write_to(end)
    assert end.read_bytes() == start.read_bytes()


def test_renaming_an_output_port_in_the_editor_moves_its_wires_and_label(
    window, tmp_path, monkeypatch
):
    from PySide6.QtWidgets import QInputDialog

    start = two_values_project(tmp_path / "start.json")
    assert window.open_path(start)
    unit = make_unit_of(window, ["c1", "r1", "c2"])
    graph = window.project.graph
    made = tmp_path / "made.json"
    assert window.write_to(made)
    offered: list[str] = []
    answer = ["skip"]

    def get_text(parent, title, label, *args, text="", **kwargs):
        offered.append(text)
        return answer[0], True

    monkeypatch.setattr(QInputDialog, "getText", staticmethod(get_text))

    assert window.open_unit(unit)
    window.scene.select_nodes(["c2_out"])
    count = window.undo_stack.count()
    window.actions_["rename_port"].trigger()
    assert offered == ["c2_out"], "the dialog offers the current name"
    assert window.undo_stack.count() == count + 1, "one undo step"
    assert window.undo_stack.undoText() == "Rename port Unit.c2_out → skip"
    assert "skip" in window.scene.nodes and "c2_out" not in window.scene.nodes
    assert window.scene.selected_node_ids() == ["skip"]
    assert window.statusBar().currentMessage() == "Port c2_out of Unit is now skip"

    # A clash is refused with one line, and nothing changes.
    answer[0] = "r1_out"
    window.actions_["rename_port"].trigger()
    assert window.undo_stack.count() == count + 1
    message = window.statusBar().currentMessage()
    assert message == "Cannot rename port: Unit already has a block or port named 'r1_out'"
    window.go_back()

    # Outside, the instance's port and the wire that left it carry the new name.
    scene = window.scene
    item = scene.nodes[unit]
    assert list(item.outputs) == ["r1_out", "skip"]
    assert item.outputs["skip"].tooltip_text() == "output 'skip': (N, 6, 8, 8)"
    assert graph.incoming_edges("cat")["in1"].source_port == "skip"
    wire = scene.wires[("cat", "in1")]
    assert wire.out == "skip" and wire.label.startswith("(N, 6, 8, 8)")
    assert wire.path().pointAtPercent(0) == item.outputs["skip"].scenePos()
    assert shape(scene, "cat") == [10, 8, 8]

    window.undo_stack.undo()
    scene.refresh_if_dirty()
    assert list(scene.nodes[unit].outputs) == ["r1_out", "c2_out"]
    again = tmp_path / "again.json"
    assert window.write_to(again)
    assert again.read_bytes() == made.read_bytes()
