"""The main window, laid out like Hyper-V Manager: hosts, VMs, details, actions.

Left, the hosts this window is connected to, each with its state; in the middle, the
current host's VMs (sortable, filterable by name, columns chosen by the user) over a
details pane with the selected VM's memory and its live chart; right, the Actions pane;
below, a status bar with the host's memory as a bar. Each host has its own session,
runner and poller (`HostView`), so one slow host never holds up another. The table
refreshes in place, keeping selection, scroll position and sort order. Geometry,
visible columns and the refresh interval (and its pause) are remembered.

The window's parts live beside it: the VM table and its selection in `window_vms`, hosts
in `window_hosts`, actions, menus and toolbar in `window_actions`, the user guide in
`window_help`.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from functools import partial

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QCloseEvent, QDesktopServices
from PySide6.QtWidgets import QMainWindow, QSizePolicy, QSplitter, QWidget

from hvmem import __version__
from hvmem.gui.actions_pane import ActionsPane
from hvmem.gui.connect_dialog import ConnectDialog
from hvmem.gui.details_pane import DetailsPane
from hvmem.gui.host_memory_bar import HostMemoryBar
from hvmem.gui.host_view import HostView
from hvmem.gui.hosts_pane import STATE_TEXTS, HostsPane, failure_text
from hvmem.gui.notifier import Notifier
from hvmem.gui.poller import HostPoller, PollState
from hvmem.gui.power_actions import PowerActions
from hvmem.gui.result_dialog import ResultMessage
from hvmem.gui.runner import SHUTDOWN_WAIT_MS, Runner
from hvmem.gui.session import HostSession
from hvmem.gui.settings_dialog import SettingsDialog
from hvmem.gui.settings_store import GuiSettings
from hvmem.gui.startup import PasswordRequest
from hvmem.gui.status_line import ElidedLabel, StatusLine, StatusSubject, apply_holds
from hvmem.gui.table_header import ColumnSizer, WindowVmProxy
from hvmem.gui.vm_table import VmTableModel
from hvmem.gui.window_actions import ColumnChooser, WindowActions
from hvmem.gui.window_help import UrlOpener, open_user_guide
from hvmem.gui.window_hosts import HostsMixin
from hvmem.gui.window_vms import VmAreaMixin
from hvmem.controller import ApplyResult
from hvmem.model import Inventory, VmSnapshot
from hvmem.power import ACTIONS, Action

log = logging.getLogger("hvmem.gui")


def format_clock(at: float) -> str:
    """The local time of day of `at` (seconds since the epoch)."""
    return time.strftime("%H:%M:%S", time.localtime(at))


class MainWindow(HostsMixin, VmAreaMixin, QMainWindow):
    """The hosts' VMs, their memory, and the way into each VM's memory settings."""

    def __init__(self, session: HostSession | None = None, runner: Runner | None = None,
                 notifier: Notifier | None = None, poll_interval_ms: int | None = None,
                 settings: GuiSettings | None = None,
                 clock: Callable[[], float] = time.time,
                 open_url: UrlOpener | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # Opens the user guide; tests hand in a recorder instead of a real viewer.
        self.open_url: UrlOpener = open_url or QDesktopServices.openUrl
        self.notifier = notifier or Notifier(self)
        self.settings = settings or GuiSettings()
        self.clock = clock
        self.format_time = format_clock  # the screenshots fix it to one text
        self.hosts: list[HostView] = []
        self.current_host: HostView | None = None
        self.started = False
        self.paused = self.settings.paused
        self.interval_ms = poll_interval_ms or self.settings.interval_ms
        self._closing: list[HostView] = []  # disconnected, their session still closing
        self._password_requests: list[PasswordRequest] = []
        self._asking: ConnectDialog | None = None  # the password dialog now open
        self._exit_confirmed = False  # the user chose to drop unapplied edits at exit
        self.shutdown_wait_ms = SHUTDOWN_WAIT_MS  # the most closing waits for work
        self._shut_down = False

        self.proxy = WindowVmProxy(self)
        # One model with no rows, shown whenever no host is current (never one per pick).
        self.empty_model = VmTableModel(self)
        self.proxy.setSourceModel(self.empty_model)
        self.window_actions = WindowActions(self, {
            "connect": self.open_connect_dialog, "refresh": self.poller_refresh,
            "pause": self._toggle_pause, "disconnect": self.disconnect_current,
            "settings": self.open_settings, "filter": self._focus_filter,
            "about": self._about, "guide": self.open_user_guide,
            **{action: partial(self._power, action) for action in ACTIONS}})
        self.power_actions = PowerActions(self, self.window_actions.power)
        self.settings_action = self.window_actions.settings
        self.refresh_action = self.window_actions.refresh
        self._build_layout()
        self._build_status_bar()
        self.column_sizer = ColumnSizer(self.table, self.settings.column_widths, self)
        self.columns = ColumnChooser(self.table, self)
        self.columns.set_hidden(self.settings.hidden_columns)
        self.columns.changed.connect(self._save_columns)
        self.window_actions.build_menus(self, self.columns)
        self._wire_view_settings()
        self._restore_geometry()
        if session is not None:
            self.add_session(session, runner)
        self._show_current()

    # --- building -----------------------------------------------------------------

    def _build_layout(self) -> None:
        self.hosts_pane = HostsPane()
        self.hosts_pane.current_changed.connect(self._on_host_picked)
        self.actions_pane = ActionsPane()
        self.actions_pane.add_window_action(self.window_actions.connect_server)
        actions = self.window_actions
        for action in (actions.refresh, actions.pause, actions.disconnect_host):
            self.actions_pane.add_host_action(action)
        self.actions_pane.add_vm_action(self.window_actions.settings)
        for action in self.window_actions.power.values():
            self.actions_pane.add_vm_action(action)

        top = self._build_vm_area()

        self.details = DetailsPane()
        self.centre = QSplitter(Qt.Orientation.Vertical)
        self.centre.setObjectName("centre")
        self.centre.addWidget(top)
        self.centre.addWidget(self.details)
        self.centre.setStretchFactor(0, 3)
        self.centre.setStretchFactor(1, 2)
        self.panes = QSplitter(Qt.Orientation.Horizontal)
        self.panes.setObjectName("panes")
        for widget, stretch in ((self.hosts_pane, 0), (self.centre, 1),
                                (self.actions_pane, 0)):
            self.panes.addWidget(widget)
            self.panes.setStretchFactor(self.panes.count() - 1, stretch)
        self.panes.setSizes([190, 1000, 170])
        self.setCentralWidget(self.panes)

    def _build_status_bar(self) -> None:
        self.host_memory_label = HostMemoryBar()
        # A failure's sentence can be long: elided, so it never crowds out the rest.
        self.poll_label = ElidedLabel()
        self.poll_label.setSizePolicy(QSizePolicy.Policy.Maximum,
                                      QSizePolicy.Policy.Preferred)
        self.poll_label.setMaximumWidth(420)
        bar = self.statusBar()
        self.status_line = StatusLine(bar)
        bar.addPermanentWidget(self.host_memory_label)
        bar.addPermanentWidget(self.poll_label)

    def _wire_view_settings(self) -> None:
        self.window_actions.check_interval(self.interval_ms)
        self.window_actions.intervals.triggered.connect(
            lambda action: self.set_interval(int(action.data())))
        self.window_actions.pause.setChecked(self.paused)

    def _restore_geometry(self) -> None:
        geometry = self.settings.geometry
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(1280, 760)
        saved = self.settings.splitters
        for splitter in (self.panes, self.centre):
            state = saved.get(splitter.objectName())
            if state is not None:
                splitter.restoreState(state)

    # --- the current host, for callers that think of one -----------------------------

    @property
    def session(self) -> HostSession:
        assert self.current_host is not None, "no host in the window"
        return self.current_host.session

    @property
    def poller(self) -> HostPoller:
        assert self.current_host is not None, "no host in the window"
        return self.current_host.poller

    @property
    def runner(self) -> Runner:
        assert self.current_host is not None, "no host in the window"
        return self.current_host.runner

    @property
    def model(self) -> VmTableModel:
        source = self.proxy.sourceModel()
        assert isinstance(source, VmTableModel)
        return source

    @property
    def inventory(self) -> Inventory | None:
        return self.current_host.inventory if self.current_host else None

    @property
    def dialogs(self) -> dict[str, SettingsDialog]:
        return self.current_host.dialogs if self.current_host else {}

    def _show_current(self) -> None:
        host = self.current_host
        title = f"hvmem — {host.session.title}" if host else "hvmem"
        self.setWindowTitle(title)
        self.actions_pane.set_host(host.name if host else "")
        for action in (self.window_actions.refresh, self.window_actions.pause,
                       self.window_actions.disconnect_host):
            action.setEnabled(host is not None)
        self.host_memory_label.show_inventory(host.inventory if host else None)
        self.column_sizer.fill()
        self._show_selected()
        self._show_poll_state()

    def _show_poll_state(self) -> None:
        host = self.current_host
        if host is None:
            self.poll_label.set_full_text("Not connected: use Connect to Server")
            return
        error = host.last_error
        if host.state is PollState.FAILING and error is not None:
            # Worded as the Hosts pane words it: "not responding" only for silence.
            self.poll_label.set_full_text(
                f"{host.name}: {failure_text(error.kind)} — {error.summary}",
                "\n\n".join(part for part in (str(error), error.details) if part))
            return
        if host.updated_at is None:
            self.poll_label.set_full_text(STATE_TEXTS[PollState.CONNECTING])
            return
        paused = " (refresh paused)" if self.paused else ""
        self.poll_label.set_full_text(
            f"Updated {self.format_time(host.updated_at)}{paused}")

    # --- selection and settings ---------------------------------------------------

    def _power(self, action: Action) -> None:
        self.power_actions.trigger(action)

    def open_settings(self, vm_id: str | None = None) -> SettingsDialog | None:
        """Open (or raise) the settings window of `vm_id`, or of the selected VM."""
        host = self.current_host
        vm = self.model.vm(vm_id) if isinstance(vm_id, str) else self.selected_vm()
        if vm is None or host is None:
            return None
        log.debug("user opens the settings of %s", vm.name)
        dialog = host.dialogs.get(vm.id)
        if dialog is None:
            figures = host.inventory.host if host.inventory else None
            dialog = SettingsDialog(vm, figures, host.session.client, host.runner,
                                    self.notifier, self)
            dialog.status_message.connect(
                lambda text, result, h=host: self._show_apply_status(h, text, result))
            dialog.result_arrived.connect(
                lambda result, h=host: self._on_apply_result(h, result))
            dialog.finished.connect(
                lambda _code, h=host, vm_id=vm.id: self._forget_dialog(h, vm_id))
            host.dialogs[vm.id] = dialog
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()
        return dialog

    def _forget_dialog(self, host: HostView, vm_id: str) -> None:
        dialog = host.dialogs.pop(vm_id, None)
        if dialog is not None:
            dialog.deleteLater()

    def post_status(self, text: str, host: HostView | None = None, vm_id: str = "",
                    holds: Callable[[VmSnapshot], bool] | None = None) -> None:
        """Show a result in the status bar for a while; with `host`, `vm_id` and
        `holds`, until a later refresh shows that VM no longer as `text` says."""
        subject = None
        if host is not None and holds is not None:
            subject = StatusSubject(host, vm_id, holds, host.poller.polls_started)
        self.status_line.show(text, subject)

    def withdraw_status(self, host: HostView, vm_id: str) -> None:
        """Drop the status line's message about `vm_id`, if that is what it shows."""
        self.status_line.withdraw(host, vm_id)

    def status_text(self) -> str:
        """The whole result message the status bar shows now ('' for none)."""
        return self.status_line.text()

    def _show_apply_status(self, host: HostView, text: str, result: ApplyResult) -> None:
        self.post_status(text, host, result.vm_id, apply_holds(result))
        host.poller.poll_now()  # show the host's new figures without waiting a tick

    def _on_apply_result(self, host: HostView, result: ApplyResult) -> None:
        # A result told in a box (or a question) makes an older line about the VM stale.
        if result.outcome not in ("applied", "unchanged"):
            self.withdraw_status(host, result.vm_id)

    def open_connect_dialog(self) -> None:
        """Ask for a host and connect to it (see `connect_dialog`)."""
        from hvmem.gui.connect_dialog import open_connect_dialog

        open_connect_dialog(self)

    def open_user_guide(self) -> QUrl | None:
        """Help → User Guide: open docs/user-guide.md (see `window_help`)."""
        return open_user_guide(self.open_url, self.notifier, self)

    def _about(self) -> None:
        self.notifier.show_message(ResultMessage(
            "About hvmem", f"hvmem {__version__}",
            "Changes the memory of Hyper-V VMs, running ones included, through "
            "PowerShell over WinRM.", severity="info"), self)

    # --- remembering and closing ------------------------------------------------------

    def _save_columns(self) -> None:
        self.settings.hidden_columns = self.columns.hidden()

    def save_view(self) -> None:
        """Remember geometry, splitters and column widths (the columns shown and the
        refresh are saved at once)."""
        self.settings.save_window(self.saveGeometry(), {
            splitter.objectName(): splitter.saveState()
            for splitter in (self.panes, self.centre)})
        if self.column_sizer.sized:  # else the next start still fits them to its rows
            self.settings.column_widths = self.column_sizer.widths()
        self.settings.sync()

    def shutdown(self) -> None:
        """Stop polling, give running work and the sessions' closing about a second
        (`shutdown_wait_ms`) in all, and drop the rest: a hung host never freezes the
        exit. Sessions close on daemon threads, which never keep the process alive."""
        if self._shut_down:
            return  # closing the window did it already; `app.run` asks again
        self._shut_down = True
        deadline = time.monotonic() + self.shutdown_wait_ms / 1000

        def left_ms() -> int:
            return max(0, int((deadline - time.monotonic()) * 1000))

        for host in [*self.hosts, *self._closing]:
            host.shutdown(left_ms())
        closing = [_close_in_background(host.session) for host in self.hosts]
        for thread in closing:
            thread.join(left_ms() / 1000)

    def _unapplied(self) -> list[SettingsDialog]:
        return [dialog for host in self.hosts for dialog in host.dialogs.values()
                if dialog.page.has_edits() and not dialog.gone]

    def _after_exit_question(self, choice: str) -> None:
        if choice == "discard":
            self._exit_confirmed = True
            self.close()
            return

        pending = self._unapplied()
        if pending:
            pending[0].raise_()
            pending[0].activateWindow()

    def closeEvent(self, event: QCloseEvent) -> None:
        pending = self._unapplied()
        if pending and not self._exit_confirmed:
            # A settings window asks before it drops edits; exiting must not drop them
            # behind its back.
            event.ignore()
            names = ", ".join(dialog.vm_name for dialog in pending)
            self.notifier.ask(ResultMessage(
                "hvmem", f"Discard your unapplied changes to {names}?",
                "Exiting hvmem drops them. Keep editing to apply them first.",
                severity="question"),
                (("discard", "&Discard and Exit"), ("stay", "&Keep Editing")),
                self._after_exit_question, self, escape="stay", default="stay")
            return

        self.save_view()
        self.shutdown()
        super().closeEvent(event)


def _close_in_background(session: HostSession) -> threading.Thread:
    # Closing a WinRM shell is a network call that waits for one in flight; on the GUI
    # thread a hung host would freeze the exit. The closers move to the thread at once,
    # so a later close of the session on the GUI thread has nothing left to wait for.
    detached = dataclasses.replace(session, closers=session.closers)
    session.closers = []
    thread = threading.Thread(target=_close_quietly, args=(detached,), daemon=True,
                              name=f"hvmem-close-{session.name}")
    thread.start()
    return thread


def _close_quietly(session: HostSession) -> None:
    # At exit the user's work is done; a host that fails to close is worth a log line,
    # not a traceback.
    try:
        session.close()
    except Exception as exc:  # noqa: BLE001
        log.warning("closing %s failed: %s", session.name, exc)
