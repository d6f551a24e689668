"""A closed set of widget factories, one per `Param.kind`, for the inspector.

Each editor validates as the user types (with the spec's own `Param.validate`, so the
rules live in one place), shows what is wrong under the field, and calls `on_commit`
with a valid value only when the user finishes an edit.

Ctrl+Z in a text field undoes what the user typed there and has not committed yet; with
nothing pending it is the window's Undo (the project's last edit), as in desktop apps.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QLabel,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from engine.blocks.spec import Param, ParamError

Commit = Callable[[Any], None]
INT_LIMIT = 2**31 - 1
UNDO, REDO = QKeySequence.StandardKey.Undo, QKeySequence.StandardKey.Redo


class PendingTextUndo(QObject):
    """Event filter on a field's QLineEdit. A QLineEdit claims Ctrl+Z for its own
    history even when that is empty (the value was set by the program), so the window's
    Undo never ran while a field had focus. This lets the field keep Ctrl+Z / Ctrl+Shift+Z
    only while it holds text that differs from the committed value (or a redo of it)."""

    def __init__(self, field: QWidget, edit: QLineEdit) -> None:
        super().__init__(edit)
        self.edit = edit
        self.committed = edit.text()
        # A spin box or combo box keeps the focus itself and hands keys to its line
        # edit; whichever gets the key first decides.
        for widget in {field, edit}:
            widget.installEventFilter(self)

    def remember(self) -> None:
        """The value shown now is the committed one (the editor was just set)."""
        self.committed = self.edit.text()

    def pending(self) -> bool:
        return self.edit.text() != self.committed

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        kind = event.type()
        if kind not in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress):
            return False
        if not isinstance(event, QKeyEvent):
            return False
        undo, redo = event.matches(UNDO), event.matches(REDO)
        if not (undo or redo):
            return False
        mine = self.pending() if undo else self.edit.isRedoAvailable()
        if kind == QEvent.Type.ShortcutOverride:
            if mine:
                event.accept()  # the key press comes to the field
                return True
            event.ignore()  # the window's Undo / Redo shortcut runs instead
            return True
        if undo:
            if self.edit.isUndoAvailable():
                self.edit.undo()
            else:
                self.edit.setText(self.committed)
        elif self.edit.isRedoAvailable():
            self.edit.redo()
        if self.edit.text() == self.committed:
            self.edit.textEdited.emit(self.edit.text())  # clears a stale "invalid" note
        return True


class ParamEditor:
    """The widget for one parameter plus a line for its validation message."""

    def __init__(self, param: Param, on_commit: Commit) -> None:
        self.param = param
        self.on_commit = on_commit
        self.error = QLabel()
        self.error.setObjectName("fieldError")
        self.error.setWordWrap(True)
        self.error.hide()
        self.widget: QWidget = self.build()
        self.widget.setToolTip(f"{param.help}\n\nExpected: {param.expectation()}")
        edit = self.widget if isinstance(self.widget, QLineEdit) else None
        edit = edit or self.widget.findChild(QLineEdit)
        self.text_undo = PendingTextUndo(self.widget, edit) if edit is not None else None

    def show_value(self, value: Any) -> None:
        """Show the committed `value`; what the field shows now is nothing pending."""
        self.set_value(value)
        if self.text_undo is not None:
            self.text_undo.remember()

    def build(self) -> QWidget:
        raise NotImplementedError

    def set_value(self, value: Any) -> None:
        raise NotImplementedError

    def show_error(self, message: str | None) -> None:
        self.error.setText(message or "")
        self.error.setVisible(bool(message))
        self.widget.setProperty("invalid", bool(message))
        self.widget.style().unpolish(self.widget)
        self.widget.style().polish(self.widget)

    def check(self, raw: Any) -> Any | None:
        """The validated value, or None after showing why it is refused."""
        try:
            value = self.param.validate(raw)
        except ParamError as err:
            self.show_error(f"{self.param.name}: {err}")
            return None
        self.show_error(None)
        return value


class IntEditor(ParamEditor):
    def build(self) -> QWidget:
        box = QSpinBox()
        low = self.param.minimum if self.param.minimum is not None else -INT_LIMIT
        high = next(v for v in (self.param.maximum, self.param.limit, INT_LIMIT) if v is not None)
        # A QSpinBox holds a signed 32-bit int: a wider bound (a seed's 2**32 - 1) is cut
        # to what it can show; validate() still checks the param's own bounds.
        box.setRange(max(int(low), -INT_LIMIT), min(int(high), INT_LIMIT))
        box.setKeyboardTracking(False)  # valueChanged on Enter/focus-out/arrows, not per key
        box.setCorrectionMode(QAbstractSpinBox.CorrectionMode.CorrectToNearestValue)
        box.valueChanged.connect(lambda v: self.on_commit(v) if self.check(v) is not None else None)
        self.box = box
        return box

    def set_value(self, value: Any) -> None:
        self.box.blockSignals(True)
        self.box.setValue(int(value))
        self.box.blockSignals(False)


class FloatEditor(ParamEditor):
    def build(self) -> QWidget:
        box = QDoubleSpinBox()
        low = self.param.minimum if self.param.minimum is not None else -1e9
        high = self.param.maximum if self.param.maximum is not None else 1e9
        box.setRange(low, high)
        # Enough decimals for a hundredth of the default: a norm's eps 1e-5 shows (not 0).
        default = abs(self.param.default)
        box.setDecimals(max(4, 2 - math.floor(math.log10(default))) if default else 4)
        box.setSingleStep(0.05 if high - low <= 1 else 0.1)
        box.setKeyboardTracking(False)
        box.valueChanged.connect(
            lambda v: self.on_commit(float(v)) if self.check(v) is not None else None
        )
        self.box = box
        return box

    def set_value(self, value: Any) -> None:
        self.box.blockSignals(True)
        self.box.setValue(float(value))
        self.box.blockSignals(False)


class BoolEditor(ParamEditor):
    def build(self) -> QWidget:
        box = QCheckBox()
        box.toggled.connect(lambda checked: self.on_commit(bool(checked)))
        self.box = box
        return box

    def set_value(self, value: Any) -> None:
        self.box.blockSignals(True)
        self.box.setChecked(bool(value))
        self.box.blockSignals(False)


class ChoiceEditor(ParamEditor):
    def build(self) -> QWidget:
        box = QComboBox()
        box.addItems(list(self.param.choices))
        box.currentTextChanged.connect(
            lambda text: self.on_commit(text) if self.check(text) is not None else None
        )
        self.box = box
        return box

    def set_value(self, value: Any) -> None:
        self.box.blockSignals(True)
        self.box.setCurrentText(str(value))
        self.box.blockSignals(False)


def parse_int_or_choice(text: str) -> Any:
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        return text


def parse_per_axis(text: str) -> Any:
    """'3' → 3, '1,2,2' or '(1, 2, 2)' → [1, 2, 2]; anything else (a choice) as text."""
    sizes = parse_ints(text.replace("(", " ").replace(")", " "))
    if isinstance(sizes, list) and sizes:
        return sizes[0] if len(sizes) == 1 else sizes
    return text.strip()


class IntOrChoiceEditor(ParamEditor):
    """An editable combo: pick a named choice ('same') or type a number."""

    parse = staticmethod(parse_int_or_choice)

    def build(self) -> QWidget:
        box = QComboBox()
        box.setEditable(True)
        box.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        box.addItems(list(self.param.choices))
        box.lineEdit().textEdited.connect(lambda text: self.check(self.parse(text)))
        box.lineEdit().editingFinished.connect(self._finish)
        box.activated.connect(lambda _index: self._finish())
        self.box = box
        return box

    @staticmethod
    def show(value: Any) -> str:
        return str(value)

    def _finish(self) -> None:
        value = self.check(self.parse(self.box.currentText()))
        if value is not None:
            self.on_commit(value)

    def set_value(self, value: Any) -> None:
        self.box.blockSignals(True)
        self.box.lineEdit().blockSignals(True)
        self.box.setCurrentText(self.show(value))
        self.box.lineEdit().blockSignals(False)
        self.box.blockSignals(False)
        self.show_error(None)


class PerAxisEditor(IntOrChoiceEditor):
    """One size for every axis ('3'), one per axis ('1, 2, 2'), or a named choice."""

    parse = staticmethod(parse_per_axis)

    @staticmethod
    def show(value: Any) -> str:
        return ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)


def parse_ints(text: str) -> Any:
    """'8, 1, 32, 32' or '[8 1 32 32]' → [8, 1, 32, 32]; anything else comes back as text."""
    cleaned = text.replace("[", " ").replace("]", " ").replace(",", " ").split()
    try:
        return [int(part) for part in cleaned]
    except ValueError:
        return text


class IntsEditor(ParamEditor):
    def build(self) -> QWidget:
        edit = QLineEdit()
        edit.setPlaceholderText("e.g. 8, 1, 32, 32")
        edit.textEdited.connect(lambda text: self.check(parse_ints(text)))
        edit.editingFinished.connect(self._finish)
        self.edit = edit
        return edit

    def _finish(self) -> None:
        value = self.check(parse_ints(self.edit.text()))
        if value is not None:
            self.on_commit(value)

    def set_value(self, value: Any) -> None:
        self.edit.blockSignals(True)
        self.edit.setText(", ".join(str(v) for v in value))
        self.edit.blockSignals(False)
        self.show_error(None)


FACTORIES: dict[str, type[ParamEditor]] = {
    "int": IntEditor,
    "float": FloatEditor,
    "bool": BoolEditor,
    "choice": ChoiceEditor,
    "int_or_choice": IntOrChoiceEditor,
    "ints": IntsEditor,
    "per_axis": PerAxisEditor,
}


def make_editor(param: Param, on_commit: Commit) -> ParamEditor:
    try:
        factory = FACTORIES[param.kind]
    except KeyError:
        raise ValueError(f"parameter {param.name!r}: no editor for kind {param.kind!r}") from None
    return factory(param, on_commit)
