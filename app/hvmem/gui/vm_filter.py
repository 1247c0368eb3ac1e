"""The VM filter's note: how many VMs a name filter shows, and Esc to clear it.

A filter hides VMs silently otherwise, and it stays when the user switches hosts, so an
empty table could read as a host without VMs. `FilterNote` says plainly "Showing 0 of
10 VMs — filter 'winzz'" while a filter is active and hides when there is none.
"""

from __future__ import annotations

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QLabel, QLineEdit, QWidget

from hvmem.gui.theme import message_style


class FilterNote(QLabel):
    """Follows `proxy` (its filtered rows) and `edit` (the filter text)."""

    def __init__(self, proxy: QSortFilterProxyModel, edit: QLineEdit,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.proxy = proxy
        self.edit = edit
        self.setStyleSheet(message_style("note", self))
        self.setVisible(False)
        for signal in (proxy.rowsInserted, proxy.rowsRemoved, proxy.modelReset,
                       proxy.layoutChanged, proxy.sourceModelChanged):
            signal.connect(self.update_note)
        edit.textChanged.connect(self.update_note)

        # Esc in the box clears the filter (and nothing else: the window has no Esc).
        clear = QShortcut(QKeySequence(Qt.Key.Key_Escape), edit)
        clear.setContext(Qt.ShortcutContext.WidgetShortcut)
        clear.activated.connect(edit.clear)

    def update_note(self, *_args: object) -> None:
        """Show the count of shown VMs of all, or hide when no filter is active."""
        text = self.edit.text().strip()
        source = self.proxy.sourceModel()
        if not text or source is None:
            self.setVisible(False)
            return

        shown, total = self.proxy.rowCount(), source.rowCount()
        self.setText(f"Showing {shown} of {total} VMs — filter '{text}' (Esc clears)")
        self.setVisible(True)
