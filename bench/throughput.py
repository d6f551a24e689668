"""Training throughput: NetLoom's Trainer on the built model vs hand-written PyTorch.

    .venv/bin/python bench/throughput.py                   # cnn_lstm_video, cnn_digits
    .venv/bin/python bench/throughput.py lstm_adding --rounds 7

For each template: the same data, batch size, optimizer and thread count; a fresh
model each round; NetLoom's `Trainer.fit()` for one epoch (its per-epoch work, metrics
and weight snapshot included) and a hand-written `nn.Module` with the loop a person
writes (index-slice batches, forward, loss, backward, step, `loss.item()`, and the
same training accuracy or errors NetLoom reports, summed as tensors; `--bare` drops
those), alternating in one process and swapping the order every round so that drift
in load hits both.

Prints the median samples/s of each, by wall time and by this process's CPU time, and
their ratios. On a machine shared with other work, wall time mostly measures the
neighbours (rounds vary 2-3×); CPU time counts the work each loop does, so the target
(≥ 0.95 for cnn_lstm_video and cnn_digits) is checked on the CPU-time ratio. With more
than one thread, CPU time also counts threads spinning at barriers: compare with 1.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.data import ArrayDataset, load_dataset  # noqa: E402
from engine.project.project import load  # noqa: E402
from engine.train.config import TrainConfig  # noqa: E402
from engine.train.trainer import Trainer  # noqa: E402

# ------------------------------------------------ the hand-written networks


class CnnLstmVideo(nn.Module):
    """templates/cnn_lstm_video.json as one would write it by hand."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.lstm = nn.LSTM(32 * 8 * 8, 64, batch_first=True)
        self.dense = nn.Linear(64, 4)

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        n, t = clips.shape[:2]
        x = clips.flatten(0, 1)  # every frame through the CNN at once
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        features = x.flatten(1).unflatten(0, (n, t))
        sequence, _ = self.lstm(features)
        return self.dense(sequence[:, -1])


class CnnDigits(nn.Module):
    """templates/cnn_digits.json by hand."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.dense1 = nn.Linear(64 * 2 * 2, 128)
        self.dropout = nn.Dropout(0.25)
        self.dense2 = nn.Linear(128, 10)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = self.pool(F.relu(self.conv1(images)))
        x = self.pool(F.relu(self.conv2(x)))
        x = self.dropout(F.relu(self.dense1(x.flatten(1))))
        return self.dense2(x)


class LstmAdding(nn.Module):
    """templates/lstm_adding.json by hand."""

    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(2, 64, batch_first=True)
        self.dense = nn.Linear(64, 1)

    def forward(self, sequences: torch.Tensor) -> torch.Tensor:
        output, _ = self.lstm(sequences)
        return self.dense(output[:, -1])


@dataclass(frozen=True)
class Case:
    network: Callable[[], nn.Module]
    loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    batches: int  # per round
    target: float | None  # the ratio to reach, if any


CASES: dict[str, Case] = {
    "cnn_lstm_video": Case(CnnLstmVideo, F.cross_entropy, 20, 0.95),
    "cnn_digits": Case(CnnDigits, F.cross_entropy, 45, 0.95),
    "lstm_adding": Case(LstmAdding, F.mse_loss, 30, None),
}

# ------------------------------------------------------------- the runs


def hand_written_epoch(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    y: torch.Tensor,
    batch_size: int,
    metrics: bool = True,
) -> dict[str, float]:
    """The loop a person writes for in-memory data.

    With `metrics`, it also reports what NetLoom's loop reports for the epoch: the
    training accuracy (classes) or squared and absolute error (numbers), summed as
    tensors and read once at the end.
    """
    model.train()
    order = torch.randperm(len(x))
    classify = not y.is_floating_point()
    running = 0.0
    correct = torch.zeros((), dtype=torch.int64)
    squared = torch.zeros((), dtype=torch.float64)
    absolute = torch.zeros((), dtype=torch.float64)
    for start in range(0, len(x), batch_size):
        index = order[start : start + batch_size]
        target = y[index]
        output = model(x[index])
        loss = loss_fn(output, target)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        running += loss.item() * len(index)
        if metrics and classify:
            correct += (output.argmax(1) == target).sum()
        elif metrics:
            error = output.detach() - target
            squared += error.square().sum()
            absolute += error.abs().sum()
    result = {"loss": running / len(x)}
    if metrics and classify:
        result["accuracy"] = correct.item() / len(x)
    elif metrics:
        result.update(mse=squared.item() / y.numel(), mae=absolute.item() / y.numel())
    return result


def subset(data: ArrayDataset, samples: int) -> ArrayDataset:
    return ArrayDataset(
        data.name,
        data.x[:samples],
        data.y[:samples],
        data.task,
        data.sample_shape,
        data.sequence,
        data.num_classes,
    )


@dataclass
class Speeds:
    """Samples per second of wall time and of this process's CPU time, one per round."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def add(self, samples: int, train: Callable[[], object]) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        train()
        self.wall.append(samples / (time.perf_counter() - wall))
        self.cpu.append(samples / (time.process_time() - cpu))


