"""The summary dock: a Keras-style table of every block — output shape, weights,
FLOPs — in topological order, with totals. Clicking a row selects that block."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.cli import human
from engine.graph import Graph
from engine.shapes import Analysis
from gui import theme
from gui.canvas.scene import errors_by_node

COLUMNS = ("Block", "Type", "Output shape", "Weights", "FLOPs", "Problem")
ID_ROLE = Qt.ItemDataRole.UserRole


class Summary(QWidget):
    node_clicked = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setDefaultSectionSize(22)
        header = self.table.horizontalHeader()
        for column in range(len(COLUMNS) - 1):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        self.totals = QLabel()
        self.totals.setObjectName("summaryTotals")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.totals)
        self.table.cellClicked.connect(self._clicked)
        self.row_of: dict[str, int] = {}
        self._shown: list[tuple[str, ...]] = []  # cells per row, to skip rows that did not change

    def update_from(self, graph: Graph, analysis: Analysis) -> None:
        order = graph.topological_order()
        by_node = errors_by_node(analysis)
        self.table.setUpdatesEnabled(False)
        self.table.setRowCount(len(order))
        self.row_of = {}
        error_brush = QBrush(theme.ERROR.lighter(140))
        shape_brush = QBrush(theme.TEXT_SHAPE)
        for row, node_id in enumerate(order):
            node = graph.node(node_id)
            info = analysis.nodes.get(node_id)
            errors = by_node.get(node_id, [])
            shape = info.shape.detailed() if info and info.shape else "—"
            cells = (
                node_id,
                node.type,
                shape,
                f"{info.params:,}" if info else "",
                human(info.flops) if info else "",
                " ".join(e.removeprefix(f"{node_id}: ") for e in errors),
            )
            self.row_of[node_id] = row
            if row < len(self._shown) and self._shown[row] == cells:
                continue
            for column, text in enumerate(cells):
                item = self.table.item(row, column)
                if item is None:
                    item = QTableWidgetItem()
                    self.table.setItem(row, column, item)
                item.setText(text)
                item.setData(ID_ROLE, node_id)
                item.setToolTip("\n".join(errors) if errors else text)
                if column in (3, 4):
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                if column == 2:
                    item.setForeground(error_brush if errors else shape_brush)
                elif column == 5 or (column == 0 and errors):
                    item.setForeground(error_brush)
                else:
                    item.setForeground(QBrush(QColor(theme.TEXT)))
            if row < len(self._shown):
                self._shown[row] = cells
            else:
                self._shown.append(cells)
        del self._shown[len(order) :]
        self.table.setUpdatesEnabled(True)
        count = len(analysis.problems)
        status = "no errors" if not count else f"{count} problem{'s' * (count != 1)}"
        self.totals.setText(
            f"{len(order)} blocks  ·  {analysis.total_params:,} weights  ·  "
            f"{human(analysis.total_flops)} FLOPs per sample  ·  {status}"
        )

    def select_node(self, node_id: str | None) -> None:
        self.table.blockSignals(True)
        row = self.row_of.get(node_id) if node_id else None
        if row is None:
            self.table.clearSelection()
        else:
            self.table.selectRow(row)
        self.table.blockSignals(False)

    def _clicked(self, row: int, _column: int) -> None:
        item = self.table.item(row, 0)
        if item is not None:
            self.node_clicked.emit(item.data(ID_ROLE))
