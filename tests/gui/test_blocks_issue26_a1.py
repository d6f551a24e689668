"""Issue 26's new blocks and params in the window: the palette lists them, the inspector
shows and edits them (a norm's eps 1e-5 readable, not 0), a Concat takes 25 inputs."""

from __future__ import annotations


def added(window, block: str) -> str:
    window.add_block(block, window.view.centre_scene_pos())
    node_id = window.graph.nodes[-1].id
    window.focus_node(node_id)
    return node_id


def test_the_palette_lists_the_new_blocks_and_finds_clamp(window):
    shown = window.palette.visible_blocks()
    assert {"ReLU6", "Hardtanh", "Hardsigmoid"} <= set(shown)
    window.palette.search.setText("clamp")
    assert {"ReLU6", "Hardtanh"} <= set(window.palette.visible_blocks())
    assert "Conv2d" not in window.palette.visible_blocks()


def test_the_inspector_shows_a_norms_eps_and_edits_it(video_window):
    window = video_window
    node_id = added(window, "BatchNorm")
    editors = window.inspector.editors
    assert {"eps", "track_running_stats"} <= set(editors)
    assert editors["eps"].box.text() == "0.0000100"  # 1e-5, where 4 decimals showed 0.0000
    editors["eps"].box.setValue(0.001)
    assert window.graph.node(node_id).params["eps"] == 0.001
    editors["track_running_stats"].box.click()
    assert window.graph.node(node_id).params["track_running_stats"] is False


def test_the_inspector_edits_the_new_activation_and_pooling_params(video_window):
    window = video_window
    clamp = added(window, "Hardtanh")
    window.inspector.editors["min_val"].box.setValue(0.0)
    window.inspector.editors["max_val"].box.setValue(6.0)
    assert window.graph.node(clamp).params == {"min_val": 0.0, "max_val": 6.0}
    gelu = added(window, "GELU")
    window.inspector.editors["approximate"].box.setCurrentText("tanh")
    assert window.graph.node(gelu).params["approximate"] == "tanh"
    pool = added(window, "AvgPool2d")
    window.inspector.editors["count_include_pad"].box.click()
    assert window.graph.node(pool).params["count_include_pad"] is False


def test_a_concat_takes_25_inputs_from_the_inspector(video_window, qtbot):
    window = video_window
    node_id = added(window, "Concat")
    window.inspector.editors["inputs"].box.setValue(25)
    node = window.graph.node(node_id)
    assert node.params["inputs"] == 25 and len(node.ports) == 25
    qtbot.waitUntil(lambda: len(window.scene.nodes[node_id].inputs) == 25)
