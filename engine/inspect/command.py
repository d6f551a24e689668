"""`python main.py inspect PROJECT.json [--weights RUN/model.pt] [--sample K] --out DIR`.

Writes, for validation sample K (the same numbering as "try a sample"):
  activation_<block>.png   each block's output (feature maps, frames, sequence, bars)
  activations.npz          those outputs as arrays, one per block id
  filters_<conv>.png       the first convolution's filters
  lens_<block>.png/.npz    for RNN, GRU and LSTM blocks: states and gates over time
  gradient_through_time.csv  block,t,grad_norm: ‖∂loss/∂x_t‖ at each recurrent block's
                           input, the mean over a batch of validation samples
  gradient_flow.csv        block,grad_norm,weight_norm after one backward on that batch
  saliency.png             classification of images or frames: gradient × input, Grad-CAM
  any_size.png             a fully convolutional segmentation net on generated images of
                           other sizes (48×48, 64×64): input, true and predicted masks
Without --weights the model has its seeded initial weights (those `train` starts from).
Exit 0 ok; 1 the graph has errors or does not fit the data; 2 an unreadable project,
data file or checkpoint, or an invalid setting. Torch loads inside the handler.
"""

from __future__ import annotations

import argparse
import csv
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.common.arguments import integer_at_least
from engine.common.exits import EXIT_ERRORS, EXIT_OK, EXIT_UNREADABLE, print_error

GRADIENT_BATCH = 256  # validation samples averaged in gradient_through_time.csv


class CannotInspect(Exception):
    """Input trouble (exit 2): the message names the place."""


def add_command(subparsers: Any) -> None:
    inspect = subparsers.add_parser(
        "inspect",
        help="write what each block computes for a sample: PNG views, activations.npz, "
        "recurrent time lenses and gradient_through_time.csv",
        description="Look inside a project's network for one validation sample.",
    )
    inspect.add_argument("project", help="a NetLoom project file (.json)")
    inspect.add_argument(
        "--weights", help="a checkpoint from `train` (model.pt); default: seeded initial weights"
    )
    inspect.add_argument(
        "--sample", type=integer_at_least(0), default=0, help="validation sample number (default 0)"
    )
    inspect.add_argument("--out", required=True, help="the folder to write the views to")
    inspect.set_defaults(func=cmd_inspect)


@dataclass
class Subject:
    """A model ready to look into, with its loss and held-out samples."""

    model: Any  # NetLoomModel
    analysis: Any  # engine.graph.shapes.Analysis
    objective: Any  # engine.train.fit.Objective
    loss_fn: Any
    x: Any  # torch.Tensor: the validation samples (training ones without validation)
    y: Any
    class_names: list[str] | None = None
    split: str = "validation"  # "training" when the project holds no validation split
    preprocessing: dict[str, Any] | None = None  # the transforms the samples were prepared with


def prepare(project: Any, project_path: Path, weights: str | None) -> Subject:
    """The project's model (initial or trained weights) and its validation split.

    The split is the trainer's own (same seed, same samples). Raises CannotInspect for
    bad input; FitError when the graph does not fit the data.
    """
    from engine.data import DataError, load_dataset
    from engine.data.as_trained import as_trained
    from engine.train.config import ConfigError, TrainConfig
    from engine.train.trainer import Trainer

    try:
        config = TrainConfig.from_dict(project.training)
        data = load_dataset(config.dataset.name, config.dataset.params, project_path.parent)
        checkpoint = _checkpoint(weights, {n.id for n in project.graph.nodes}) if weights else None
        # The samples as the weights' run prepared them: its stored transforms, not refitted.
        data = as_trained(data, checkpoint.preprocessing if checkpoint else None)
        trainer = Trainer(project, data, config)
    except ConfigError as err:
        raise CannotInspect(f"{project_path}: {err}") from None
    except DataError as err:
        where = "training." if str(err).startswith("dataset.") else ""
        raise CannotInspect(f"{project_path}: {where}{err}") from None
    model = trainer.model.cpu()
    if checkpoint is not None:
        try:
            model.load_state_dict(checkpoint.state_dict)
        except RuntimeError as err:  # same block ids, other sizes
            # torch lists every mismatch on its own line under a heading: show the first.
            lines = [line.strip() for line in str(err).splitlines()[1:] if line.strip()]
            first = lines[0] if lines else str(err)
            more = f" (and {len(lines) - 1} more)" if len(lines) > 1 else ""
            raise CannotInspect(
                f"{weights}: the weights do not fit the graph: {first}{more}"
            ) from None
    split = trainer.val_split if trainer.val_split is not None else trainer.train_split
    return Subject(
        model, trainer.analysis, trainer.objective, trainer.loss_fn, split.x.cpu(),
        split.y.cpu(), data.class_names,
        "validation" if trainer.val_split is not None else "training", trainer.preprocessing,
    )  # fmt: skip


