"""Hyperparameter widgets generated from the training settings NetLoom understands.

Each setting of `engine.train.config.TrainConfig` (and of its `Schedule`) is declared
once below as a `Param` — the record blocks use — with its default taken from the
config's own dataclass fields; the inspector's widget factories render it. Edits are
checked by `TrainConfig.from_dict`, whose message names the setting
("training.lr: expected a number > 0, got 0").
"""

from __future__ import annotations

import copy
from dataclasses import fields
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFormLayout, QLabel, QLineEdit, QWidget

from engine.blocks.spec import Param
from engine.train.config import (
    DEVICES,
    METRICS,
    OPTIMIZERS,
    SCHEDULES,
    SPLIT_KINDS,
    ConfigError,
    Schedule,
    TrainConfig,
)
from gui.editor.param_widgets import ParamEditor, make_editor

_CONFIG = {f.name: f.default for f in fields(TrainConfig)}
_SCHEDULE = {f.name: f.default for f in fields(Schedule)}

SETTINGS: tuple[Param, ...] = (
    Param("optimizer", "choice", _CONFIG["optimizer"], "How the weights move.", choices=OPTIMIZERS),
    Param("lr", "float", _CONFIG["lr"], "Learning rate: the size of each step, e.g. 1e-3.", 0),
    Param("momentum", "float", _CONFIG["momentum"], "Momentum (sgd and rmsprop).", 0, 0.999),
    Param("weight_decay", "float", _CONFIG["weight_decay"], "L2 penalty on the weights.", 0),
    Param("schedule", "choice", "none", "How the learning rate changes.", choices=SCHEDULES),
    Param("step_size", "int", _SCHEDULE["step_size"], "Epochs between steps.", 1),
    Param("gamma", "float", _SCHEDULE["gamma"], "Multiply the rate by this each step.", 0, 0.999),
    Param(
        "factor", "float", _SCHEDULE["factor"], "Multiply the rate by this on a plateau.", 0, 0.999
    ),
    Param("patience", "int", _SCHEDULE["patience"], "Epochs without progress before.", 0),
    Param("batch_size", "int", _CONFIG["batch_size"], "Samples per step.", 1, 1_000_000),
    Param("epochs", "int", _CONFIG["epochs"], "Passes over the training samples.", 1, 1_000_000),
    Param("val_split", "float", _CONFIG["val_split"], "Share held out to validate.", 0, 0.95),
    Param(
        "test_split",
        "float",
        _CONFIG["test_split"],
        "Share held out as a test, scored once after training (0: none).",
        0,
        0.95,
    ),
    Param(
        "split",
        "choice",
        _CONFIG["split"],
        "How samples are split (auto: stratified for your classes, ordered for a series, "
        "else random).",
        choices=SPLIT_KINDS,
    ),
    Param(
        "class_weights",
        "choice",
        "none",
        "balanced: each class weighs n / (k · its count) in the loss, for rare classes "
        "(a list of weights can be written in the project file).",
        choices=("none", "balanced"),
    ),
    Param(
        "early_stopping",
        "int",
        0,
        "Stop after this many epochs without a better validation loss (0: off).",
        0,
    ),
    Param(
        "grad_clip",
        "float",
        _CONFIG["grad_clip"],
        "Largest gradient norm (0: off); helps recurrent networks.",
        0,
    ),
    Param("seed", "int", _CONFIG["seed"], "Same seed, same split, same initial weights.", 0),
    Param(
        "device",
        "choice",
        _CONFIG["device"],
        "Where to train (auto: a GPU if present).",
        choices=DEVICES,
    ),
    Param(
        "metric",
        "choice",
        _CONFIG["metric"],
        "The metric to report (auto: the task's).",
        choices=METRICS,
    ),
)
LABELS = {
    "lr": "learning rate",
    "weight_decay": "weight decay",
    "step_size": "  every (epochs)",
    "gamma": "  × rate",
    "factor": "  × rate",
    "patience": "  patience",
    "batch_size": "batch size",
    "val_split": "validation split",
    "test_split": "test split",
    "class_weights": "class weights",
    "early_stopping": "early stopping",
    "grad_clip": "gradient clip",
}
SCHEDULE_KEYS = ("step_size", "gamma", "factor", "patience")
# Settings that only mean something with some other choice.
APPLIES = {
    "momentum": lambda s: s["optimizer"] in ("sgd", "rmsprop"),
    **{key: (lambda s, key=key: key in Schedule.OWN_KEYS[s["schedule"]]) for key in SCHEDULE_KEYS},
}


