"""One quiet poller per host: asks for the inventory every few seconds, never overlapping.

A failed poll is logged and reported as the host's state (for the status bar); it never
opens a dialog, so a host that goes away produces one line in the log and one status,
not a storm of boxes.
"""

from __future__ import annotations

import logging
from enum import Enum

from PySide6.QtCore import QObject, QTimer, Signal

from hvmem.errors import HvmemError
from hvmem.gui.runner import Runner
from hvmem.hyperv.client import HostClient
from hvmem.model import Inventory

log = logging.getLogger("hvmem.gui")

DEFAULT_INTERVAL_MS = 2000


class PollState(str, Enum):
    """How the host answered lately."""

    CONNECTING = "connecting"
    OK = "ok"
    FAILING = "failing"
    STOPPED = "stopped"


class HostPoller(QObject):
    """Polls one host's `list` through the runner.

    Signals:
        inventory_arrived(object): a fresh `Inventory`, in the GUI thread.
        poll_failed(object): the `HvmemError` of a failed poll.
        state_changed(object): the new `PollState`, only when it changes.
    """

    inventory_arrived = Signal(object)
    poll_failed = Signal(object)
    state_changed = Signal(object)

    def __init__(self, client: HostClient, runner: Runner,
                 interval_ms: int = DEFAULT_INTERVAL_MS,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.client = client
        self.runner = runner
        self.state = PollState.CONNECTING
        self.last_error: HvmemError | None = None
        self._in_flight = False
        # Polls never overlap, so the one that answers is always the last started;
        # the window tells by these numbers whether a reading is newer than a message.
        self.polls_started = 0
        self.answered_poll = 0
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.poll_now)

    @property
    def in_flight(self) -> bool:
        return self._in_flight

    def start(self) -> None:
        """Poll at once, then every interval."""
        self._timer.start()
        self.poll_now()

    def stop(self) -> None:
        """No more polls; one already running still delivers."""
        self._timer.stop()
        self._set_state(PollState.STOPPED)

    def set_interval(self, interval_ms: int) -> None:
        self._timer.setInterval(interval_ms)

    @property
    def paused(self) -> bool:
        """Whether the timer is off while the host is not stopped."""
        return not self._timer.isActive() and self.state is not PollState.STOPPED

    def pause(self) -> None:
        """No more timed polls until `resume` (a poll asked for by hand still runs)."""
        self._timer.stop()

    def resume(self) -> None:
        """Timed polls again, starting with one now."""
        if self.state is not PollState.STOPPED:
            self.start()

    def poll_now(self) -> bool:
        """Ask for the inventory now, unless a poll of this host is still running.

        Returns:
            Whether a poll was started.
        """
        if self._in_flight:
            return False

        self._in_flight = True
        self.polls_started += 1
        self.runner.submit(f"list the VMs of {self.client.name}", self.client.list,
                           self._on_inventory, self._on_error)
        return True

    def _on_inventory(self, inventory: Inventory) -> None:
        self._in_flight = False
        if self.state is PollState.FAILING:
            log.info("%s answers again", self.client.name)
        self.answered_poll = self.polls_started
        self.last_error = None
        if self.state is not PollState.STOPPED:
            self._set_state(PollState.OK)
        self.inventory_arrived.emit(inventory)

    def _on_error(self, error: HvmemError) -> None:
        self._in_flight = False
        # Warn once when the host starts failing; repeats of the same failure are debug.
        if self.state is not PollState.FAILING:
            log.warning("polling %s failed: %s\n%s", self.client.name, error,
                        error.details)
        else:
            log.debug("polling %s still fails: %s", self.client.name, error)
        self.last_error = error
        if self.state is not PollState.STOPPED:
            self._set_state(PollState.FAILING)
        self.poll_failed.emit(error)

    def _set_state(self, state: PollState) -> None:
        if state is not self.state:
            self.state = state
            self.state_changed.emit(state)
