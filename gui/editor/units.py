"""Units in the editor: make a unit of a selection (Ctrl+G, which asks its name),
ungroup it, make an independent copy, repeat ×N, rename a unit or its ports, and place
shipped units. Opening a definition on the canvas, with its breadcrumb, is
gui.editor.unit_levels.

The engine does the work (engine.units.edits); each operation here is one undo
command in gui.canvas.commands. Imports the engine's graph, units and project (the
shipped units), and the canvas.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QInputDialog,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from engine.graph.graph import Graph, GraphError
from engine.graph.shapes import Analysis
from engine.project.units_section import shipped_units
from engine.units import edits as unit_edits
from engine.units.units import REPEAT, Library
from gui.canvas.commands import (
    IndependentCopyCommand,
    MakeUnitCommand,
    RenamePortCommand,
    RenameUnitCommand,
    SetParamsCommand,
    UngroupCommand,
)
from gui.canvas.layout import arrange
from gui.editor.unit_levels import UnitLevelsMixin

if TYPE_CHECKING:
    from gui.main_window import MainWindow


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


class UnitsMixin(UnitLevelsMixin):
    """Mixed into MainWindow: unit operations (the opened-unit levels come from
    UnitLevelsMixin)."""

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
