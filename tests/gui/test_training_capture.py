"""What the trainer process measures for Look inside (no window): gradient flow paced to
a share of the training time, histograms only while the view is open, and the plain
RNN's vanishing gradient on the real adding-problem template."""

from __future__ import annotations

import threading

import numpy as np

from engine.data import load_dataset
from engine.project.project import load
from engine.train.config import TrainConfig
from engine.train.events import BatchEnd, Callbacks
from engine.train.trainer import Trainer
from gui.run.capture import FIXED_SAMPLES, RunCapture
from tests.helpers import ROOT


def trainer_for(template: str, **training) -> Trainer:
    project = load(ROOT / "templates" / template)
    project.training.update(training)
    config = TrainConfig.from_dict(project.training)
    data = load_dataset(config.dataset.name, config.dataset.params, None)
    return Trainer(project, data, config)


def test_rnn_adding_shows_its_vanishing_gradient_through_time() -> None:
    trainer = trainer_for("rnn_adding.json")
    capture = RunCapture(trainer, threading.Event(), unseen_budget=1.0)  # measure often here
    samples = []

    def on_batch_end(event: BatchEnd) -> None:
        if (sample := capture.after_batch(event)) is not None:
            samples.append(sample)
        if event.batch == 100:
            trainer.stop.set()

    trainer.callbacks = Callbacks(on_batch_end=on_batch_end)
    trainer.fit()
    assert {tuple(s.grad_norm) for s in samples} == {("rnn1", "dense1")}
    # The weights' gradients are of one order: the RNN's last steps feed its weights.
    # What vanishes is the gradient that reaches the first of its 100 steps: after
    # the first few dozen batches, the first 10 steps get < 1e-6 of what the last get.
    settled = [s.through_time["rnn1"] for s in samples if s.batch >= 50]
    assert len(settled) >= 5
    assert max(settled) < 1e-6
    assert all(np.isfinite(list(s.update_ratio.values())).all() for s in samples[1:])
    assert capture.kept.flow == samples  # kept for the run's record, as handed out


def test_the_probe_is_paced_to_its_share_of_the_training_time() -> None:
    looking = threading.Event()
    looking.set()  # Look inside's training view is open: 3% of the time
    capture = RunCapture(trainer_for("mlp_iris.json"), looking, budget=0.03)
    # Measuring took 6 ms since the last time; a batch of 8 samples takes 10 ms:
    # 3% of K batches is 0.3 K ms, so K = 20 (from K = 10, the first: at most doubled).
    batch = BatchEnd(1, 1, 5, 10, 0.5, {}, 0.01, samples_per_s=800.0)
    capture._pace(batch, 0.006)
    assert capture.probe.every == 20
    capture._pace(batch, 0.0061)
    assert capture.probe.every == 21
    capture._pace(batch, 1e-9)  # cheaper than a batch's 3%: every batch, never less
    assert capture.probe.every == 1
    capture._pace(batch, 0.1)  # one slow measurement: K doubles, no more
    assert capture.probe.every == 2

    looking.clear()  # nobody watches: 1% of the time, 0.1 K ms for 6 ms: K = 60
    for _ in range(6):
        capture._pace(batch, 0.006)
    assert capture.probe.every == 60
    looking.set()
    capture._pace(batch, 0.006)
    assert capture.probe.every == 20


def test_histograms_are_taken_only_while_the_view_is_open() -> None:
    looking = threading.Event()
    capture = RunCapture(trainer_for("rnn_adding.json"), looking)
    assert capture.histograms(1) is None
    looking.set()
    taken = capture.histograms(1)
    assert taken is not None and taken.epoch == 1 and taken.samples == FIXED_SAMPLES
    assert set(taken.weights) == {"rnn1", "dense1"}
    assert set(taken.activations) == {"rnn1", "dense1", "total"}
    rnn = taken.activations["rnn1"]
    assert len(rnn.counts) == 40 and len(rnn.edges) == 41
    assert int(rnn.counts.sum()) == FIXED_SAMPLES * 64  # the last step's 64 hidden values
    assert int(taken.weights["dense1"].counts.sum()) == 64 + 1
    assert rnn.edges[0] >= -1.0 and rnn.edges[-1] <= 1.0  # tanh
    assert capture.kept.histograms == [taken]  # only what was taken is kept


def test_a_measure_that_fails_is_dropped_and_the_run_goes_on(monkeypatch, caplog) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("only floating point tensors can require gradients")

    monkeypatch.setattr("gui.run.capture.gradient_through_time", broken)
    monkeypatch.setattr("gui.run.capture.activation_histograms", broken)
    looking = threading.Event()
    looking.set()
    capture = RunCapture(trainer_for("rnn_adding.json"), looking)
    capture.probe.every = 1
    batch = BatchEnd(1, 1, 1, 10, 0.5, {}, 0.01, samples_per_s=1000.0)
    sample = capture.after_batch(batch)
    assert sample is not None and sample.through_time == {}
    assert set(sample.grad_norm) == {"rnn1", "dense1"}  # the rest is measured
    assert capture.recurrent == []  # not tried again
    assert "gradient through time of rnn1: not measured" in caplog.text
    taken = capture.histograms(1)
    assert (
        taken is not None
        and taken.activations == {}
        and set(taken.weights)
        == {
            "rnn1",
            "dense1",
        }
    )
