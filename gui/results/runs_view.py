"""The Runs view: every recorded run, the curves of the runs you tick overlaid, and
Restore (a run's graph as a new document, with its weights for "try a sample") and
Delete. Reads the per-user runs database; the training thread writes it.

A damaged database is one line above the list (the window and training go on; runs go
unrecorded until the file is moved away); a damaged run is listed as "damaged", its
damage in its tooltip, and can be deleted but not restored.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
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

from engine.history.runs import EpochRecord, RunRecord, RunStore, RunStoreError
from gui.common import plot_style as style
from gui.common.plot_style import metric_label
from gui.results.run_text import (
    clock_text,
    curve,
    primary_metric,
    run_label,
    started_text,
)
from gui.run.inside_record import inside_file
from gui.run.paths import runs_db

log = logging.getLogger(__name__)

# The fourth column is named after the listed runs' metric ("accuracy", "MSE").
COLUMNS = ("Run", "Project", "Status", "metric", "Epochs", "Time", "Started")
PROJECT_COLUMN = 1  # the one that gives way when the list is narrow
MIN_PROJECT_W = 70
METRIC_COLUMN = 3
STATUS_COLOURS = {
    "finished": "#4cc38a",
    "stopped": "#f0b23c",
    "failed": "#ff8a8e",
    "interrupted": "#ff9f5a",  # its process was killed: the curves so far, no weights
    "damaged": "#ff8a8e",  # its record cannot be read: delete it
}
TICK_HINT = "Tick runs to compare their curves."
UNREADABLE = (
    "The runs history could not be read: {error}; new runs are not recorded until it is moved away."
)
# The width from which the list and the plots sit side by side: every column of the
# list (~470 px) beside two plots of ~200 px.
SIDE_BY_SIDE_MIN_W = 900
LIST_SHARE_STACKED = 0.55  # of the height, at most, for the list above the plots
STACKED_ROWS = 4  # runs the list shows above the plots before it scrolls
PLOT_MIN_H = 90  # under the list in a 250 px tab, the plots still show their curves
X_MARGIN = 0.3  # of an epoch, before the first and after the last: their points show whole


class RunsView(QWidget):
    restore_requested = Signal(int)  # run id

    def __init__(self, data_dir: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.data_dir = data_dir
        self._store: RunStore | None = None
        self.records: dict[int, RunRecord] = {}
        self.epoch_rows: dict[int, list[EpochRecord]] = {}  # of the listed runs
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
        self.hint = QLabel(TICK_HINT)
        self.hint.setObjectName("hint")
        # The one line a damaged runs database gives; hidden while the history reads.
        self.problem = QLabel()
        self.problem.setObjectName("runsProblem")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #ff8a8e;")
        self.problem.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problem.hide()
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
        self.plot_titles = ("Loss", "Metric")
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
        top_layout.addWidget(self.problem)
        top_layout.addWidget(self.tree)
        top_layout.addLayout(buttons)
        self.split = QSplitter(Qt.Orientation.Horizontal)
        self.split.addWidget(top)
        self.split.addWidget(plots_host)
        self.split.setChildrenCollapsible(False)
        self.split.setSizes([480, 520])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 6)
        layout.addWidget(self.split)
        self._update_buttons()

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._orient()
        self._fit_columns()

    def _fit_columns(self) -> None:
        """Each column as wide as its contents; where that is wider than the list, the
        project names give way (elided, whole in their tooltip), so every column's
        values stay in view (at 1280 x 800 the list is ~500 px wide)."""
        header = self.tree.header()
        for column in range(len(COLUMNS)):
            self.tree.resizeColumnToContents(column)
        excess = header.length() - self.tree.viewport().width()
        if excess > 0:
            width = header.sectionSize(PROJECT_COLUMN)
            header.resizeSection(PROJECT_COLUMN, max(MIN_PROJECT_W, width - excess))

    def _orient(self) -> None:
        """Side by side where the list's columns and two plots fit across; else the list
        above the plots (at 1280 x 800 the tab is ~500 px wide: beside the plots, the
        list showed three columns and the start of a fourth)."""
        across = self.width() >= SIDE_BY_SIDE_MIN_W
        wanted = Qt.Orientation.Horizontal if across else Qt.Orientation.Vertical
        if self.split.orientation() == wanted:
            self._fit_stacked_list()  # the plots take what the tab gains or loses
            return
        self.split.setOrientation(wanted)
        self._title_plots()
        if across:
            self.split.setSizes([int(self.width() * 0.48), self.width() - int(self.width() * 0.48)])
        else:
            self._fit_stacked_list()

    def _title_plots(self) -> None:
        """Titles above the plots; under the list (little height) the names go beside
        their axes instead: the curves keep the room."""
        if self.loss_plot is None or self.metric_plot is None:
            return
        stacked = self.split.orientation() == Qt.Orientation.Vertical
        for plot, title in zip((self.loss_plot, self.metric_plot), self.plot_titles):
            item = plot.getPlotItem()
            if stacked:
                item.setTitle(None)
                item.setLabel("left", title, color=style.AXIS_TEXT, **{"font-size": "8pt"})
            else:
                item.setTitle(title, color="#e3e6eb", size="9.5pt")
                item.showLabel("left", False)

    def _fit_stacked_list(self) -> None:
        """Above the plots, the list is as tall as a few of its rows (all of them, up to
        STACKED_ROWS) and its buttons; the plots take the rest."""
        if self.split.orientation() != Qt.Orientation.Vertical:
            return
        rows = min(max(self.tree.topLevelItemCount(), 2), STACKED_ROWS)
        row_h = self.tree.sizeHintForRow(0) if self.tree.topLevelItemCount() else 22
        frame = 2 * self.tree.frameWidth() + 4
        wide = self.tree.header().length() > self.tree.viewport().width()
        scroll = self.tree.horizontalScrollBar().sizeHint().height() if wide else 0
        buttons = self.restore_button.sizeHint().height() + 6
        wanted = self.tree.header().height() + rows * row_h + frame + scroll + buttons
        total = sum(self.split.sizes()) or self.height()
        top = min(wanted, int(total * LIST_SHARE_STACKED))
        self.split.setSizes([top, total - top])

    # ------------------------------------------------------------ store

    def store(self, create: bool = False) -> RunStore | None:
        """The runs database; None while no run was ever recorded (unless `create`) or
        while it cannot be read (the Runs tab then says why)."""
        path = runs_db(self.data_dir)
        if self._store is None and (create or path.exists()):
            try:
                self._store = RunStore(path)
            except RunStoreError as err:
                self._unreadable(err)
        return self._store

    def _unreadable(self, err: RunStoreError) -> None:
        """The database cannot be read: one line above an empty list; it is tried again
        at the next refresh (moved away, a new one starts)."""
        log.warning("runs history: %s", err)
        self.close_store()
        self.problem.setText(UNREADABLE.format(error=err))
        self.problem.setToolTip(str(err))
        self.problem.show()

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
        self.problem.hide()
        listed = self._listed()
        ticked = self.ticked_ids
        self.tree.blockSignals(True)
        self.tree.clear()
        self.records = {record.id: record for record, _rows in listed}
        self.epoch_rows = {record.id: rows for record, rows in listed}
        metrics = sorted({m for r, rows in listed if (m := primary_metric(r, rows))})
        for record, rows in listed:
            self.tree.addTopLevelItem(self._row(record, rows, ticked, len(metrics) > 1))
        self.tree.blockSignals(False)
        self._name_metric_column(metrics)
        self._fit_columns()
        self._fit_stacked_list()
        self._update_buttons()
        self.draw_overlay()

    def _listed(self) -> list[tuple[RunRecord, list[EpochRecord]]]:
        """Every recorded run with its epochs; a run whose epochs are damaged is listed
        as damaged, without them; a damaged database lists nothing and says so."""
        store = self.store()
        if store is None:
            return []
        listed = []
        try:
            for record in store.runs():
                try:
                    rows = [] if record.damage else store.epochs(record.id)
                except RunStoreError as err:
                    record, rows = replace(record, damage=_without_file(err, store)), []
                listed.append((record, rows))
        except RunStoreError as err:
            self._unreadable(err)
            return []
        return listed

    def _name_metric_column(self, metrics: list[str]) -> None:
        """The metric column takes the listed runs' metric as its name."""
        header = self.tree.headerItem()
        names = [metric_label(m) for m in metrics]
        header.setText(METRIC_COLUMN, " / ".join(names) or "Result")
        what = " or ".join(names) or "its metric"
        header.setToolTip(
            METRIC_COLUMN, f"Each run's {what} at its last epoch (validation if it held any out)"
        )

    def _row(
        self, record: RunRecord, rows: list[EpochRecord], ticked: set[int], named: bool = False
    ) -> QTreeWidgetItem:
        """One run's line; `named`: runs of several metrics are listed, so each value
        says its metric."""
        metric = primary_metric(record, rows)
        result = ""
        if metric:
            x, y = curve(rows, metric)
            if len(y):
                result = f"{metric_label(metric)} {y[-1]:.4f}" if named else f"{y[-1]:.4f}"
        epochs = max((r.epoch for r in rows), default=0)
        if record.duration is not None:
            duration = clock_text(record.duration)
        else:
            duration = "…" if record.status == "running" else "–"
        started = started_text(record.started)
        status = "damaged" if record.damage else record.status
        values = (
            str(record.id),
            record.project_name,
            status,
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
        item.setForeground(2, style.brush(STATUS_COLOURS.get(status, "#c9ced6")))
        tip = record.damage or record.reason or record.status
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(record.started))
        for column in range(len(COLUMNS)):
            item.setToolTip(column, f"run {record.id} · {record.project_hash} · {when}\n{tip}")
        item.setToolTip(PROJECT_COLUMN, f"{record.project_name}\n{item.toolTip(PROJECT_COLUMN)}")
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
                plot.setMinimumHeight(PLOT_MIN_H)
                self.plots.addWidget(plot)
            self.plots.setChildrenCollapsible(False)
        return self.loss_plot, self.metric_plot

    def draw_overlay(self) -> None:
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
            if run_id not in self.records:
                continue
            rows = self.epoch_rows.get(run_id, [])
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
        title = " / ".join(metric_label(m) for m in sorted(metrics)) or "Metric"
        self.plot_titles = ("Loss", title[:1].upper() + title[1:])
        self._title_plots()
        self.legend.setText("&nbsp;&nbsp; ".join(entries) or "Tick runs to compare their curves.")
        self.legend.setToolTip("\n".join(self.legend_names))
        # The ticked runs, whole: every epoch's point, none at the edge, and every value
        # (no zoom of an earlier overlay survives into this one).
        for plot in (loss_plot, metric_plot):
            plot.getPlotItem().setXRange(1 - X_MARGIN, last_epoch + X_MARGIN, padding=0)
            plot.getPlotItem().enableAutoRange(axis="y")

    # ---------------------------------------------------------- actions

    def _update_buttons(self) -> None:
        run_id = self.selected_run()
        record = self.records.get(run_id) if run_id is not None else None
        # An interrupted run restores its network and curves so far (it has no weights);
        # a damaged one cannot be restored, only deleted.
        restorable = (
            record is not None
            and not record.damage
            and (record.checkpoint or record.status == "interrupted")
        )
        self.restore_button.setEnabled(bool(restorable))
        self.delete_button.setEnabled(record is not None and record.status != "running")
        hint, why = TICK_HINT, ""
        if record is not None and record.damage:
            hint = f"Run {record.id}'s record is damaged: it can only be deleted."
            why = record.damage
        elif record is not None and record.status == "interrupted":
            hint = f"Run {record.id} was interrupted: its curves were kept, no weights."
            why = f"Run {record.id}: {record.reason}"
        self.hint.setText(hint)
        self.hint.setToolTip(why or hint)

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
        try:
            store.delete_run(run_id)
        except RunStoreError as err:
            self._unreadable(err)
            return
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


def _without_file(err: RunStoreError, store: RunStore) -> str:
    """A run's damage as its row says it: "run 3's metrics … is damaged (…)"."""
    return str(err).removeprefix(f"{store.path}: ")
