"""The training engine: settings, graph/data checks, learning, control, NaN guard, checkpoints.

Tiny generated problems and a few epochs each: these assert that learning happens
and that the controls work, not how good a template gets (that is bench/quality.py).
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import torch

from engine.data import ArrayDataset
from engine.graph.graph import Graph
from engine.project.project import Project
from engine.train import Callbacks, ConfigError, TrainConfig
from engine.train.checkpoint import load_checkpoint
from engine.train.config import default_config
from engine.train.fit import FitError
from engine.train.metrics import Meter
from engine.train.trainer import Trainer
from tests.helpers import ROOT

# ----------------------------------------------------------------- helpers


def chain(*blocks: tuple[str, str, dict]) -> Graph:
    """A graph of blocks wired one after the other: (id, type, params)."""
    graph = Graph()
    for node_id, type_name, params in blocks:
        graph.add_node(type_name, params, node_id=node_id)
    for (source, _, _), (target, _, _) in zip(blocks, blocks[1:]):
        graph.connect(source, target)
    return graph


def mlp(features: int, outputs: int, loss: str = "cross_entropy") -> Graph:
    return chain(
        ("point", "Input", {"shape": [features]}),
        ("dense1", "Dense", {"units": 16}),
        ("relu1", "ReLU", {}),
        ("dense2", "Dense", {"units": outputs}),
        ("label", "Output", {"loss": loss}),
    )


def blobs(samples: int = 240, classes: int = 4, seed: int = 0) -> ArrayDataset:
    """Four well separated clusters in 2-D: learnable in a few epochs, chance is 25%."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, samples)
    angles = 2 * np.pi * y / classes
    centres = np.stack([np.cos(angles), np.sin(angles)], axis=1) * 3
    x = (centres + rng.normal(0, 0.5, (samples, 2))).astype(np.float32)
    return ArrayDataset("blobs", x, y.astype(np.int64), "classification", (2,), False, classes)


def line(samples: int = 200, ordered: bool = False) -> ArrayDataset:
    """y = 2·x1 − x2 + 0.5 with a little noise."""
    rng = np.random.default_rng(1)
    x = rng.normal(0, 1, (samples, 2)).astype(np.float32)
    y = (2 * x[:, :1] - x[:, 1:] + 0.5 + rng.normal(0, 0.05, (samples, 1))).astype(np.float32)
    return ArrayDataset("line", x, y, "regression", (2,), False, ordered=ordered)


def project(graph: Graph, dataset: str = "blobs", **settings: object) -> Project:
    training = {"dataset": {"name": dataset}, "lr": 0.01, "batch_size": 16, "epochs": 4}
    return Project(graph, "test", training={**training, **settings})


# ------------------------------------------------------------------ config


