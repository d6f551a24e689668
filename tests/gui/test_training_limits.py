"""The window's trainer refuses, in one line with the figures, a run that cannot fit:
too many generated samples (engine.common.limits), a step needing more memory than is free."""

from __future__ import annotations

import pytest

from engine.common.limits import MAX_GENERATED_SAMPLES
from engine.train import fit
from gui.run.jobs import JobError, _prepare
from tests.helpers import ROOT, template_doc


def test_a_dataset_over_the_sample_limit_is_refused_before_it_is_made() -> None:
    doc = template_doc("lstm_adding")
    doc["training"]["dataset"]["params"]["samples"] = MAX_GENERATED_SAMPLES + 1
    with pytest.raises(JobError) as caught:
        _prepare(doc, ROOT)
    assert str(caught.value) == (
        f"training.dataset.params.samples: adding_problem would generate "
        f"{MAX_GENERATED_SAMPLES + 1:,} samples; at most {MAX_GENERATED_SAMPLES:,} — lower samples"
    )


def test_a_step_larger_than_free_memory_is_refused_with_the_figures(monkeypatch) -> None:
    monkeypatch.setattr(fit, "available_bytes", lambda: 1_000)
    with pytest.raises(JobError) as caught:
        _prepare(template_doc("mlp_iris"), ROOT)
    message = str(caught.value)
    assert "\n" not in message and message.startswith("the model needs about ")
    assert "this machine has 1000 B available" in message
