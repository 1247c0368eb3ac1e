"""The main window: a host's VMs in a table, the selected VM's memory below, a status bar.

It looks like Hyper-V Manager's centre pane. The table refreshes in place from the host's
poller every couple of seconds, keeping selection, scroll position and sort order. The
Settings action (or a double-click) opens the VM's settings on the Memory page; open
settings windows receive every fresh inventory too.
"""

from __future__ import annotations

import logging
import time

from PySide6.QtCore import QItemSelection, QModelIndex, Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QMainWindow,
    QSplitter,
    QTableView,
    QWidget,
)

from hvmem import __version__
from hvmem.errors import HvmemError
from hvmem.gui.details_pane import DetailsPane
from hvmem.gui.notifier import Notifier
from hvmem.gui.poller import DEFAULT_INTERVAL_MS, HostPoller, PollState
from hvmem.gui.result_dialog import ResultMessage
from hvmem.gui.runner import Runner
from hvmem.gui.session import HostSession
from hvmem.gui.settings_dialog import SettingsDialog
from hvmem.gui.vm_table import COLUMN_INDEX, VM_ID_ROLE, VmSortProxy, VmTableModel
from hvmem.model import Inventory, VmSnapshot
from hvmem.units import format_mb

log = logging.getLogger("hvmem.gui")