def test_config_round_trips_and_fills_defaults() -> None:
    doc = {
        "dataset": {"name": "digits", "params": {"samples": 10}},
        "optimizer": "sgd",
        "lr": 0.1,
        "schedule": {"name": "step", "step_size": 3, "gamma": 0.5},
        "early_stopping": 2,
        "grad_clip": 1,
    }
    config = TrainConfig.from_dict(doc)
    assert config.momentum == 0.9 and config.batch_size == 32 and config.device == "auto"
    assert config.schedule.step_size == 3 and config.grad_clip == 1.0
    assert TrainConfig.from_dict(config.to_dict()) == config


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"lr": -1}, "training.lr: expected a number > 0, got -1"),
        ({"batch_size": 0}, "training.batch_size: expected an integer ≥ 1, got 0"),
        ({"epochs": 2.5}, "training.epochs: expected an integer in 1…1,000,000, got 2.5"),
        ({"epochs": 10**7}, "training.epochs: expected an integer in 1…1,000,000, got 10000000"),
        (
            {"seed": 2**64},
            "training.seed: expected an integer in 0…4,294,967,295, got 18446744073709551616",
        ),
        ({"seed": 10**5000}, "training.seed: expected an integer in 0…4,294,967,295, got an "),
        ({"val_split": 1}, "training.val_split: expected a number in [0, 1), got 1"),
        ({"optimizer": "lbfgs"}, "training.optimizer: expected one of 'sgd', 'adam'"),
        ({"device": "tpu"}, "training.device: expected one of 'auto', 'cpu', 'cuda', 'mps'"),
        ({"schedule": {"name": "step", "gamma": 2}}, "training.schedule.gamma: expected a number"),
        ({"schedule": {"name": "cosine", "patience": 3}}, "training.schedule.patience: unknown"),
        ({"learning_rate": 0.1}, "training.learning_rate: unknown setting (known: batch_size"),
        ({"optimiser": "sgd"}, "training.optimiser: unknown setting (did you mean 'optimizer'?"),
        ({"dataset": {"params": {}}}, "training.dataset.name: expected a dataset name"),
    ],
)
def test_config_errors_name_the_setting(change: dict, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        TrainConfig.from_dict({"dataset": "digits", **change})
    assert str(err.value).startswith(message)


def test_config_without_dataset_says_what_to_write() -> None:
    with pytest.raises(ConfigError, match=r'training.dataset: missing; .*"name": "digits"'):
        TrainConfig.from_dict({"lr": 0.1})


def test_metric_follows_the_task_and_refuses_one_that_does_not_fit() -> None:
    config = default_config("x")
    assert config.resolve_metric("classification") == "accuracy"
    assert config.resolve_metric("regression") == "mse"
    assert config.resolve_metric("segmentation") == "mean_iou"
    assert default_config("x", metric="mae").resolve_metric("regression") == "mae"
    with pytest.raises(ConfigError, match="training.metric: 'accuracy' does not fit a regression"):
        default_config("x", metric="accuracy").resolve_metric("regression")


# ------------------------------------------------------- graph against data


def test_input_that_does_not_fit_the_data_is_named_with_both_shapes() -> None:
    with pytest.raises(FitError) as err:
        Trainer(project(mlp(3, 4)), blobs())
    assert err.value.problems == ["input 'point' expects (N, 3) but dataset blobs gives (N, 2)"]


def test_output_with_the_wrong_class_count_names_the_block_and_the_fix() -> None:
    with pytest.raises(FitError) as err:
        Trainer(project(mlp(2, 10)), blobs())
    (message,) = err.value.problems
    assert message.startswith("label: Output with loss cross_entropy needs one score per class")
    assert "(N, 4) for the 4 classes of blobs; got (N, 10) from dense2" in message


def test_loss_that_does_not_fit_the_task_is_refused() -> None:
    with pytest.raises(FitError, match="label: Output with loss mse does not fit blobs, a "):
        Trainer(project(mlp(2, 4, loss="mse")), blobs())
    with pytest.raises(FitError, match="needs one value per target, \\(N, 1\\) for line; got"):
        Trainer(project(mlp(2, 3, loss="mse"), "line"), line())


def test_training_needs_exactly_one_input_and_one_output() -> None:
    graph = mlp(2, 4)
    graph.add_node("Output", {"loss": "cross_entropy"}, node_id="second")
    graph.connect("dense2", "second")
    with pytest.raises(FitError, match=r"exactly one Output block; this graph has 2 \(label, sec"):
        Trainer(project(graph), blobs())


def test_graph_errors_stop_training_before_it_starts() -> None:
    graph = mlp(2, 4)
    graph.disconnect("relu1", "x")
    with pytest.raises(FitError, match="relu1: ReLU input 'x' is not wired"):
        Trainer(project(graph), blobs())


def test_unavailable_device_is_a_clear_error() -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has cuda; the message is for machines without it")
    with pytest.raises(ConfigError, match="training.device: cuda is not available on this"):
        Trainer(project(mlp(2, 4), device="cuda"), blobs())


# --------------------------------------------------------------- learning


def test_classifier_loss_falls_and_accuracy_beats_chance() -> None:
    result = Trainer(project(mlp(2, 4), epochs=5), blobs()).fit()
    losses = [event.train.loss for event in result.history]
    assert result.status == "completed" and len(losses) == 5
    assert losses[-1] < 0.5 * losses[0]
    assert result.metric == "accuracy" and result.final_value is not None
    assert result.final_value > 0.8  # chance is 0.25


def test_regression_reports_mse_and_mae_and_learns() -> None:
    result = Trainer(project(mlp(2, 1, loss="mse"), "line", epochs=6), line()).fit()
    first, last = result.history[0].val, result.history[-1].val
    assert first is not None and last is not None
    assert set(last.metrics) == {"mse", "mae"}
    assert last.metrics["mse"] < 0.25 * first.metrics["mse"]


def bright_squares(samples: int = 64, size: int = 8) -> ArrayDataset:
    """Images with one bright square on a dark background; the mask marks it."""
    rng = np.random.default_rng(2)
    x = rng.uniform(0, 0.2, (samples, 1, size, size)).astype(np.float32)
    y = np.zeros((samples, size, size), dtype=np.int64)
    for i in range(samples):
        r, c = rng.integers(0, size - 3, 2)
        x[i, 0, r : r + 3, c : c + 3] = 0.9
        y[i, r : r + 3, c : c + 3] = 1
    return ArrayDataset("squares", x, y, "segmentation", (1, size, size), False, 2)


def test_per_pixel_segmentation_learns_and_reports_mean_iou() -> None:
    graph = chain(
        ("image", "Input", {"shape": [1, 8, 8]}),
        ("conv1", "Conv2d", {"out_channels": 8, "kernel_size": 3, "padding": "same"}),
        ("relu1", "ReLU", {}),
        ("conv2", "Conv2d", {"out_channels": 2, "kernel_size": 1}),
        ("mask", "Output", {"loss": "cross_entropy"}),
    )
    result = Trainer(project(graph, "squares", epochs=8, lr=0.02), bright_squares()).fit()
    assert result.metric == "mean_iou"
    assert result.history[-1].train.loss < 0.5 * result.history[0].train.loss
    assert result.final_value is not None and result.final_value > 0.7


def test_mean_iou_counts_overlap_over_union_per_class() -> None:
    from engine.train.fit import Objective

    objective = Objective("i", "o", "float32", "cross_entropy", "segmentation", 2, (2, 1, 4), "")
    meter = Meter(objective, torch.device("cpu"))
    target = torch.tensor([[[0, 0, 1, 1]]])
    # Predicted classes 0, 1, 1, 1: class 0 overlaps 1 of 2, class 1 overlaps 2 of 3.
    scores = torch.tensor([[[[1.0, 0, 0, 0]], [[0, 1.0, 1, 1]]]])
    meter.update(0.0, scores, target)
    values = meter.values()
    assert values["mean_iou"] == pytest.approx((1 / 2 + 2 / 3) / 2)
    assert values["pixel_accuracy"] == pytest.approx(3 / 4)


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "adamw", "rmsprop"])
def test_every_optimizer_learns(optimizer: str) -> None:
    lr = 0.05 if optimizer == "sgd" else 0.01
    result = Trainer(project(mlp(2, 4), optimizer=optimizer, lr=lr, epochs=3), blobs()).fit()
    assert result.history[-1].train.loss < 0.7 * result.history[0].train.loss