def current_settings(training: dict[str, Any]) -> dict[str, Any]:
    """Every setting's value: the project's where it has one, else the default."""
    values = {p.name: training.get(p.name, p.default) for p in SETTINGS}
    schedule = training.get("schedule", "none")
    if isinstance(schedule, str):
        schedule = {"name": schedule}
    if isinstance(schedule, dict):
        values["schedule"] = schedule.get("name", "none")
        for key in SCHEDULE_KEYS:
            values[key] = schedule.get(key, _SCHEDULE[key])
    return values


def with_setting(training: dict[str, Any], name: str, value: Any) -> dict[str, Any]:
    """A copy of the training settings with one setting changed."""
    changed = copy.deepcopy(training)
    if name == "schedule":
        changed["schedule"] = {"name": value}
        for key in Schedule.OWN_KEYS.get(value, ()):
            changed["schedule"][key] = _SCHEDULE[key]
    elif name in SCHEDULE_KEYS:
        schedule = current_settings(training)
        changed["schedule"] = {"name": schedule["schedule"]}
        for key in Schedule.OWN_KEYS.get(schedule["schedule"], ()):
            changed["schedule"][key] = value if key == name else schedule[key]
    else:
        changed[name] = value
    return changed


def settings_problem(training: dict[str, Any]) -> str | None:
    """What is wrong with the settings apart from the dataset (the picker's concern)."""
    try:
        TrainConfig.from_dict({**training, "dataset": training.get("dataset") or "unset"})
    except ConfigError as err:
        return str(err)
    return None


class NumberEditor(ParamEditor):
    """A number typed as text, so 1e-4 and 0.0003 both read naturally."""

    def build(self) -> QWidget:
        edit = QLineEdit()
        edit.textEdited.connect(lambda text: self.check(self._parse(text)))
        edit.editingFinished.connect(self._finish)
        self.edit = edit
        return edit

    @staticmethod
    def _parse(text: str) -> Any:
        try:
            return float(text.strip())
        except ValueError:
            return text

    def _finish(self) -> None:
        value = self.check(self._parse(self.edit.text()))
        if value is not None:
            self.on_commit(value)

    def set_value(self, value: Any) -> None:
        self.edit.blockSignals(True)
        self.edit.setText(f"{value:g}" if isinstance(value, (int, float)) else str(value))
        self.edit.blockSignals(False)
        self.show_error(None)


class SettingsForm(QWidget):
    """The hyperparameters; `edited` carries (name, value) for the panel to apply."""

    edited = Signal(str, object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.form = QFormLayout(self)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.editors: dict[str, ParamEditor] = {}
        for param in SETTINGS:
            commit = lambda value, name=param.name: self.edited.emit(name, value)  # noqa: E731
            editor = (
                NumberEditor(param, commit) if param.kind == "float" else make_editor(param, commit)
            )
            label = QLabel(LABELS.get(param.name, param.name.replace("_", " ")))
            label.setToolTip(param.help)
            self.form.addRow(label, editor.widget)
            self.form.addRow("", editor.error)
            self.editors[param.name] = editor
        self.problem = QLabel()
        self.problem.setObjectName("fieldError")
        self.problem.setWordWrap(True)
        self.problem.hide()
        self.form.addRow(self.problem)

    def show_settings(self, training: dict[str, Any]) -> None:
        values = current_settings(training)
        for name, editor in self.editors.items():
            editor.set_value(values[name])
            applies = APPLIES.get(name)
            visible = applies(values) if applies else True
            self.form.setRowVisible(editor.widget, visible)
            if not visible:
                editor.show_error(None)
        problem = settings_problem(training)
        self.problem.setText(problem or "")
        self.problem.setVisible(bool(problem))

    def show_problem(self, name: str, message: str) -> None:
        """A change the config refused: say why under its field."""
        self.editors[name].show_error(message)
