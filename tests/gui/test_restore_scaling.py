"""A run restored in the window sees its data the way the run was trained: the scaling
stored in model.pt, not one refitted on the file as it is today."""

from __future__ import annotations

import json

import numpy as np

from engine.data.preprocess import apply_standardiser
from gui.run.jobs import RestoreJob, run_restore
from tests.engine.test_preprocessing_travels import arrays_project, trained, write_measurements


def test_a_restored_run_keeps_its_scaling_when_the_file_changed(tmp_path):
    path = tmp_path / "measurements.npz"
    write_measurements(path)
    doc = arrays_project(path)
    doc["training"]["dataset"]["params"]["shuffle"] = False
    trainer, _ = trained(doc, tmp_path)
    trainer.save(tmp_path / "model.pt")
    stored = trainer.preprocessing["features"]

    # The same rows saved again in other units: refitted, the scaling would hide it.
    with np.load(path) as archive:
        x, y = archive["x"], archive["y"]
    np.savez(path, x=x * 1000, y=y)
    job = RestoreJob(1, json.loads(json.dumps(doc)), tmp_path / "model.pt", tmp_path)
    outcome = run_restore(job)
    shown = outcome.evaluation.inputs.reshape(len(outcome.evaluation.inputs), -1)
    expected = apply_standardiser(stored, x * 1000)
    nearest = np.abs(expected[None, :, :] - shown[:, None, :]).sum(axis=2).min(axis=1)
    assert nearest.max() < 1e-3
