"""The main window: canvas in the centre, palette / inspector / summary docks, menus,
toolbar and status bar, and the document: new, open, save, templates, autosave.

One QUndoStack per window; every edit is a command in gui.canvas.commands that changes the
graph, and the scene, inspector and summary follow the graph.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
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
    QToolBar,
    QWidget,
)

from engine.graph.shapes import Analysis
from engine.project.project import Project, ProjectError, load, save
from gui.autosave import INTERVAL_MS, Autosaver, Recovery, default_recovery_dir
from gui.canvas.scene import GraphScene
from gui.canvas.view import GraphView
from gui.common.dock_tabs import StaleTabBarSweeper
from gui.common.files import PROJECT_FILTER, RecentFiles, remember_folder, start_folder
from gui.editor.editing import EditingMixin
from gui.editor.inspector import Inspector
from gui.editor.palette import Palette
from gui.editor.problems import ProblemsButton
from gui.editor.quick_search import QuickSearch
from gui.editor.summary import Summary
from gui.editor.unit_levels import Breadcrumb, Level
from gui.editor.units import UnitsMixin, shipped
from gui.export import ExportTarget, export_model, export_picture
from gui.gallery import TemplateGallery, lay_out_template
from gui.menus import build_menus
from gui.opening import (
    SLICED_BLOCKS,
    collector_paused,
    load_project,
    run_in_slices,
)
from gui.training.ui import install_training

log = logging.getLogger(__name__)


class MainWindow(UnitsMixin, EditingMixin, QMainWindow):
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

    # ------------------------------------------------------------- document

    @property
    def graph(self):
        return self.project.graph

    def set_project(
        self,
        project: Project,
        path: Path | None,
        modified: bool = False,
        analysis: Analysis | None = None,
    ) -> None:
        """Show `project` (with its shape pass, when the caller has it). A big graph
        fills the canvas over event-loop turns (gui.opening), the window inert meanwhile."""
        for level in self.levels:
            level.scene.detach_from_graph()
        self.undo_stack.clear()
        self.project, self.path = project, path
        scene = GraphScene(project.graph, self.undo_stack, self, deferred=True)
        old_levels, self.levels = self.levels, [Level(scene)]
        for level in old_levels:
            level.scene.dismantle()
        self.scene = scene
        self.view.setScene(scene)
        for level in old_levels:
            level.scene.deleteLater()
        sliced = len(project.graph) > SLICED_BLOCKS
        with self.busy(sliced, f"Drawing {len(project.graph):,} blocks…"):
            run_in_slices(self._show_project(scene, analysis, modified), sliced)
        self.update_title()
        self.project_replaced.emit()

    def _show_project(
        self, scene: GraphScene, analysis: Analysis | None, modified: bool
    ) -> Iterator[None]:
        """The canvas, then the panels that follow it; yields between the parts, each a
        fraction of a second on a 10,000-block project."""
        yield from scene.populate(analysis)
        self.connect_scene(scene)
        self.view.hide_top_bar(self.breadcrumb)
        self.inspector.set_document(scene.graph, self.undo_stack)
        self.palette.set_units(scene.graph.library, shipped())
        yield
        self.on_analysis(scene.analysis)
        self._autosaved_index = None
        self._paste_count = 0
        if modified:
            self.undo_stack.resetClean()
        yield
        self.view.open_view()

    def connect_scene(self, scene: GraphScene) -> GraphScene:
        """Follow a scene's messages, facts and selection (the project's or a unit's)."""
        scene.status_message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        scene.analysis_changed.connect(self.on_analysis)
        scene.selectionChanged.connect(self.on_selection)
        scene.wire_dropped.connect(self.open_wire_finder)
        return scene

    def update_title(self, *_clean: bool) -> None:
        name = self.path.name if self.path else self.project.name or "Untitled"
        self.setWindowTitle(f"{name}[*] — NetLoom")
        self.setWindowModified(not self.undo_stack.isClean())

    def maybe_save(self) -> bool:
        """Ask about unsaved changes; False means the user cancelled."""
        if self.undo_stack.isClean():
            return True
        name = self.path.name if self.path else self.project.name
        answer = QMessageBox.question(
            self,
            "Unsaved changes",
            f"Save the changes to {name}?",
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save,
        )
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    def new_document(self) -> None:
        if self.maybe_save():
            self.set_project(Project(), None)

    def new_from_template(self) -> None:
        if not self.maybe_save():
            return
        gallery = TemplateGallery(self)
        if gallery.exec() and gallery.chosen is not None:
            self.open_template(gallery.chosen.path)

    def open_template(self, path: Path) -> bool:
        """A template opens as a new, unsaved project (Save asks where), laid out to fit."""
        try:
            project = load(path)
        except ProjectError as err:
            self.show_error("Cannot open template", str(err))
            return False
        lay_out_template(project, self._view_size())
        self.set_project(project, None)
        self.statusBar().showMessage(f"Opened template {project.name}", 5000)
        return True

    def _view_size(self) -> tuple[float, float]:
        viewport = self.view.viewport().size()
        return float(max(viewport.width(), 200)), float(max(viewport.height(), 150))

    def open_dialog(self) -> None:
        if not self.maybe_save():
            return
        chosen, _ = QFileDialog.getOpenFileName(
            self, "Open project", self.dialog_start(), PROJECT_FILTER
        )
        if chosen:
            self.open_path(Path(chosen))

    def open_path(self, path: Path) -> bool:
        """Open a project; a broken file leaves the current document untouched. The
        file is read in a thread while the window keeps turning (gui.opening)."""
        if self.loading:
            self.statusBar().showMessage("Still opening the last project; try again after", 5000)
            return False
        with collector_paused():
            try:
                with self.busy(True, f"Opening {path.name}…"):
                    loaded = load_project(path)
            except ProjectError as err:
                self.show_error("Cannot open project", str(err))
                if not path.exists():
                    self.recent.remove(path)
                return False
            self.set_project(loaded.project, path, analysis=loaded.analysis)
        self.recent.add(path)
        remember_folder(self.settings, path)
        self.statusBar().showMessage(f"Opened {path}", 5000)
        return True

    @contextmanager
    def busy(self, inert: bool, message: str) -> Iterator[None]:
        """While a project loads: `loading` is set and (`inert`) the canvas, menus and
        panels take no input, as the event loop keeps turning; the status bar says why.
        The canvas is not repainted meanwhile: a repaint per slice of a filling scene
        would cost more than the filling."""
        if not inert:
            yield
            return
        self.loading = True
        parts = [self.menuBar(), self.view, *self.findChildren(QToolBar)]
        parts += [dock for dock in self.findChildren(QDockWidget)]
        enabled = [part.isEnabled() for part in parts]
        for part in parts:
            part.setEnabled(False)
        self.statusBar().showMessage(message)
        self.view.viewport().setUpdatesEnabled(False)
        QApplication.setOverrideCursor(Qt.CursorShape.BusyCursor)
        try:
            yield
        finally:
            QApplication.restoreOverrideCursor()
            self.view.viewport().setUpdatesEnabled(True)
            for part, was in zip(parts, enabled, strict=True):
                part.setEnabled(was)
            self.statusBar().clearMessage()
            self.loading = False

    def open_dropped(self, paths: list[str]) -> None:
        if paths and self.maybe_save():
            self.open_path(Path(paths[0]))

    def save(self) -> bool:
        if self.path is None:
            return self.save_as()
        return self.write_to(self.path)

    def save_as(self) -> bool:
        name = self.path.name if self.path else f"{self.project.name or 'network'}.json"
        chosen, _ = QFileDialog.getSaveFileName(
            self, "Save project", self.dialog_start(name), PROJECT_FILTER
        )
        if not chosen:
            return False
        path = Path(chosen)
        if not path.suffix:
            path = path.with_suffix(".json")
        return self.write_to(path)

    def write_to(self, path: Path) -> bool:
        try:
            save(self.project, path)
        except OSError as err:
            self.show_error("Cannot save project", f"{path}: {err.strerror or err}")
            return False
        self.path = path
        self.undo_stack.setClean()
        self.recent.add(path)
        remember_folder(self.settings, path)
        self.autosaver.discard()
        self.update_title()
        self.statusBar().showMessage(f"Saved {path}", 5000)
        return True

    def dialog_start(self, file_name: str = "") -> str:
        """Where an open, save or export dialog opens (gui.common.files.start_folder), with the
        file name it suggests."""
        folder = start_folder(self.path, self.settings)
        return str(folder / file_name) if file_name else str(folder)

    def remember_dialog_folder(self, chosen: Path) -> None:
        """A dialog of this window picked `chosen`: the next one opens in its folder."""
        remember_folder(self.settings, chosen)

    def fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        paths = self.recent.paths()
        for path in paths:
            action = self.recent_menu.addAction(str(path))
            action.triggered.connect(
                lambda _c=False, p=path: self.maybe_save() and self.open_path(p)
            )
        if not paths:
            self.recent_menu.addAction("No recent files").setEnabled(False)
        else:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear list", self.recent.clear)

    def show_error(self, title: str, message: str) -> None:
        log.warning("%s: %s", title, message)
        QMessageBox.critical(self, title, message)

    # ------------------------------------------------------------- autosave

    def _autosave_snapshot(self) -> tuple[Project, Path | None] | None:
        if self.undo_stack.isClean() or self.undo_stack.index() == self._autosaved_index:
            return None
        self._autosaved_index = self.undo_stack.index()
        return self.project, self.path

    def offer_recovery(self) -> bool:
        """At start-up: restore what a crashed session autosaved, if the user wants it."""
        recovery: Recovery | None = self.autosaver.pending()
        if recovery is None:
            return False
        answer = QMessageBox.question(
            self,
            "Restore unsaved work?",
            f"NetLoom did not close normally last time.\n\nRestore {recovery.describe()}?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.Yes,
        )
        if answer != QMessageBox.StandardButton.Yes:
            self.autosaver.discard()
            return False
        self.set_project(recovery.project, recovery.original_path, modified=True)
        self.statusBar().showMessage("Restored autosaved work; save it to keep it.", 8000)
        return True

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
