"""The Tab / double-click finder: type a few letters, Enter places the block at the cursor.

Opened with a context (the shape leaving the selected block, or a wire dragged into
empty canvas) it ranks the blocks that take that shape first; for a wire it lists only
those. Esc or a click elsewhere closes it and says so (`cancelled`)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QFrame, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from engine.blocks.spec import BlockSpec, Shape
from gui.common import theme
from gui.editor.block_search import search_specs

TYPE_ROLE = Qt.ItemDataRole.UserRole


class QuickSearch(QFrame):
    chosen = Signal(str)  # block type name
    cancelled = Signal()  # closed without a choice

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Popup)
        self.setObjectName("quickSearch")
        self.setFixedWidth(300)
        self.edit = QLineEdit()
        self.edit.setPlaceholderText("Search blocks…  (Enter places it)")
        self.results = QListWidget()
        self.results.setFixedHeight(280)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        layout.addWidget(self.edit)
        layout.addWidget(self.results)
        # The units the palette lists (the project's and the shipped ones), set by the window.
        self.unit_specs: Callable[[], list[BlockSpec]] = list
        self.context: Shape | None = None
        self.only_fitting = False
        self._choosing = False
        self.edit.textChanged.connect(self._filter)
        self.edit.returnPressed.connect(self._accept_current)
        self.edit.installEventFilter(self)
        self.results.itemActivated.connect(self._accept_item)
        self._filter("")

    def open_at(
        self, global_pos: QPoint, context: Shape | None = None, only_fitting: bool = False
    ) -> None:
        """Show at `global_pos`; blocks that take `context` first (only those when
        `only_fitting`: the wire being dragged must fit the block it ends on)."""
        self.context, self.only_fitting = context, only_fitting
        self._choosing = False
        if only_fitting and context is not None:
            self.edit.setPlaceholderText(f"Blocks that take {context}…  (Enter wires it)")
        else:
            self.edit.setPlaceholderText("Search blocks…  (Enter places it)")
        self.edit.clear()
        self._filter("")
        self.move(global_pos)
        self.show()
        self.edit.setFocus()

    def listed(self) -> list[str]:
        """The block names offered, best first."""
        return [self.results.item(i).data(TYPE_ROLE) for i in range(self.results.count())]

    def hideEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().hideEvent(event)
        if not self._choosing:
            self.cancelled.emit()

    def _filter(self, text: str) -> None:
        self.results.clear()
        found = search_specs(text, self.unit_specs(), self.context, self.only_fitting)
        for spec in found:
            item = QListWidgetItem(theme.block_icon(spec.category, spec.name), spec.name)
            item.setData(TYPE_ROLE, spec.name)
            item.setToolTip(spec.doc)
            item.setText(f"{spec.name}    ·  {spec.category}")
            self.results.addItem(item)
        if self.results.count():
            self.results.setCurrentRow(0)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt override)
        # Up/Down in the search box move through the results without leaving the box.
        if (
            watched is self.edit
            and isinstance(event, QKeyEvent)
            and event.type() == event.Type.KeyPress
        ):
            if event.key() in (Qt.Key.Key_Down, Qt.Key.Key_Up):
                step = 1 if event.key() == Qt.Key.Key_Down else -1
                row = max(0, min(self.results.count() - 1, self.results.currentRow() + step))
                self.results.setCurrentRow(row)
                return True
            if event.key() == Qt.Key.Key_Escape:
                self.hide()
                return True
        return super().eventFilter(watched, event)

    def _accept_current(self) -> None:
        item = self.results.currentItem()
        if item is not None:
            self._accept_item(item)

    def _accept_item(self, item: QListWidgetItem) -> None:
        self._choosing = True  # hiding now is a choice, not a cancel
        self.hide()
        self.chosen.emit(item.data(TYPE_ROLE))
