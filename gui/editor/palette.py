"""The block palette: every registered block grouped by category, with a search box.

Drag a block onto the canvas (the drag carries BLOCK_MIME with the type name), or
double-click it to place it in the middle of the view. Tooltips show the spec's doc.
"""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QSize, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QLineEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.blocks.spec import BlockSpec, all_specs, get_spec
from engine.units.units import Library
from gui.canvas.view import BLOCK_MIME
from gui.common import theme
from gui.editor.block_search import match_rank

TYPE_ROLE = Qt.ItemDataRole.UserRole


class BlockTree(QTreeWidget):
    """A tree whose block rows drag out as BLOCK_MIME."""

    def mimeTypes(self) -> list[str]:  # noqa: N802 (Qt override)
        return [BLOCK_MIME]

    def mimeData(self, items: list[QTreeWidgetItem]) -> QMimeData:  # noqa: N802
        mime = QMimeData()
        names = [i.data(0, TYPE_ROLE) for i in items if i.data(0, TYPE_ROLE)]
        if names:
            mime.setData(BLOCK_MIME, names[0].encode("utf-8"))
            mime.setText(names[0])
        return mime


class Palette(QWidget):
    block_activated = Signal(str)  # type name: place it in the view's centre

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search blocks (name, alias, category)…")
        self.search.setClearButtonEnabled(True)
        self.tree = BlockTree()
        self.tree.setHeaderHidden(True)
        self.tree.setIconSize(QSize(20, 20))
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setIndentation(10)
        self.hint = QLabel("Drag onto the canvas, or press Tab there to search.")
        self.hint.setObjectName("hint")
        self.hint.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)
        layout.addWidget(self.search)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.hint)
        self.items: dict[str, QTreeWidgetItem] = {}
        # Units: the project's own and the shipped ones, under their own categories.
        self.unit_specs: dict[str, BlockSpec] = {}
        self._unit_groups: list[QTreeWidgetItem] = []
        self._unit_key: tuple[tuple[str, ...], tuple[str, ...]] | None = None
        self._populate()
        self.search.textChanged.connect(self.filter)
        self.tree.itemDoubleClicked.connect(self._activate)
        self.tree.itemActivated.connect(self._activate)

    def _populate(self) -> None:
        categories: dict[str, QTreeWidgetItem] = {}
        bold = QFont(self.font())
        bold.setBold(True)
        for spec in all_specs():
            parent = categories.get(spec.category)
            if parent is None:
                parent = QTreeWidgetItem([spec.category])
                parent.setFont(0, bold)
                parent.setFlags(Qt.ItemFlag.ItemIsEnabled)
                parent.setForeground(0, theme.category_colour(spec.category).lighter(160))
                self.tree.addTopLevelItem(parent)
                categories[spec.category] = parent
            item = QTreeWidgetItem([spec.name])
            item.setIcon(0, theme.block_icon(spec.category, spec.name))
            item.setData(0, TYPE_ROLE, spec.name)
            item.setToolTip(0, f"<b>{spec.name}</b><br><br>{_html(spec.doc)}")
            item.setFlags(
                Qt.ItemFlag.ItemIsEnabled
                | Qt.ItemFlag.ItemIsSelectable
                | Qt.ItemFlag.ItemIsDragEnabled
            )
            parent.addChild(item)
            self.items[spec.name] = item
        self.tree.expandAll()

    def set_units(self, project: Library | None, shipped: Library) -> None:
        """List the project's units and the shipped ones (a shipped unit the project
        already has shows once, as the project's)."""
        own = tuple(project.definitions) if project is not None else ()
        offered = tuple(n for n in shipped.definitions if n not in own)
        if self._unit_key == (own, offered):
            return
        self._unit_key = (own, offered)
        for group in self._unit_groups:
            for j in range(group.childCount()):
                self.items.pop(group.child(j).data(0, TYPE_ROLE), None)
            self.tree.takeTopLevelItem(self.tree.indexOfTopLevelItem(group))
        self._unit_groups, self.unit_specs = [], {}
        bold = QFont(self.font())
        bold.setBold(True)
        groups = (("Project units", project, own), ("Shipped units", shipped, offered))
        for title, library, names in groups:
            if not names or library is None:
                continue
            group = QTreeWidgetItem([title])
            group.setFont(0, bold)
            group.setFlags(Qt.ItemFlag.ItemIsEnabled)
            group.setForeground(0, theme.category_colour("Units").lighter(160))
            self.tree.insertTopLevelItem(len(self._unit_groups), group)
            self._unit_groups.append(group)
            for name in names:
                spec = library.spec(name)
                self.unit_specs[name] = spec
                item = QTreeWidgetItem([name])
                item.setIcon(0, theme.block_icon("Units", name))
                item.setData(0, TYPE_ROLE, name)
                item.setToolTip(0, f"<b>{name}</b> (unit)<br><br>{_html(spec.summary)}")
                item.setFlags(
                    Qt.ItemFlag.ItemIsEnabled
                    | Qt.ItemFlag.ItemIsSelectable
                    | Qt.ItemFlag.ItemIsDragEnabled
                )
                group.addChild(item)
                self.items[name] = item
        self.filter(self.search.text())

    def _spec(self, name: str) -> BlockSpec:
        return self.unit_specs.get(name) or get_spec(name)

    def filter(self, text: str) -> None:
        """Hide blocks that do not match; hide categories left empty."""
        for i in range(self.tree.topLevelItemCount()):
            category = self.tree.topLevelItem(i)
            visible = 0
            for j in range(category.childCount()):
                child = category.child(j)
                shown = match_rank(self._spec(child.data(0, TYPE_ROLE)), text) is not None
                child.setHidden(not shown)
                visible += shown
            category.setHidden(visible == 0)
        self.tree.expandAll()

    def visible_blocks(self) -> list[str]:
        return [
            name
            for name, item in self.items.items()
            if not item.isHidden() and not item.parent().isHidden()
        ]

    def mime_for(self, type_name: str) -> QMimeData:
        """The exact mime data a drag of this block carries (tests drop it on the canvas)."""
        return self.tree.mimeData([self.items[type_name]])

    def _activate(self, item: QTreeWidgetItem) -> None:
        name = item.data(0, TYPE_ROLE)
        if name:
            self.block_activated.emit(name)


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace("\n", "<br>")
