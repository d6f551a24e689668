"""The inspector: the selected block's parameters as typed widgets, its facts (output
shape, weights, FLOPs, error) and its documentation with shape and weight formulas.

Edits become `SetParamsCommand`s; the inspector then follows the model like the canvas.
Its Freeze box freezes the selected blocks or units, one or several at once
(`SetFrozenCommand`): training keeps their weights.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QFrame,
    QLabel,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from engine.common.formatting import human
from engine.graph.graph import Graph, GraphError
from engine.graph.shapes import Analysis, NodeInfo
from engine.inspect.sizes import FreeSizes, describe_free
from gui.canvas.commands import SetParamsCommand
from gui.canvas.freezing import SetFrozenCommand
from gui.editor.param_widgets import ParamEditor, make_editor

log = logging.getLogger(__name__)

FREEZE_HELP = (
    "A frozen block or unit keeps its weights (and BatchNorm statistics) while the rest "
    "of the model trains: fine-tune an imported model by freezing its body and training a "
    "new head. Select several blocks to freeze them together. Inside a unit, freezing a "
    "block freezes it in every instance."
)


class Inspector(QScrollArea):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.graph: Graph | None = None
        self.undo_stack: QUndoStack | None = None
        self.analysis: Analysis | None = None
        self.node_id: str | None = None
        self.selection: list[str] = []  # every selected block: Freeze applies to them all
        self.editors: dict[str, ParamEditor] = {}
        self._free: FreeSizes | None = None
        self._free_key: tuple[str, Analysis | None] | None = None
        self._body = QWidget()
        self._layout = QVBoxLayout(self._body)
        self._layout.setContentsMargins(10, 10, 10, 10)
        self._layout.setSpacing(8)
        self.title = QLabel()
        self.title.setObjectName("inspectorTitle")
        self.type_label = QLabel()
        self.type_label.setObjectName("inspectorType")
        self.facts = QLabel()
        self.facts.setObjectName("inspectorFacts")
        self.facts.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.freeze = QCheckBox("Freeze: keep its weights in training")
        self.freeze.setObjectName("inspectorFreeze")
        self.freeze.setToolTip(FREEZE_HELP)
        # Partly ticked (some of the selection frozen): half lit (the app's sheet has no look).
        self.freeze.setStyleSheet(
            "QCheckBox::indicator:indeterminate { background: #2e4a70; border-color: #5b8fd6; }"
        )
        self.freeze.clicked.connect(self._toggle_freeze)
        self.error = QLabel()
        self.error.setObjectName("inspectorError")
        self.error.setWordWrap(True)
        self.form_host = QWidget()
        self.form = QFormLayout(self.form_host)
        self.form.setContentsMargins(0, 4, 0, 4)
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.doc = QLabel()
        self.doc.setObjectName("inspectorDoc")
        self.doc.setWordWrap(True)
        self.doc.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        for widget in (
            self.title,
            self.type_label,
            self.facts,
            self.freeze,
            self.error,
            self.form_host,
            self.doc,
        ):
            self._layout.addWidget(widget)
        self._layout.addStretch(1)
        self.setWidget(self._body)
        self.show_node(None)

    def set_document(self, graph: Graph, undo_stack: QUndoStack) -> None:
        self.graph, self.undo_stack = graph, undo_stack
        self.selection = []
        self.show_node(None)

    # ------------------------------------------------------------- showing

    def show_selection(self, node_ids: list[str]) -> None:
        self.selection = list(node_ids)
        if len(node_ids) == 1:
            self.show_node(node_ids[0])
        else:
            self.show_node(None, f"{len(node_ids)} blocks selected." if node_ids else None)

    def show_node(self, node_id: str | None, note: str | None = None) -> None:
        if node_id is not None and (self.graph is None or node_id not in self.graph):
            node_id = None
        rebuild = node_id != self.node_id or not self.editors
        self.node_id = node_id
        if node_id is None:
            self._clear_form()
            self.title.setText("Inspector")
            self.type_label.setText(
                note or "Select a block to see and edit its parameters, shape and weights."
            )
            self.type_label.setWordWrap(True)
            for widget in (self.facts, self.error, self.doc, self.form_host):
                widget.hide()
            self._show_freeze()
            return
        node = self.graph.node(node_id)
        spec = node.spec
        self.title.setText(node_id)
        self.type_label.setText(f"{spec.name}  ·  {spec.category}")
        if rebuild:
            self._clear_form()
            promoted = self._promoted_by_unit(node_id)
            for param in spec.params:
                editor = make_editor(
                    param, lambda value, name=param.name: self._commit(name, value)
                )
                label = QLabel(param.name)
                label.setToolTip(param.help)
                if param.name in promoted:
                    # Inside a unit: the instance's promoted param sets this one.
                    outer = promoted[param.name]
                    label.setText(f"{param.name}\n← {outer}")
                    label.setToolTip(
                        f"Each instance sets this through its '{outer}' param; the value "
                        f"here is the default new instances get.\n\n{param.help}"
                    )
                self.form.addRow(label, editor.widget)
                self.form.addRow("", editor.error)
                self.editors[param.name] = editor
        for name, editor in self.editors.items():
            editor.show_value(node.params[name])
        self.form_host.setVisible(bool(spec.params))
        self.doc.setText(spec.doc)
        self.doc.show()
        self._show_facts()
        self._show_freeze()

    def _freezable(self) -> list[str]:
        """The selected blocks Freeze applies to (the shown one, or all those selected):
        any but an Input or Output."""
        graph = self.graph
        if graph is None:
            return []
        ids = [self.node_id] if self.node_id is not None else self.selection
        return [i for i in ids if i in graph and graph.node(i).spec.role not in ("input", "output")]

    def _show_freeze(self) -> None:
        """The Freeze box: ticked when every block it applies to is frozen, partly when some."""
        ids = self._freezable()
        self.freeze.setVisible(bool(ids))
        if not ids or self.graph is None:
            return
        frozen = [self.graph.node(i).frozen for i in ids]
        self.freeze.setText(
            "Freeze: keep its weights in training"
            if len(ids) == 1
            else f"Freeze all {len(ids)}: keep their weights in training"
        )
        mixed = any(frozen) and not all(frozen)
        self.freeze.setTristate(mixed)
        state = Qt.CheckState.Checked if all(frozen) else Qt.CheckState.Unchecked
        self.freeze.setCheckState(Qt.CheckState.PartiallyChecked if mixed else state)

    def _promoted_by_unit(self, node_id: str) -> dict[str, str]:
        """Inside a unit's body: this block's params that a promoted param sets."""
        graph = self.graph
        if graph is None or graph.owner is None or graph.library is None:
            return {}
        if graph.owner not in graph.library:
            return {}
        definition = graph.library.definition(graph.owner)
        return {
            key: name
            for name, targets in definition.promoted.items()
            for inner, key in targets
            if inner == node_id
        }

    def _show_facts(self) -> None:
        info = self.analysis.nodes.get(self.node_id) if self.analysis and self.node_id else None
        if info is None:
            self.facts.hide()
            self.error.hide()
            return
        lines = []
        ins = ", ".join(f"{port}: {shape}" for port, shape in self._input_shapes(info).items())
        if ins:
            lines.append(f"in    {ins}")
        if info.outputs:  # a unit with several outputs
            outs = ", ".join(f"{port}: {shape.detailed()}" for port, shape in info.outputs.items())
            lines.append(f"out   {outs}")
        else:
            out = info.shape.detailed() if info.shape else "—"
            free = self._free_sizes()
            if free is not None and free.text:
                # An Input whose sizes are free: name them, and say which sizes work.
                out = free.shape
            lines.append(f"out   {out}")
            if free is not None and free.text:
                # The reason in brackets on a line of its own: the dock is narrow.
                lines.append("free  " + free.text.replace(" (", "\n      ("))
        lines.append(f"weights {info.params:,}   ·   FLOPs {human(info.flops)}")
        self.facts.setText("\n".join(lines))
        self.facts.show()
        errors = [p.message for p in self.analysis.problems if p.node == self.node_id]
        self.error.setText("\n".join(errors))
        self.error.setVisible(bool(errors))

    def _free_sizes(self) -> FreeSizes | None:
        """For a selected Input: which of its axes are free. A few shape passes (a few ms
        to ~40 ms for a U-Net), so only for Inputs, and remembered until the next edit."""
        if self.graph is None or self.node_id not in self.graph.ids_of_role("input"):
            return None
        key = (self.node_id, self.analysis)
        if self._free_key is None or self._free_key[0] != key[0] or self._free_key[1] is not key[1]:
            try:
                self._free = describe_free(self.graph, self.node_id)
            except Exception:  # noqa: BLE001 — a graph mid-edit: no line rather than a crash
                log.debug("free sizes of %s", self.node_id, exc_info=True)
                self._free = None
            self._free_key = key
        return self._free

    def _input_shapes(self, info: NodeInfo) -> dict[str, str]:
        """What arrives at each wired input. The shape pass records input shapes only when
        the block's own rule succeeds; when it fails, the shapes its sources produce are
        what the user needs to fix it, so they are read from the sources."""
        if info.input_shapes:
            return {port: shape.detailed() for port, shape in info.input_shapes.items()}
        sources = self.graph.incoming_edges(self.node_id)
        shapes = {}
        for port in self.graph.node(self.node_id).ports:  # in the block's port order
            if port in sources:
                edge = sources[port]
                source_info = self.analysis.nodes.get(edge.source)
                shape = source_info.output_shape(edge.source_port) if source_info else None
                shapes[port] = shape.detailed() if shape else f"— (no shape from {edge.value})"
        return shapes

    def set_analysis(self, analysis: Analysis, changed: Collection[str] | None = None) -> None:
        """After every edit (including undo): refresh facts and the values shown, unless
        the edit's `changed` blocks (None: any may have) leave what is shown as it was."""
        self.analysis = analysis
        if changed is None or self._shows_any_of(changed):
            self.show_node(self.node_id)
        self._show_freeze()  # freezing changes no facts: `changed` does not name it

    def _shows_any_of(self, changed: Collection[str]) -> bool:
        """Whether the block shown depends on a `changed` one: itself or a source (whose
        shapes its facts list), or anything at all for an Input (its free sizes)."""
        node_id, graph = self.node_id, self.graph
        if node_id is None or graph is None or node_id not in graph:
            return node_id is not None
        if node_id in changed or node_id in graph.ids_of_role("input"):
            return True
        return any(source in changed for source in graph.incoming(node_id).values())

    def _clear_form(self) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        self.editors = {}

    # ------------------------------------------------------------- editing

    def _toggle_freeze(self) -> None:
        """Freeze the blocks it applies to, or thaw them when all are frozen (one undo step)."""
        ids = self._freezable()
        if not ids or self.graph is None or self.undo_stack is None:
            return
        frozen = not all(self.graph.node(i).frozen for i in ids)
        self.undo_stack.push(SetFrozenCommand(self.graph, ids, frozen))
        self._show_freeze()

    def _commit(self, name: str, value: Any) -> None:
        if self.graph is None or self.undo_stack is None or self.node_id is None:
            return
        if self.graph.node(self.node_id).params.get(name) == value:
            return
        try:
            self.undo_stack.push(SetParamsCommand(self.graph, self.node_id, {name: value}))
        except GraphError as err:  # the editors validate first; this is a safety net
            log.warning("parameter refused: %s", err)
            self.editors[name].show_error(str(err))