def measure(
    stem: str, rounds: int, threads: int | None, verbose: bool, bare: bool
) -> dict[str, float]:
    case = CASES[stem]
    project = load(ROOT / "templates" / f"{stem}.json")
    config = TrainConfig.from_dict(project.training).with_overrides(epochs=1, val_split=0)
    full = load_dataset(config.dataset.name, config.dataset.params)
    data = subset(full, case.batches * config.batch_size)
    x = torch.as_tensor(data.x, dtype=torch.float32)
    y = torch.as_tensor(data.y)
    if data.task == "regression":
        y = y.float().reshape(len(y), -1)  # (N, 1), like the model's output

    probe = Trainer(project, data, config, threads=threads)
    threads = probe.threads or torch.get_num_threads()  # the Trainer's own choice if not given
    netloom_weights = sum(p.numel() for p in probe.model.parameters())
    hand_weights = sum(p.numel() for p in case.network().parameters())
    assert netloom_weights == hand_weights, f"{stem}: {netloom_weights} vs {hand_weights} weights"

    # Each returns the training to time; building the model and optimizer is not timed.
    def netloom() -> Callable[[], object]:
        return Trainer(project, data, config, threads=threads).fit

    def hand() -> Callable[[], object]:
        model = case.network()
        optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
        return lambda: hand_written_epoch(
            model, optimizer, case.loss, x, y, config.batch_size, metrics=not bare
        )

    speeds = {"netloom": Speeds(), "hand": Speeds()}
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        for round_ in range(rounds + 1):  # round 0 warms both up and is not counted
            order = [("netloom", netloom), ("hand", hand)]
            for name, prepare in order if round_ % 2 else reversed(order):
                train = prepare()
                if round_:
                    speeds[name].add(len(data), train)
                else:
                    train()
    finally:
        torch.set_num_threads(previous)
    if verbose:
        for name, measured in speeds.items():
            print(f"  {stem} {name:<8} wall " + " ".join(f"{v:,.0f}" for v in measured.wall))
            print(f"  {stem} {name:<8} cpu  " + " ".join(f"{v:,.0f}" for v in measured.cpu))
    result: dict[str, float] = {"threads": threads, "samples": len(data)}
    for clock in ("wall", "cpu"):
        ours = statistics.median(getattr(speeds["netloom"], clock))
        theirs = statistics.median(getattr(speeds["hand"], clock))
        result.update({f"netloom_{clock}": ours, f"hand_{clock}": theirs})
        result[f"ratio_{clock}"] = ours / theirs
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("templates", nargs="*", help=f"a subset of: {', '.join(CASES)}")
    parser.add_argument("--rounds", type=int, default=7, help="measured rounds (default 7)")
    parser.add_argument(
        "--threads", type=int, help="CPU threads for both (default: the Trainer's own choice)"
    )
    parser.add_argument("--verbose", action="store_true", help="print every round's speeds")
    parser.add_argument(
        "--bare",
        action="store_true",
        help="hand-written loop without training metrics (stricter: NetLoom still computes them)",
    )
    args = parser.parse_args(argv)
    stems = args.templates or [s for s, case in CASES.items() if case.target is not None]
    unknown = [s for s in stems if s not in CASES]
    if unknown:
        parser.error(f"no hand-written twin for: {', '.join(unknown)} (have: {', '.join(CASES)})")
    print(f"{'':<16} {'':>7} {'':>7} {'samples/s of wall time':^30}  {'samples/s of CPU time':^30}")
    print(
        f"{'template':<16} {'threads':>7} {'samples':>7} "
        + f"{'NetLoom':>10} {'hand':>10} {'ratio':>8}  " * 2
        + "target (CPU-time ratio)"
    )
    ok = True
    for stem in stems:
        m = measure(stem, args.rounds, args.threads, args.verbose, args.bare)
        target = CASES[stem].target
        passed = target is None or m["ratio_cpu"] >= target
        ok = ok and passed
        verdict = "—" if target is None else f"≥ {target} {'yes' if passed else 'NO'}"
        columns = "".join(
            f"{m[f'netloom_{c}']:>10,.0f} {m[f'hand_{c}']:>10,.0f} {m[f'ratio_{c}']:>8.3f}  "
            for c in ("wall", "cpu")
        )
        print(
            f"{stem:<16} {m['threads']:>7.0f} {m['samples']:>7.0f} {columns}{verdict}", flush=True
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
