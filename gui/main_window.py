"""The main window: canvas in the centre, palette / inspector / summary docks, menus,
toolbar and status bar; the panels follow the canvas's facts and selection. The document
(new, open, save, templates, autosave) is gui.document's mixin.

One QUndoStack per window; every edit is a command in gui.canvas.commands that changes the
graph, and the scene, inspector and summary follow the graph.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QPointF, QSettings, Qt, Signal
from PySide6.QtGui import QCloseEvent, QUndoStack
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QWidget,
)

from engine.graph.shapes import Analysis
from engine.project.project import Project
from gui.autosave import INTERVAL_MS, Autosaver, default_recovery_dir
from gui.canvas.scene import GraphScene
from gui.canvas.view import GraphView
from gui.common.dock_tabs import StaleTabBarSweeper
from gui.common.files import RecentFiles, remember_folder
from gui.data.ui import install_data
from gui.document import DocumentMixin
from gui.editor.editing import EditingMixin
from gui.editor.inspector import Inspector
from gui.editor.palette import Palette
from gui.editor.problems import ProblemsButton
from gui.editor.quick_search import QuickSearch
from gui.editor.summary import Summary
from gui.editor.unit_levels import Breadcrumb, Level
from gui.editor.units import UnitsMixin
from gui.export import ExportTarget, export_model, export_picture
from gui.menus import build_menus
from gui.training.ui import install_training

log = logging.getLogger(__name__)


class MainWindow(DocumentMixin, UnitsMixin, EditingMixin, QMainWindow):
    project_replaced = Signal()  # set_project put a new document in place
    selection_changed = Signal(list)  # the selected blocks' ids (the scene is per document)

    def __init__(
        self,
        settings: QSettings | None = None,
        recovery_dir: Path | None = None,
        autosave_ms: int = INTERVAL_MS,
    ) -> None:
        super().__init__()
        self.settings = settings or QSettings("NetLoom", "NetLoom")
        self.recent = RecentFiles(self.settings)
        self.undo_stack = QUndoStack(self)
        self.project = Project()
        self.path: Path | None = None
        self.scene: GraphScene | None = None  # the scene on the canvas (maybe a unit's)
        self.levels: list[Level] = []  # the project's scene, then each opened unit
        self._autosaved_index: int | None = None
        self._paste_count = 0
        self.loading = False  # a project is being read or drawn (gui.opening)
        self.resize(1440, 900)
        self.setAcceptDrops(True)
        self.setDockNestingEnabled(True)

        self.view = GraphView()
        self.setCentralWidget(self.view)
        self.palette = Palette()
        self.inspector = Inspector()
        self.summary = Summary()
        self.breadcrumb = Breadcrumb()
        self.breadcrumb.level_chosen.connect(self.go_to_level)
        self.breadcrumb.place_chosen.connect(self.show_place)
        self.palette_dock = self.add_dock(
            "Blocks", self.palette, Qt.DockWidgetArea.LeftDockWidgetArea
        )
        self.inspector_dock = self.add_dock(
            "Inspector", self.inspector, Qt.DockWidgetArea.RightDockWidgetArea
        )
        self.summary_dock = self.add_dock(
            "Summary", self.summary, Qt.DockWidgetArea.BottomDockWidgetArea
        )
        self.resizeDocks(
            [self.palette_dock, self.inspector_dock], [230, 330], Qt.Orientation.Horizontal
        )
        self.resizeDocks([self.summary_dock], [210], Qt.Orientation.Vertical)
        self.quick_search = QuickSearch(self)
        self.quick_search.unit_specs = lambda: list(self.palette.unit_specs.values())
        self._quick_search_pos = QPointF()

        self.problems_button = ProblemsButton()
        self.zoom_label = QLabel()
        self.statusBar().addPermanentWidget(self.problems_button)
        self.statusBar().addPermanentWidget(self.zoom_label)
        self.recent_menu: QMenu
        self.panels_menu: QMenu
        self.actions_ = build_menus(self)
        for dock in (self.palette_dock, self.inspector_dock, self.summary_dock):
            self.panels_menu.addAction(dock.toggleViewAction())

        self.view.block_dropped.connect(self.add_block)
        self.view.node_double_clicked.connect(self.open_unit)
        self.view.back_requested.connect(self.go_back)
        self.undo_stack.indexChanged.connect(self.check_levels)
        self.view.files_dropped.connect(self.open_dropped)
        self.view.quick_search_requested.connect(self.open_quick_search)
        self.view.zoom_changed.connect(lambda z: self.zoom_label.setText(f"{z * 100:.0f}%"))
        self.palette.block_activated.connect(
            lambda name: self.add_block(name, self.view.centre_scene_pos())
        )
        self.quick_search.chosen.connect(self.finder_chose)
        self.quick_search.cancelled.connect(self.finder_cancelled)
        self.summary.node_clicked.connect(self.focus_node)
        self.problems_button.node_chosen.connect(self.focus_node)
        self.problems_button.summary_requested.connect(self.summary_dock.raise_)
        self.undo_stack.cleanChanged.connect(self.update_title)

        # A child of the window: its timer dies with the window, even when a close was
        # cancelled and the window is deleted without closeEvent having stopped it.
        self.autosaver = Autosaver(
            self._autosave_snapshot, recovery_dir or default_recovery_dir(), autosave_ms, self
        )
        # Owned by the window, so its timer dies with it: a window deleted without a
        # close event (as test teardown does) must not autosave from a deleted stack.
        self.autosaver.setParent(self)
        self.set_project(Project(), None)
        self.autosaver.start()
        self.training = install_training(self)
        self.data_tools = install_data(self)  # Predict… on a finished run
        self.tab_sweeper = StaleTabBarSweeper(self)  # Qt leaves old dock tab bars behind
        # Every dock is in place: what View > Reset Layout comes back to.
        self.default_layout = self.saveState()

    def add_dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        """Add a panel; later panels (e.g. training) use this too and tab with the summary."""
        dock = QDockWidget(title, self)
        dock.setObjectName(f"{title.lower()}Dock")
        dock.setWidget(widget)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        self.addDockWidget(area, dock)
        return dock

    def reset_layout(self) -> None:
        """View > Reset Layout: every dock back to its place, tab group and visibility
        as the window opened with them (a floating or closed panel comes back)."""
        self.restoreState(self.default_layout)
        self.statusBar().showMessage("Panels are back where they started", 4000)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        if self.loading:  # a local event loop of the open is running: close after it
            self.statusBar().showMessage("Opening a project; close the window after", 5000)
            event.ignore()
            return
        if not self.maybe_save():
            event.ignore()
            return
        self.training.shutdown()  # stops a run (recorded as stopped) and joins its thread
        self.autosaver.stop()
        self.autosaver.discard()
        if self.scene is not None:
            self.scene.detach_from_graph()
        event.accept()

    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        paths = [
            u.toLocalFile() for u in event.mimeData().urls() if u.toLocalFile().endswith(".json")
        ]
        if paths:
            event.acceptProposedAction()
            self.open_dropped(paths)

    # ------------------------------------------------------------ followers

    def connect_scene(self, scene: GraphScene) -> GraphScene:
        """Follow a scene's messages, facts and selection (the project's or a unit's)."""
        scene.status_message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        scene.analysis_changed.connect(self.on_analysis)
        scene.selectionChanged.connect(self.on_selection)
        scene.wire_dropped.connect(self.open_wire_finder)
        return scene

    def show_error(self, title: str, message: str) -> None:
        log.warning("%s: %s", title, message)
        QMessageBox.critical(self, title, message)

    def on_analysis(self, analysis: Analysis, changed: set[str] | None = None) -> None:
        """The scene's new facts into the panels; `changed` (the blocks an edit changed,
        None for any) lets each redo only its part."""
        if self.scene is None or analysis is not self.scene.analysis:
            return  # an outer level's pass while a unit is open: not what is shown
        self.summary.update_from(self.scene.graph, analysis, changed)
        self.inspector.set_analysis(analysis, changed)
        self.problems_button.show_problems(analysis.problems)

    def on_selection(self) -> None:
        if self.sender() is not None and self.sender() is not self.scene:
            return
        ids = self.scene.selected_node_ids()
        self.inspector.show_selection(ids)
        self.summary.select_node(ids[0] if len(ids) == 1 else None)
        self.selection_changed.emit(ids)

    def focus_node(self, node_id: str) -> None:
        if node_id in self.scene.nodes:
            self.scene.select_nodes([node_id])
            self.view.centerOn(self.scene.nodes[node_id])

    # --------------------------------------------------------------- export

    def export_model(self, target: ExportTarget) -> None:
        stem = (self.path.stem if self.path else self.project.name or "network").replace(" ", "_")
        start = self.dialog_start(stem + target.suffix)
        chosen, _ = QFileDialog.getSaveFileName(
            self, f"Export {target.key}", start, target.file_filter
        )
        if not chosen:
            return
        remember_folder(self.settings, Path(chosen))
        # TorchScript and ONNX load torch and trace the model: a few seconds at first.
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        self.statusBar().showMessage(f"Exporting {target.key}…")
        try:
            result = export_model(self.project, target, Path(chosen), self.path)
        finally:
            QApplication.restoreOverrideCursor()
        if result.ok:
            self.statusBar().showMessage(result.message.splitlines()[0], 8000)
        else:
            QMessageBox.warning(self, "Export", result.message)

    def export_picture(self) -> None:
        stem = self.path.stem if self.path else "network"
        chosen, chosen_filter = QFileDialog.getSaveFileName(
            self,
            "Export picture",
            self.dialog_start(f"{stem}.png"),
            "PNG image (*.png);;SVG drawing (*.svg)",
        )
        if not chosen:
            return
        path = Path(chosen)
        remember_folder(self.settings, path)
        if not path.suffix:
            path = path.with_suffix(".svg" if "svg" in chosen_filter.lower() else ".png")
        self.write_picture(path)

    def write_picture(self, path: Path) -> bool:
        selected = self.scene.selectedItems()
        self.scene.clearSelection()  # a picture shows the network, not the selection
        try:
            export_picture(self.scene, self.scene.nodes_rect().adjusted(-30, -30, 30, 30), path)
        except OSError as err:
            self.show_error("Cannot export picture", str(err))
            return False
        finally:
            for item in selected:
                item.setSelected(True)
        self.statusBar().showMessage(f"Saved picture {path}", 5000)
        return True
