"""`python main.py train PROJECT.json [--epochs N] [--out DIR] [--seed S] [--device D]`.

(and `--threads N` to fix the number of CPU threads torch uses, `--weights W.pt` to
start from the weights of a checkpoint: one `train` wrote, or `import --weights-out`;
a block whose weights changed shape since, such as a replaced head, starts fresh and
says so in one line.) Frozen blocks (`"frozen": true`) keep their weights: the run says
how many; a project whose every weight is frozen exits 1.

Prints one progress line per epoch and writes DIR/metrics.csv (one row per epoch and
split), DIR/model.pt (a checkpoint) and DIR/project.json (the project as trained); a
classification run also DIR/per_class.csv and DIR/confusion.csv (engine.train.report),
and with a test split test_per_class.csv and test_confusion.csv.
Then `final: <metric>=<value>` for the validation split, `test: ...` lines for the
test split, and the per-class tables.
Exit 0 ok; 1 the graph has errors, does not fit the data, or training diverged, or the
run asks for more than the machine or engine.common.limits allow (units that expand too far,
a training step needing more memory than is free, too many generated samples);
2 an unreadable project or data file or an invalid setting. Ctrl+C stops after the
current batch, still writes the files and exits 130.

Torch loads inside the handler, so registering this command keeps `check` quick.
"""

from __future__ import annotations

import argparse
import csv
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from engine.common.arguments import integer_at_least
from engine.common.exits import (
    EXIT_ERRORS,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_UNREADABLE,
    print_error,
    print_safely,
)
from engine.train.config import DEVICES, ConfigError, TrainConfig
from engine.train.events import Callbacks, EpochEnd, SplitMetrics

if TYPE_CHECKING:
    from engine.graph.shapes import Analysis
    from engine.train.events import TrainResult
    from engine.train.report import ClassReport
    from engine.train.trainer import Trainer


def add_command(subparsers: Any) -> None:
    train = subparsers.add_parser(
        "train",
        help="train a project on its dataset; writes metrics.csv, model.pt, project.json",
        description="Train a project with its training settings (some overridable here).",
    )
    train.add_argument("project", help="a NetLoom project file (.json)")
    train.add_argument("--epochs", type=integer_at_least(1), help="override training.epochs")
    train.add_argument("--out", help="output folder (default: runs/<project file name>)")
    train.add_argument("--seed", type=integer_at_least(0), help="override training.seed")
    train.add_argument("--device", choices=DEVICES, help="override training.device")
    train.add_argument(
        "--weights",
        help="start from the weights of this checkpoint (a model.pt from train, or the "
        "file import --weights-out wrote) instead of fresh ones",
    )
    train.add_argument(
        "--threads",
        type=integer_at_least(1),
        help="CPU threads for torch (default: 1 for small models, else the idle cores)",
    )
    train.set_defaults(func=cmd_train)


class MetricsLog:
    """metrics.csv, written a row at a time so an interrupted run keeps its history: each
    epoch's rows reach the file whole (flushed together), so even kill -9 leaves whole rows."""

    def __init__(self, handle: IO[str], metric_names: tuple[str, ...]) -> None:
        self.names = metric_names
        self.writer = csv.writer(handle)
        self.handle = handle
        self.writer.writerow(["epoch", "split", "loss", *metric_names, "lr", "samples_per_s"])
        handle.flush()  # killed before its first epoch, the file is still a table

    def add(self, event: EpochEnd) -> None:
        self._row(event.epoch, "train", event.train, event.lr, f"{event.samples_per_s:.1f}")
        if event.val is not None:
            self._row(event.epoch, "val", event.val, event.lr, "")
        self.handle.flush()

    def _row(self, epoch: int, split: str, m: SplitMetrics, lr: float, speed: str) -> None:
        values = [f"{m.metrics[name]:.6g}" for name in self.names]
        self.writer.writerow([epoch, split, f"{m.loss:.6g}", *values, f"{lr:.6g}", speed])


