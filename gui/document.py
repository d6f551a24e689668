"""The window's document: the project it shows and the file behind it — new, open (a
big file read off the GUI thread, gui.opening), templates, save, the recent files, and
autosave with recovery after a crash.

A mixin of gui.main_window.MainWindow, which holds the state it uses (project, path,
undo stack, scene levels, settings, autosaver).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDockWidget, QFileDialog, QMessageBox, QToolBar

from engine.graph.shapes import Analysis
from engine.project.project import Project, ProjectError, load, save
from gui.autosave import Recovery
from gui.canvas.scene import GraphScene
from gui.common.files import PROJECT_FILTER, remember_folder, start_folder
from gui.data.ui import open_use_data
from gui.editor.unit_levels import Level
from gui.editor.units import shipped
from gui.gallery import TemplateGallery, lay_out_template
from gui.opening import SLICED_BLOCKS, collector_paused, load_project, run_in_slices

if TYPE_CHECKING:
    from engine.graph.graph import Graph
    from gui.main_window import MainWindow


class DocumentMixin:
    @property
    def graph(self: MainWindow) -> Graph:
        return self.project.graph

    def set_project(
        self: MainWindow,
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
        self: MainWindow, scene: GraphScene, analysis: Analysis | None, modified: bool
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

    def update_title(self: MainWindow, *_clean: bool) -> None:
        name = self.path.name if self.path else self.project.name or "Untitled"
        self.setWindowTitle(f"{name}[*] — NetLoom")
        self.setWindowModified(not self.undo_stack.isClean())

    def maybe_save(self: MainWindow) -> bool:
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

    def new_document(self: MainWindow) -> None:
        if self.maybe_save():
            self.set_project(Project(), None)

    def new_from_template(self: MainWindow) -> None:
        if not self.maybe_save():
            return
        gallery = TemplateGallery(self)
        if gallery.exec() and gallery.chosen is not None:
            if self.open_template(gallery.chosen.path) and gallery.with_my_data:
                open_use_data(self)

    def open_template(self: MainWindow, path: Path) -> bool:
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

    def _view_size(self: MainWindow) -> tuple[float, float]:
        viewport = self.view.viewport().size()
        return float(max(viewport.width(), 200)), float(max(viewport.height(), 150))

    def open_dialog(self: MainWindow) -> None:
        if not self.maybe_save():
            return
        chosen, _ = QFileDialog.getOpenFileName(
            self, "Open project", self.dialog_start(), PROJECT_FILTER
        )
        if chosen:
            self.open_path(Path(chosen))

    def open_path(self: MainWindow, path: Path) -> bool:
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
    def busy(self: MainWindow, inert: bool, message: str) -> Iterator[None]:
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

    def open_dropped(self: MainWindow, paths: list[str]) -> None:
        if paths and self.maybe_save():
            self.open_path(Path(paths[0]))

    def save(self: MainWindow) -> bool:
        if self.path is None:
            return self.save_as()
        return self.write_to(self.path)

    def save_as(self: MainWindow) -> bool:
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

    def write_to(self: MainWindow, path: Path) -> bool:
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

    def dialog_start(self: MainWindow, file_name: str = "") -> str:
        """Where an open, save or export dialog opens (gui.common.files.start_folder), with the
        file name it suggests."""
        folder = start_folder(self.path, self.settings)
        return str(folder / file_name) if file_name else str(folder)

    def remember_dialog_folder(self: MainWindow, chosen: Path) -> None:
        """A dialog of this window picked `chosen`: the next one opens in its folder."""
        remember_folder(self.settings, chosen)

    def fill_recent_menu(self: MainWindow) -> None:
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

    # ------------------------------------------------------------- autosave

    def _autosave_snapshot(self: MainWindow) -> tuple[Project, Path | None] | None:
        if self.undo_stack.isClean() or self.undo_stack.index() == self._autosaved_index:
            return None
        self._autosaved_index = self.undo_stack.index()
        return self.project, self.path

    def offer_recovery(self: MainWindow) -> bool:
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
