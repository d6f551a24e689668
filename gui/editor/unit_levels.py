"""An opened unit on the canvas: the levels (the project, then each instance opened),
the breadcrumb above the canvas (`Project › block1 › cbr1 › ConvBnReLU`, Esc or a crumb
goes back) and which of the unit's places its blocks show values for.

An opened unit is a second GraphScene over the definition's body graph on the same undo
stack, whose blocks show the facts for the instance's actual input
(engine.units.units.instance_pass), or those of the place chosen in the breadcrumb
(engine.units.units.usages). The unit operations that lead here are gui.editor.units.
Imports the engine's graph and units, and the canvas.
"""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSizePolicy, QToolButton, QWidget

from engine.graph.graph import Graph
from engine.graph.shapes import Analysis
from engine.units.units import instance_pass, same_facts, usages
from gui.canvas.scene import GraphScene

if TYPE_CHECKING:
    from gui.main_window import MainWindow

log = logging.getLogger(__name__)
SEPARATOR = "›"


@dataclass
class Level:
    """One step of the breadcrumb: the graph on the canvas and how it was reached."""

    scene: GraphScene
    instance_id: str | None = None  # the instance opened (in the level below)
    definition: str | None = None  # the definition whose body this is
    # Where the instance sits in the project, `block1/cbr1`; and the place whose values
    # the blocks show (a path from engine.units.units.usages, `block1/0/cbr1`), once known.
    path: str = ""
    shown: str | None = None


def inner_analysis(parent: GraphScene, instance_id: str) -> Analysis | None:
    """The body's facts for the instance's actual input (its first copy), or None when
    the instance is gone or blocked (the scene then runs the body on its own Inputs)."""
    parent.refresh_if_dirty()
    if instance_id not in parent.graph:
        return None
    try:
        unit = instance_pass(parent.graph, parent.analysis, instance_id)
    except Exception as err:  # an instance with an error inside: shown on the instance
        log.debug("no inner facts for %s: %s", instance_id, err)
        return None
    return unit.copies[0] if unit is not None else None


@dataclass(frozen=True)
class Place:
    """A group of the unit's places whose blocks show the same values: one entry of the
    breadcrumb's "values for" picker."""

    paths: tuple[str, ...]
    analysis: Analysis

    @property
    def label(self) -> str:
        more = f" +{len(self.paths) - 1} more" if len(self.paths) > 1 else ""
        inputs = [
            f"{node_id} {info.shape}"
            for node_id, info in self.analysis.nodes.items()
            if info.op is not None and info.op.kind == "input"
        ]
        return f"{self.paths[0]}{more} · {', '.join(inputs)}"


def places_of(root: GraphScene, definition: str) -> list[Place]:
    """Every place the definition is used in the project, grouped by the values its
    blocks show there (two instances fed the same shape are one entry)."""
    root.refresh_if_dirty()
    try:
        found = usages(root.graph, root.analysis, definition)
    except Exception as err:  # a place with an error inside: no values to show there
        log.debug("no places for %s: %s", definition, err)
        return []
    groups: list[tuple[list[str], Analysis]] = []
    for path, analysis in found:
        for paths, shown in groups:
            if same_facts(shown, analysis):
                paths.append(path)
                break
        else:
            groups.append(([path], analysis))
    return [Place(tuple(paths), analysis) for paths, analysis in groups]


class Breadcrumb(QWidget):
    """`Project › block1 › cbr1 › ConvBnReLU` above the canvas: the path of instances
    opened, then the definition shown; how many instances an edit here changes; and,
    when the unit's places see different inputs, which one the blocks show values for.
    A click on a crumb goes to that level."""

    level_chosen = Signal(int)
    place_chosen = Signal(str)  # the first path of the chosen place

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("breadcrumb")
        self.setAutoFillBackground(True)
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(8, 3, 8, 3)
        self._layout.setSpacing(4)
        self.crumbs: list[QWidget] = []
        self.note = QLabel()
        self.note.setObjectName("hint")
        self.note.setToolTip("Esc or a crumb goes back")
        # The note keeps its length; the picker gives way when the canvas is narrow.
        self.note.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)
        self.places_label = QLabel("values for")
        self.places_label.setObjectName("hint")
        self.places = QComboBox()
        self.places.setToolTip(
            "The unit's instances see different inputs: choose the one whose values "
            "the blocks show. An edit here changes them all."
        )
        self.places.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.places.setMinimumContentsLength(16)
        self.places.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.places.setMaximumWidth(360)
        self.places.activated.connect(self._place_activated)

    def show_levels(
        self, labels: list[str], note: str, places: list[Place], shown: str | None
    ) -> None:
        """`labels`: one per level (the last is the level shown), then the definition."""
        keep = (self.note, self.places_label, self.places)
        while self._layout.count():
            item = self._layout.takeAt(0)
            widget = item.widget()
            if widget is not None and widget not in keep:
                widget.deleteLater()
        self.crumbs = []
        for i, label in enumerate(labels):
            if i:
                self._layout.addWidget(QLabel(SEPARATOR))
            if i == len(labels) - 1:
                crumb: QWidget = QLabel(f"<b>{html.escape(label)}</b>")
                crumb.setToolTip("the unit shown: an edit here changes its definition")
            else:
                button = QToolButton()
                button.setText(label)
                button.setAutoRaise(True)
                button.setEnabled(i < len(labels) - 2)
                button.clicked.connect(lambda _c=False, k=i: self.level_chosen.emit(k))
                crumb = button
            self._layout.addWidget(crumb)
            self.crumbs.append(crumb)
        self._layout.addSpacing(16)
        self.note.setText(note)
        self._layout.addWidget(self.note)
        self.places.blockSignals(True)
        self.places.clear()
        for place in places:
            self.places.addItem(place.label, place.paths[0])
            if shown in place.paths:
                self.places.setCurrentIndex(self.places.count() - 1)
        self.places.blockSignals(False)
        several = len(places) > 1
        if several:
            self._layout.addSpacing(12)
            self._layout.addWidget(self.places_label)
            self._layout.addWidget(self.places)
        self.places_label.setVisible(several)
        self.places.setVisible(several)
        self._layout.addStretch(1)

    def _place_activated(self, index: int) -> None:
        self.place_chosen.emit(self.places.itemData(index))

    def text(self) -> str:
        return f" {SEPARATOR} ".join(
            c.text() if isinstance(c, QToolButton) else html_text(c) for c in self.crumbs
        )