def progress_line(event: EpochEnd) -> str:
    width = len(str(event.epochs))
    parts = [f"epoch {event.epoch:>{width}}/{event.epochs}", f"train {event.train.describe()}"]
    if event.val is not None:
        parts.append(f"val {event.val.describe()}")
    parts.append(f"{event.samples_per_s:,.0f} samples/s  lr {event.lr:.3g}  {event.seconds:.1f}s")
    return "  |  ".join(parts)


@contextmanager
def stop_on_interrupt(stop: threading.Event) -> Iterator[None]:
    """The first Ctrl+C asks the trainer to stop after this batch; a second one aborts."""

    def handler(signum: int, frame: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        print("\nstopping after this batch (Ctrl+C again to abort)", file=sys.stderr)
        stop.set()

    try:
        previous = signal.signal(signal.SIGINT, handler)
    except ValueError:  # not the main thread: leave Ctrl+C alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def resource_problem(
    project: Any, config: TrainConfig, analysis: Analysis | None = None
) -> str | None:
    """What this run would ask of the machine beyond what it has or NetLoom allows, in
    one line with the figures: more generated samples than engine.common.limits allows, or a
    training step needing more memory than is free. Checked before any data is made or
    torch is loaded, so a run that cannot fit is refused instead of swapping or killed.
    `analysis` is the graph's shape pass when the caller has it (else it is run here)."""
    from engine.data import DataError, get_dataset_spec
    from engine.data.registry import SampleLimitError
    from engine.graph.memory import available_bytes, training_step_problem
    from engine.graph.shapes import analyze

    try:
        get_dataset_spec(config.dataset.name).resolve_params(config.dataset.params)
    except SampleLimitError as err:
        return f"training.{err}"
    except DataError:
        pass  # reported with its place when the data loads
    if analysis is None:
        analysis = analyze(project.graph)
    if not analysis.ok:
        return None  # the graph's own problems are reported by the trainer
    return training_step_problem(analysis, config.batch_size, available_bytes())


def class_reports(
    trainer: Trainer, data: Any, result: TrainResult
) -> list[tuple[str, ClassReport]]:
    """(file prefix, report) of a classification run's scored weights: the validation
    split (the training split when there is none), then the test split if held out."""
    if trainer.objective.task != "classification" or result.final is None:
        return []
    if result.status == "stopped":
        return []
    from engine.train.report import class_names, class_report

    names = class_names(getattr(data, "class_names", None), trainer.objective.num_classes or 0)
    parts = [("", "validation", trainer.val_split)]
    if trainer.val_split is None:
        parts = [("", "training", trainer.train_split)]
    if result.test is not None and trainer.test_split is not None:
        parts.append(("test_", "test", trainer.test_split))
    return [
        (prefix, class_report(*trainer.class_predictions(split), names, name))
        for prefix, name, split in parts
    ]


