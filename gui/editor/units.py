"""Units in the editor: make a unit of a selection (Ctrl+G, which asks its name), ungroup it, open a
definition on the canvas with a breadcrumb (Esc or a crumb goes back), make an
independent copy, repeat ×N, and place shipped units.

The engine does the work (engine.units.edits); each operation here is one undo
command in gui.canvas.commands. An opened unit is a second GraphScene over the definition's
body graph on the same undo stack, whose blocks show the facts for the instance's
actual input (engine.units.units.instance_pass).
"""

from __future__ import annotations

import copy
import html
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from engine.graph.graph import Graph, GraphError
from engine.graph.shapes import Analysis
from engine.project.units_section import shipped_units
from engine.units import edits as unit_edits
from engine.units.units import REPEAT, Library, instance_pass, same_facts, usages
from gui.canvas.commands import (
    IndependentCopyCommand,
    MakeUnitCommand,
    RenamePortCommand,
    RenameUnitCommand,
    SetParamsCommand,
    UngroupCommand,
)
from gui.canvas.layout import arrange
from gui.canvas.scene import GraphScene

if TYPE_CHECKING:
    from gui.main_window import MainWindow

log = logging.getLogger(__name__)
SEPARATOR = "›"


@cache
def shipped() -> Library:
    """The units NetLoom ships, read once from engine/shipped_units.json."""
    return shipped_units()


class MakeTidyUnitCommand(MakeUnitCommand):
    """Make unit, with the new unit's inside laid out left to right: the canvas's
    auto-layout at its real tile sizes, a long chain wrapped into rows (like lines of
    text) to show whole in a canvas of `view` pixels (see engine.units.edits.tidy_body).
    The size is taken once, so a redo lays the unit out as the first time did."""

    def __init__(
        self,
        graph: Graph,
        node_ids: list[str],
        name: str,
        analysis: Analysis | None,
        view: tuple[float, float],
    ) -> None:
        super().__init__(graph, node_ids, name, analysis)
        self.view = view

    def redo(self) -> None:
        self.grouping = unit_edits.make_unit(
            self.graph,
            self.node_ids,
            self.name,
            self.analysis,
            layout=lambda body: arrange(body, self.view),
        )
        self.setText(f"Make unit {self.grouping.definition.name}")


