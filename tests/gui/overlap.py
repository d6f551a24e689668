"""Find widgets drawn over each other: walk a window's widget tree and report every
pair of visible siblings whose rectangles intersect.

Qt's layouts never place two widgets on one spot on purpose; they do when the space
they are given is below what their widgets need: a widget's minimum size wins over
the geometry its layout asks for, and it then spills onto its neighbours (a spin box
over the button beside it, a fixed-height label under the chart above it). So any two
visible, non-empty siblings that intersect are a fault, with these exceptions, each a
place where Qt stacks widgets by design:

- a child that is a window of its own (a popup, a tooltip, a floating dock) is not
  laid out in its parent;
- hidden widgets (QStackedWidget's other pages, a scroll bar not needed) and the
  parts of widgets outside their parent (a tabbed dock behind the front one is moved
  out of the window; a scroll area's content reaches past its viewport) draw nothing:
  rectangles are clipped to the parent before they are compared.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QRect
from PySide6.QtWidgets import QWidget


@dataclass(frozen=True)
class Overlap:
    parent: str
    first: str
    second: str
    first_rect: QRect
    second_rect: QRect

    def __str__(self) -> str:
        shared = self.first_rect.intersected(self.second_rect)
        return (
            f"in {self.parent}: {self.first} {_rect(self.first_rect)} and {self.second} "
            f"{_rect(self.second_rect)} share {shared.width()}×{shared.height()} px"
        )


def _rect(rect: QRect) -> str:
    return f"({rect.x()},{rect.y()} {rect.width()}×{rect.height()})"


def describe(widget: QWidget) -> str:
    """A widget's path from the window: class names with object names or texts."""
    parts = []
    current: QWidget | None = widget
    while current is not None:
        name = current.objectName()
        text = ""
        if hasattr(current, "text") and callable(current.text):
            try:
                text = str(current.text())[:24]
            except TypeError:
                text = ""
        if not text and hasattr(current, "windowTitle") and current.isWindow() is False:
            text = current.windowTitle() if type(current).__name__ == "QDockWidget" else ""
        label = type(current).__name__
        if name and not name.startswith("qt_"):
            label += f"#{name}"
        if text:
            label += f"[{text!r}]"
        parts.append(label)
        if current.isWindow():
            break
        current = current.parentWidget()
    return " > ".join(reversed(parts[:5]))


def shown_children(widget: QWidget) -> list[tuple[QWidget, QRect]]:
    """Direct child widgets that draw in `widget`, with the part of `widget` each
    covers: visible, not windows, not empty once clipped to `widget`."""
    children = []
    for child in widget.children():
        if not isinstance(child, QWidget) or child.isWindow() or not child.isVisible():
            continue
        shown = child.geometry().intersected(widget.rect())
        if shown.isEmpty():
            continue  # (a tabbed dock behind the front one is moved out of the window)
        children.append((child, shown))
    return children


def overlaps(root: QWidget) -> list[Overlap]:
    """Every pair of visible siblings under `root` (included) whose rectangles meet."""
    found: list[Overlap] = []
    stack = [root]
    while stack:
        widget = stack.pop()
        children = shown_children(widget)
        for i, (first, first_rect) in enumerate(children):
            for second, second_rect in children[i + 1 :]:
                if first_rect.intersects(second_rect):
                    found.append(
                        Overlap(
                            describe(widget),
                            describe(first),
                            describe(second),
                            first_rect,
                            second_rect,
                        )  # fmt: skip
                    )
        stack.extend(child for child, _ in children)
    return found
