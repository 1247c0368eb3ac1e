"""The main window's hosts: adding, polling, pausing, disconnecting, switching, and
asking for the passwords of saved hosts the keyring could not give.

`HostsMixin` is the part of `MainWindow` that deals with its hosts, each a `HostView`
with its own session, runner and poller. It is kept apart so that each file stays
readable; it relies on the window's widgets (`hosts_pane`, `proxy`, `actions`,
`settings`) and on `_show_current`, `_show_selected` and `_show_poll_state`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from hvmem.errors import ErrorKind
from hvmem.gui.host_view import HostView
from hvmem.gui.poller import PollState
from hvmem.gui.runner import Runner
from hvmem.gui.session import HostSession
from hvmem.model import Inventory

if TYPE_CHECKING:
    from collections.abc import Callable

    from hvmem.gui.connect_dialog import ConnectDialog
    from hvmem.gui.startup import PasswordRequest

    from hvmem.gui.host_memory_bar import HostMemoryBar
    from hvmem.gui.hosts_pane import HostsPane
    from hvmem.gui.settings_store import GuiSettings
    from hvmem.gui.status_line import StatusLine
    from hvmem.gui.table_header import ColumnSizer
    from hvmem.gui.vm_table import VmSortProxy, VmTableModel
    from hvmem.gui.window_actions import WindowActions

log = logging.getLogger("hvmem.gui")

# Failures that asking again cannot cure: the automatic refresh of that host stops.
STOP_POLLING_ON = frozenset({ErrorKind.AUTH, ErrorKind.TLS, ErrorKind.CONFIG})


class HostsMixin:
    """The hosts of a `MainWindow` (mixed into it)."""

    if TYPE_CHECKING:  # what the window provides
        hosts: list[HostView]
        current_host: HostView | None
        started: bool
        paused: bool
        interval_ms: int
        clock: Callable[[], float]
        settings: GuiSettings
        hosts_pane: HostsPane
        proxy: VmSortProxy
        empty_model: VmTableModel
        window_actions: WindowActions
        _closing: list[HostView]
        _password_requests: list[PasswordRequest]
        _asking: ConnectDialog | None
        host_memory_label: HostMemoryBar
        status_line: StatusLine
        column_sizer: ColumnSizer

        def _show_current(self) -> None: ...
        def _show_selected(self) -> None: ...
        def _show_poll_state(self) -> None: ...

    # --- hosts ----------------------------------------------------------------------

    def add_session(self, session: HostSession, runner: Runner | None = None) -> HostView:
        """Show another host (with its own runner and poller) and make it current.

        A host already open under the same URL is picked instead (the status line says
        so) and the new session is closed: one entry per host."""
        already = self._open_host(session.url)
        if already is not None:
            self._pick_open_host(already, session)
            return already

        host = HostView(session, self.interval_ms, self.clock, runner,
                        self)  # type: ignore[arg-type]
        host.inventory_arrived.connect(lambda _inv, h=host: self._on_host_inventory(h))
        host.state_changed.connect(self._on_host_state)
        self.hosts.append(host)
        self.hosts_pane.add_host(session.name, session.simulated)
        self.hosts_pane.set_current(len(self.hosts) - 1)
        if self.started:
            self._start_host(host)
        log.info("window shows host %s", session.name)
        return host

    def _open_host(self, url: str) -> HostView | None:
        wanted = url.strip().casefold()
        for host in self.hosts if wanted else []:
            if host.session.url.strip().casefold() == wanted:
                return host
        return None

    def _pick_open_host(self, host: HostView, duplicate: HostSession) -> None:
        log.info("%s is already open: picked, not added again", host.name)
        self.hosts_pane.set_current(self.hosts.index(host))
        self.status_line.show(f"{host.name} is already open: selected it.")

        def closed(_outcome: object) -> None:
            log.debug("second session to %s closed", host.name)

        host.runner.submit(f"close the second connection to {host.name}",
                           duplicate.close, on_success=closed, on_error=closed)

    def start(self) -> None:
        """Start polling every host (once only, when the refresh is paused)."""
        self.started = True
        for host in self.hosts:
            self._start_host(host)

    def _start_host(self, host: HostView) -> None:
        if self.paused:
            host.poller.poll_now()
        else:
            host.poller.start()

    def poller_refresh(self) -> None:
        if self.current_host is not None:
            log.debug("user asks for a refresh of %s", self.current_host.name)
            self.current_host.poller.poll_now()

    def set_interval(self, interval_ms: int) -> None:
        """Refresh every `interval_ms` from now on, on every host; remembered."""
        self.interval_ms = interval_ms
        self.settings.interval_ms = interval_ms
        self.window_actions.check_interval(interval_ms)
        for host in self.hosts:
            host.poller.set_interval(interval_ms)

    def set_paused(self, paused: bool) -> None:
        """Stop or restart the automatic refresh of every host; remembered."""
        self.paused = paused
        self.settings.paused = paused
        self.window_actions.pause.setChecked(paused)
        for host in self.hosts if self.started else []:
            if paused:
                host.poller.pause()
            else:
                host.poller.resume()
        self._show_poll_state()

    def _toggle_pause(self) -> None:
        self.set_paused(self.window_actions.pause.isChecked())

    def disconnect_current(self) -> None:
        """Drop the current host; its session closes off the GUI thread."""
        host = self.current_host
        if host is None:
            return
        log.info("user disconnects from %s", host.name)
        row = self.hosts.index(host)
        self.hosts.remove(host)
        host.stop()
        self._closing.append(host)
        def closed(_outcome: object) -> None:
            self._closed(host)

        host.runner.submit(f"close the connection to {host.name}", host.session.close,
                           on_success=closed, on_error=closed)
        self.hosts_pane.remove_host(row)
        if not self.hosts:
            self._on_host_picked(-1)

    def _closed(self, host: HostView) -> None:
        if host in self._closing:
            self._closing.remove(host)

    def _on_host_picked(self, row: int) -> None:
        host = self.hosts[row] if 0 <= row < len(self.hosts) else None
        if host is self.current_host:
            return
        self.current_host = host
        self.proxy.setSourceModel(host.model if host else self.empty_model)
        self._show_current()

    def on_inventory(self, inventory: Inventory) -> None:
        """Take a fresh inventory for the current host (as its poller would)."""
        assert self.current_host is not None
        self.current_host.take_inventory(inventory)

    def ask_for_passwords(self, requests: list[PasswordRequest]) -> None:
        """Open Connect to Server for each saved host that needs a password, one after
        the other (never a pile of dialogs at once)."""
        self._password_requests.extend(requests)
        if self._asking is None:
            self._ask_next_password()

    def _ask_next_password(self) -> None:
        from hvmem.gui.connect_dialog import open_connect_dialog

        if not self._password_requests:
            self._asking = None
            return
        request = self._password_requests.pop(0)
        log.info("asking for the password of %s: %s", request.host.display_name,
                 request.reason)
        self._asking = open_connect_dialog(self, request)  # type: ignore[arg-type]
        self._asking.finished.connect(lambda _code: self._ask_next_password())

    def _on_host_inventory(self, host: HostView) -> None:
        if (host.poller.paused and not self.paused and self.started
                and host in self.hosts):
            host.poller.resume()  # answering again after a stop for its credentials
        if host.inventory is not None:
            self.status_line.check(host, host.inventory, host.poller.answered_poll)
        if host is self.current_host:
            self.column_sizer.fill()
            self._show_selected()
            self.host_memory_label.show_inventory(host.inventory)
            self._show_poll_state()

    def _on_host_state(self, host: HostView) -> None:
        if host not in self.hosts:
            return
        error = host.last_error
        if (error is not None and error.kind in STOP_POLLING_ON
                and host.state is PollState.FAILING and self.started):
            # Asking again with refused credentials only risks locking the account
            # (F06); Refresh tries once more when the user has fixed the cause.
            log.info("%s: automatic refresh stopped after %s", host.name, error.kind)
            host.poller.pause()
        reason = error.full_text() if error else ""
        self.hosts_pane.set_state(self.hosts.index(host), host.name, host.state, reason,
                                  host.session.simulated, error.kind if error else None)
        if host is self.current_host:
            self._show_poll_state()
