"""`HostView`: one connected host inside the window, with everything that is its own.

Each host has its own session, runner (worker threads) and poller, so a slow or failing
host never holds up another's refresh or its edits. It also keeps its own VM table
model, its latest inventory, the memory history for the chart, and the settings
windows open on its VMs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from hvmem.errors import HvmemError
from hvmem.gui.memory_chart import MemoryHistory
from hvmem.gui.poller import HostPoller, PollState
from hvmem.gui.runner import SHUTDOWN_WAIT_MS, Runner
from hvmem.gui.session import HostSession
from hvmem.gui.settings_dialog import SettingsDialog
from hvmem.gui.vm_table import VmTableModel
from hvmem.model import Inventory

log = logging.getLogger("hvmem.gui")


class HostView(QObject):
    """A host the window shows.

    Signals:
        inventory_arrived(object): a fresh `Inventory`, after the model took it.
        state_changed(object): the host's `PollState` or failure changed.
    """

    inventory_arrived = Signal(object)
    state_changed = Signal(object)

    def __init__(self, session: HostSession, interval_ms: int,
                 clock: Callable[[], float], runner: Runner | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.clock = clock
        self.runner = runner or Runner(self)
        self.model = VmTableModel(self)
        self.history = MemoryHistory()
        self.inventory: Inventory | None = None
        self.updated_at: float | None = None
        self.dialogs: dict[str, SettingsDialog] = {}
        self.poller = HostPoller(session.client, self.runner, interval_ms, self)
        self.poller.inventory_arrived.connect(self.take_inventory)
        self.poller.poll_failed.connect(lambda _error: self.state_changed.emit(self))
        self.poller.state_changed.connect(lambda _state: self.state_changed.emit(self))

    @property
    def name(self) -> str:
        return self.session.name

    @property
    def state(self) -> PollState:
        return self.poller.state

    @property
    def last_error(self) -> HvmemError | None:
        return self.poller.last_error

    def take_inventory(self, inventory: Inventory) -> None:
        """A fresh inventory: table in place, chart history, open settings windows."""
        self.inventory = inventory
        self.updated_at = self.clock()
        self.model.update(inventory)
        self.history.record(inventory, self.updated_at)
        for dialog in list(self.dialogs.values()):
            dialog.on_inventory(inventory)
        self.inventory_arrived.emit(inventory)

    def stop(self) -> None:
        """Stop polling and close its settings windows, dropping their edits."""
        self.poller.stop()
        for dialog in list(self.dialogs.values()):
            dialog.discard_and_close()

    def shutdown(self, wait_ms: int = SHUTDOWN_WAIT_MS) -> None:
        """Stop (see `stop`), then wait at most `wait_ms` for its running work (a hung
        host's call finishes on its worker, unheard)."""
        self.stop()
        if not self.runner.shutdown(wait_ms):
            log.info("work on %s still running at exit; not waited for", self.name)