def test_same_seed_same_run_other_seed_other_run() -> None:
    def losses(seed: int) -> list[float]:
        graph = mlp(2, 4)
        graph.add_node("Dropout", {"p": 0.3}, node_id="drop")  # seeded dropout masks too
        graph.disconnect("dense2", "x")
        graph.connect("relu1", "drop")
        graph.connect("drop", "dense2")
        result = Trainer(project(graph, epochs=2, seed=seed), blobs()).fit()
        return [e.train.loss for e in result.history] + [e.val.loss for e in result.history]

    assert losses(3) == losses(3)
    assert losses(3) != losses(4)


def test_step_and_cosine_schedules_move_the_learning_rate() -> None:
    step = {"name": "step", "step_size": 2, "gamma": 0.5}
    result = Trainer(project(mlp(2, 4), lr=0.1, schedule=step), blobs()).fit()
    assert [e.lr for e in result.history] == pytest.approx([0.1, 0.05, 0.05, 0.025])
    result = Trainer(project(mlp(2, 4), lr=0.1, schedule="cosine"), blobs()).fit()
    rates = [e.lr for e in result.history]
    assert rates == sorted(rates, reverse=True) and rates[-1] < 1e-6


def test_gradient_clipping_bounds_the_gradient_norm() -> None:
    def largest_norm(clip: float) -> float:
        norms: list[float] = []
        trainer = Trainer(project(mlp(2, 4), grad_clip=clip, epochs=1), blobs())

        def record(event: object) -> None:
            grads = [p.grad for p in trainer.model.parameters() if p.grad is not None]
            norms.append(float(torch.linalg.vector_norm(torch.stack([g.norm() for g in grads]))))

        trainer.callbacks = Callbacks(on_batch_end=record)
        trainer.fit()
        return max(norms)

    assert largest_norm(0.0) > 0.05
    assert largest_norm(0.05) <= 0.05 + 1e-6


