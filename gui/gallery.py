"""New from template: a gallery of the shipped templates with title, description and a
thumbnail of each graph, drawn by the canvas itself so it shows what will open."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QIcon, QImage, QPainter, QPixmap, QUndoStack
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.common.formatting import human
from engine.graph.shapes import analyze
from engine.project.project import Project, ProjectError, load
from engine.project.templates import TEMPLATES_DIR
from gui.canvas.layout import arrange
from gui.canvas.scene import GraphScene
from gui.common import theme

log = logging.getLogger(__name__)

THUMB = QSize(260, 150)
PATH_ROLE = Qt.ItemDataRole.UserRole


@dataclass
class Template:
    path: Path
    project: Project | None
    error: str | None = None

    @property
    def title(self) -> str:
        return self.project.name if self.project else self.path.stem


def find_templates(folder: Path = TEMPLATES_DIR) -> list[Template]:
    """Every template file; a broken one is listed with its error instead of hiding it."""
    found = []
    for path in sorted(folder.glob("*.json")):
        try:
            found.append(Template(path, load(path)))
        except ProjectError as err:
            found.append(Template(path, None, str(err)))
    return found


def lay_out_template(project: Project, view: tuple[float, float] = (1100, 650)) -> None:
    """Arrange a freshly opened template to read well in a canvas of `view` pixels."""
    for node_id, pos in arrange(project.graph, view).items():
        project.graph.move(node_id, pos)


def thumbnail(project: Project, size: QSize = THUMB) -> QPixmap:
    """The graph as the canvas draws it, shrunk to `size`."""
    scene = GraphScene(project.graph, QUndoStack())
    image = QImage(size, QImage.Format.Format_ARGB32)
    image.fill(theme.CANVAS_BACKGROUND)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    source = scene.nodes_rect().adjusted(-30, -30, 30, 30)
    target = QRectF(6, 6, size.width() - 12, size.height() - 12)
    scene.render(painter, target, source, Qt.AspectRatioMode.KeepAspectRatio)
    painter.end()
    scene.detach_from_graph()
    return QPixmap.fromImage(image)


class TemplateGallery(QDialog):
    def __init__(self, parent: QWidget | None = None, folder: Path = TEMPLATES_DIR) -> None:
        super().__init__(parent)
        self.setWindowTitle("New from template")
        self.resize(1040, 660)
        self.templates = find_templates(folder)
        self.chosen: Template | None = None
        self.with_my_data = False  # open the template, then "Use my data…" on it
        self.list = QListWidget()
        self.list.setObjectName("gallery")
        self.list.setViewMode(QListWidget.ViewMode.IconMode)
        self.list.setIconSize(THUMB)
        self.list.setGridSize(QSize(THUMB.width() + 24, THUMB.height() + 44))
        self.list.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.list.setMovement(QListWidget.Movement.Static)
        self.list.setWordWrap(True)
        self.list.setSpacing(8)
        self.title = QLabel()
        self.title.setObjectName("galleryTitle")
        self.description = QLabel()
        self.description.setObjectName("galleryDescription")
        self.description.setWordWrap(True)
        self.description.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.facts = QLabel()
        self.facts.setObjectName("inspectorFacts")
        self.facts.setWordWrap(True)
        side = QVBoxLayout()
        side.addWidget(self.title)
        side.addWidget(self.facts)
        side.addWidget(self.description, 1)
        side_host = QWidget()
        side_host.setLayout(side)
        side_host.setFixedWidth(280)
        body = QHBoxLayout()
        body.addWidget(self.list, 1)
        body.addWidget(side_host)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel
        )
        self.use_data_button = self.buttons.addButton(
            "Use my data…", QDialogButtonBox.ButtonRole.ActionRole
        )
        self.use_data_button.setToolTip(
            "Open this template, then point it at your table, series, arrays or images"
        )
        self.use_data_button.clicked.connect(self._accept_with_my_data)
        layout = QVBoxLayout(self)
        layout.addLayout(body, 1)
        layout.addWidget(self.buttons)
        self.buttons.accepted.connect(self._accept_current)
        self.buttons.rejected.connect(self.reject)
        self.list.currentItemChanged.connect(self._show_details)
        self.list.itemActivated.connect(lambda _item: self._accept_current())
        self._populate()

    def _populate(self) -> None:
        for template in self.templates:
            item = QListWidgetItem(template.title)
            item.setData(PATH_ROLE, str(template.path))
            if template.project is not None:
                preview = load(template.path)  # laid out on its own copy
                lay_out_template(preview)
                picture = thumbnail(preview)
                icon = QIcon(picture)
                icon.addPixmap(picture, QIcon.Mode.Selected)  # no selection tint on the picture
                item.setIcon(icon)
            else:
                pixmap = QPixmap(THUMB)
                pixmap.fill(QColor("#3a1f22"))
                item.setIcon(QIcon(pixmap))
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
                item.setToolTip(template.error or "")
            self.list.addItem(item)
        if self.list.count():
            self.list.setCurrentRow(0)
        else:
            self.title.setText("No templates found")
            self.description.setText(f"Put NetLoom project files in {TEMPLATES_DIR}.")

    def _template_of(self, item: QListWidgetItem | None) -> Template | None:
        if item is None:
            return None
        path = item.data(PATH_ROLE)
        return next((t for t in self.templates if str(t.path) == path), None)

    def _show_details(self, item: QListWidgetItem | None) -> None:
        template = self._template_of(item)
        if template is None:
            return
        self.title.setText(template.title)
        if template.project is None:
            self.facts.setText("")
            self.description.setText(f"This template cannot be opened:\n{template.error}")
            return
        analysis = analyze(template.project.graph)
        graph = template.project.graph
        weights = human(analysis.total_params)
        self.facts.setText(f"{len(graph)} blocks · {len(graph.edges)} wires · {weights} weights")
        self.description.setText(template.project.description)

    def _accept_with_my_data(self) -> None:
        self.with_my_data = True
        self._accept_current()

    def _accept_current(self) -> None:
        template = self._template_of(self.list.currentItem())
        if template is None or template.project is None:
            return
        self.chosen = template
        self.accept()