def cmd_train(args: argparse.Namespace) -> int:
    from engine.graph.shapes import analyze
    from engine.project.project import from_dict, load, save

    project_path = Path(args.project)
    # ProjectError → exit 2 in engine.cli.main.run; a project beyond engine.common.limits → exit 1
    project = load(project_path)
    try:
        config = TrainConfig.from_dict(project.training).with_overrides(
            epochs=args.epochs, seed=args.seed, device=args.device
        )
    except ConfigError as err:
        print_error(f"{project_path}: {err}")
        return EXIT_UNREADABLE
    # The one shape pass of this command: the memory check, the fit and the model use it.
    analysis = analyze(project.graph)
    if problem := resource_problem(project, config, analysis):
        print_error(f"{project_path}: {problem}")
        return EXIT_ERRORS
    # Heavy imports here, not at module level: see the module docstring.
    from engine.data import DataError, load_dataset
    from engine.train.allocator import keep_freed_memory
    from engine.train.fit import FitError
    from engine.train.freeze import FreezeError
    from engine.train.trainer import Trainer

    keep_freed_memory()  # this process only trains
    try:
        data = load_dataset(config.dataset.name, config.dataset.params, project_path.parent)
    except DataError as err:
        where = "training." if str(err).startswith("dataset.") else ""
        print_error(f"{project_path}: {where}{err}")
        return EXIT_UNREADABLE
    for note in data.notes:
        print_safely(f"note: {note}", sys.stderr)
    stop = threading.Event()
    try:
        trainer = Trainer(project, data, config, stop=stop, threads=args.threads, analysis=analysis)
    except FreezeError as err:
        print_error(f"{project_path}: {err}")
        return EXIT_ERRORS
    except FitError as err:
        print_error(f"{project_path}: the graph does not fit the data:")
        for problem in err.problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_ERRORS
    except ConfigError as err:
        print_error(f"{project_path}: {err}")
        return EXIT_UNREADABLE
    from engine.train.checkpoint import CheckpointError
    from engine.train.start import start_notes

    try:  # a replaced head starts fresh; frozen blocks are counted
        starting = start_notes(trainer, args.weights)
    except CheckpointError as err:
        print_error(str(err) if str(err).startswith(args.weights) else f"{args.weights}: {err}")
        return EXIT_UNREADABLE

    out = Path(args.out) if args.out else Path("runs") / project_path.stem
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        print_error(f"--out {out}: cannot create the folder: {err.strerror or err}")
        return EXIT_UNREADABLE
    for note in trainer.notes:
        print_safely(f"note: {note}", sys.stderr)
    validation = len(trainer.val_split) if trainer.val_split is not None else 0
    params = sum(p.numel() for p in trainer.model.parameters())
    print(
        f"{project.name}: {params:,} weights; {data.name}: {len(trainer.train_split)} training "
        f"and {validation} validation samples"
        + (f" ({len(trainer.test_split)} held out to test)" if trainer.test_split else "")
        + f"; device {trainer.device}"
        + (f", {trainer.threads} thread(s)" if trainer.device.type == "cpu" else "")
    )
    for line in starting:
        print_safely(line)
    with open(out / "metrics.csv", "w", newline="", encoding="utf-8") as handle:
        log = MetricsLog(handle, tuple(trainer.val_meter.names))

        def on_epoch_end(event: EpochEnd) -> None:
            log.add(event)
            print(progress_line(event), flush=True)

        trainer.callbacks = Callbacks(on_epoch_end=on_epoch_end)
        with stop_on_interrupt(stop):
            result = trainer.fit()
    # The metrics saved beside the weights must be those weights' own: the best epoch
    # after early stopping, none after a stop mid-epoch (those weights were never scored).
    final_event = None
    if result.status == "early_stopped":
        final_event = result.history[result.best_epoch - 1]
    elif result.status != "stopped" and result.history:
        final_event = result.history[-1]
    trainer.save(out / "model.pt", final_event)
    save(from_dict(trainer.project_snapshot), out / "project.json")
    from engine.train.report import report_lines, write_report

    reports = class_reports(trainer, data, result)
    written = [out / "metrics.csv", out / "model.pt", out / "project.json"]
    for prefix, report in reports:
        written += write_report(report, out, prefix)
    print(f"{result.reason} in {result.seconds:.1f}s")
    print(f"wrote {', '.join(str(path) for path in written)}")
    if result.status == "diverged":
        print_error(result.reason)
    if result.status == "stopped":
        return EXIT_INTERRUPTED
    if result.final is not None:
        if result.final_split != "val":
            print("no validation split (training.val_split is 0): final is the training metric")
        print(f"final: {result.metric}={result.final_value:.4f}")
    if result.test is not None:
        # The held-out test split, scored once with the weights kept; never early-stops.
        for name, value in result.test.metrics.items():
            print(f"test: {name}={value:.4f}")
    for _, report in reports:
        print("\n".join(report_lines(report)))
    return EXIT_ERRORS if result.status == "diverged" else EXIT_OK
