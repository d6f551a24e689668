"""The window's training job analyses the project's graph once: the thread count it
chooses and the trainer it builds read the same shape pass (issue 24, item 5)."""

from __future__ import annotations

import json

import pytest

import engine.train.trainer  # noqa: F401  (loaded before counting: its `analyze` is counted)
from engine.project.templates import TEMPLATES_DIR
from gui.run.jobs import _prepare
from tests.shape_passes import count_shape_passes


def test_a_training_job_builds_its_trainer_from_one_shape_pass(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    passes = count_shape_passes(monkeypatch)
    # max_threads: the window leaves itself a core, so the job chooses the threads too.
    doc = json.loads((TEMPLATES_DIR / "mlp_iris.json").read_text(encoding="utf-8"))
    trainer, data = _prepare(doc, TEMPLATES_DIR.parent, max_threads=1)
    assert data.name == "iris" and trainer.threads == 1
    assert passes.graphs == 1, f"{passes.graphs} shape passes, from {passes.callers}"
    assert trainer.analysis.total_params == sum(p.numel() for p in trainer.model.parameters())
