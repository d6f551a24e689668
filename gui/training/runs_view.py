"""The Runs view: every recorded run, the curves of the runs you tick overlaid, and
Restore (a run's graph as a new document, with its weights for "try a sample") and
Delete. Reads the per-user runs database; the training thread writes it.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.runs import EpochRecord, RunRecord, RunStore
from gui.training import plot_style as style
from gui.training.inside_record import inside_file
from gui.training.paths import runs_db

log = logging.getLogger(__name__)

COLUMNS = ("Run", "Project", "Status", "Result", "Epochs", "Duration", "Started")
STATUS_COLOURS = {"finished": "#4cc38a", "stopped": "#f0b23c", "failed": "#ff8a8e"}
X_MARGIN = 0.3  # of an epoch, before the first and after the last: their points show whole


def run_label(record: RunRecord) -> str:
    """How a legend names a run: number, project and start time."""
    started = time.strftime("%m-%d %H:%M", time.localtime(record.started))
    return f"run {record.id} · {record.project_name} · {started}"


def primary_metric(record: RunRecord, rows: list[EpochRecord]) -> str | None:
    """The metric the run reported first (its config's choice, else the task's own)."""
    chosen = record.config.get("metric", "auto")
    if chosen != "auto":
        return chosen
    for row in rows:
        names = [k for k in row.metrics if k not in ("loss", "lr", "samples_per_s", "seconds")]
        if names:
            return names[0]
    return None


def curve(rows: list[EpochRecord], key: str) -> tuple[np.ndarray, np.ndarray]:
    """Per-epoch values of `key`: validation rows when the run had them, else training."""
    splits = {row.split for row in rows}
    split = "val" if "val" in splits else "train"
    points = [(r.epoch, r.metrics[key]) for r in rows if r.split == split and key in r.metrics]
    if not points:
        return np.empty(0), np.empty(0)
    x, y = np.array(points, dtype=float).T
    keep = np.isfinite(y)
    return x[keep], y[keep]


def recorded_result(record: RunRecord, rows: list[EpochRecord]) -> str:
    """The run's last recorded value of its metric: "Validation accuracy: 0.9667"."""
    metric = primary_metric(record, rows)
    if not metric:
        return ""
    _x, y = curve(rows, metric)
    if not len(y):
        return ""
    split = "Validation" if any(row.split == "val" for row in rows) else "Training"
    return f"{split} {metric.replace('_', ' ')}: {y[-1]:.4f}"