def html_text(label: QWidget) -> str:
    assert isinstance(label, QLabel)
    return html.unescape(label.text().removeprefix("<b>").removesuffix("</b>"))


class UnitLevelsMixin:
    """Mixed into MainWindow (through gui.editor.units.UnitsMixin): open a unit, go back,
    and keep the breadcrumb in step with the levels."""

    levels: list[Level]
    breadcrumb: Breadcrumb

    def open_unit(self: MainWindow, instance_id: str) -> bool:
        """Show an instance's definition on the canvas (double-click on the instance)."""
        parent = self.levels[-1]
        if instance_id not in parent.scene.graph:
            return False
        node = parent.scene.graph.node(instance_id)
        if node.library is None:
            return False
        body: Graph = node.library.definition(node.type).graph
        where = parent.shown or parent.path
        level = Level(parent.scene, instance_id, node.type, f"{where}/{instance_id}".lstrip("/"))
        level.scene = GraphScene(
            body,
            self.undo_stack,
            self,
            analysis_source=lambda: self.level_analysis(level, parent.scene),
        )
        self.connect_scene(level.scene)
        self.levels.append(level)
        self._show_level()
        return True

    def level_analysis(self: MainWindow, level: Level, parent: GraphScene) -> Analysis | None:
        """The facts an opened unit's blocks show: those of the place chosen in the
        breadcrumb, else of the instance opened (its first copy when repeated)."""
        places = [
            (path, place.analysis)
            for place in places_of(self.levels[0].scene, level.definition or "")
            for path in place.paths
        ]
        for path, analysis in places:
            if path == level.shown:
                return analysis
        for path, analysis in places:
            if path == level.path or path.startswith(f"{level.path}/"):
                level.shown = path
                return analysis
        level.shown = None
        return inner_analysis(parent, level.instance_id or "")

    def show_place(self: MainWindow, path: str) -> None:
        """The breadcrumb's picker: the opened unit's blocks show the values of `path`."""
        level = self.levels[-1]
        if len(self.levels) == 1 or level.shown == path:
            return
        level.shown = path
        self.scene.refresh_analysis()
        self.on_analysis(self.scene.analysis)
        self.update_breadcrumb()

    def open_selected_unit(self: MainWindow) -> None:
        instance_id = self._selected_instance("Open unit")
        if instance_id is not None:
            self.open_unit(instance_id)

    def go_to_level(self: MainWindow, depth: int) -> None:
        """Back to an outer level (Esc: one level; a crumb: that level)."""
        depth = max(0, depth)
        if depth >= len(self.levels) - 1:
            return
        came_from = self.levels[depth + 1].instance_id
        while len(self.levels) > depth + 1:
            level = self.levels.pop()
            level.scene.detach_from_graph()
            level.scene.deleteLater()
        self._show_level()
        if came_from is not None:
            self.scene.select_nodes([came_from])
            if came_from in self.scene.nodes:
                self.view.centerOn(self.scene.nodes[came_from])

    def go_back(self: MainWindow) -> None:
        self.go_to_level(len(self.levels) - 2)

    def _show_level(self: MainWindow) -> None:
        scene = self.levels[-1].scene
        self.scene = scene
        self.view.setScene(scene)
        self.inspector.set_document(scene.graph, self.undo_stack)
        scene.refresh_analysis()
        self.on_analysis(scene.analysis)
        self.update_breadcrumb()  # first: the bar takes its height from the viewport
        self.view.open_view()

    def update_breadcrumb(self: MainWindow) -> None:
        if len(self.levels) == 1:
            self.view.hide_top_bar(self.breadcrumb)
            return
        top = self.levels[-1]
        labels = ["Project"] + [lv.instance_id or "" for lv in self.levels[1:]]
        labels.append(top.definition or "")
        library = self.project.graph.library
        uses = library.count_uses(top.definition, self.project.graph) if library else 0
        note = f"an edit here changes {uses} instance{'s' if uses != 1 else ''}"
        places = places_of(self.levels[0].scene, top.definition or "")
        self.breadcrumb.show_levels(labels, note, places, top.shown)
        if not self.view.shows_top_bar(self.breadcrumb):
            self.view.show_top_bar(self.breadcrumb)