def _checkpoint(path: str, node_ids: set[str]) -> Any:
    from engine.train.checkpoint import CheckpointError, load_checkpoint_for

    try:
        # Diverged weights may be inspected: seeing where the NaNs are is the point.
        return load_checkpoint_for(path, node_ids, finite=False)
    except CheckpointError as err:
        raise CannotInspect(str(err)) from None


def inspect_project(
    project: Any, project_path: Path, out: Path, weights: str | None = None, sample: int = 0
) -> list[str]:
    """Write every view for `sample` into `out`; returns the names of the files written.

    `project_path` is where the project was read from: relative data paths resolve
    against its folder, and error messages name it.
    """
    import numpy as np

    from engine.inspect import render
    from engine.inspect.activations import capture, first_conv_filters
    from engine.inspect.gradients import gradient_flow, gradient_through_time
    from engine.inspect.lens import recurrent_blocks, time_lens

    subject = prepare(project, project_path, weights)
    model, samples = subject.model, len(subject.x)
    if sample >= samples:
        raise CannotInspect(f"--sample {sample}: the {subject.split} split has {samples} samples")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise CannotInspect(
            f"--out {out}: cannot create the folder: {err.strerror or err}"
        ) from None
    written: list[str] = []

    def save_png(image: Any, name: str) -> None:
        image.save(out / name)
        written.append(name)

    x, y = subject.x[sample], subject.y[sample]
    activations = capture(model, subject.analysis, x)
    for act in activations:
        save_png(render.render_activation(act), f"activation_{act.node}.png")
    np.savez_compressed(out / "activations.npz", **{a.node: a.array for a in activations})
    written.append("activations.npz")
    if (filters := first_conv_filters(model)) is not None:
        save_png(render.render_filters(filters), f"filters_{filters.node}.png")

    recurrent = recurrent_blocks(model)
    batch_x, batch_y = subject.x[:GRADIENT_BATCH], subject.y[:GRADIENT_BATCH]
    rows = []
    for node in recurrent:
        lens = time_lens(model, subject.loss_fn, x, y, node)
        save_png(render.render_lens(lens), f"lens_{node}.png")
        np.savez_compressed(out / f"lens_{node}.npz", **_lens_arrays(lens))
        written.append(f"lens_{node}.npz")
        norms = gradient_through_time(model, subject.loss_fn, batch_x, batch_y, node)
        rows += [(node, t, float(g)) for t, g in enumerate(norms.mean(axis=0))]
    if recurrent:
        with open(out / "gradient_through_time.csv", "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["block", "t", "grad_norm"])
            writer.writerows([node, t, f"{g:.6g}"] for node, t, g in rows)
        written.append("gradient_through_time.csv")

    _write_flow(model, subject, batch_x, batch_y, out / "gradient_flow.csv", gradient_flow)
    written.append("gradient_flow.csv")

    pixels = x.is_floating_point() and x.dim() in (3, 4)
    if subject.objective.task == "classification" and pixels:
        save_png(saliency_view(model, x, int(y), subject.class_names), "saliency.png")
    if subject.objective.task == "segmentation":
        view = any_size_view(project, project_path, subject)
        if view is not None:
            save_png(view, "any_size.png")
    return written


ANY_SIZES = (48, 64)


def any_size_view(project: Any, project_path: Path, subject: Subject) -> Any | None:
    """Masks predicted at other image sizes, when height and width are free and the
    dataset can generate images of another size; else None."""
    from engine.inspect import drawing, render
    from engine.inspect.sizes import free_dims, predict_mask, sample_at_size

    free = [d.axis for d in free_dims(project.graph) if d.free and d.follows]
    if free[-2:] != [1, 2]:  # (C, H, W): height and width both free
        return None
    dataset = project.training["dataset"]
    loss = subject.objective.loss
    rows = []
    for size in ANY_SIZES:
        made = sample_at_size(
            dataset["name"], dataset.get("params", {}), size, project_path.parent,
            preprocessing=subject.preprocessing,
        )  # fmt: skip
        if made is None:
            return None
        image, truth = made
        predicted = predict_mask(subject.model, image, loss)
        picture = render.Image.fromarray(
            render.enlarge(drawing.colourize(image[0], 0.0, 1.0), 128), "RGB"
        )
        views = [
            drawing.titled(picture, f"input {size}x{size}"),
            render.render_mask(truth, "true mask"),
            render.render_mask(predicted, "predicted mask"),
        ]
        rows.append(render.side_by_side(views))
    return drawing.stack(rows, gap=12)


def _lens_arrays(lens: Any) -> dict[str, Any]:
    arrays = {"grad_norm": lens.grad_norm}
    for trace in lens.traces:
        prefix = f"layer{trace.layer}_{trace.direction}"
        arrays[f"{prefix}_hidden"] = trace.hidden
        if trace.cell is not None:
            arrays[f"{prefix}_cell"] = trace.cell
        for name, value in trace.gates.items():
            arrays[f"{prefix}_{name}"] = value
    return arrays


def _write_flow(model: Any, subject: Subject, x: Any, y: Any, path: Path, flow: Any) -> None:
    from engine.inspect.activations import evaluating

    model.zero_grad(set_to_none=True)
    with evaluating(model):
        subject.loss_fn(model(x), y).backward()
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["block", "grad_norm", "weight_norm"])
        for block in flow(model):
            writer.writerow([block.node, f"{block.grad_norm:.6g}", f"{block.weight_norm:.6g}"])
    model.zero_grad(set_to_none=True)