class UnitNameDialog(QDialog):
    """Ctrl+G asks the new unit's name, suggesting one from its blocks (ConvBnReLU).
    OK stays off, saying why, while the name cannot be used; Cancel changes nothing."""

    def __init__(
        self,
        parent: QWidget,
        suggestion: str,
        name_problem: Callable[[str], str | None],
        blocks: int,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Make unit")
        self.name_problem = name_problem
        prompt = QLabel(f"A unit of the {blocks} selected blocks. Its name:")
        self.name_edit = QLineEdit(suggestion)
        self.name_edit.selectAll()
        self.name_edit.setMinimumWidth(320)
        self.problem = QLabel()
        self.problem.setObjectName("hint")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Make Unit")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(prompt)
        layout.addWidget(self.name_edit)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        self.name_edit.textChanged.connect(self._check)
        self._check()

    def name(self) -> str:
        return self.name_edit.text().strip()

    def _check(self, *_text: str) -> None:
        problem = self.name_problem(self.name()) if self.name() else "the unit needs a name"
        self.problem.setText(problem or "Also the name of its class in exported Python.")
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(problem is None)

    def accept(self) -> None:
        if self.name_problem(self.name()) is None and self.name():
            super().accept()


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


class UnitsMixin:
    """Mixed into MainWindow: unit operations and the opened-unit levels."""

    levels: list[Level]
    breadcrumb: Breadcrumb
    unit_name_dialog: UnitNameDialog | None = None  # the last Ctrl+G prompt

    # ------------------------------------------------------------ build

    def _editable(self: MainWindow) -> bool:
        """False while the graph is locked (a training run makes the canvas read-only)."""
        if not self.view.isInteractive():
            self.statusBar().showMessage("The graph is locked while a run trains", 6000)
            return False
        return True

    def _unit_refused(self: MainWindow, ids: list[str]) -> bool:
        """True (and the status bar says why) when the blocks cannot make a unit: a
        trial on an independent copy, before a dialog or a command exists."""
        if not self._editable():
            return True
        try:
            unit_edits.make_unit(copy.deepcopy(self.scene.graph), ids)
        except GraphError as err:
            self.statusBar().showMessage(f"Cannot make a unit: {err}", 8000)
            return True
        return False

    def ask_unit_name(self: MainWindow) -> UnitNameDialog | None:
        """Ctrl+G: ask the name of a unit of the selected blocks (window-modal, not
        blocking); Make Unit makes it, Cancel leaves the graph as it was."""
        ids = self.scene.selected_node_ids()
        if self._unit_refused(ids):
            return None
        graph = self.scene.graph
        library = graph.library if graph.library is not None else Library()
        suggestion = unit_edits.suggest_unit_name(graph, ids)
        dialog = UnitNameDialog(self, suggestion, library.name_problem, len(ids))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.make_unit_from_selection(dialog.name(), ids))
        self.unit_name_dialog = dialog
        dialog.open()
        return dialog

    def make_unit_from_selection(
        self: MainWindow, name: str | None = None, ids: list[str] | None = None
    ) -> str | None:
        """The selected blocks (or `ids`) become one instance of a unit named `name`
        (without one, the name Ctrl+G would suggest); returns the instance's id."""
        graph = self.scene.graph
        ids = self.scene.selected_node_ids() if ids is None else ids
        if self._unit_refused(ids):
            return None
        name = name or unit_edits.suggest_unit_name(graph, ids)
        command = MakeTidyUnitCommand(graph, ids, name, self.scene.analysis, self._view_size())
        self.undo_stack.push(command)
        self.scene.select_nodes([command.instance_id])
        self.statusBar().showMessage(
            f"Made unit {command.grouping.definition.name} ({len(ids)} blocks); "
            "double-click it to open, Ctrl+Shift+G to ungroup",
            8000,
        )
        return command.instance_id

    def _selected_instance(self: MainWindow, what: str) -> str | None:
        ids = self.scene.selected_node_ids()
        graph = self.scene.graph
        if len(ids) == 1 and graph.node(ids[0]).library is not None:
            return ids[0]
        self.statusBar().showMessage(f"{what}: select one unit instance", 6000)
        return None

    def ungroup_selection(self: MainWindow) -> list[str]:
        if not self._editable():
            return []
        instance_id = self._selected_instance("Ungroup")
        if instance_id is None:
            return []
        try:
            unit_edits.ungroup(copy.deepcopy(self.scene.graph), instance_id)
        except GraphError as err:
            self.statusBar().showMessage(f"Cannot ungroup: {err}", 8000)
            return []
        command = UngroupCommand(self.scene.graph, instance_id)
        self.undo_stack.push(command)
        assert command.ungrouping is not None
        added = list(command.ungrouping.added)
        self.scene.select_nodes(added)
        return added

    def make_independent_copy(self: MainWindow) -> str | None:
        if not self._editable():
            return None
        instance_id = self._selected_instance("Make independent copy")
        if instance_id is None:
            return None
        command = IndependentCopyCommand(self.scene.graph, instance_id)
        self.undo_stack.push(command)
        self.statusBar().showMessage(
            f"{instance_id} now has its own definition, {command.copy_name}", 6000
        )
        return command.copy_name

    def repeat_selection(self: MainWindow, times: int | None = None) -> bool:
        """Repeat ×N: N copies of the selected instance in series."""
        if not self._editable():
            return False
        instance_id = self._selected_instance("Repeat")
        if instance_id is None:
            return False
        graph = self.scene.graph
        current = graph.node(instance_id).params.get(REPEAT.name, 1)
        if times is None:
            times, ok = QInputDialog.getInt(
                self,
                "Repeat unit",
                f"Copies of {instance_id} in series:",
                current,
                REPEAT.minimum or 1,
                REPEAT.maximum or 64,
            )
            if not ok:
                return False
        if times != current:
            self.undo_stack.push(SetParamsCommand(graph, instance_id, {REPEAT.name: times}))
        return True

    def rename_unit(self: MainWindow, new: str | None = None) -> bool:
        """Rename the selected instance's unit, or the opened unit when none is selected."""
        if not self._editable():
            return False
        ids = self.scene.selected_node_ids()
        graph = self.scene.graph
        if len(ids) == 1 and graph.node(ids[0]).library is not None:
            old = graph.node(ids[0]).type
        elif graph.owner is not None:
            old = graph.owner
        else:
            self.statusBar().showMessage("Rename unit: select a unit instance", 6000)
            return False
        if new is None:
            new, ok = QInputDialog.getText(self, "Rename unit", f"New name for {old}:", text=old)
            if not ok:
                return False
        library = self.project.graph.library
        if new == old:
            return False
        if problem := library.name_problem(new):
            self.statusBar().showMessage(f"Cannot rename: {problem}", 8000)
            return False
        self.undo_stack.push(RenameUnitCommand(self.project.graph, old, new))
        self.scene.select_nodes(ids)  # the instances were re-made under the new type
        for level in self.levels:
            if level.definition == old:
                level.definition = new
        self.update_breadcrumb()
        return True

    def rename_port(self: MainWindow, new: str | None = None) -> bool:
        """Inside an opened unit: rename the selected Input or Output block, one of its
        ports."""
        if not self._editable():
            return False
        graph = self.scene.graph
        ids = self.scene.selected_node_ids()
        roles = ("input", "output")
        if graph.owner is None or len(ids) != 1 or graph.node(ids[0]).spec.role not in roles:
            self.statusBar().showMessage(
                "Rename port: open a unit and select one of its Input or Output blocks", 6000
            )
            return False
        old = ids[0]
        if new is None:
            new, ok = QInputDialog.getText(self, "Rename port", f"New name for {old}:", text=old)
            if not ok:
                return False
        command = RenamePortCommand(self.project.graph, graph.owner, old, new)
        try:
            unit_edits.rename_port(copy.deepcopy(self.project.graph), graph.owner, old, new)
        except GraphError as err:
            self.statusBar().showMessage(f"Cannot rename port: {err}", 8000)
            return False
        self.undo_stack.push(command)
        self.scene.select_nodes([new])
        self.statusBar().showMessage(f"Port {old} of {graph.owner} is now {new}", 6000)
        return True

    # ------------------------------------------------------------ levels

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

    def check_levels(self: MainWindow, *_index: int) -> None:
        """After an undo or redo: leave levels whose instance or definition is gone."""
        for k in range(1, len(self.levels)):
            level, below = self.levels[k], self.levels[k - 1].scene.graph
            library = below.library
            gone = (
                level.instance_id not in below
                or below.node(level.instance_id).type != level.definition
                or library is None
                or level.definition not in library
            )
            if gone:
                self.go_to_level(k - 1)
                self.statusBar().showMessage("The opened unit is gone; back one level", 6000)
                break
        if len(self.levels) > 1:
            self.update_breadcrumb()
        self.palette.set_units(self.project.graph.library, shipped())
