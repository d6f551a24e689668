"""engine.model.build against hand-written plain torch: the same weights must give the same numbers.

Each test wires a small graph, builds it, and recomputes the result with the built
model's own submodules (so the weights match) but with the wiring, folding and
recurrent bookkeeping written out by hand.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
import torch.nn.functional as F

from engine.graph.graph import Graph
from engine.model.build import BuildError, NetLoomModel, build_model
from engine.project.project import load

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def chain(graph: Graph, *steps: tuple[str, str, dict[str, Any]]) -> None:
    """Add (id, type, params) nodes, each wired from the one before it."""
    previous = None
    for node_id, type_name, params in steps:
        if node_id not in graph:
            graph.add_node(type_name, params, node_id=node_id)
        if previous is not None:
            graph.connect(previous, node_id)
        previous = node_id


def built(graph: Graph) -> NetLoomModel:
    torch.manual_seed(0)
    return build_model(graph).eval()


# ------------------------------------------------------------ several ends


def two_headed_graph() -> Graph:
    """An image and a vector in; class scores and a score out; joined by Concat and Add."""
    g = Graph()
    chain(
        g,
        ("image", "Input", {"shape": [1, 8, 8]}),
        ("conv1", "Conv2d", {"out_channels": 4}),
        ("gpool1", "GlobalPool", {}),
    )
    chain(g, ("extra", "Input", {"shape": [5]}), ("dense1", "Dense", {"units": 4}))
    g.add_node("Concat", {}, node_id="both")
    g.connect("gpool1", "both", "in1")
    g.connect("dense1", "both", "in2")
    chain(g, ("both", "", {}), ("dense2", "Dense", {"units": 3}), ("label", "Output", {}))
    g.add_node("Add", {}, node_id="sum")
    g.connect("gpool1", "sum", "in1")
    g.connect("dense1", "sum", "in2")
    chain(g, ("sum", "", {}), ("score", "Output", {"loss": "mse"}))
    return g


def test_two_inputs_two_outputs_match_hand_written_torch() -> None:
    model = built(two_headed_graph())
    image, extra = torch.randn(3, 1, 8, 8), torch.randn(3, 5)

    label, score = model(image, extra)

    pooled = model.conv1(image).mean(dim=(2, 3))
    vector = model.dense1(extra)
    assert torch.allclose(label, model.dense2(torch.cat([pooled, vector], dim=1)))
    assert torch.allclose(score, pooled + vector)
    assert label.shape == (3, 3) and score.shape == (3, 4)


def test_wrong_number_of_inputs_names_the_inputs() -> None:
    model = built(two_headed_graph())
    with pytest.raises(TypeError, match=r"takes 2 input\(s\) \(image, extra\), got 1"):
        model(torch.randn(3, 1, 8, 8))


def test_merges_on_sequences_join_the_feature_axis() -> None:
    g = Graph()
    for name in ("a", "b", "c"):
        g.add_node("Input", {"shape": [3, 4], "sequence": True}, node_id=name)
    g.add_node("Add", {"inputs": 3}, node_id="total")
    g.add_node("Concat", {"inputs": 2}, node_id="joined")
    for port, name in zip(("in1", "in2", "in3"), "abc", strict=True):
        g.connect(name, "total", port)
    g.connect("total", "joined", "in1")
    g.connect("c", "joined", "in2")
    chain(g, ("joined", "", {}), ("out", "Output", {"loss": "mse"}))
    a, b, c = (torch.randn(2, 3, 4) for _ in range(3))

    y = built(g)(a, b, c)

    assert torch.equal(y, torch.cat([a + b + c, c], dim=2))
    assert y.shape == (2, 3, 8)


# ----------------------------------------------------------------- per frame


def test_cnn_on_frames_equals_a_loop_over_frames() -> None:
    g = Graph()
    chain(
        g,
        ("video", "Input", {"shape": [4, 2, 8, 8], "sequence": True}),
        ("conv1", "Conv2d", {"out_channels": 3}),
        ("relu1", "ReLU", {}),
        ("pool1", "MaxPool2d", {}),
        ("flat1", "Flatten", {}),
        ("dense1", "Dense", {"units": 5}),
        ("out", "Output", {"loss": "mse"}),
    )
    model = built(g)
    video = torch.randn(2, 4, 2, 8, 8)

    per_frame = []
    for t in range(video.shape[1]):
        frame = F.max_pool2d(torch.relu(model.conv1(video[:, t])), 2)
        per_frame.append(model.dense1(frame.flatten(1)))
    expected = torch.stack(per_frame, dim=1)

    y = model(video)
    assert y.shape == (2, 4, 5)
    assert torch.allclose(y, expected, atol=1e-6)


def test_upsampling_blocks_on_frames_equal_a_loop_over_frames() -> None:
    g = Graph()
    chain(
        g,
        ("video", "Input", {"shape": [3, 4, 5, 5], "sequence": True}),
        ("deconv1", "ConvTranspose2d", {"out_channels": 2}),
        ("up1", "Upsample", {"mode": "bilinear"}),
        ("bn1", "BatchNorm", {}),
        ("out", "Output", {"loss": "mse"}),
    )
    model = built(g)  # eval(): BatchNorm uses running stats, the same per frame
    video = torch.randn(2, 3, 4, 5, 5)

    expected = torch.stack(
        [
            model.bn1(F.interpolate(model.deconv1(video[:, t]), scale_factor=2, mode="bilinear"))
            for t in range(3)
        ],
        dim=1,
    )

    y = model(video)
    assert y.shape == (2, 3, 2, 20, 20)
    assert torch.allclose(y, expected, atol=1e-6)


def test_rearranging_blocks_keep_the_time_axis() -> None:
    g = Graph()
    chain(
        g,
        ("video", "Input", {"shape": [3, 4, 2, 6], "sequence": True}),
        ("gpool1", "GlobalPool", {"mode": "max"}),  # (N, T, 4)
        ("soft1", "Softmax", {"axis": "channels"}),
        ("reshape1", "Reshape", {"shape": [2, 2]}),  # (N, T, 2, 2)
        ("permute1", "Permute", {"dims": [1, 3, 2]}),  # swap the last two
        ("out", "Output", {"loss": "mse"}),
    )
    video = torch.randn(2, 3, 4, 2, 6)

    y = built(g)(video)

    scores = torch.softmax(video.amax(dim=(3, 4)), dim=2)
    assert torch.allclose(y, scores.reshape(2, 3, 2, 2).transpose(2, 3))


# ----------------------------------------------------------------- recurrent


def recurrent_graph(cell: str, **params: Any) -> Graph:
    g = Graph()
    chain(
        g,
        ("series", "Input", {"shape": [6, 3], "sequence": True}),
        ("rec1", cell, {"hidden_size": 5, **params}),
        ("out", "Output", {"loss": "mse"}),
    )
    return g


def final_hidden(module: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """torch's own final hidden state, (layers · directions, N, hidden)."""
    _, state = module(x)
    return state[0] if isinstance(state, tuple) else state  # LSTM also returns its cell


