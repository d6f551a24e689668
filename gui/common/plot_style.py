"""pyqtgraph plots in NetLoom's dark theme, and the colours every training view shares."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QGraphicsItem

from gui.common import theme

BACKGROUND = "#1b1d21"
AXIS = "#4a505a"
AXIS_TEXT = "#9aa3ae"
TRAIN = "#5b8fd6"
TRAIN_SMOOTH = "#9cc2ff"
VAL = "#f0b23c"
METRIC_TRAIN = "#4cc38a"
LR = "#c58af9"
CROSSHAIR = "#6c727c"
# Runs overlaid in the Runs view take these in turn.
RUN_COLOURS = ("#5b8fd6", "#f0b23c", "#4cc38a", "#e5484d", "#c58af9", "#2fb8c6", "#e58a3b")


def styled_plot(title: str, left: str = "", bottom: str = "", grid: bool = True) -> pg.PlotWidget:
    """A PlotWidget with a dark background, dim axes and (unless `grid` is False) a faint
    grid. Live plots go without: pyqtgraph draws grid lines as translucent tick lines,
    which tripled a repaint of the three live curves (7 → 18 ms at 1200 × 360)."""
    plot = pg.PlotWidget(background=BACKGROUND)
    # Its background fills it: Qt need not paint the dock behind it first (that was
    # ~10% of the GUI thread's time in a run, the curves repainting 10 times a second).
    plot.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
    plot.viewport().setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
    item = plot.getPlotItem()
    item.setTitle(title, color=theme.TEXT.name(), size="9.5pt")
    if grid:
        item.showGrid(x=True, y=True, alpha=0.12)
    item.setMenuEnabled(False)
    item.hideButtons()
    font = QFont()
    font.setPointSizeF(8.5)
    for name in ("left", "bottom"):
        axis = item.getAxis(name)
        axis.setPen(pg.mkPen(AXIS))
        axis.setTextPen(pg.mkPen(AXIS_TEXT))
        axis.setTickFont(font)
    if left:
        item.setLabel("left", left, color=AXIS_TEXT)
    if bottom:
        item.setLabel("bottom", bottom, color=AXIS_TEXT)
    plot.setMinimumHeight(120)
    return plot


def pen(colour: str, width: float = 1.5, alpha: int = 255) -> object:
    c = QColor(colour)
    c.setAlpha(alpha)
    return pg.mkPen(c, width=width)


def brush(colour: str, alpha: int = 255) -> object:
    c = QColor(colour)
    c.setAlpha(alpha)
    return pg.mkBrush(c)


def fast_curve(plot: pg.PlotWidget, colour: str, width: float = 1.5, alpha: int = 255, name=""):
    """A curve for data that is already finite: clip to view, peak downsampling, and
    no finite check (callers filter NaN and infinity before they add points)."""
    return plot.plot(
        pen=pen(colour, width, alpha),
        name=name or None,
        clipToView=True,
        autoDownsample=True,
        downsampleMethod="peak",
        skipFiniteCheck=True,
    )


def epoch_points(plot: pg.PlotWidget, colour: str, name: str = "", line: bool = True):
    """Per-epoch values: a thin line through round markers."""
    item = plot.plot(
        pen=pen(colour, 1.2, 200) if line else None,
        symbol="o",
        symbolSize=7,
        symbolPen=pg.mkPen(BACKGROUND, width=1.2),
        symbolBrush=brush(colour),
        name=name or None,
        skipFiniteCheck=True,
    )
    # The markers change once an epoch, but the plot repaints them with every live
    # redraw of the batch curves beside them (~0.5 ms of pyqtgraph's Python a time):
    # painted once into a pixmap, they are copied until they or the view change.
    item.scatter.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
    return item


def legend_below(plot: pg.PlotWidget, columns: int = 1) -> pg.LegendItem:
    """A legend under the plot's x axis, outside the data: entries added with a name
    (plot(..., name=...)) go into it, as with pyqtgraph's own addLegend, which would
    place it on top of the curves."""
    item = plot.getPlotItem()
    legend = pg.LegendItem(
        colCount=columns, labelTextColor="#c9ced6", labelTextSize="8pt", horSpacing=4
    )
    legend.setFlag(legend.GraphicsItemFlag.ItemIgnoresTransformations, False)
    item.layout.addItem(legend, 4, 1)
    item.legend = legend
    return legend


METRIC_LABELS = {"mse": "MSE", "mae": "MAE", "mean_iou": "mean IoU"}


def metric_label(metric: str) -> str:
    """How a metric is named to the user: "accuracy", "MSE", "mean IoU"."""
    return METRIC_LABELS.get(metric, metric.replace("_", " "))


def metric_title(metric: str) -> str:
    """A metric as a plot's title: "Accuracy", "MSE", "Mean IoU"."""
    label = metric_label(metric)
    return label[:1].upper() + label[1:]
