"""Export: the model through `engine.codegen` (the same call the CLI's `export` makes),
and a picture of the canvas as PNG or SVG."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene

from engine.project.project import Project


@dataclass(frozen=True)
class ExportTarget:
    key: str  # the CLI's --to value
    title: str
    suffix: str
    file_filter: str


TARGETS = (
    ExportTarget("python", "PyTorch module (.py)…", ".py", "Python (*.py)"),
    ExportTarget("script", "Training script (.py)…", ".py", "Python (*.py)"),
    ExportTarget("onnx", "ONNX model (.onnx)…", ".onnx", "ONNX (*.onnx)"),
    ExportTarget("torchscript", "TorchScript (.pt)…", ".pt", "TorchScript (*.pt)"),
)


@dataclass(frozen=True)
class ExportResult:
    ok: bool
    message: str


def export_model(
    project: Project, target: ExportTarget, out: Path, project_path: Path | None = None
) -> ExportResult:
    """Run the engine's exporter on the current project; the message says what happened.

    `project_path` is the project's file: a person's own data paths resolve against its
    folder, and a project nobody named exports a class named after it.
    """
    from engine.codegen import ExportError
    from engine.codegen.command import CannotExport, export_project, named_after_file

    base_dir = project_path.parent if project_path is not None else None
    named = named_after_file(project, project_path)
    try:
        line = export_project(named, target.key, out, base_dir=base_dir)
    except ExportError as err:
        return ExportResult(False, "Cannot export:\n" + "\n".join(err.problems))
    except CannotExport as err:
        return ExportResult(False, str(err))
    except OSError as err:
        return ExportResult(False, f"{out}: cannot write: {err.strerror or err}")
    return ExportResult(True, line)


@contextlib.contextmanager
def uncached(scene: QGraphicsScene) -> Iterator[None]:
    """Paint items afresh: cached pixmaps would put bitmaps, not text and lines, in an SVG."""
    cached = [(item, item.cacheMode()) for item in scene.items()]
    for item, _mode in cached:
        item.setCacheMode(QGraphicsItem.CacheMode.NoCache)
    try:
        yield
    finally:
        for item, mode in cached:
            item.setCacheMode(mode)


def export_picture(scene: QGraphicsScene, source: QRectF, path: Path, scale: float = 2.0) -> None:
    """Render `source` (scene coordinates) to PNG or SVG, chosen by the file suffix."""
    with uncached(scene):
        _render_picture(scene, source, path, scale)


def _render_picture(scene: QGraphicsScene, source: QRectF, path: Path, scale: float) -> None:
    size = QSize(max(1, int(source.width() * scale)), max(1, int(source.height() * scale)))
    if path.suffix.lower() == ".svg":
        generator = QSvgGenerator()
        generator.setFileName(str(path))
        generator.setSize(source.size().toSize())
        generator.setViewBox(QRectF(0, 0, source.width(), source.height()))
        generator.setTitle("NetLoom network")
        painter = QPainter(generator)
        scene.render(painter, QRectF(0, 0, source.width(), source.height()), source)
        painter.end()
        return
    image = QImage(size, QImage.Format.Format_ARGB32)
    image.fill(scene.backgroundBrush().color())
    painter = QPainter(image)
    painter.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
    scene.render(
        painter,
        QRectF(0, 0, size.width(), size.height()),
        source,
        Qt.AspectRatioMode.KeepAspectRatio,
    )
    painter.end()
    if not image.save(str(path)):
        raise OSError(f"{path}: could not write the picture")
