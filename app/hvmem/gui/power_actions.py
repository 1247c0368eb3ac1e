"""Start, Shut Down, Turn Off and Save for the selected VM, as in Hyper-V Manager.

`PowerActions` drives the four actions `WindowActions` makes: it enables them by the
selected VM's state name (never by its Status text, which is in the host's language),
says before a start whether the VM's startup memory fits in what the host has free
(`hvmem.power.start_fit`), asks before a start that does not fit and before Turn Off
(which is like pulling the plug), runs `hvmem.power.power` on the host's runner and
shows the result: a status-bar line and an immediate refresh when done, the error
helper with Hyper-V's own text and ids under Details otherwise. `describe_power` holds
the words, so they are testable without a dialog.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction

from hvmem.errors import format_records
from hvmem.gui.result_dialog import ResultMessage
from hvmem.gui.status_line import power_holds
from hvmem.model import HostSnapshot, VmSnapshot
from hvmem.power import VERBS, Action, PowerResult, StartFit, power, start_fit

if TYPE_CHECKING:
    from hvmem.gui.host_view import HostView
    from hvmem.gui.main_window import MainWindow

log = logging.getLogger("hvmem.gui")

# The states each action may start from, by Get-VM's state name. Start on a paused VM
# resumes it; shut down, turn off and save take a paused VM as a running one.
ENABLED_FROM: dict[Action, frozenset[str]] = {
    "start": frozenset({"Off", "Saved", "Paused"}),
    "stop": frozenset({"Running", "Paused"}),
    "turn_off": frozenset({"Running", "Paused"}),
    "save": frozenset({"Running", "Paused"}),
}
# Titles of the boxes, by action.
TITLES: dict[Action, str] = {"start": "Start", "stop": "Shut Down",
                             "turn_off": "Turn Off", "save": "Save"}
START_ANYWAY_CHOICES = (("start", "&Try to Start Anyway"), ("cancel", "Cancel"))
TURN_OFF_CHOICES = (("turn_off", "T&urn Off"), ("cancel", "Cancel"))


def enabled_actions(vm: VmSnapshot | None) -> set[Action]:
    """The actions `vm`'s state allows (none without a VM)."""
    if vm is None:
        return set()
    return {action for action, states in ENABLED_FROM.items() if vm.state in states}


def fit_note(vm: VmSnapshot | None, host: HostSnapshot | None) -> StartFit | None:
    """Whether `vm` would fit if started now; None when it cannot be started or the
    host's figures are not known yet."""
    if vm is None or host is None or "start" not in enabled_actions(vm):
        return None
    return start_fit(vm, host)


def describe_power(result: PowerResult) -> ResultMessage:
    """The box for a power action that was not simply done."""
    name = result.vm_before.name
    verb = VERBS[result.action]
    title = f"{TITLES[result.action]} {name}"
    error = result.error
    details = format_records(result.host_errors) or (error.details if error else "")
    lines: list[str] = []
    if result.outcome == "refused":
        summary = error.summary if error else f"Hyper-V did not {verb} {name}"
        if result.host_errors:
            # Its first lines name the VM and the reason; the rest (ids, sizes, the
            # same again per device) is under Details.
            first = [line.strip() for line in result.host_errors[0].message.splitlines()
                     if line.strip()][:2]
            lines.append("Hyper-V says: " + " ".join(first))
        if result.vm_after is not None:
            lines.append(f"{name} is {result.vm_after.state} now.")
    elif result.outcome == "conflict":
        summary = f"{name} changed on the host since it was read; nothing was done"
        lines.append(result.summary())
    else:
        summary = f"hvmem cannot tell whether {name} did {verb}"
        lines.append(result.summary())
        if error is not None:
            lines.append(f"The connection failed with: {error.summary}")
    if error is not None and error.hint and result.outcome != "unknown":
        lines.append(error.hint)
    quiet = result.outcome == "unknown" and result.vm_after is not None
    return ResultMessage(title, summary, "\n".join(lines), details,
                         "warning" if quiet else "error")


