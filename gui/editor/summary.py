"""The summary dock: a Keras-style table of every block — output shape, weights,
FLOPs, problem — in topological order, with totals. Clicking a row selects that block.

A model/view table: after an edit the whole table is swapped in one reset or
`dataChanged`, so a 1,000-block network refreshes in a few milliseconds.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from engine.common.formatting import human, human_bytes
from engine.graph.graph import Graph
from engine.graph.memory import estimate
from engine.graph.shapes import Analysis, NodeInfo
from engine.units.labels import type_label
from gui.canvas.scene import errors_by_node
from gui.common import theme

COLUMNS = ("Block", "Type", "Output shape", "Weights", "FLOPs", "Problem")
SHAPE, WEIGHTS, FLOPS, PROBLEM = 2, 3, 4, 5
Index = QModelIndex | QPersistentModelIndex
ROOT_INDEX = QModelIndex()  # the table's only parent; a table has no child rows


def shape_text(info: NodeInfo | None) -> str:
    """The output shape; for a unit with several outputs, each one's, named."""
    if info is None or info.shape is None:
        return "—"
    if info.outputs:
        return ", ".join(f"{port} {shape.detailed()}" for port, shape in info.outputs.items())
    return info.shape.detailed()


class SummaryModel(QAbstractTableModel):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple[str, ...]] = []
        self.errors: list[str] = []  # full messages per row, for tooltips
        self._error_brush = QBrush(theme.ERROR.lighter(140))
        self._shape_brush = QBrush(theme.TEXT_SHAPE)
        self._text_brush = QBrush(theme.TEXT)

    def rowCount(self, parent: Index = ROOT_INDEX) -> int:  # noqa: N802 (Qt override)
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = ROOT_INDEX) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:  # noqa: N802
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row, column = index.row(), index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self.rows[row][column]
        if role == Qt.ItemDataRole.ForegroundRole:
            failed = bool(self.errors[row])
            if column in (PROBLEM, 0) and failed:
                return self._error_brush
            if column == SHAPE:
                return self._error_brush if failed else self._shape_brush
            return self._text_brush
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (WEIGHTS, FLOPS):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.errors[row] or self.rows[row][column]
        return None

    def set_rows(self, rows: list[tuple[str, ...]], errors: list[str]) -> None:
        if len(rows) != len(self.rows):
            self.beginResetModel()
            self.rows, self.errors = rows, errors
            self.endResetModel()
            return
        changed = [i for i, (old, new) in enumerate(zip(self.rows, rows)) if old != new]
        self.rows, self.errors = rows, errors
        if changed:
            top = self.index(changed[0], 0)
            bottom = self.index(changed[-1], len(COLUMNS) - 1)
            self.dataChanged.emit(top, bottom)


class Summary(QWidget):
    node_clicked = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = SummaryModel()
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        # Fixed widths (set once per document) instead of ResizeToContents: resizing to
        # contents rescans every row on every change, quadratic on large networks.
        for column, width in enumerate((110, 110, 170, 90, 80)):
            header.resizeSection(column, width)
        header.setStretchLastSection(True)
        self.totals = QLabel()
        self.totals.setObjectName("summaryTotals")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.totals)
        self.table.clicked.connect(self._clicked)
        self.row_of: dict[str, int] = {}
        self.ids: list[str | None] = []  # None on rows of graph-level problems

    def update_from(self, graph: Graph, analysis: Analysis) -> None:
        # The shape pass fills its table in topological order; reuse it rather than sort again.
        order = (
            list(analysis.nodes) if len(analysis.nodes) == len(graph) else graph.topological_order()
        )
        by_node = errors_by_node(analysis)
        rows, errors = [], []
        # Problems of the graph as a whole ("no Output block") come first: no block row
        # would show them, and an empty project has nothing else to explain its count.
        graph_level = [p.message for p in analysis.problems if p.node is None]
        for message in graph_level:
            row = ["graph"] + [""] * (len(COLUMNS) - 1)
            row[PROBLEM] = message
            rows.append(tuple(row))
            errors.append(message)
        for node_id in order:
            info = analysis.nodes.get(node_id)
            messages = by_node.get(node_id, [])
            rows.append(
                (
                    node_id,
                    type_label(graph, node_id),
                    shape_text(info),
                    f"{info.params:,}" if info else "",
                    human(info.flops) if info else "",
                    " ".join(m.removeprefix(f"{node_id}: ") for m in messages),
                )
            )
            errors.append("\n".join(messages))
        self.ids = [None] * len(graph_level) + order
        self.row_of = {node_id: row for row, node_id in enumerate(self.ids) if node_id}
        self.model.set_rows(rows, errors)
        count = len(analysis.problems)
        status = "no errors" if not count else f"{count} problem{'s' * (count != 1)}"
        self.totals.setText(
            f"{len(order)} blocks  ·  {analysis.total_params:,} weights  ·  "
            f"{human(analysis.total_flops)} FLOPs per sample  ·  {status}"
        )
        # Memory in the tooltip: a longer line would widen the panel's minimum width.
        memory = estimate(analysis, 1)
        self.totals.setToolTip(
            f"Weights: {human_bytes(memory.weights)}. Block outputs: "
            f"{human_bytes(memory.activations)} per sample (python main.py check shows "
            "them per block and at the batch size)."
        )

    def cell(self, row: int, column: int) -> str:
        return self.model.rows[row][column]

    def select_node(self, node_id: str | None) -> None:
        row = self.row_of.get(node_id) if node_id else None
        if row is None:
            self.table.clearSelection()
        else:
            self.table.selectRow(row)

    def _clicked(self, index: QModelIndex) -> None:
        node_id = self.ids[index.row()] if index.isValid() else None
        if node_id is not None:
            self.node_clicked.emit(node_id)
