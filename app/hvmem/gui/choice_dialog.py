"""A result box that offers choices: what happened, Hyper-V's reason, Details, buttons.

Used for outcomes the user must decide on (a partial resize: keep what was achieved,
try again, or go back) and for questions (unapplied edits when a window closes). It
opens window-modal without a nested event loop, like every box hvmem shows, and tells
its answer by signal; the notifier is the only one that opens it outside screenshots.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QStyle,
    QWidget,
)

from hvmem.gui.result_dialog import ResultMessage

_ICONS = {"error": QStyle.StandardPixmap.SP_MessageBoxCritical,
          "warning": QStyle.StandardPixmap.SP_MessageBoxWarning,
          "info": QStyle.StandardPixmap.SP_MessageBoxInformation,
          "question": QStyle.StandardPixmap.SP_MessageBoxQuestion}


class ChoiceDialog(QDialog):
    """A message with one button per choice and the host's text under Details.

    Enter takes `default`, which is the harmless choice (`escape`, unless the caller
    names another), so a user who presses Enter by habit never pulls the plug.

    Signals:
        answered(str): the key of the choice the user took (Esc gives `escape`).
    """

    answered = Signal(str)

    def __init__(self, message: ResultMessage, choices: Sequence[tuple[str, str]],
                 escape: str = "", parent: QWidget | None = None,
                 default: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle(message.title)
        self.escape = escape or choices[-1][0]
        self.default = default or self.escape
        self._answer = ""
        size = self.style().pixelMetric(QStyle.PixelMetric.PM_MessageBoxIconSize)
        icon = QLabel()
        icon.setPixmap(self.style().standardIcon(_ICONS.get(
            message.severity, _ICONS["error"])).pixmap(size, size))
        self.summary = QLabel(message.summary)
        font = self.summary.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.1)
        self.summary.setFont(font)
        self.summary.setWordWrap(True)
        self.informative = QLabel(message.informative)
        self.informative.setWordWrap(True)
        self.informative.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse)
        self.informative.setMinimumWidth(480)
        self.details = QPlainTextEdit(message.details)
        self.details.setReadOnly(True)
        self.details.setVisible(False)
        self.details.setMinimumHeight(110)

        self.buttons = QDialogButtonBox()
        self.choice_buttons: dict[str, QPushButton] = {}
        for key, label in choices:
            button = self.buttons.addButton(label, QDialogButtonBox.ButtonRole.ActionRole)
            button.clicked.connect(lambda _c=False, k=key: self.choose(k))
            button.setDefault(key == self.default)
            # Only the default takes Enter, even while another button has the focus.
            button.setAutoDefault(key == self.default)
            self.choice_buttons[key] = button
        self.details_button = QPushButton("Show &Details…")
        self.details_button.setCheckable(True)
        self.details_button.toggled.connect(self._toggle_details)
        self.details_button.setVisible(bool(message.details))

        grid = QGridLayout(self)
        grid.addWidget(icon, 0, 0, 2, 1, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(self.summary, 0, 1)
        grid.addWidget(self.informative, 1, 1)
        grid.addWidget(self.details, 2, 0, 1, 2)
        grid.addWidget(self.details_button, 3, 0, 1, 1, Qt.AlignmentFlag.AlignLeft)
        grid.addWidget(self.buttons, 3, 1)
        grid.setColumnStretch(1, 1)
        grid.setRowStretch(2, 1)
        if self.default in self.choice_buttons:
            self.choice_buttons[self.default].setFocus()

    def _toggle_details(self, shown: bool) -> None:
        self.details.setVisible(shown)
        self.details_button.setText("Hide &Details" if shown else "Show &Details…")
        self.adjustSize()

    def choose(self, key: str) -> None:
        """Take the choice `key` and close."""
        self._answer = key
        self.answered.emit(key)
        self.accept()

    def reject(self) -> None:
        if not self._answer:
            self._answer = self.escape
            self.answered.emit(self.escape)
        super().reject()