def saliency_view(model: Any, x: Any, truth: int, class_names: list[str] | None = None) -> Any:
    """Gradient × input, and Grad-CAM when there is a Conv2d, for the predicted class."""
    from engine.inspect import drawing, render
    from engine.inspect.saliency import grad_cam, gradient_x_input, last_conv_block

    def name(k: int) -> str:
        return class_names[k] if class_names and 0 <= k < len(class_names) else str(k)

    sample = x.numpy()
    simple = gradient_x_input(model, x)
    said = f"class {name(simple.target_class)} (predicted; the truth is {name(truth)})"
    views = [render.render_saliency(sample, simple.heatmap, f"gradient x input for {said}")]
    if last_conv_block(model) is not None:
        cam = grad_cam(model, x)
        views.append(render.render_saliency(sample, cam.heatmap, f"Grad-CAM on {cam.node}"))
    return drawing.stack(views, gap=12)


def cmd_inspect(args: argparse.Namespace) -> int:
    from engine.project.project import load
    from engine.train.fit import FitError

    project_path = Path(args.project)
    project = load(project_path)  # ProjectError → exit 2 in engine.cli.main.run
    out = Path(args.out)
    try:
        written = inspect_project(project, project_path, out, args.weights, args.sample)
    except FitError as err:
        print_error(f"{project_path}: the graph does not fit the data:")
        for problem in err.problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_ERRORS
    except CannotInspect as err:
        print_error(str(err))
        return EXIT_UNREADABLE
    except OSError as err:
        print_error(f"--out {out}: cannot write: {err.strerror or err}")
        return EXIT_UNREADABLE
    source = args.weights or "the seeded initial weights"
    print(f"{project.name}: sample {args.sample}, weights from {source}")
    print(f"wrote {len(written)} files to {out}: {', '.join(written)}")
    return EXIT_OK