@pytest.mark.parametrize("cell", ["RNN", "GRU", "LSTM"])
def test_last_step_is_the_sequences_end(cell: str) -> None:
    last = built(recurrent_graph(cell, output="last", num_layers=2))
    sequence = built(recurrent_graph(cell, output="sequence", num_layers=2))
    sequence.load_state_dict(last.state_dict())
    x = torch.randn(4, 6, 3)

    y_last, y_seq = last(x), sequence(x)

    assert y_last.shape == (4, 5) and y_seq.shape == (4, 6, 5)
    assert torch.equal(y_last, y_seq[:, -1])
    assert torch.allclose(y_last, final_hidden(last.rec1, x)[-1], atol=1e-6)


@pytest.mark.parametrize("cell", ["RNN", "GRU", "LSTM"])
def test_bidirectional_last_joins_forward_end_and_backward_start(cell: str) -> None:
    params = {"bidirectional": True, "num_layers": 2}
    last = built(recurrent_graph(cell, output="last", **params))
    sequence = built(recurrent_graph(cell, output="sequence", **params))
    sequence.load_state_dict(last.state_dict())
    x = torch.randn(4, 6, 3)

    y_last, y_seq = last(x), sequence(x)

    assert y_last.shape == (4, 10) and y_seq.shape == (4, 6, 10)
    assert torch.equal(y_last[:, :5], y_seq[:, -1, :5])  # forward read the whole sequence
    assert torch.equal(y_last[:, 5:], y_seq[:, 0, 5:])  # backward ends at step 0
    # torch's final state of the top layer, forward then backward, says the same
    h = final_hidden(last.rec1, x)
    assert torch.allclose(y_last, torch.cat([h[-2], h[-1]], dim=1), atol=1e-6)


# ---------------------------------------------------------------- naming


def test_state_dict_keys_are_node_ids() -> None:
    graph = load(TEMPLATES / "cnn_lstm_video.json").graph
    model = build_model(graph)

    assert set(model.state_dict()) == {
        "conv1.weight",
        "conv1.bias",
        "conv2.weight",
        "conv2.bias",
        "lstm1.weight_ih_l0",
        "lstm1.weight_hh_l0",
        "lstm1.bias_ih_l0",
        "lstm1.bias_hh_l0",
        "dense1.weight",
        "dense1.bias",
    }
    assert model(torch.randn(2, 8, 1, 32, 32)).shape == (2, 4)


def test_batchnorm_buffers_are_named_by_node_too() -> None:
    g = Graph()
    chain(
        g,
        ("images", "Input", {"shape": [3, 4, 4]}),
        ("norm", "BatchNorm", {}),
        ("out", "Output", {"loss": "mse"}),
    )
    assert set(build_model(g).state_dict()) == {
        "norm.weight",
        "norm.bias",
        "norm.running_mean",
        "norm.running_var",
        "norm.num_batches_tracked",
    }


# ------------------------------------------------------------------ errors


def test_build_refuses_a_graph_with_errors_and_lists_them_all() -> None:
    g = Graph()
    chain(
        g,
        ("features", "Input", {"shape": [20]}),
        ("dense1", "Dense", {"units": 64}),
        ("conv2", "Conv2d", {}),
        ("out", "Output", {}),
    )
    g.add_node("Dense", {}, node_id="loose")

    with pytest.raises(BuildError) as caught:
        build_model(g)

    problems = caught.value.problems
    assert "loose: Dense input 'x' is not wired" in problems
    assert (
        "conv2: Conv2d needs 4-D input (N, C, H, W) or frames (N, T, C, H, W); "
        "got (N, 64) from dense1"
    ) in problems
    assert len(problems) == 2
    assert all(p in str(caught.value) for p in problems)
