"""The right pane: the actions at hand, in sections, as Hyper-V Manager's Actions pane.

A section for the window (Connect to Server), one for the current host (Refresh, pause,
Disconnect) and one for the selected VM (Settings). Each entry is a flat button bound to
a `QAction`, so menus, shortcuts and the pane share one enabled state. The VM section has
room for more entries (`add_vm_action`), for VM operations such as Start or Shut Down.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QPalette
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from hvmem.gui.status_line import ElidedLabel


class _Section(QWidget):
    """A titled group of action buttons."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # Elided to the pane's width (a long VM or host name), whole in its tooltip.
        self.header = ElidedLabel()
        self.header.set_full_text(title)
        self.header.setBackgroundRole(QPalette.ColorRole.Midlight)
        self.header.setAutoFillBackground(True)
        self.header.setContentsMargins(6, 3, 6, 3)
        font = self.header.font()
        font.setBold(True)
        self.header.setFont(font)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 6)
        self._layout.setSpacing(0)
        self._layout.addWidget(self.header)

    def add(self, action: QAction) -> QToolButton:
        button = QToolButton()
        button.setDefaultAction(action)
        button.setAutoRaise(True)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self._layout.addWidget(button)
        return button

    def set_title(self, title: str) -> None:
        self.header.set_full_text(title)

    def title(self) -> str:
        return self.header.full_text()


class ActionsPane(QScrollArea):
    """The Actions pane: window, host and VM sections."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(0, 4, 4, 0)
        title = QLabel("Actions")
        font = title.font()
        font.setBold(True)
        title.setFont(font)
        layout.addWidget(title)
        self.window_section = _Section("hvmem")
        self.host_section = _Section("No host")
        self.vm_section = _Section("No VM selected")
        for section in (self.window_section, self.host_section, self.vm_section):
            layout.addWidget(section)
        layout.addStretch(1)
        self.setWidget(body)
        self.buttons: dict[str, QToolButton] = {}

    def add_window_action(self, action: QAction) -> None:
        self.buttons[action.objectName()] = self.window_section.add(action)

    def add_host_action(self, action: QAction) -> None:
        self.buttons[action.objectName()] = self.host_section.add(action)

    def add_vm_action(self, action: QAction) -> None:
        """Add an entry to the VM section (VM operations plug in here)."""
        self.buttons[action.objectName()] = self.vm_section.add(action)

    def set_host(self, title: str) -> None:
        self.host_section.set_title(title or "No host")

    def set_vm(self, name: str) -> None:
        self.vm_section.set_title(name or "No VM selected")