class RunsView(QWidget):
    restore_requested = Signal(int)  # run id

    def __init__(self, data_dir: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.data_dir = data_dir
        self._store: RunStore | None = None
        self.records: dict[int, RunRecord] = {}
        self.ticked_ids: set[int] = set()  # runs whose curves are overlaid
        self.in_view = False  # listed and drawn only while someone can see it
        self._stale = True
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.itemChanged.connect(self._on_item_changed)
        self.tree.itemSelectionChanged.connect(self._update_buttons)
        self.tree.itemDoubleClicked.connect(lambda *_: self._restore())
        self.restore_button = QPushButton("Restore")
        self.restore_button.setToolTip(
            "Open the run's network as a new document and load its weights for 'try a sample'"
        )
        self.restore_button.clicked.connect(self._restore)
        self.delete_button = QPushButton("Delete")
        self.delete_button.clicked.connect(self._delete)
        self.hint = QLabel("Tick runs to compare their curves.")
        self.hint.setObjectName("hint")
        buttons = QHBoxLayout()
        buttons.addWidget(self.hint, 1)
        buttons.addWidget(self.restore_button)
        buttons.addWidget(self.delete_button)
        self.plots = QSplitter(Qt.Orientation.Horizontal)  # filled when first drawn
        self.loss_plot: pg.PlotWidget | None = None
        self.metric_plot: pg.PlotWidget | None = None
        # The legend sits above both plots, on none of their data; it names each run.
        self.legend = QLabel()
        self.legend.setObjectName("runsLegend")
        self.legend.setWordWrap(True)
        self.legend.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.legend_names: list[str] = []
        plots_host = QWidget()
        plots_layout = QVBoxLayout(plots_host)
        plots_layout.setContentsMargins(0, 0, 0, 0)
        plots_layout.setSpacing(2)
        plots_layout.addWidget(self.legend)
        plots_layout.addWidget(self.plots, 1)
        # Nothing here may ask for more width than a 1280-px window can give: the list
        # scrolls its columns, the plots shrink; the window must not grow to fit them.
        self.tree.setMinimumWidth(160)
        self.tree.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.hint.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(self.tree)
        top_layout.addLayout(buttons)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(top)
        split.addWidget(plots_host)
        split.setChildrenCollapsible(False)
        split.setSizes([480, 520])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 6)
        layout.addWidget(split)
        self._update_buttons()

    # ------------------------------------------------------------ store

    def store(self, create: bool = False) -> RunStore | None:
        """The runs database; None while no run was ever recorded (unless `create`)."""
        path = runs_db(self.data_dir)
        if self._store is None and (create or path.exists()):
            self._store = RunStore(path)
        return self._store

    def close_store(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    # ---------------------------------------------------------- listing

    def set_in_view(self, in_view: bool) -> None:
        self.in_view = in_view
        if in_view and self._stale:
            self.refresh()

    def mark_run(self, run_id: int) -> None:
        """A run just ended: list it and overlay its curves (now, or when next seen)."""
        self.ticked_ids.add(run_id)
        self.refresh()

    def refresh(self) -> None:
        if not self.in_view:
            self._stale = True  # a list nobody sees is rebuilt when it comes into view
            return
        self._stale = False
        store = self.store()
        ticked = self.ticked_ids
        self.tree.blockSignals(True)
        self.tree.clear()
        self.records = {}
        for record in store.runs() if store else []:
            self.records[record.id] = record
            self.tree.addTopLevelItem(self._row(record, store.epochs(record.id), ticked))
        self.tree.blockSignals(False)
        for column in range(len(COLUMNS)):
            self.tree.resizeColumnToContents(column)
        self._update_buttons()
        self.draw_overlay()

    def _row(self, record: RunRecord, rows: list[EpochRecord], ticked: set[int]) -> QTreeWidgetItem:
        metric = primary_metric(record, rows)
        result = ""
        if metric:
            x, y = curve(rows, metric)
            result = f"{metric} {y[-1]:.4f}" if len(y) else ""
        epochs = max((r.epoch for r in rows), default=0)
        duration = f"{record.duration:.1f} s" if record.duration is not None else "…"
        started = time.strftime("%Y-%m-%d %H:%M", time.localtime(record.started))
        values = (
            str(record.id),
            record.project_name,
            record.status,
            result,
            f"{epochs}/{record.config.get('epochs', '?')}",
            duration,
            started,
        )
        item = QTreeWidgetItem(list(values))
        item.setData(0, Qt.ItemDataRole.UserRole, record.id)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(
            0, Qt.CheckState.Checked if record.id in ticked else Qt.CheckState.Unchecked
        )
        item.setForeground(2, style.brush(STATUS_COLOURS.get(record.status, "#c9ced6")))
        tip = record.reason or record.status
        for column in range(len(COLUMNS)):
            item.setToolTip(column, f"run {record.id} · {record.project_hash}\n{tip}")
        return item

    def ticked(self) -> list[int]:
        return [run_id for run_id in self.records if run_id in self.ticked_ids]

    def set_ticked(self, run_id: int, ticked: bool = True) -> None:
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            if int(item.data(0, Qt.ItemDataRole.UserRole)) == run_id:
                item.setCheckState(0, Qt.CheckState.Checked if ticked else Qt.CheckState.Unchecked)

    def selected_run(self) -> int | None:
        items = self.tree.selectedItems()
        return int(items[0].data(0, Qt.ItemDataRole.UserRole)) if items else None

    def select_run(self, run_id: int) -> None:
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            item.setSelected(int(item.data(0, Qt.ItemDataRole.UserRole)) == run_id)

    # ---------------------------------------------------------- overlay

    @Slot(QTreeWidgetItem, int)
    def _on_item_changed(self, item: QTreeWidgetItem, column: int) -> None:
        if column == 0:
            run_id = int(item.data(0, Qt.ItemDataRole.UserRole))
            if item.checkState(0) == Qt.CheckState.Checked:
                self.ticked_ids.add(run_id)
            else:
                self.ticked_ids.discard(run_id)
            self.draw_overlay()

    def _make_plots(self) -> tuple[pg.PlotWidget, pg.PlotWidget]:
        if self.loss_plot is None or self.metric_plot is None:
            self.loss_plot = style.styled_plot("Loss", bottom="epoch")
            self.metric_plot = style.styled_plot("Metric", bottom="epoch")
            for plot in (self.loss_plot, self.metric_plot):
                plot.setMinimumWidth(140)
                self.plots.addWidget(plot)
            self.plots.setChildrenCollapsible(False)
        return self.loss_plot, self.metric_plot

    def draw_overlay(self) -> None:
        store = self.store()
        if not self.in_view:
            return  # drawn when it comes into view
        loss_plot, metric_plot = self._make_plots()
        for plot in (loss_plot, metric_plot):
            plot.getPlotItem().clear()
        metrics = set()
        self.legend_names = []
        entries = []
        last_epoch = 1
        for n, run_id in enumerate(self.ticked()):
            if store is None or run_id not in self.records:
                continue
            rows = store.epochs(run_id)
            colour = style.RUN_COLOURS[n % len(style.RUN_COLOURS)]
            label = run_label(self.records[run_id])
            self.legend_names.append(label)
            entries.append(f'<span style="color:{colour}">━●</span>&nbsp;{label}')
            last_epoch = max([last_epoch, *(r.epoch for r in rows)])
            loss_plot.getPlotItem().addItem(_epoch_curve(*curve(rows, "loss"), colour, label))
            metric = primary_metric(self.records[run_id], rows)
            if metric:
                metrics.add(metric)
                item = _epoch_curve(*curve(rows, metric), colour, label)
                metric_plot.getPlotItem().addItem(item)
        title = ", ".join(sorted(metrics)).replace("_", " ") or "Metric"
        metric_plot.getPlotItem().setTitle(title.capitalize(), color="#e3e6eb", size="9.5pt")
        loss_plot.getPlotItem().setTitle("Loss", color="#e3e6eb", size="9.5pt")
        self.legend.setText("&nbsp;&nbsp; ".join(entries) or "Tick runs to compare their curves.")
        self.legend.setToolTip("\n".join(self.legend_names))
        for plot in (loss_plot, metric_plot):  # every epoch's point whole, none at the edge
            plot.getPlotItem().setXRange(1 - X_MARGIN, last_epoch + X_MARGIN, padding=0)

    # ---------------------------------------------------------- actions

    def _update_buttons(self) -> None:
        run_id = self.selected_run()
        record = self.records.get(run_id) if run_id is not None else None
        self.restore_button.setEnabled(bool(record and record.checkpoint))
        self.delete_button.setEnabled(record is not None and record.status != "running")

    def _restore(self) -> None:
        run_id = self.selected_run()
        if run_id is not None and self.restore_button.isEnabled():
            self.restore_requested.emit(run_id)

    def _delete(self) -> None:
        run_id = self.selected_run()
        store = self.store()
        if run_id is None or store is None:
            return
        record = self.records.get(run_id)
        store.delete_run(run_id)
        if record and record.checkpoint:
            Path(record.checkpoint).unlink(missing_ok=True)
            inside_file(record.checkpoint).unlink(missing_ok=True)
        self.refresh()


def _epoch_curve(x: np.ndarray, y: np.ndarray, colour: str, name: str) -> pg.PlotDataItem:
    return pg.PlotDataItem(
        x,
        y,
        pen=style.pen(colour, 1.6),
        symbol="o",
        symbolSize=5,
        symbolBrush=style.brush(colour),
        symbolPen=None,
        name=name,
    )
