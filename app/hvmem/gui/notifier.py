"""The one error helper: every message box hvmem shows goes through `Notifier`.

A box has a one-line summary a person understands, informative text (what was asked,
what the VM has now, what to try), and the host's own text and ids in a collapsed
Details area. The same text goes to the log. `ask` shows a box with choices (a partial
result's keep / try again / go back, or unapplied edits at close) and calls back with
the answer. Tests hand the window a fake notifier that records calls and answers for
the user, so no test ever opens a real modal box.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import (
    QGridLayout,
    QMessageBox,
    QSizePolicy,
    QSpacerItem,
    QWidget,
)

from hvmem.errors import HvmemError
from hvmem.gui.choice_dialog import ChoiceDialog
from hvmem.gui.result_dialog import ResultMessage, describe_error

log = logging.getLogger("hvmem.gui")


class ErrorBox(QMessageBox):
    """A message box with the summary up top and the host's text under Details."""

    def __init__(self, message: ResultMessage, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        icons = {"error": QMessageBox.Icon.Critical, "warning": QMessageBox.Icon.Warning,
                 "info": QMessageBox.Icon.Information}
        self.setIcon(icons.get(message.severity, QMessageBox.Icon.Critical))
        self.setWindowTitle(message.title)
        self.setText(message.summary)
        self.setInformativeText(message.informative)
        if message.details:
            # QMessageBox keeps the detailed text collapsed behind "Show Details...".
            self.setDetailedText(message.details)
        self.setStandardButtons(QMessageBox.StandardButton.Ok)
        # QMessageBox sizes itself to its text's first guess; host texts read better
        # wider, so a spacer across the bottom sets a floor.
        grid = self.layout()
        if isinstance(grid, QGridLayout):
            spacer = QSpacerItem(520, 0, QSizePolicy.Policy.Minimum,
                                 QSizePolicy.Policy.Expanding)
            grid.addItem(spacer, grid.rowCount(), 0, 1, grid.columnCount())
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)


class Notifier(QObject):
    """Shows errors and results to the user, and logs them.

    Boxes open window-modal without a nested event loop (`open`), so polling and workers
    keep delivering while a box is up.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._open_boxes: list[ErrorBox] = []

    def error(self, summary: str, details: str = "", parent: QWidget | None = None,
              informative: str = "", title: str = "hvmem") -> None:
        """Show one error: `summary` up top, `details` collapsed."""
        self.show_message(ResultMessage(title, summary, informative, details, "error"),
                          parent)

    def show_error(self, error: HvmemError, parent: QWidget | None = None) -> None:
        """Show an `HvmemError` with its hint and the host's details."""
        self.show_message(describe_error(error), parent)

    def show_result(self, message: ResultMessage, parent: QWidget | None = None) -> None:
        """Show the outcome of an apply that did not simply succeed."""
        self.show_message(message, parent)

    def show_message(self, message: ResultMessage, parent: QWidget | None = None) -> None:
        level = logging.WARNING if message.severity != "info" else logging.INFO
        log.log(level, "%s: %s\n%s\n%s", message.title, message.summary,
                message.informative, message.details)

        box = ErrorBox(message, parent)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._open_boxes.append(box)
        box.finished.connect(lambda _code, b=box: self._forget(b))
        box.open()

    def ask(self, message: ResultMessage, choices: Sequence[tuple[str, str]],
            on_answer: Callable[[str], None], parent: QWidget | None = None,
            escape: str = "", default: str = "") -> None:
        """Show `message` with one button per (key, label) choice; call `on_answer`
        with the key taken (Esc or closing gives `escape`, else the last choice).
        Enter takes `default`, else `escape`: the harmless choice."""
        log.log(logging.WARNING if message.severity != "info" else logging.INFO,
                "%s: %s\n%s\n%s", message.title, message.summary, message.informative,
                message.details)
        box = ChoiceDialog(message, choices, escape, parent, default)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.answered.connect(on_answer)
        box.open()

    def show_blocking(self, message: ResultMessage,
                      parent: QWidget | None = None) -> None:
        """Show a box and wait for it (only where no event loop runs yet: at start)."""
        log.error("%s: %s\n%s\n%s", message.title, message.summary, message.informative,
                  message.details)
        ErrorBox(message, parent).exec()

    def _forget(self, box: ErrorBox) -> None:
        if box in self._open_boxes:
            self._open_boxes.remove(box)
