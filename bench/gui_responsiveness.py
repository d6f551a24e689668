"""Training in the window: does the window stay responsive, and does it train as fast as
the command line?

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/gui_responsiveness.py
        [--project templates/cnn_lstm_video.json] [--epochs N] [--repeats 3]
        [--threads N] [--cold] [--window-only] [--curves-only] [--look-inside]

1. headless  the `train` command (`main.py train`, a process of its own) with its own
             choice of torch threads; samples/s read from the metrics.csv it writes
2. window    the main window opens the project and Train is pressed (TrainingUi.start);
             a 16 ms PreciseTimer probe measures how late the event loop serves it,
             from 0.2 s before Train until the results views are filled. The run trains
             in a child process; as in the app, a spare one has warmed up before
             (--cold: none, the run waits for a fresh process)
3. repeat    headless and window runs alternate (H W H W H W H): each window run is
             compared with the mean of the headless runs either side (the machine's
             speed drifts by ±15% within minutes); the default project trains for 10
             epochs here, twice its own 5, so that one slow patch weighs half as much
4. start-up  what a fresh trainer process costs: on the thread that spawns it, and
             until it has imported torch
5. curves    ms per live redraw of the curves holding 10³ … 10⁶ batches

--look-inside instead compares window runs with Look inside's Training tab (gradient
flow, histograms per epoch) on screen and off it (C O C O … C): samples/s of each open
run ÷ the mean of the closed runs either side (target ≥ 0.95), and the event-loop
lateness of both. Gradient flow is measured in both (every few batches, paced to ≤ 3%
of the training time); the histograms only while the tab is open.

Prints each window run, then the acceptance figures as min / median / max over the
window runs. Targets: lateness p99 ≤ 3 ms and max ≤ 16 ms; window samples/s ≥ 0.90 ×
the headless command; a curves redraw at 10⁶ batches ≤ 5 ms. Samples/s is the
harmonic mean of the epochs' figures (total samples over total training time) on
both sides. ~4 minutes with the default project on 2 cores.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QEventLoop, QObject, QSettings, Qt, QTimer, Slot  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

PROBE_MS = 16
P99_TARGET_MS, MAX_TARGET_MS, SPEED_TARGET, REDRAW_TARGET_MS = 3.0, 16.0, 0.90, 5.0
SPARE_WAIT_S = 300.0
LOOK_SPEED_TARGET, LOOK_P99_TARGET_MS = 0.95, 5.0
DEFAULT_PROJECT = ROOT / "templates/cnn_lstm_video.json"
# The window/headless series trains the default project for 10 epochs, not its 5: the
# machine's speed drifts by up to ±10% within seconds (a `train` run's epochs here moved
# 616-778 samples/s). Over 5-epoch runs (13 s) a slow patch in a single run put 3 of 21
# window runs at 0.84-0.89 (in 3 of 7 bench runs), the other 18 at 0.92-1.01; over 10
# epochs the 9 window runs of three bench runs in a row were at 0.91-1.00.
SPEED_EPOCHS = 10


def harmonic_mean(values: list[float]) -> float:
    return len(values) / sum(1.0 / v for v in values) if values else 0.0


# ------------------------------------------------------------------ headless


def headless_run(
    project: Path, epochs: int | None, threads: int | None
) -> tuple[float, int, list[float]]:
    """Run `main.py train` in a process of its own: (samples/s, torch threads it used,
    each epoch's samples/s)."""
    with tempfile.TemporaryDirectory() as out:
        command = [sys.executable, str(ROOT / "main.py"), "train", str(project), "--out", out]
        if epochs is not None:
            command += ["--epochs", str(epochs)]
        if threads is not None:
            command += ["--threads", str(threads)]
        done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
        if done.returncode != 0:
            raise SystemExit(f"the train command failed ({done.returncode}): {done.stderr[-500:]}")
        used = re.search(r"(\d+) thread\(s\)", done.stdout)
        with open(Path(out) / "metrics.csv", encoding="utf-8") as handle:
            rows = [r for r in csv.DictReader(handle) if r["split"] == "train"]
    speeds = [float(r["samples_per_s"]) for r in rows]
    return harmonic_mean(speeds), int(used.group(1)) if used else 0, speeds


# -------------------------------------------------------------------- window


class Probe(QObject):
    """A 16 ms timer on the GUI thread; records how late each tick comes."""

    def __init__(self) -> None:
        super().__init__()
        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(PROBE_MS)
        self.timer.timeout.connect(self.tick)
        self.last: float | None = None
        self.began = 0.0
        self.lateness: list[float] = []  # ms
        self.worst = -1.0  # ms
        self.worst_at = 0.0  # seconds after the probe started

    def start(self) -> None:
        self.began = self.last = time.perf_counter()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    @Slot()
    def tick(self) -> None:
        now = time.perf_counter()
        late = max(0.0, (now - self.last) * 1000 - PROBE_MS)
        if late > self.worst:  # (not max() of the list: that grew to 0.1 ms a tick)
            self.worst, self.worst_at = late, now - self.began
        self.lateness.append(late)
        self.last = now


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def ready_spare() -> float | None:
    """As the app starts (behind its splash): a spare trainer process, waited for until
    warm (seconds from its spawn to ready, None if it was ready before), and torch
    imported in this process for the in-window views."""
    from gui.run import child_trainer
    from gui.run.preparation import prepare_for_training

    prepare_for_training()
    return child_trainer.wait_for_spare(SPARE_WAIT_S)


def window_run(
    project: Path, epochs: int | None, threads: int | None, spare: bool, look: bool = False
) -> dict:
    """Train the project in the main window under the probe; returns the figures.
    `look`: Look inside's Training tab is on screen while the run trains."""
    import gui.training.ui as training_ui
    from engine.project.project import load
    from gui.common.latency import ask_for_short_slices
    from gui.common.theme import apply_theme
    from gui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_theme(app)
    ask_for_short_slices()  # as gui.app does (GUI_SLICE_NS, --gui-slice)
    if spare:
        ready_spare()
    training_ui.GUI_THREADS = threads
    scratch = Path(tempfile.mkdtemp(prefix="netloom-bench-"))
    os.environ["NETLOOM_DATA_DIR"] = str(scratch / "data")
    settings = QSettings(str(scratch / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings, recovery_dir=scratch / "recovery")
    window.resize(1600, 980)
    window.show()
    window.set_project(load(project), project)
    ui = window.training
    if epochs is not None:
        ui.edit_training({**window.project.training, "epochs": epochs}, "bench epochs")
    if look:
        ui.look_dock.show()
        ui.look_dock.raise_()
        ui.look_tabs.setCurrentWidget(ui.inside)
    settle(2.5)

    outcomes, started, first_batch = [], [], []
    loop = QEventLoop()
    pressed = [0.0]

    def ended(outcome) -> None:
        outcomes.append(outcome)
        QTimer.singleShot(300, loop.quit)  # the results views fill in this time too

    def on_started(record) -> None:
        started.append((record, time.perf_counter() - pressed[0]))

    def on_progress(progress) -> None:
        if not first_batch and progress.batches:
            first_batch.append(time.perf_counter() - pressed[0])

    def press() -> None:
        pressed[0] = time.perf_counter()
        ui.start()

    ui.controller.run_ended.connect(ended)
    ui.controller.run_started.connect(on_started)
    ui.controller.progress.connect(on_progress)
    probe = Probe()
    probe.start()
    gui_cpu = time.thread_time()
    QTimer.singleShot(200, press)  # as a click on Train would, inside the event loop
    began = time.perf_counter()
    loop.exec()
    probe.stop()
    seconds = time.perf_counter() - began
    gui_cpu = time.thread_time() - gui_cpu
    outcome = outcomes[0]
    if outcome.status != "finished":
        raise SystemExit(f"the run in the window did not finish: {outcome.reason}")
    result = outcome.result
    figures = {
        "threads": started[0][0].threads if started else None,
        "seconds": seconds,
        "gui_cpu_s": gui_cpu,
        "to_first_batch_s": first_batch[0] if first_batch else float("nan"),
        "ticks": len(probe.lateness),
        "p50_ms": percentile(probe.lateness, 0.50),
        "p99_ms": percentile(probe.lateness, 0.99),
        "max_ms": max(probe.lateness),
        "worst_at_s": probe.worst_at,
        "samples_per_s": harmonic_mean([e.samples_per_s for e in result.history]),
        "epochs_samples_per_s": [e.samples_per_s for e in result.history],
        "lateness": probe.lateness,
        "metric": f"{result.metric} {result.final_value:.4f}",
        "flow_points": sum(len(s) for s in ui.inside.flow.series["grad_norm"].values()),
        "histogram_epochs": len(ui.inside.histograms.records),
    }
    window.undo_stack.setClean()
    window.close()
    return figures


def settle(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        QApplication.processEvents()
        time.sleep(0.01)


def startup_cost() -> dict:
    """A fresh trainer process: ms on the thread that spawns it, s until torch is warm."""
    from gui.run.child_trainer import TrainerProcess

    process = TrainerProcess()
    wall, cpu = time.perf_counter(), time.thread_time()
    process.start()
    spawn_ms, spawn_cpu_ms = (time.perf_counter() - wall) * 1000, (time.thread_time() - cpu) * 1000
    process.wait_ready(SPARE_WAIT_S)
    process.close()
    return {"spawn_ms": spawn_ms, "spawn_cpu_ms": spawn_cpu_ms, "ready_s": process.ready_s}


# -------------------------------------------------------------------- curves


def curve_redraw_ms(sizes: tuple[int, ...] = (1_000, 10_000, 100_000, 1_000_000)) -> list[dict]:
    """ms per live redraw of the curves holding 10³ … 10⁶ batches: `redraw()` as its
    timer calls it, plus the paint it causes (what the GUI thread does for one redraw).
    Wall and CPU time of the GUI thread (CPU time is the figure a busy machine leaves
    least disturbed); median of 30 redraws, and the worst."""
    from engine.train.events import BatchEnd
    from gui.run.records import Progress, RunStarted
    from gui.training.curves import LiveCurves

    app = QApplication.instance() or QApplication(sys.argv[:1])
    curves = LiveCurves()
    curves.resize(1200, 360)
    curves.show()
    curves.ensure_plots()
    batches = 1000
    started = RunStarted(
        0, "bench", "synthetic", "classification", "accuracy", ("accuracy",), 1000, batches,
        32, 32_000, 0, 0, "cpu", 1,
    )  # fmt: skip
    curves.reset(started)
    settle(0.3)
    figures = []
    total = 0
    for target in sizes:
        chunk = []
        while total < target:
            epoch, batch = divmod(total, batches)
            loss = 2.0 / (1 + total / 5000) + 0.05 * ((total * 7919) % 13 - 6) / 6
            chunk.append(BatchEnd(epoch + 1, 1000, batch + 1, batches, loss, {"accuracy": 0.5},
                                  1e-3, 900.0))  # fmt: skip
            total += 1
        curves.add(Progress(batches=chunk))
        app.processEvents()
        walls, cpus = [], []
        for i in range(33):
            epoch, batch = divmod(total, batches)
            curves.add(Progress(batches=[BatchEnd(epoch + 1, 1000, batch + 1, batches, 0.5,
                                                  {"accuracy": 0.5}, 1e-3, 900.0)]))  # fmt: skip
            total += 1
            curves._redraw_timer.stop()  # the redraw is timed here, not by its timer
            began, cpu = time.perf_counter(), time.thread_time()
            curves.redraw()
            app.processEvents()  # the paint the redraw asked for
            if i >= 3:  # the first redraws after a jump in size refit the axes
                walls.append((time.perf_counter() - began) * 1000)
                cpus.append((time.thread_time() - cpu) * 1000)
        figures.append({
            "batches": curves.batch_count,
            "wall_ms": statistics.median(walls),
            "cpu_ms": statistics.median(cpus),
            "worst_ms": max(walls),
        })  # fmt: skip
    curves.close()
    return figures


def print_curves(figures: list[dict]) -> None:
    for f in figures:
        print(
            f"curves: {f['batches']:>9,} batches  {f['wall_ms']:5.1f} ms per redraw "
            f"(CPU {f['cpu_ms']:4.1f} ms, worst {f['worst_ms']:4.1f} ms)"
        )


# ---------------------------------------------------------------------- main


def print_headless(speed: float, threads: int, epochs: list[float]) -> None:
    per_epoch = " ".join(f"{v:,.0f}" for v in epochs)
    print(f"headless train command: {speed:,.0f} samples/s (epochs: {per_epoch}), {threads} "
          "thread(s)")  # fmt: skip


def print_window(label: str, w: dict) -> None:
    print(
        f"{label}: {w['ticks']} probe ticks over {w['seconds']:.1f} s, {w['threads']} "
        f"thread(s); Train → first batch {w['to_first_batch_s']:.2f} s; GUI thread CPU "
        f"{w['gui_cpu_s']:.2f} s ({100 * w['gui_cpu_s'] / w['seconds']:.1f}%)"
    )
    print(
        f"  event-loop lateness  p50 {w['p50_ms']:.2f} ms   p99 {w['p99_ms']:.2f} ms   "
        f"max {w['max_ms']:.1f} ms (at {w['worst_at_s']:.1f} s)"
    )
    epochs = " ".join(f"{v:,.0f}" for v in w["epochs_samples_per_s"])
    print(
        f"  samples/s in the window {w['samples_per_s']:,.0f} (epochs: {epochs})   final "
        f"{w['metric']}"
    )


def look_inside_cost(args: argparse.Namespace) -> int:
    """Window runs with Look inside's Training tab closed and open, alternating."""
    print(
        f"project {args.project.name}, epochs {args.epochs or 'as saved'}, {os.cpu_count()} "
        f"cores; Look inside's Training tab closed / open (C O C …)"
    )
    closed, opened = [], []
    for _ in range(args.repeats):
        closed.append(window_run(args.project, args.epochs, args.threads, not args.cold))
        print_window("closed", closed[-1])
        opened.append(window_run(args.project, args.epochs, args.threads, not args.cold, True))
        print_window("open  ", opened[-1])
        print(
            f"  captured: {opened[-1]['flow_points']} gradient-flow points, histograms of "
            f"{opened[-1]['histogram_epochs']} epochs"
        )
    closed.append(window_run(args.project, args.epochs, args.threads, not args.cold))
    print_window("closed", closed[-1])
    ratios = [
        o["samples_per_s"] / statistics.mean([closed[i]["samples_per_s"],
                                              closed[i + 1]["samples_per_s"]])
        for i, o in enumerate(opened)
    ]  # fmt: skip
    print(f"\nover {len(opened)} open run(s):")
    print(f"  open / closed samples/s   {spread(ratios, '.3f')}   (target ≥ {LOOK_SPEED_TARGET})")
    print(
        f"  lateness p99 open        {spread([o['p99_ms'] for o in opened], '.2f')} ms   "
        f"(target ≤ {LOOK_P99_TARGET_MS:g})"
    )
    print(f"  lateness p99 closed      {spread([c['p99_ms'] for c in closed], '.2f')} ms")
    ok = min(ratios) >= LOOK_SPEED_TARGET and max(o["p99_ms"] for o in opened) <= LOOK_P99_TARGET_MS
    print("all targets met" if ok else "some targets missed")
    return 0 if ok else 1


def spread(values: list[float], fmt: str) -> str:
    return (
        f"min {format(min(values), fmt)}  median {format(statistics.median(values), fmt)}  "
        f"max {format(max(values), fmt)}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, default=DEFAULT_PROJECT)
    parser.add_argument("--epochs", type=int, help="override the project's epochs (default: "
                        f"{SPEED_EPOCHS} for the window/headless series of the default "
                        "project, else as saved)")  # fmt: skip
    parser.add_argument("--threads", type=int, help="torch threads on both sides (default: "
                        "each chooses, as the app and the command do)")  # fmt: skip
    parser.add_argument("--cold", action="store_true", help="no spare trainer process")
    parser.add_argument("--nice", type=int, default=None, help="the trainer process's niceness")
    parser.add_argument("--gui-slice", type=int, default=None, help="the GUI thread's "
                        "requested time slice in ns (0: the kernel's default)")  # fmt: skip
    parser.add_argument("--window-only", action="store_true", help="one window run, no headless")
    parser.add_argument("--curves-only", action="store_true", help="only the curve redraws")
    parser.add_argument(
        "--look-inside", action="store_true", help="window runs, Look inside's Training tab "
        "closed vs open"
    )  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print the window figures as JSON")
    parser.add_argument("--repeats", type=int, default=3, help="window runs, between headless ones")
    args = parser.parse_args()
    if args.nice is not None:
        from gui.run import child_trainer

        child_trainer.NICE = args.nice
    if args.gui_slice is not None:
        import gui.common.latency

        gui.common.latency.GUI_SLICE_NS = args.gui_slice
    if args.curves_only:
        print_curves(curve_redraw_ms())
        return 0
    if args.look_inside:
        return look_inside_cost(args)
    if args.window_only:
        figures = window_run(args.project, args.epochs, args.threads, not args.cold)
        if args.json:
            figures.pop("lateness")
            print(json.dumps(figures))
        else:
            print_window("window", figures)
        return 0

    began = time.perf_counter()
    if args.epochs is None and args.project == DEFAULT_PROJECT:
        args.epochs = SPEED_EPOCHS
    print(
        f"project {args.project.name}, epochs {args.epochs or 'as saved'}, {os.cpu_count()} "
        f"cores, torch threads: {args.threads or 'each side chooses'}"
    )
    from gui.common import latency
    from gui.run import child_trainer

    print(
        f"GUI thread's requested time slice: {latency.GUI_SLICE_NS / 1e6:g} ms (0: kernel's "
        f"default); trainer process niceness {child_trainer.NICE}"
    )
    cost = startup_cost()
    print(
        f"a fresh trainer process: {cost['spawn_ms']:.0f} ms to spawn on the calling thread "
        f"(CPU {cost['spawn_cpu_ms']:.1f} ms), warm (torch imported) {cost['ready_s']:.2f} s "
        "after spawn"
    )
    headless, windows = [], []
    for _ in range(args.repeats):
        headless.append(headless_run(args.project, args.epochs, args.threads))
        print_headless(*headless[-1])
        windows.append(window_run(args.project, args.epochs, args.threads, not args.cold))
        print_window("window", windows[-1])
    headless.append(headless_run(args.project, args.epochs, args.threads))
    print_headless(*headless[-1])
    ratios = [
        w["samples_per_s"] / statistics.mean([headless[i][0], headless[i + 1][0]])
        for i, w in enumerate(windows)
    ]
    curves = curve_redraw_ms()
    print_curves(curves)
    at_million = [c for c in curves if c["batches"] >= 1_000_000][0]

    p99 = [w["p99_ms"] for w in windows]
    worst = [w["max_ms"] for w in windows]
    print(f"\nover {len(windows)} window runs (min / median / max of the runs' figures):")
    print(f"  lateness p99           {spread(p99, '.2f')} ms   (target ≤ {P99_TARGET_MS:g})")
    print(f"  lateness max           {spread(worst, '.1f')} ms   (target ≤ {MAX_TARGET_MS:g})")
    print(
        f"  window / headless      {spread(ratios, '.3f')}   (target ≥ {SPEED_TARGET}; "
        f"headless with its own choice of threads)"
    )
    print(
        f"  curves at 10⁶ batches  {at_million['wall_ms']:.1f} ms per redraw (CPU "
        f"{at_million['cpu_ms']:.1f} ms)   (target ≤ {REDRAW_TARGET_MS:g})"
    )
    print(f"  Train → first batch    {spread([w['to_first_batch_s'] for w in windows], '.2f')} s")
    ok = (
        max(p99) <= P99_TARGET_MS
        and max(worst) <= MAX_TARGET_MS
        and min(ratios) >= SPEED_TARGET
        and at_million["wall_ms"] <= REDRAW_TARGET_MS
    )
    verdict = "all targets met" if ok else "some targets missed"
    print(f"{verdict} ({time.perf_counter() - began:.0f} s)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
