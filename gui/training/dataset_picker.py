"""Choose the data to train on: a built-in or generated dataset, or your own files
(an image folder, a CSV table, NumPy arrays) with a file or folder chooser.

Shows the dataset's description and parameters, one sample, the shape the data feeds
the Input block and whether the graph fits it (naming the block when it does not).
Edits leave as `edited(choice)`; the panel turns them into undo commands.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from engine.data import DATASETS, ArrayDataset, DatasetSpec, TextParam
from engine.graph.graph import Graph
from gui.editor.param_widgets import ParamEditor, make_editor
from gui.results.sample_view import SampleView
from gui.training.fit_check import describe_data, fit_report
from gui.training.preview import DataKey, DatasetLoader

log = logging.getLogger(__name__)

CATEGORY_ORDER = ("built-in", "generated", "your data")
# What the chooser of a dataset's "path" asks for: a folder, or files of a kind.
PATH_CHOOSERS = {
    "image_folder": "folder",
    "csv": "CSV tables (*.csv);;All files (*)",
    "npz": "NumPy arrays (*.npz);;All files (*)",
    "series": "CSV series (*.csv *.tsv *.txt);;All files (*)",
}


class PathEditor(ParamEditor):
    """A path typed or chosen with Browse…; relative paths start at the project's folder."""

    chooser = "All files (*)"
    start_dir: Callable[[], Path | None] = staticmethod(lambda: None)

    def build(self) -> QWidget:
        host = QWidget()
        row = QHBoxLayout(host)
        row.setContentsMargins(0, 0, 0, 0)
        self.edit = QLineEdit()
        self.edit.setPlaceholderText("choose a file or folder…")
        self.edit.editingFinished.connect(self._finish)
        self.browse = QPushButton("Browse…")
        self.browse.clicked.connect(self._choose)
        row.addWidget(self.edit, 1)
        row.addWidget(self.browse)
        return host

    def _finish(self) -> None:
        value = self.check(self.edit.text())
        if value is not None:
            self.on_commit(value)

    def _choose(self) -> None:
        start = str(self.start_dir() or Path.home())
        if self.chooser == "folder":
            chosen = QFileDialog.getExistingDirectory(self.widget, "Choose the data folder", start)
        else:
            chosen, _ = QFileDialog.getOpenFileName(
                self.widget, "Choose the data file", start, self.chooser
            )
        if chosen:
            self.edit.setText(chosen)
            self._finish()

    def set_value(self, value: Any) -> None:
        self.edit.blockSignals(True)
        self.edit.setText(str(value or ""))
        self.edit.blockSignals(False)


