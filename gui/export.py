"""Export: the model through `engine.codegen` (via its `export` command, the same path
the CLI takes), and a picture of the canvas as PNG or SVG."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene

from engine.project import Project, save


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


def codegen_available() -> bool:
    """True once the engine's `export` command is installed (engine/cli.py plugs it in)."""
    try:
        return importlib.util.find_spec("engine.codegen.command") is not None
    except (ImportError, ValueError):
        return False


NOT_AVAILABLE = (
    "Code export is not available in this NetLoom: the engine's export command "
    "(engine.codegen) is not installed. Save the project and export it later with\n"
    "python main.py export PROJECT.json --to python -o model.py"
)


def export_model(project: Project, target: ExportTarget, out: Path) -> ExportResult:
    """Run the engine's exporter on the current project; the message says what happened."""
    if not codegen_available():
        return ExportResult(False, NOT_AVAILABLE)
    from engine.cli import run

    with tempfile.TemporaryDirectory(prefix="netloom-export-") as folder:
        source = Path(folder) / "project.json"
        save(project, source)
        stdout, stderr = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            try:
                code = run(["export", str(source), "--to", target.key, "-o", str(out)])
            except SystemExit as stop:  # argparse rejects an option this exporter lacks
                code = stop.code if isinstance(stop.code, int) else 2
    detail = (stderr.getvalue() or stdout.getvalue()).strip().replace(str(source), project.name)
    if code == 0 and out.exists():
        return ExportResult(
            True, f"Exported {target.key} to {out}" + (f"\n\n{detail}" if detail else "")
        )
    return ExportResult(False, detail or f"the exporter stopped with exit code {code}")


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
