"""The training settings of a project: its "training" object, validated.

`TrainConfig.from_dict(project.training)` checks every value and names the place of a
mistake, e.g. `training.lr: expected a number > 0, got -1`. `to_dict` writes it back
so that `from_dict(to_dict(c)) == c`. This module imports neither torch nor Qt, so an
editor can validate settings as the user types them.
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from engine.blocks.spec import is_finite_number
from engine.common.json_text import path_key

OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop")
SCHEDULES = ("none", "step", "cosine", "plateau")
DEVICES = ("auto", "cpu", "cuda", "mps")
TASKS = ("classification", "regression", "segmentation")
# How samples are split into training, validation and test parts (engine.data.splits);
# auto: ordered for data in time order, else the dataset's own default (stratified for a
# person's classification data, random for builtin and generated datasets).
SPLIT_KINDS = ("auto", "random", "stratified", "ordered")
# How the classification loss weighs each class (engine.train.class_weights): "none",
# "balanced" (n / (k · count) over the training split), or a list of one number per class.
CLASS_WEIGHT_CHOICES = ("none", "balanced")

# The metric each task reports first (the `final:` line, early-stopping display), and
# every metric that fits the task. Regression reports both errors.
TASK_METRICS: dict[str, tuple[str, ...]] = {
    "classification": ("accuracy",),
    "regression": ("mse", "mae"),
    "segmentation": ("mean_iou", "pixel_accuracy"),
}
METRICS = ("auto",) + tuple(m for ms in TASK_METRICS.values() for m in ms)
# Which way is better, for choosing the best epoch by a metric.
HIGHER_IS_BETTER = {"accuracy": True, "mean_iou": True, "pixel_accuracy": True}


# Upper bounds. Random generators take seeds below 2^32 everywhere (numpy's legacy one,
# torch's, the exported script's); a larger seed overflowed inside the trainer.
MAX_SEED = 2**32 - 1
# A million epochs is days of training even for iris; more is a typo.
MAX_EPOCHS = 1_000_000


class ConfigError(ValueError):
    """A training setting that does not fit; the message starts with its path."""


def _show(value: Any) -> str:
    if isinstance(value, int) and value.bit_length() > 128:
        # Printing an integer of over 4,300 digits raises ValueError in Python itself.
        return f"an integer of about {int(value.bit_length() * math.log10(2)) + 1:,} digits"
    return json.dumps(value)[:60]


def _number(
    doc: Mapping[str, Any],
    key: str,
    where: str,
    default: float,
    *,
    low: float,
    low_open: bool = False,
    high: float | None = None,
) -> float:
    value = doc.get(key, default)
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and is_finite_number(value)
    if ok:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high
    if not ok:
        bound = f"> {low:g}" if low_open else f"≥ {low:g}"
        if high is not None:
            bound = f"in ({low:g}, {high:g})" if low_open else f"in [{low:g}, {high:g})"
        raise ConfigError(f"{where}.{key}: expected a number {bound}, got {_show(value)}")
    return float(value)


def _integer(
    doc: Mapping[str, Any], key: str, where: str, default: int, *, low: int, high: int | None = None
) -> int:
    value = doc.get(key, default)
    ok = isinstance(value, int) and not isinstance(value, bool) and value >= low
    if ok and high is not None:
        ok = value <= high
    if not ok:
        bound = f"≥ {low}" if high is None else f"in {low}…{high:,}"
        raise ConfigError(f"{where}.{key}: expected an integer {bound}, got {_show(value)}")
    return value


def _choice(
    doc: Mapping[str, Any], key: str, where: str, default: str, choices: tuple[str, ...]
) -> str:
    value = doc.get(key, default)
    if not isinstance(value, str) or value not in choices:
        options = ", ".join(repr(c) for c in choices)
        raise ConfigError(f"{where}.{key}: expected one of {options}, got {_show(value)}")
    return value


def _no_unknown_keys(doc: Mapping[str, Any], known: tuple[str, ...], where: str) -> None:
    for key in doc:
        if key not in known:
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ConfigError(
                f"{where}.{path_key(str(key))}: unknown setting "
                f"({hint}known: {', '.join(sorted(known))})"
            )


@dataclass(frozen=True)
class DatasetChoice:
    """Which dataset to train on and its parameters (passed to engine.data)."""

    name: str
    params: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_value(cls, value: Any, where: str) -> DatasetChoice:
        if isinstance(value, str):  # shorthand: "digits"
            value = {"name": value}
        if not isinstance(value, dict):
            raise ConfigError(
                f'{where}: expected {{"name": ..., "params": {{...}}}}, got {_show(value)}'
            )
        _no_unknown_keys(value, ("name", "params"), where)
        name = value.get("name")
        if not isinstance(name, str) or not name:
            raise ConfigError(f"{where}.name: expected a dataset name, got {_show(name)}")
        params = value.get("params", {})
        if not isinstance(params, dict):
            raise ConfigError(f"{where}.params: expected an object, got {_show(params)}")
        return cls(name, dict(params))

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "params": dict(self.params)}


@dataclass(frozen=True)
class Schedule:
    """How the learning rate changes over training.

    none: constant. step: multiply by `gamma` every `step_size` epochs. cosine: fall
    along half a cosine to 0 over the run (updated every batch). plateau: multiply by
    `factor` when the validation loss has not improved for `patience` epochs.
    """

    name: str = "none"
    step_size: int = 10
    gamma: float = 0.1
    factor: float = 0.1
    patience: int = 5

    OWN_KEYS = {
        "none": (),
        "cosine": (),
        "step": ("step_size", "gamma"),
        "plateau": ("factor", "patience"),
    }

    @classmethod
    def from_value(cls, value: Any, where: str) -> Schedule:
        if isinstance(value, str):  # shorthand: "cosine"
            value = {"name": value}
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a schedule name or object, got {_show(value)}")
        name = _choice(value, "name", where, "none", SCHEDULES)
        _no_unknown_keys(value, ("name", *cls.OWN_KEYS[name]), where)
        return cls(
            name=name,
            step_size=_integer(value, "step_size", where, cls.step_size, low=1),
            gamma=_number(value, "gamma", where, cls.gamma, low=0, low_open=True, high=1),
            factor=_number(value, "factor", where, cls.factor, low=0, low_open=True, high=1),
            patience=_integer(value, "patience", where, cls.patience, low=0),
        )

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"name": self.name}
        for key in self.OWN_KEYS[self.name]:
            doc[key] = getattr(self, key)
        return doc


@dataclass(frozen=True)
class TrainConfig:
    """Everything about how a project trains, apart from the graph itself."""

    dataset: DatasetChoice
    optimizer: str = "adam"
    lr: float = 1e-3
    momentum: float = 0.9  # sgd and rmsprop only
    weight_decay: float = 0.0
    schedule: Schedule = field(default_factory=Schedule)
    batch_size: int = 32
    epochs: int = 10
    val_split: float = 0.2
    early_stopping: int = 0  # epochs without a better validation loss; 0 = off
    grad_clip: float = 0.0  # largest gradient norm; 0 = off
    seed: int = 0
    device: str = "auto"
    metric: str = "auto"  # "auto" = the task's own (accuracy, mse, mean_iou)
    split: str = "auto"  # see SPLIT_KINDS
    test_split: float = 0.0  # held out, scored once after training; never early-stops
    # "none", "balanced", or one weight per class (a tuple, so the config stays hashable).
    class_weights: str | tuple[float, ...] = "none"

    # Settings added after run records existed: written only when not at their default,
    # so a project that does not use them is saved byte for byte as before.
    QUIET_DEFAULTS = ("split", "test_split", "class_weights")

    @classmethod
    def from_dict(cls, doc: Any, where: str = "training") -> TrainConfig:
        if not isinstance(doc, Mapping):
            raise ConfigError(f"{where}: expected an object, got {_show(doc)}")
        _no_unknown_keys(doc, tuple(f.name for f in fields(cls)), where)
        if "dataset" not in doc:
            raise ConfigError(
                f'{where}.dataset: missing; expected {{"name": ..., "params": {{...}}}}, '
                'e.g. {"name": "digits"}'
            )
        d = cls.__dataclass_fields__  # the defaults live in one place: the fields above
        return cls(
            dataset=DatasetChoice.from_value(doc["dataset"], f"{where}.dataset"),
            optimizer=_choice(doc, "optimizer", where, d["optimizer"].default, OPTIMIZERS),
            lr=_number(doc, "lr", where, d["lr"].default, low=0, low_open=True),
            momentum=_number(doc, "momentum", where, d["momentum"].default, low=0, high=1),
            weight_decay=_number(doc, "weight_decay", where, d["weight_decay"].default, low=0),
            schedule=Schedule.from_value(doc.get("schedule", "none"), f"{where}.schedule"),
            batch_size=_integer(doc, "batch_size", where, d["batch_size"].default, low=1),
            epochs=_integer(doc, "epochs", where, d["epochs"].default, low=1, high=MAX_EPOCHS),
            val_split=_number(doc, "val_split", where, d["val_split"].default, low=0, high=1),
            early_stopping=_integer(doc, "early_stopping", where, 0, low=0),
            grad_clip=_number(doc, "grad_clip", where, d["grad_clip"].default, low=0),
            seed=_integer(doc, "seed", where, d["seed"].default, low=0, high=MAX_SEED),
            device=_choice(doc, "device", where, d["device"].default, DEVICES),
            metric=_choice(doc, "metric", where, d["metric"].default, METRICS),
            split=_choice(doc, "split", where, d["split"].default, SPLIT_KINDS),
            test_split=_test_split(doc, where),
            class_weights=_class_weights(doc, where),
        )

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in self.QUIET_DEFAULTS and value == f.default:
                continue
            if isinstance(value, tuple):
                value = list(value)
            doc[f.name] = value.to_dict() if hasattr(value, "to_dict") else value
        return doc

    def with_overrides(self, **changes: Any) -> TrainConfig:
        """A copy with some settings replaced (None leaves a setting alone), re-validated."""
        given = {k: v for k, v in changes.items() if v is not None}
        if not given:
            return self
        return TrainConfig.from_dict({**self.to_dict(), **given})

    def resolve_metric(self, task: str) -> str:
        """The metric to report for `task`; raises ConfigError if the choice does not fit."""
        if task not in TASK_METRICS:
            raise ConfigError(f"the dataset's task {task!r} is none of {', '.join(TASKS)}")
        if self.metric == "auto":
            return TASK_METRICS[task][0]
        if self.metric not in TASK_METRICS[task]:
            fitting = ", ".join(TASK_METRICS[task])
            raise ConfigError(
                f"training.metric: {self.metric!r} does not fit a {task} dataset "
                f"(it reports {fitting}); use 'auto'"
            )
        return self.metric


def _test_split(doc: Mapping[str, Any], where: str) -> float:
    test = _number(doc, "test_split", where, 0.0, low=0, high=1)
    val = doc.get("val_split", TrainConfig.val_split)
    if test > 0 and isinstance(val, (int, float)) and val + test >= 1:
        raise ConfigError(
            f"{where}.test_split: {test:g} with val_split {val:g} holds out every sample; "
            "their sum must be below 1"
        )
    return test


def _class_weights(doc: Mapping[str, Any], where: str) -> str | tuple[float, ...]:
    """ "none", "balanced" or a list of weights ≥ 0, not all 0. Whether the list has one
    weight per class is checked when the data is known (engine.train.class_weights)."""
    value = doc.get("class_weights", "none")
    place = f"{where}.class_weights"
    if isinstance(value, str):
        if value not in CLASS_WEIGHT_CHOICES:
            raise ConfigError(
                f"{place}: expected 'none', 'balanced' or a list of one weight per class, "
                f"got {_show(value)}"
            )
        return value
    if not isinstance(value, (list, tuple)) or not value:
        raise ConfigError(
            f"{place}: expected 'none', 'balanced' or a list of one weight per class, "
            f"got {_show(value)}"
        )
    for i, weight in enumerate(value):
        number = isinstance(weight, (int, float)) and not isinstance(weight, bool)
        if not number or not is_finite_number(weight) or weight < 0:
            raise ConfigError(
                f"{place}[{i}]: expected a weight ≥ 0 (a number), got {_show(weight)}"
            )
    if not any(weight > 0 for weight in value):
        raise ConfigError(f"{place}: every weight is 0; at least one class must count")
    return tuple(float(weight) for weight in value)


def default_config(dataset: str, **settings: Any) -> TrainConfig:
    """A config with defaults for everything but the dataset (tests, the GUI's new project)."""
    return replace(TrainConfig(DatasetChoice(dataset)), **settings)