class PowerActions(QObject):
    """The selected VM's power actions in one window.

    Args:
        window: the main window (its current host, selection, notifier, status bar).
        actions: the four `QAction`s by action name, shared by the menus and panes.
    """

    def __init__(self, window: MainWindow, actions: dict[Action, QAction]) -> None:
        super().__init__(window)
        self.window = window
        self.actions = actions
        self.running: set[tuple[int, str]] = set()  # (id of the HostView, VM id)

    def show_vm(self, vm: VmSnapshot | None, host: HostView | None) -> StartFit | None:
        """Enable the actions `vm`'s state allows; return its start fit (or None)."""
        busy = vm is not None and host is not None and (id(host), vm.id) in self.running
        allowed = set() if busy else enabled_actions(vm)
        for action, qaction in self.actions.items():
            qaction.setEnabled(action in allowed)
        figures = host.inventory.host if host and host.inventory else None
        fit = fit_note(vm, figures)
        start = self.actions["start"]
        start.setToolTip(fit.message if fit else start.statusTip())
        return fit

    def trigger(self, action: Action) -> None:
        """The user picked `action` for the selected VM."""
        host = self.window.current_host
        vm = self.window.selected_vm()
        if host is None or vm is None or action not in enabled_actions(vm):
            return
        log.debug("user asks to %s %s", VERBS[action], vm.name)

        if action == "start" and host.inventory is not None:
            fit = start_fit(vm, host.inventory.host)
            if not fit.fits:
                self._ask(host, vm, action, ResultMessage(
                    f"Start {vm.name}",
                    f"{vm.name} may not fit in the host's free memory",
                    f"{fit.message}\nHyper-V will refuse the start if the memory is not "
                    "free when it tries.", severity="warning"), START_ANYWAY_CHOICES)
                return
        if action == "turn_off":
            self._ask(host, vm, action, ResultMessage(
                f"Turn Off {vm.name}", f"Turn off {vm.name}?",
                "Turning off is like pulling the plug: the guest gets no chance to "
                "shut down, and unsaved work in it is lost. Shut Down asks the guest "
                "to shut down instead.", severity="question"), TURN_OFF_CHOICES)
            return
        self.run(host, vm, action)

    def _ask(self, host: HostView, vm: VmSnapshot, action: Action,
             message: ResultMessage, choices: tuple[tuple[str, str], ...]) -> None:
        def answered(key: str) -> None:
            if key == action:
                self.run(host, vm, action)

        # Cancel on Esc and on Enter: a start that may not fit or a turn off is only
        # ever done by a deliberate click.
        self.window.notifier.ask(message, choices, answered, self.window,
                                 escape="cancel", default="cancel")

    def run(self, host: HostView, vm: VmSnapshot, action: Action) -> None:
        """Run `action` on `vm` off the GUI thread; show what happened when it ends."""
        key = (id(host), vm.id)
        self.running.add(key)
        self.window.refresh_selection()
        client = host.session.client

        def finished(result: PowerResult) -> None:
            self.running.discard(key)
            self._show_result(host, result)

        def failed(error: object) -> None:  # power() never raises HvmemError; a bug
            self.running.discard(key)
            self.window.notifier.show_error(error, self.window)  # type: ignore[arg-type]
            self._refresh(host)

        host.runner.submit(f"{VERBS[action]} {vm.name}",
                           lambda: power(client, vm, action), finished, failed)

    def _show_result(self, host: HostView, result: PowerResult) -> None:
        if result.outcome == "done":
            self.window.post_status(result.summary(), host, result.vm_before.id,
                                    power_holds(result))
        else:
            self.window.withdraw_status(host, result.vm_before.id)
            self.window.notifier.show_message(describe_power(result), self.window)
        self._refresh(host)

    def _refresh(self, host: HostView) -> None:
        """Read the host now; if a poll is under way (and may predate the action), once
        more when it lands."""
        self.window.refresh_selection()
        if host.poller.poll_now():
            return

        def again(_inventory: object) -> None:
            host.inventory_arrived.disconnect(again)
            host.poller.poll_now()

        host.inventory_arrived.connect(again)
