"""Render the README's "Look inside" figures headless (numpy + Pillow, no Qt):

  inspect_lens_adding.png    the RNN and LSTM time lenses on the same adding-problem sample
  inspect_conv1_digit.png    conv1's filters and feature maps on a handwritten digit
  inspect_saliency_video.png where the CNN+LSTM looks in a moving-shapes clip

Each network is trained first with `python main.py train` (the templates' own settings;
a few minutes in all on two cores) unless a checkpoint is given:

    .venv/bin/python resources/make_inspect_figures.py [--rnn RUN/model.pt] [--lstm …]
        [--digits …] [--video …] [--out DIR]
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from engine.cli.main import run  # noqa: E402
from engine.inspect import drawing, render  # noqa: E402
from engine.inspect.activations import capture, first_conv_filters  # noqa: E402
from engine.inspect.command import Subject, prepare, saliency_view  # noqa: E402
from engine.inspect.gradients import gradient_through_time  # noqa: E402
from engine.inspect.lens import time_lens  # noqa: E402
from engine.project.project import load  # noqa: E402

log = logging.getLogger("make_inspect_figures")
OUT = ROOT / "resources" / "screenshots"
TEMPLATES = ROOT / "templates"


def subject(template: str, checkpoint: str | None, runs: Path) -> Subject:
    """The template's network with trained weights: the checkpoint given, else the one
    in `runs` from an earlier call, else trained now into `runs`."""
    path = TEMPLATES / f"{template}.json"
    if checkpoint is None:
        out = runs / template
        if not (out / "model.pt").is_file():
            log.info("training %s (pass a checkpoint to skip this)", template)
            if run(["train", str(path), "--out", str(out)]) != 0:
                raise SystemExit(f"training {template} failed")
        checkpoint = str(out / "model.pt")
    return prepare(load(path), path, checkpoint)


def first_over_last(s: Subject, node: str) -> float:
    """Mean ‖∂loss/∂x_t‖ over the first 10 steps ÷ over the last 10 (256 validation samples)."""
    norms = gradient_through_time(s.model, s.loss_fn, s.x[:256], s.y[:256], node).mean(axis=0)
    last = norms[-10:].mean()
    return float(norms[:10].mean() / last) if last > 0 else float("nan")


def telling_sample(s: Subject, among: int = 64) -> int:
    """A validation sample whose sum is far from 1, where answering "about 1" is wrong."""
    return int((s.y[:among, 0] - 1.0).abs().argmax())


def lens_figure(rnn: Subject, lstm: Subject) -> Image.Image:
    """Both lenses on the same sample; their gradient panels share one log scale, so the
    RNN's vanishing early steps and the LSTM's steady ones compare bar for bar."""
    sample = telling_sample(lstm)  # both templates have the same data, seed and split
    lenses = []
    for s, node in ((rnn, "rnn1"), (lstm, "lstm1")):
        x, y = s.x[sample], s.y[sample]
        lenses.append((s, node, x, y, time_lens(s.model, s.loss_fn, x, y, node)))
    exponents = drawing.log_range(*(lens.grad_norm for *_, lens in lenses))
    panels = []
    for s, node, x, y, lens in lenses:
        prediction = float(s.model.eval()(x[None])[0, 0])
        ratio = first_over_last(s, node)
        log.info("%s: first/last gradient ratio %.3g", node, ratio)
        shown = f"{ratio:.3g}" if ratio > 0 else "0 (the early steps' gradient underflows)"
        title = (
            f"{lens.kind}, validation sample {sample}: answers {prediction:.3f}, "
            f"true sum {float(y[0]):.3f}\n"
            f"mean gradient, first 10 steps / last 10: {shown}\n(over 256 validation samples)"
        )
        marks = x.numpy().T  # (2, T): values and markers
        inputs = drawing.titled(
            drawing.heatmap(marks, 0.0, 1.0, cell=(10, 3)),
            "input over t: value (top, 0 … 1), marker (bottom, 1 = add it)",
        )
        body = drawing.stack([inputs, render.render_lens(lens, exponents=exponents)])
        panels.append(drawing.titled(body, title, 13))
    return render.side_by_side(panels, gap=32)


def digit_figure(digits: Subject, sample: int = 0) -> Image.Image:
    x = digits.x[sample]
    found = {a.node: a for a in capture(digits.model, digits.analysis, x)}
    grey = np.array([[0, 0, 0], [255, 255, 255.0]])
    high = float(x.max()) or 1.0
    image = Image.fromarray(
        render.enlarge(render.colourize(x[0].numpy(), 0.0, high, grey), 96), "RGB"
    )
    digit = drawing.titled(image, f"input: digit {int(digits.y[sample])}\ngrey 0 … {high:.3g}")
    filters = first_conv_filters(digits.model)
    assert filters is not None
    parts = [digit, render.render_filters(filters), render.render_activation(found["conv1"])]
    return render.side_by_side(parts, gap=24)


def main() -> int:
    parser = argparse.ArgumentParser(description="Render the README's Look-inside figures.")
    for name in ("rnn", "lstm", "digits", "video"):
        parser.add_argument(f"--{name}", help=f"a trained {name} checkpoint (model.pt)")
    parser.add_argument("--video-sample", type=int, default=0, help="validation clip to explain")
    parser.add_argument("--out", default=str(OUT), help="folder for the PNG files")
    parser.add_argument(
        "--runs", help="folder for the training runs, reused when run again (default: temporary)"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        runs = Path(args.runs or scratch)
        rnn = subject("rnn_adding", args.rnn, runs)
        lstm = subject("lstm_adding", args.lstm, runs)
        lens_figure(rnn, lstm).save(out / "inspect_lens_adding.png")
        digits = subject("cnn_digits", args.digits, runs)
        digit_figure(digits).save(out / "inspect_conv1_digit.png")
        video = subject("cnn_lstm_video", args.video, runs)
        x, y = video.x[args.video_sample], int(video.y[args.video_sample])
        saliency_view(video.model, x, y, video.class_names).save(out / "inspect_saliency_video.png")
    log.info("wrote %s", ", ".join(f"inspect_{n}.png" for n in ("lens_adding", "conv1_digit",
                                                                    "saliency_video")))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
