"""Look inside: activations, gradients through time and blocks, saliency, free input sizes,
and the `inspect` command's files."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

from engine.blocks.spec import Shape
from engine.cli.main import run
from engine.graph.shapes import analyze
from engine.inspect.activations import capture, first_conv_filters, view_kind
from engine.inspect.gradients import (
    FlowProbe,
    gradient_through_time,
    through_time_ratio,
    weight_histograms,
)
from engine.inspect.saliency import grad_cam, gradient_x_input
from engine.inspect.sizes import describe_free, free_dims, predict_mask, sample_at_size, size_rule
from engine.model.build import build_model
from engine.project.project import from_dict, load
from engine.train.checkpoint import cpu_state, save_checkpoint
from tests.helpers import ROOT
from tests.helpers import write_project as write  # (folder, doc, name)


def chain(nodes: list[tuple[str, str, dict[str, Any]]], training: dict[str, Any]) -> dict:
    """A project whose blocks are wired one after the other."""
    return {
        "format": "netloom",
        "version": 1,
        "name": "tiny",
        "nodes": [{"id": i, "type": t, "params": p} for i, t, p in nodes],
        "edges": [
            {"source": a[0], "target": b[0], "target_port": "x"} for a, b in zip(nodes, nodes[1:])
        ],
        "training": training,
    }


def adding_project(length: int = 12) -> dict:
    """Stacked bidirectional LSTM then an RNN on a short adding problem."""
    return chain(
        [
            ("sequence", "Input", {"shape": [length, 2], "sequence": True}),
            (
                "lstm1",
                "LSTM",
                {"hidden_size": 6, "num_layers": 2, "bidirectional": True, "output": "sequence"},
            ),  # fmt: skip
            ("rnn1", "RNN", {"hidden_size": 5}),
            ("dense1", "Dense", {"units": 1}),
            ("total", "Output", {"loss": "mse"}),
        ],
        {
            "dataset": {"name": "adding_problem", "params": {"samples": 40, "length": length}},
            "batch_size": 8,
            "epochs": 1,
            "val_split": 0.25,
        },  # fmt: skip
    )


def video_project() -> dict:
    """A CNN feeding an LSTM on tiny moving-shapes clips (3 frames of 12×12)."""
    return chain(
        [
            ("frames", "Input", {"shape": [3, 1, 12, 12], "sequence": True}),
            ("conv1", "Conv2d", {"out_channels": 4, "kernel_size": 3, "padding": "same"}),
            ("relu1", "ReLU", {}),
            ("pool1", "MaxPool2d", {"kernel_size": 2}),
            ("flatten1", "Flatten", {}),
            ("lstm1", "LSTM", {"hidden_size": 8}),
            ("dense1", "Dense", {"units": 4}),
            ("direction", "Output", {"loss": "cross_entropy"}),
        ],
        {
            "dataset": {
                "name": "moving_shapes",
                "params": {"samples": 24, "frames": 3, "size": 12},
            },
            "batch_size": 8,
            "epochs": 1,
            "val_split": 0.25,
        },  # fmt: skip
    )


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


# -------------------------------------------------------------------- command


def test_inspect_writes_views_arrays_and_gradient_through_time(tmp_path: Path) -> None:
    project = write(tmp_path, adding_project(length=12))
    out = tmp_path / "look"
    assert run(["inspect", str(project), "--sample", "3", "--out", str(out)]) == 0

    rows = read_rows(out / "gradient_through_time.csv")
    assert list(rows[0]) == ["block", "t", "grad_norm"]
    for block in ("lstm1", "rnn1"):
        steps = [r for r in rows if r["block"] == block]
        assert [int(r["t"]) for r in steps] == list(range(12))
        assert all(float(r["grad_norm"]) >= 0 for r in steps)
    # The RNN reads the LSTM's output: its input has steps the loss depends on.
    assert max(float(r["grad_norm"]) for r in rows if r["block"] == "rnn1") > 0

    arrays = np.load(out / "activations.npz")
    assert arrays["sequence"].shape == (12, 2)
    assert arrays["lstm1"].shape == (12, 12)  # T × hidden·2 directions
    assert arrays["rnn1"].shape == (5,)
    assert arrays["total"].shape == (1,)
    lens = np.load(out / "lens_lstm1.npz")
    assert lens["layer1_backward_forget"].shape == (12, 6)
    assert lens["grad_norm"].shape == (12,)
    # The lens's last layer is what the block output: forward half and backward half.
    np.testing.assert_allclose(lens["layer1_forward_hidden"], arrays["lstm1"][:, :6], atol=1e-5)
    np.testing.assert_allclose(lens["layer1_backward_hidden"], arrays["lstm1"][:, 6:], atol=1e-5)
    for name in ("activation_lstm1.png", "lens_lstm1.png", "lens_rnn1.png"):
        with Image.open(out / name) as image:
            assert image.width > 50 and image.height > 50
    assert {r["block"] for r in read_rows(out / "gradient_flow.csv")} == {
        "lstm1", "rnn1", "dense1"
    }  # fmt: skip


def test_inspect_uses_the_weights_given(tmp_path: Path) -> None:
    doc = adding_project()
    project = write(tmp_path, doc)
    model = build_model(from_dict(doc).graph)
    with torch.no_grad():
        for name, param in model.named_parameters():
            param.fill_(0.0 if name.startswith("lstm1") else 0.1)
    save_checkpoint(tmp_path / "model.pt", cpu_state(model), doc, {}, {})

    assert run(["inspect", str(project), "--out", str(tmp_path / "initial")]) == 0
    assert run(["inspect", str(project), "--weights", str(tmp_path / "model.pt"),
                "--out", str(tmp_path / "given")]) == 0  # fmt: skip

    initial = np.load(tmp_path / "initial" / "activations.npz")
    given = np.load(tmp_path / "given" / "activations.npz")
    assert np.abs(initial["lstm1"]).max() > 0
    assert np.abs(given["lstm1"]).max() == 0  # all-zero weights: gates 0.5, no cell input
    h = 0.0  # rnn1, all weights 0.1, reading zeros: h = tanh(0.1·5·h + 0.1 + 0.1), 12 steps
    for _ in range(12):
        h = np.tanh(0.5 * h + 0.2)
    np.testing.assert_allclose(given["total"], [0.1 + 0.1 * 5 * h], rtol=1e-5)


def test_inspect_on_video_writes_filters_frames_and_saliency(tmp_path: Path) -> None:
    project = write(tmp_path, video_project())
    out = tmp_path / "look"
    assert run(["inspect", str(project), "--out", str(out)]) == 0
    arrays = np.load(out / "activations.npz")
    assert arrays["conv1"].shape == (3, 4, 12, 12)
    for name in ("filters_conv1.png", "saliency.png", "activation_conv1.png", "lens_lstm1.png"):
        assert (out / name).is_file(), name


def test_inspect_exit_codes(tmp_path: Path, capsys: Any) -> None:
    project = write(tmp_path, adding_project())
    out = str(tmp_path / "look")
    assert run(["inspect", str(project), "--sample", "99", "--out", out]) == 2
    assert "--sample 99: the validation split has 10 samples" in capsys.readouterr().err
    assert run(["inspect", str(project), "--weights", str(tmp_path / "none.pt"), "--out", out]) == 2
    assert "none.pt: no such file" in capsys.readouterr().err
    other = adding_project()
    other["nodes"][2]["params"]["hidden_size"] = 7
    model = build_model(from_dict(other).graph)
    save_checkpoint(tmp_path / "other.pt", cpu_state(model), other, {}, {})
    assert (
        run(["inspect", str(project), "--weights", str(tmp_path / "other.pt"), "--out", out]) == 2
    )
    assert "other.pt: the weights do not fit the graph: size mismatch for rnn1" in (
        capsys.readouterr().err
    )
    misfit = adding_project()
    misfit["nodes"][0]["params"]["shape"] = [12, 3]
    assert run(["inspect", str(write(tmp_path, misfit, "misfit.json")), "--out", out]) == 1
    assert "sequence" in capsys.readouterr().err
    assert run(["inspect", str(tmp_path / "missing.json"), "--out", out]) == 2


# --------------------------------------------------------------------- engine


def test_view_kinds_follow_the_shape() -> None:
    assert view_kind(Shape((16, 8, 8))) == "feature_maps"
    assert view_kind(Shape((8, 16, 8, 8), time=True)) == "frames"
    assert view_kind(Shape((100, 64), time=True)) == "sequence"
    assert view_kind(Shape((10,))) == "vector"
    assert view_kind(Shape((4, 50))) == "channels"


def test_capture_ends_with_the_models_output_and_names_every_block() -> None:
    graph = load(ROOT / "templates" / "cnn_digits.json").graph
    torch.manual_seed(0)
    model = build_model(graph)
    sample = torch.rand(1, 8, 8)
    found = capture(model, analyze(graph), sample)
    assert [a.node for a in found] == graph.topological_order()
    assert found[1].node == "conv1" and found[1].kind == "feature_maps"
    assert found[1].array.shape == (32, 8, 8)
    model.eval()
    np.testing.assert_allclose(found[-1].array, model(sample[None])[0].detach(), atol=1e-6)
    filters = first_conv_filters(model)
    assert (
        filters is not None and filters.node == "conv1" and filters.weights.shape == (32, 1, 3, 3)
    )


def test_gradient_through_time_is_each_samples_own_gradient() -> None:
    graph = from_dict(adding_project()).graph
    torch.manual_seed(0)
    model = build_model(graph)
    x, y = torch.randn(3, 12, 2), torch.randn(3, 1)
    loss = torch.nn.functional.mse_loss
    batch = gradient_through_time(model, loss, x, y, "lstm1")
    alone = gradient_through_time(model, loss, x[1:2], y[1:2], "lstm1")
    assert batch.shape == (3, 12)
    np.testing.assert_allclose(batch[1], alone[0], rtol=1e-5)
    # By hand for the second block: the gradient at its input, sample by sample.
    inside = model.lstm1(x)[0].detach().requires_grad_(True)
    out = model.dense1(model.rnn1(inside)[0][:, -1])
    (grad,) = torch.autograd.grad(loss(out, y, reduction="sum"), [inside])
    np.testing.assert_allclose(
        gradient_through_time(model, loss, x, y, "rnn1"), grad.norm(dim=2), rtol=1e-5
    )


def test_flow_probe_reports_one_steps_update_every_k_batches() -> None:
    torch.manual_seed(0)
    model = build_model(from_dict(adding_project()).graph)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    probe = FlowProbe(model, every=3)
    reports = []
    for _ in range(6):
        optimizer.zero_grad()
        model(torch.randn(4, 12, 2)).square().mean().backward()
        grads = {n: p.grad.clone() for n, p in model.named_parameters()}
        optimizer.step()
        flows = probe.after_batch()
        reports.append(flows)
        if flows is not None:
            dense = next(f for f in flows if f.node == "dense1")
            grad = torch.cat([grads["dense1.weight"].ravel(), grads["dense1.bias"].ravel()])
            weight = torch.cat([model.dense1.weight.ravel(), model.dense1.bias.ravel()]).detach()
            assert dense.grad_norm == pytest.approx(float(grad.norm()), rel=1e-5)
            # Plain SGD moves the weights by lr × gradient in one step.
            assert dense.update_ratio == pytest.approx(0.1 * float(grad.norm() / weight.norm()),
                                                       rel=1e-4)  # fmt: skip
    assert [r is not None for r in reports] == [False, False, True, False, False, True]
    histograms = weight_histograms(model, bins=10)
    assert set(histograms) == {"lstm1", "rnn1", "dense1"}
    assert int(histograms["dense1"].counts.sum()) == 5 + 1


def test_a_flow_probe_paced_by_its_caller_gives_a_ratio_only_for_one_step() -> None:
    torch.manual_seed(0)
    model = build_model(from_dict(adding_project()).graph)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    probe = FlowProbe(model, every=2)
    measured = []
    for batch in range(1, 10):
        if batch == 3:
            probe.every = 4  # after the measurement at batch 2: the next one at batch 6
        if batch == 5:
            probe.every = 1  # the copy after batch 5 was planned; now batch 5 is measured
        optimizer.zero_grad()
        model(torch.randn(4, 12, 2)).square().mean().backward()
        optimizer.step()
        if (flows := probe.after_batch()) is not None:
            measured.append((batch, all(f.update_ratio is not None for f in flows)))
    # Batch 5 is measured without a copy of the weights before its step: no ratio, not
    # a ratio over several steps.
    assert measured == [(2, True), (5, False), (6, True), (7, True), (8, True), (9, True)]


def test_the_through_time_ratio_compares_the_first_steps_with_the_last() -> None:
    grads = np.ones((3, 40))
    grads[:, :10] = 1e-20
    assert through_time_ratio(grads) == pytest.approx(1e-20)
    assert through_time_ratio(np.linspace(1, 8, 8)) == pytest.approx(1.5 / 7.5)  # quarters
    assert through_time_ratio(np.zeros((2, 12))) == 0.0


def test_saliency_maps_have_the_inputs_size_and_ignore_unseen_pixels() -> None:
    graph = from_dict(video_project()).graph
    torch.manual_seed(0)
    model = build_model(graph)
    clip = torch.rand(3, 1, 12, 12)
    clip[:, :, :, :4] = 0.0  # dark left columns: gradient × input is 0 there
    simple = gradient_x_input(model, clip)
    assert simple.heatmap.shape == (3, 12, 12)
    assert np.all(simple.heatmap[:, :, :4] == 0) and simple.heatmap.max() > 0
    assert simple.target_class == simple.predicted_class
    cam = grad_cam(model, clip, target_class=2)
    assert cam.node == "conv1" and cam.heatmap.shape == (3, 12, 12) and cam.heatmap.min() >= 0


def test_free_dims_and_a_mask_at_another_size() -> None:
    fcn = load(ROOT / "templates" / "fcn_segmentation.json").graph
    dims = {(d.axis, d.free, d.follows) for d in free_dims(fcn)}
    assert dims == {(0, False, False), (1, True, True), (2, True, True)}
    rnn = load(ROOT / "templates" / "rnn_adding.json").graph
    assert [(d.free, d.follows) for d in free_dims(rnn)] == [(True, False), (False, False)]
    digits = load(ROOT / "templates" / "cnn_digits.json").graph
    assert not any(d.free for d in free_dims(digits))  # Flatten → Dense fixes H and W

    torch.manual_seed(0)
    model = build_model(fcn)
    for size in (48, 64):
        mask = predict_mask(model, np.random.rand(1, size, size).astype(np.float32))
        assert mask.shape == (size, size) and 0 <= mask.min() and mask.max() < 4


def test_the_size_rule_says_which_sizes_give_a_mask_of_the_same_size() -> None:
    """Two poolings by 2 and upsampling back: only multiples of 4 come back at their own
    size; 50×50 gives a 48×48 mask, which the rule leaves out."""
    for name in ("fcn_segmentation", "unet_segmentation"):
        graph = load(ROOT / "templates" / f"{name}.json").graph
        rule = size_rule(graph, "image")
        assert (rule.names, rule.step, rule.smallest) == (("H", "W"), 4, 4), name
        assert rule.square_sizes([36, 48, 50, 64]) == [36, 48, 64]
        free = describe_free(graph, "image")
        assert free.shape == "(N, 1, H=32, W=32)"
        assert free.text == "H, W: any multiple of 4 (same weights; 32×32 now)"
    torch.manual_seed(0)
    model = build_model(load(ROOT / "templates" / "fcn_segmentation.json").graph)
    for size, mask_size in ((36, 36), (48, 48), (50, 48)):
        mask = predict_mask(model, np.random.rand(1, size, size).astype(np.float32))
        assert mask.shape == (mask_size, mask_size)

    rnn = load(ROOT / "templates" / "rnn_adding.json").graph
    assert size_rule(rnn, "sequence") is None  # T is free, but the output does not follow it
    assert describe_free(rnn, "sequence").text == "T: any length (same weights, same output size)"
    digits = load(ROOT / "templates" / "cnn_digits.json").graph
    assert describe_free(digits, "image").text == ""


def test_another_sample_number_draws_another_image_of_that_size() -> None:
    first = sample_at_size("shapes_segmentation", {}, 48, None, 0)
    again = sample_at_size("shapes_segmentation", {}, 48, None, 0)
    other = sample_at_size("shapes_segmentation", {}, 48, None, 1)
    assert first[0].shape == (1, 48, 48) and first[1].shape == (48, 48)
    assert np.array_equal(first[0], again[0]) and not np.array_equal(first[0], other[0])
    assert sample_at_size("digits", {}, 48) is None  # the digits have one size


def test_inspect_on_a_fully_convolutional_net_shows_masks_at_other_sizes(tmp_path: Path) -> None:
    doc = chain(
        [
            ("image", "Input", {"shape": [1, 16, 16]}),
            ("conv1", "Conv2d", {"out_channels": 4, "kernel_size": 3, "padding": "same"}),
            ("relu1", "ReLU", {}),
            ("classify", "Conv2d", {"out_channels": 4, "kernel_size": 1}),
            ("mask", "Output", {"loss": "cross_entropy"}),
        ],
        {
            "dataset": {"name": "shapes_segmentation", "params": {"samples": 8, "size": 16}},
            "batch_size": 4,
            "epochs": 1,
            "val_split": 0.25,
        },  # fmt: skip
    )
    out = tmp_path / "look"
    assert run(["inspect", str(write(tmp_path, doc)), "--out", str(out)]) == 0
    with Image.open(out / "any_size.png") as image:
        # Two rows, 48×48 and 64×64 images each enlarged ×2, with their titles.
        assert image.height > 96 + 128 and image.width > 3 * 128
    assert np.load(out / "activations.npz")["classify"].shape == (4, 16, 16)
