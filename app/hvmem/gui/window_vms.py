"""The main window's VM area: the table of the current host's VMs, its filter, and
what selecting a VM shows.

`VmTableView` is the table's view. `VmAreaMixin` is the part of `MainWindow` that builds
the table under its title and filter box, and follows the selection into the details
pane, the Actions pane and the power actions. It is kept apart so that each file stays
readable; it relies on the window's `proxy`, `model`, `current_host`, `details`,
`actions_pane`, `settings_action`, `power_actions` and on `open_settings`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QItemSelection, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from hvmem.gui.vm_filter import FilterNote
from hvmem.gui.vm_table import COLUMN_INDEX, VM_ID_ROLE
from hvmem.model import VmSnapshot

if TYPE_CHECKING:
    from PySide6.QtGui import QAction

    from hvmem.gui.actions_pane import ActionsPane
    from hvmem.gui.details_pane import DetailsPane
    from hvmem.gui.host_view import HostView
    from hvmem.gui.power_actions import PowerActions
    from hvmem.gui.settings_dialog import SettingsDialog
    from hvmem.gui.table_header import WindowVmProxy
    from hvmem.gui.vm_table import VmTableModel

# Widths of the empty table; its first rows fit them to what they show (`ColumnSizer`).
_COLUMN_WIDTHS = (("Name", 120), ("State", 64), ("CPU Usage", 76),
                  ("Assigned Memory", 118), ("Startup Memory", 112),
                  ("Dynamic Memory", 112), ("Memory Demand", 112),
                  ("Memory Status", 102), ("Uptime", 74), ("Status", 124))


class VmTableView(QTableView):
    """The VM table's view: a VM that leaves the host takes its selection with it."""

    def rowsAboutToBeRemoved(self, parent: QModelIndex | QPersistentModelIndex,
                             start: int, end: int) -> None:
        # In single selection, Qt makes the next row current and selected when the
        # current one is removed, so Save or Shut Down (which ask nothing) would act on
        # a VM the user never chose. Nothing is selected instead.
        current = self.currentIndex()
        if current.isValid() and not parent.isValid() and start <= current.row() <= end:
            self.selectionModel().clear()
        super().rowsAboutToBeRemoved(parent, start, end)


class VmAreaMixin:
    """The VM table and its selection in a `MainWindow` (mixed into it)."""

    if TYPE_CHECKING:  # what the window provides
        proxy: WindowVmProxy
        model: VmTableModel
        current_host: HostView | None
        details: DetailsPane
        actions_pane: ActionsPane
        settings_action: QAction
        power_actions: PowerActions

        def open_settings(self, vm_id: str | None = None) -> SettingsDialog | None: ...

    # --- building -----------------------------------------------------------------

    def _build_vm_area(self) -> QWidget:
        # The table under its title, its filter box and the filter's note.
        self._build_table()
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Filter by name")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self.proxy.set_name_filter)
        filter_label = QLabel("V&irtual Machines")
        filter_label.setBuddy(self.filter_edit)
        font = filter_label.font()
        font.setBold(True)
        filter_label.setFont(font)
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 4, 0, 0)
        head = QHBoxLayout()
        self.filter_note = FilterNote(self.proxy, self.filter_edit)
        head.addWidget(filter_label)
        head.addStretch(1)
        head.addWidget(self.filter_note)
        head.addWidget(self.filter_edit)
        top_layout.addLayout(head)
        top_layout.addWidget(self.table)
        return top

    def _build_table(self) -> None:
        self.table = VmTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(COLUMN_INDEX["Name"], Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        rows = self.table.verticalHeader()
        rows.setDefaultSectionSize(self.table.fontMetrics().height() + 10)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        header.setHighlightSections(False)
        for title, width in _COLUMN_WIDTHS:
            self.table.setColumnWidth(COLUMN_INDEX[title], width)
        self.table.doubleClicked.connect(self._on_double_click)
        self.table.activated.connect(self._on_double_click)  # Enter on a row
        self.table.selectionModel().selectionChanged.connect(self._on_selection)

    # --- selection ---------------------------------------------------------------

    def selected_vm(self) -> VmSnapshot | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        return self.model.vm(rows[0].data(VM_ID_ROLE))

    def select_vm(self, vm_id: str) -> None:
        """Select the row of `vm_id` (for tests and for keyboard users)."""
        row = self.model.row_of(vm_id)
        if row is None:
            return
        index = self.proxy.mapFromSource(self.model.index(row, 0))
        self.table.selectRow(index.row())

    def _on_selection(self, _selected: QItemSelection,
                      _deselected: QItemSelection) -> None:
        self._show_selected()

    def _show_selected(self) -> None:
        vm = self.selected_vm()
        host = self.current_host
        samples = host.history.samples(vm.id) if vm is not None and host else []
        now = (host.updated_at or 0.0) if host else 0.0
        self.details.show_vm(vm, samples, now)
        self.actions_pane.set_vm(vm.name if vm else "")
        self.settings_action.setEnabled(vm is not None)
        fit = self.power_actions.show_vm(vm, host)
        self.details.show_note(fit.message if fit else "",
                               "note" if fit is None or fit.fits else "warning")

    def refresh_selection(self) -> None:
        """Show the selected VM's figures and actions again (after a state change)."""
        self._show_selected()

    def _on_double_click(self, index: QModelIndex) -> None:
        self.open_settings(index.data(VM_ID_ROLE))

    def _focus_filter(self) -> None:
        self.filter_edit.setFocus()
        self.filter_edit.selectAll()
