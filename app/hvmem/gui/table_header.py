"""The VM table's header in the window: titles that fit, and widths that show them.

`WindowVmProxy` is the window's sort proxy with a short title where Hyper-V Manager's
is long ("Version" for "Configuration Version"), the full title as the header's
tooltip. `ColumnSizer` gives each column, once, at the first fill, the width of its
contents or its header text, whichever is wider, unless the user's widths were
remembered; the last column stretches. So the default window shows every header whole,
without a horizontal scroll bar, and the widths the user sets come back next time.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QTableView

from hvmem.gui.vm_table import COLUMN_INDEX, COLUMNS, VmSortProxy

# Long titles and what the header shows instead (the full title is its tooltip).
SHORT_TITLES = {"Configuration Version": "Version"}
# Room around a header's text (margins, and the sort arrow of the sorted column).
HEADER_PADDING = 20
# A long VM name should not take the whole table at first; the user can widen it.
MAX_FIRST_WIDTH = 260


class WindowVmProxy(VmSortProxy):
    """The VM sort proxy with header titles that fit (full titles as tooltips)."""

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        horizontal = orientation is Qt.Orientation.Horizontal
        if horizontal and 0 <= section < len(COLUMNS):
            title = COLUMNS[section].title
            if role == Qt.ItemDataRole.DisplayRole:
                return SHORT_TITLES.get(title, title)
            if role == Qt.ItemDataRole.ToolTipRole:
                return title
        return super().headerData(section, orientation, role)


def header_text(title: str) -> str:
    """What the header shows for the column `title`."""
    return SHORT_TITLES.get(title, title)


class ColumnSizer(QObject):
    """Sizes the table's columns once, at its first rows, unless widths were given."""

    def __init__(self, table: QTableView, remembered: dict[str, int],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.table = table
        self.sized = False
        for title, width in remembered.items():
            if title in COLUMN_INDEX and width > 0:
                table.setColumnWidth(COLUMN_INDEX[title], width)
                self.sized = True  # the user's widths win over any guess

    def fill(self) -> None:
        """The table has rows: fit each column to them and to its header, once."""
        if self.sized or self.table.model().rowCount() == 0:
            return
        self.sized = True
        metrics = self.table.horizontalHeader().fontMetrics()
        for number, column in enumerate(COLUMNS):
            text = metrics.horizontalAdvance(header_text(column.title)) + HEADER_PADDING
            width = max(self.table.sizeHintForColumn(number), text)
            self.table.setColumnWidth(number, min(width, MAX_FIRST_WIDTH))

    def widths(self) -> dict[str, int]:
        """The shown columns' widths by title (a hidden one has none to tell)."""
        header = self.table.horizontalHeader()
        return {column.title: header.sectionSize(number)
                for number, column in enumerate(COLUMNS)
                if not header.isSectionHidden(number)}