def test_early_stopping_keeps_the_best_epoch() -> None:
    # A learning rate too small to change float32 weights: the validation loss never
    # improves after the first epoch, so patience 2 ends the run after epoch 3.
    settings = {"optimizer": "sgd", "momentum": 0.0, "lr": 1e-12, "early_stopping": 2}
    result = Trainer(project(mlp(2, 4), epochs=10, **settings), blobs()).fit()
    assert result.status == "early_stopped" and len(result.history) == 3
    assert result.best_epoch == 1
    assert "has not improved for 2 epochs; kept the weights of epoch 1" in result.reason


def test_ordered_data_validates_on_the_tail() -> None:
    data = line(samples=50, ordered=True)
    trainer = Trainer(project(mlp(2, 1, loss="mse"), "line", val_split=0.2), data)
    assert trainer.val_split is not None
    assert torch.equal(trainer.val_split.x, torch.from_numpy(data.x[40:]))


def test_val_split_that_leaves_nothing_to_train_on_is_refused() -> None:
    with pytest.raises(ConfigError, match="training.val_split: holding out 0.9 of 2 samples"):
        Trainer(project(mlp(2, 4), val_split=0.9), blobs(samples=2))


# ----------------------------------------------------------- stop, pause


def test_stop_event_ends_the_run_before_the_next_batch() -> None:
    stop = threading.Event()
    seen: list[int] = []

    def on_batch(event: object) -> None:
        seen.append(event.batch)  # type: ignore[attr-defined]
        if event.batch == 3:  # type: ignore[attr-defined]
            stop.set()

    trainer = Trainer(project(mlp(2, 4)), blobs(), stop=stop, callbacks=Callbacks(on_batch))
    result = trainer.fit()
    assert seen == [1, 2, 3]
    assert result.status == "stopped"
    assert result.reason == "stopped by the user at epoch 1, batch 4 of 12"


def test_pause_holds_training_until_resumed() -> None:
    pause = threading.Event()
    times: dict[int, float] = {}
    resumed_at: list[float] = []

    def on_batch(event: object) -> None:
        times[event.batch] = time.perf_counter()  # type: ignore[attr-defined]
        if event.batch == 2 and event.epoch == 1:  # type: ignore[attr-defined]
            pause.set()

            def resume() -> None:
                resumed_at.append(time.perf_counter())
                pause.clear()

            threading.Timer(1.0, resume).start()

    trainer = Trainer(project(mlp(2, 4), epochs=1), blobs(), pause=pause)
    trainer.callbacks = Callbacks(on_batch_end=on_batch)
    began = time.perf_counter()
    result = trainer.fit()
    wall = time.perf_counter() - began
    assert result.status == "completed"
    assert times[3] >= resumed_at[0]  # no batch ran while paused
    paused_for = times[3] - times[2]
    assert paused_for >= 0.95
    # Time spent paused is not counted as training time (however slow the machine is,
    # the epoch's own time is the fit's wall time less most of the pause).
    trained_for = len(trainer.train_split) / result.history[0].samples_per_s
    assert trained_for < wall - 0.8 * paused_for


def test_stop_while_paused_ends_the_run() -> None:
    pause, stop = threading.Event(), threading.Event()
    pause.set()
    threading.Timer(0.1, stop.set).start()
    began = time.perf_counter()
    result = Trainer(project(mlp(2, 4)), blobs(), stop=stop, pause=pause).fit()
    assert result.status == "stopped" and "epoch 1, batch 1 of" in result.reason
    assert time.perf_counter() - began < 60.0  # a bound on a hang, not a speed test


# ------------------------------------------------------------- NaN guard


def test_nan_in_the_data_stops_with_a_reason_naming_epoch_and_batch() -> None:
    data = line()
    data.x[7, 0] = np.nan  # one bad sample, wherever the split puts it
    trainer = Trainer(project(mlp(2, 1, loss="mse"), "line", val_split=0.0), data)
    initial = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    result = trainer.fit()
    assert result.status == "diverged"
    assert result.reason.startswith("the loss became nan at epoch 1, batch ")
    assert "the input batch holds NaN or infinite values — check the data" in result.reason
    for key, value in trainer.model.state_dict().items():
        assert torch.equal(value, initial[key])  # back to the last good weights


