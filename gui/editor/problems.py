"""The status bar's problem count: a button whose tooltip lists the problems and whose
click opens the list; choosing a block's problem selects that block.

Problems that belong to no block ("the graph has no Input block") are listed too, so
an empty project explains its count instead of showing a bare number.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QMenu, QToolButton, QWidget

from engine.graph.graph import Problem

MAX_LISTED = 30  # a menu taller than the screen helps nobody; the Summary has them all


class ProblemsButton(QToolButton):
    node_chosen = Signal(str)  # a block's problem was chosen: show that block
    summary_requested = Signal()  # a graph-level problem, or "all of them", was chosen

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("problemsButton")
        self.setAutoRaise(True)
        self.problems: list[Problem] = []
        self.clicked.connect(self.show_list)
        self.show_problems([])

    def show_problems(self, problems: list[Problem]) -> None:
        if self.problems == problems and self.text():
            return  # an edit that left the problems as they were (the common case)
        self.problems = list(problems)
        count = len(problems)
        self.setProperty("failing", bool(count))
        self.style().unpolish(self)
        self.style().polish(self)
        if count:
            self.setText(f"⚠ {count} problem{'s' * (count != 1)}")
            lines = [p.message for p in problems[:MAX_LISTED]]
            more = count - len(lines)
            self.setToolTip("\n".join(lines + ([f"… and {more} more"] if more else [])))
        else:
            self.setText("✓ every wire fits")
            self.setToolTip("No problems: every block has the input it needs.")

    def list_menu(self) -> QMenu:
        """The menu a click opens: one entry per problem."""
        menu = QMenu(self)
        for problem in self.problems[:MAX_LISTED]:
            action = menu.addAction(problem.message)
            if problem.node is not None:
                action.triggered.connect(lambda _c=False, n=problem.node: self.node_chosen.emit(n))
            else:
                action.triggered.connect(lambda _c=False: self.summary_requested.emit())
        if len(self.problems) > MAX_LISTED:
            menu.addSeparator()
            more = menu.addAction(f"All {len(self.problems)} problems in the Summary")
            more.triggered.connect(lambda _c=False: self.summary_requested.emit())
        return menu

    def show_list(self) -> None:
        if not self.problems:
            return
        menu = self.list_menu()
        # Above the button: the status bar sits at the bottom of the window.
        corner = self.mapToGlobal(self.rect().topLeft())
        corner.setY(corner.y() - menu.sizeHint().height())
        menu.popup(corner)