class DatasetPicker(QWidget):
    edited = Signal(dict)  # the new {"name": ..., "params": {...}}

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.choice: dict[str, Any] = {}
        self.graph: Graph | None = None
        self.training: dict[str, Any] = {}
        self.base_dir: Path | None = None
        self.active = False  # in view: only then are datasets loaded for the preview
        self.loader = DatasetLoader(self)
        self.loader.loaded.connect(self._on_loaded)
        self.loader.failed.connect(self._on_failed)
        self._reload_timer = QTimer(self)
        self._reload_timer.setSingleShot(True)
        self._reload_timer.setInterval(0)
        self._reload_timer.timeout.connect(self._load_if_visible)

        self.combo = QComboBox()
        self.combo.addItem("Choose a dataset…", "")
        for category in CATEGORY_ORDER:
            specs = [s for s in DATASETS.values() if s.category == category]
            if specs:
                self.combo.insertSeparator(self.combo.count())
            for spec in specs:
                self.combo.addItem(spec.title, spec.name)
                self.combo.setItemData(self.combo.count() - 1, spec.description, 3)  # tooltip
        self.combo.activated.connect(self._on_chosen)
        self.description = QLabel()
        self.description.setObjectName("hint")
        self.description.setWordWrap(True)
        self.params_host = QWidget()
        self.params_form = QFormLayout(self.params_host)
        self.params_form.setContentsMargins(0, 0, 0, 0)
        self.editors: dict[str, ParamEditor] = {}
        self.preview = SampleView()
        self.preview.setFixedHeight(130)
        self.caption = QLabel()
        self.caption.setObjectName("hint")
        self.caption.setWordWrap(True)
        self.fit = QLabel()
        self.fit.setObjectName("fitReport")
        self.fit.setWordWrap(True)
        self.fit.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (
            self.combo,
            self.description,
            self.params_host,
            self.preview,
            self.caption,
            self.fit,
        ):
            layout.addWidget(widget)

    # ---------------------------------------------------------- showing

    def show_choice(self, training: dict[str, Any], graph: Graph, base_dir: Path | None) -> None:
        """Follow the project: its dataset choice, graph and folder."""
        self.training, self.graph, self.base_dir = training, graph, base_dir
        raw = training.get("dataset") or {}
        choice = {"name": raw, "params": {}} if isinstance(raw, str) else copy.deepcopy(raw)
        spec = DATASETS.get(choice.get("name", ""))
        if choice != self.choice or (spec is not None and not self.editors):
            same_dataset = bool(self.editors) and choice.get("name") == self.choice.get("name")
            self.choice = choice
            if same_dataset:  # only params changed: keep the form (and the focus in it)
                given = choice.get("params") or {}
                for param in spec.params:
                    self.editors[param.name].set_value(given.get(param.name, param.default))
            else:
                self._show_spec(spec)
            if spec is not None:
                self.preview.show_message("Loading a sample…")
                self.caption.clear()
            # The verdict on the data shown before does not hold for this choice: a
            # stale "fits" must not stand while the new data loads.
            self._clear_fit()
        self._load_if_visible()
        self.refresh_fit()

    def _show_spec(self, spec: DatasetSpec | None) -> None:
        index = self.combo.findData(spec.name if spec else "")
        self.combo.setCurrentIndex(max(index, 0))
        self.description.setText(spec.description if spec else "")
        self.description.setVisible(spec is not None)
        while self.params_form.rowCount():
            self.params_form.removeRow(0)
        self.editors = {}
        if spec is None:
            self.preview.show_message("Choose the data this network learns from.")
            self.caption.clear()
            return
        given = self.choice.get("params") or {}
        for param in spec.params:
            commit = lambda value, name=param.name: self._commit_param(name, value)  # noqa: E731
            if isinstance(param, TextParam) and param.kind == "path":
                editor: ParamEditor = PathEditor(param, commit)
                editor.chooser = PATH_CHOOSERS.get(spec.name, PathEditor.chooser)
                editor.start_dir = lambda: self.base_dir
            elif isinstance(param, TextParam):
                editor = PathEditor(param, commit)
                editor.browse.hide()
                editor.edit.setPlaceholderText(param.help)
            else:
                editor = make_editor(param, commit)
            editor.set_value(given.get(param.name, param.default))
            self.params_form.addRow(param.name.replace("_", " "), editor.widget)
            self.params_form.addRow("", editor.error)
            self.editors[param.name] = editor

    def _key(self) -> DataKey:
        return DataKey.of(self.choice, self.base_dir)

    def current_key(self) -> DataKey | None:
        """Which data the picker shows now (None without a dataset)."""
        return self._key() if self.choice.get("name") else None

    def set_active(self, active: bool) -> None:
        """The panel is in view (its dock tab is current) or not."""
        self.active = active
        self._load_if_visible()

    @Slot()
    def _load_if_visible(self) -> None:
        # Loading takes a second or two of a core: only for a panel someone looks at,
        # and not while a run trains (the picker is disabled then).
        if not self.choice.get("name") or not self.active or not self.isEnabled():
            return
        data = self.loader.current(self._key())
        if data is not None:
            self._show_data(data)
            return
        missing = [
            p.name
            for p in DATASETS[self.choice["name"]].params
            if isinstance(p, TextParam)
            and p.required
            and not (self.choice.get("params") or {}).get(p.name)
        ]
        if missing:
            self.preview.show_message(f"Choose the {', '.join(missing)} of your data.")
            self.fit.hide()
            return
        self.loader.request(self._key())

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt override)
        super().changeEvent(event)
        if event.type() == QEvent.Type.EnabledChange and self.isEnabled():
            self._reload_timer.start()  # a run ended: the preview may load, in its own turn

    @property
    def data(self) -> ArrayDataset | None:
        """The chosen dataset, once loaded (the panel hands it to the run)."""
        return self.loader.current(self._key()) if self.choice.get("name") else None

    @Slot(object)
    def _on_loaded(self, data: ArrayDataset) -> None:
        self._show_data(data)
        self.refresh_fit()

    def _show_data(self, data: ArrayDataset) -> None:
        self.preview.show_sample(data.x[0], data.sequence, data.feature_names)
        target = data.y[0]
        if data.task == "classification":
            label = data.class_names[int(target)] if data.class_names else str(int(target))
            what = f"class {label}"
        elif data.task == "segmentation":
            what = f"a mask of {data.target_shape}"
        else:
            what = "target " + ", ".join(f"{v:.3g}" for v in target.reshape(-1)[:4])
        self.caption.setText(f"Sample 1: {what}.  {describe_data(data)}")

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.preview.show_message("No preview")
        self.caption.clear()
        self._show_fit(False, message)

    @Slot()
    def refresh_fit(self) -> None:
        """Re-check the graph against the loaded data (after an edit or a new choice)."""
        data = self.data
        if data is None or self.graph is None:
            if not self.choice.get("name"):
                self.fit.hide()
            return
        report = fit_report(self.graph, data, self.training)
        self._show_fit(report.ok, report.text)

    def _clear_fit(self) -> None:
        self.fit.hide()
        self.fit.clear()
        self.fit.setProperty("ok", None)

    def _show_fit(self, ok: bool, text: str) -> None:
        self.fit.setText(text)
        self.fit.setProperty("ok", ok)
        self.fit.style().unpolish(self.fit)
        self.fit.style().polish(self.fit)
        self.fit.show()

    # ---------------------------------------------------------- editing

    @Slot(int)
    def _on_chosen(self, index: int) -> None:
        name = self.combo.itemData(index)
        if name and name != self.choice.get("name"):
            self.edited.emit({"name": name, "params": {}})

    def _commit_param(self, name: str, value: Any) -> None:
        params = dict(self.choice.get("params") or {})
        if params.get(name) == value:
            return
        params[name] = value
        if name == "path":
            self.loader.forget()  # the same path may hold new files
        self.edited.emit({"name": self.choice["name"], "params": params})