def test_exploding_loss_keeps_the_last_good_checkpoint(tmp_path: object) -> None:
    path = tmp_path / "model.pt"  # type: ignore[operator]
    trainer = Trainer(project(mlp(2, 1, loss="mse"), "line"), line(), checkpoint_path=path)

    def blow_up(event: object) -> None:
        # After a good first epoch, a learning rate no network survives.
        trainer.optimizer.param_groups[0]["lr"] = 1e12

    trainer.callbacks = Callbacks(on_epoch_end=blow_up)
    result = trainer.fit()
    assert result.status == "diverged"
    assert "at epoch 2, batch" in result.reason
    assert "kept epoch 1 (the last good weights)" in result.reason
    assert "try a lower learning rate (now 1e+12)" in result.reason
    saved = load_checkpoint(path)
    assert saved.metrics["epoch"] == 1
    for key, value in trainer.model.state_dict().items():
        assert torch.isfinite(value).all()
        assert torch.equal(value, saved.state_dict[key])
    assert result.final is not None and math.isfinite(result.final.loss)


# ------------------------------------------------------------ checkpoints


def test_checkpoint_loads_with_weights_only_and_rebuilds_the_same_model(tmp_path: object) -> None:
    path = tmp_path / "run" / "model.pt"  # type: ignore[operator]
    trainer = Trainer(project(mlp(2, 4), epochs=2), blobs(), checkpoint_path=path)
    trainer.fit()
    raw = torch.load(path, weights_only=True)
    assert raw["format"] == "netloom-checkpoint"
    weights = ["dense1.bias", "dense1.weight", "dense2.bias", "dense2.weight"]
    assert sorted(raw["state_dict"]) == weights
    assert raw["config"]["epochs"] == 2 and raw["project"]["training"]["epochs"] == 2
    assert raw["metrics"]["epoch"] == 2 and 0 <= raw["metrics"]["val"]["accuracy"] <= 1

    rebuilt = load_checkpoint(path).build()
    batch = torch.from_numpy(blobs(samples=5).x)
    trainer.model.eval()
    rebuilt.eval()
    assert torch.equal(rebuilt(batch), trainer.model(batch))


def test_a_file_that_is_no_checkpoint_is_refused(tmp_path: object) -> None:
    from engine.train.checkpoint import CheckpointError

    path = tmp_path / "other.pt"  # type: ignore[operator]
    torch.save({"weights": torch.zeros(2)}, path)
    with pytest.raises(CheckpointError, match="other.pt: not a NetLoom checkpoint"):
        load_checkpoint(path)


def test_warm_up_does_the_optimizers_lazy_import_ahead_of_training() -> None:
    # In a fresh interpreter: the first optimizer would import torch._dynamo (~1 s
    # holding the GIL); after warm_up a GUI can start training without that stall.
    code = (
        "import sys, engine.train as t; assert 'torch._dynamo' not in sys.modules; "
        "t.warm_up(); assert 'torch._dynamo' in sys.modules"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_small_models_train_on_one_thread_large_ones_on_the_idle_cores() -> None:
    from engine.train.optim import SMALL_BATCH_WORK, busy_cores, choose_threads

    cores = os.cpu_count() or 1
    assert choose_threads(SMALL_BATCH_WORK / 2) == 1
    assert 1 <= choose_threads(SMALL_BATCH_WORK * 100) <= cores
    assert 0.0 <= busy_cores(0.01) <= cores + 0.5  # tick rounding
    # The trainer applies its choice for the run and gives torch's setting back.
    before = torch.get_num_threads()
    trainer = Trainer(project(mlp(2, 4), epochs=1), blobs())
    assert trainer.threads == 1  # a tiny MLP
    trainer.fit()
    assert torch.get_num_threads() == before


def test_a_finished_run_says_how_many_epochs_it_trained_in_words() -> None:
    assert Trainer(project(mlp(2, 4), epochs=1), blobs(48)).fit().reason == "trained 1 epoch"
    assert Trainer(project(mlp(2, 4), epochs=2), blobs(48)).fit().reason == "trained 2 epochs"