class MainWindow(QMainWindow):
    """One host's VMs, their memory, and the way into each VM's memory settings."""

    def __init__(self, session: HostSession, runner: Runner | None = None,
                 notifier: Notifier | None = None,
                 poll_interval_ms: int = DEFAULT_INTERVAL_MS,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.runner = runner or Runner(self)
        self.notifier = notifier or Notifier(self)
        self.inventory: Inventory | None = None
        self.dialogs: dict[str, SettingsDialog] = {}
        self.setWindowTitle(f"hvmem — {session.title}")

        self.model = VmTableModel(self)
        self.proxy = VmSortProxy(self)
        self.proxy.setSourceModel(self.model)
        self._build_table()
        self.details = DetailsPane()
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(self.details)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        self.setCentralWidget(splitter)
        self._build_actions()
        self._build_status_bar()

        self.poller = HostPoller(session.client, self.runner, poll_interval_ms, self)
        self.poller.inventory_arrived.connect(self.on_inventory)
        self.poller.poll_failed.connect(self.on_poll_failed)
        self.poller.state_changed.connect(self._show_poll_state)
        self.resize(1280, 720)

    # --- building -----------------------------------------------------------------

    def _build_table(self) -> None:
        self.table = QTableView()
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
        for title, width in (("Name", 150), ("State", 75), ("CPU Usage", 80),
                             ("Assigned Memory", 120), ("Startup Memory", 115),
                             ("Dynamic Memory", 115), ("Memory Demand", 115),
                             ("Memory Status", 105), ("Uptime", 90), ("Status", 150)):
            self.table.setColumnWidth(COLUMN_INDEX[title], width)
        self.table.doubleClicked.connect(self._on_double_click)
        self.table.selectionModel().selectionChanged.connect(self._on_selection)

    def _build_actions(self) -> None:
        self.settings_action = QAction("&Settings…", self)
        self.settings_action.setShortcut(QKeySequence("Ctrl+S"))
        self.settings_action.setStatusTip("Change the selected VM's memory")
        self.settings_action.setEnabled(False)
        self.settings_action.triggered.connect(self.open_settings)
        self.refresh_action = QAction("&Refresh", self)
        self.refresh_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Refresh))
        self.refresh_action.triggered.connect(self.poller_refresh)
        quit_action = QAction("E&xit", self)
        quit_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Quit))
        quit_action.triggered.connect(self.close)
        about_action = QAction("&About hvmem", self)
        about_action.triggered.connect(self._about)

        menus = self.menuBar()
        menus.addMenu("&File").addAction(quit_action)
        action_menu = menus.addMenu("&Action")
        action_menu.addAction(self.settings_action)
        action_menu.addAction(self.refresh_action)
        menus.addMenu("&Help").addAction(about_action)

        toolbar = self.addToolBar("Actions")
        toolbar.setObjectName("actions")
        toolbar.setMovable(False)
        toolbar.addAction(self.settings_action)
        toolbar.addAction(self.refresh_action)

    def _build_status_bar(self) -> None:
        self.host_memory_label = QLabel()
        self.poll_label = QLabel("Connecting…")
        bar = self.statusBar()
        bar.addPermanentWidget(self.host_memory_label)
        bar.addPermanentWidget(self.poll_label)

    # --- host ---------------------------------------------------------------------

    def start(self) -> None:
        """Start polling the host."""
        self.poller.start()

    def poller_refresh(self) -> None:
        log.debug("user asks for a refresh of %s", self.session.name)
        self.poller.poll_now()

    def on_inventory(self, inventory: Inventory) -> None:
        """A fresh inventory: table in place, details, status bar, open dialogs."""
        self.inventory = inventory
        self.model.update(inventory)
        self._show_selected()

        host = inventory.host
        self.host_memory_label.setText(
            f"Host memory: {format_mb(host.total_mb)} total, "
            f"{format_mb(host.available_mb)} available")
        self.poll_label.setText(f"Updated {time.strftime('%H:%M:%S')}")
        self.poll_label.setToolTip("")
        for dialog in list(self.dialogs.values()):
            dialog.on_inventory(inventory)

    def on_poll_failed(self, error: HvmemError) -> None:
        """A failed poll shows as the host's state, never as a box."""
        self.poll_label.setText(f"{self.session.name} not responding: {error.summary}")
        self.poll_label.setToolTip(
            "\n\n".join(part for part in (str(error), error.details) if part))

    def _show_poll_state(self, state: PollState) -> None:
        if state is PollState.CONNECTING:
            self.poll_label.setText("Connecting…")

    # --- selection and settings ---------------------------------------------------

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
        self.details.show_vm(vm)
        self.settings_action.setEnabled(vm is not None)

    def _on_double_click(self, index: QModelIndex) -> None:
        self.open_settings(index.data(VM_ID_ROLE))

    def open_settings(self, vm_id: str | None = None) -> SettingsDialog | None:
        """Open (or raise) the settings window of `vm_id`, or of the selected VM."""
        vm = self.model.vm(vm_id) if isinstance(vm_id, str) else self.selected_vm()
        if vm is None:
            return None
        log.debug("user opens the settings of %s", vm.name)
        dialog = self.dialogs.get(vm.id)
        if dialog is None:
            host = self.inventory.host if self.inventory else None
            dialog = SettingsDialog(vm, host, self.session.client, self.runner,
                                    self.notifier, self)
            dialog.status_message.connect(self._show_status)
            dialog.finished.connect(lambda _code, vm_id=vm.id: self._forget_dialog(vm_id))
            self.dialogs[vm.id] = dialog
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()
        return dialog

    def _forget_dialog(self, vm_id: str) -> None:
        dialog = self.dialogs.pop(vm_id, None)
        if dialog is not None:
            dialog.deleteLater()

    def _show_status(self, text: str) -> None:
        self.statusBar().showMessage(text, 15000)
        self.poller.poll_now()  # show the host's new figures without waiting a tick

    def _about(self) -> None:
        self.notifier.show_message(ResultMessage(
            "About hvmem", f"hvmem {__version__}",
            "Changes the memory of Hyper-V VMs, running ones included, through "
            "PowerShell over WinRM.", severity="info"), self)

    # --- closing ------------------------------------------------------------------

    def shutdown(self) -> None:
        """Stop polling and wait for running work, so no worker outlives the window."""
        self.poller.stop()
        for dialog in list(self.dialogs.values()):
            dialog.close()
        if not self.runner.shutdown(30000):
            log.warning("work on %s still running at exit", self.session.name)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)
