"""A VM's settings window, on its Memory page, with OK, Cancel and Apply.

The dialog is modeless: the main window keeps polling, and each fresh inventory reaches
`SettingsDialog.on_inventory`, which lets the Memory page follow the host while keeping
what the user typed. OK and Apply send the edited fields through `controller.apply` on a
worker (the dialog shows a busy state meanwhile and never waits on the network); the
result goes to the status bar when it applied, or to the notifier's box otherwise.
Nothing the user typed is lost on an error.

A partial result asks what to do next: keep what was achieved, try the same request
again, or go back to the values before; both of the latter go through the controller
like any edit. An unknown result (the connection broke) reads the VM again before it
says anything, so the box shows what the host has. Revert drops the edits; closing the
window with unapplied edits asks first. Enter is OK, Esc is Cancel.
"""

from __future__ import annotations

import dataclasses
import logging

from PySide6.QtCore import Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hvmem import controller
from hvmem.controller import ApplyResult
from hvmem.errors import HvmemError
from hvmem.gui.memory_page import MemoryPage
from hvmem.gui.notifier import Notifier
from hvmem.gui.result_dialog import (
    PARTIAL_CHOICES,
    ResultMessage,
    describe_reread,
    describe_result,
)
from hvmem.gui.runner import Job, Runner
from hvmem.gui.theme import message_style
from hvmem.hyperv.client import HostClient
from hvmem.model import (
    SETTING_FIELDS,
    HostSnapshot,
    Inventory,
    MemoryChange,
    MemorySettings,
    VmSnapshot,
)

log = logging.getLogger("hvmem.gui")


class SettingsDialog(QDialog):
    """Settings for one VM (the Memory page).

    Signals:
        status_message(str, object): a line for the main window's status bar, and the
            `ApplyResult` it tells of.
        result_arrived(object): every `ApplyResult`, after the dialog has handled it.
    """

    status_message = Signal(str, object)
    result_arrived = Signal(object)

    def __init__(self, vm: VmSnapshot, host: HostSnapshot | None, client: HostClient,
                 runner: Runner, notifier: Notifier,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.client = client
        self.runner = runner
        self.notifier = notifier
        self.vm_id = vm.id
        self.vm_name = vm.name
        self.job: Job | None = None
        self.gone = False
        self._closing_anyway = False
        self.setWindowTitle(f"Settings for {vm.name} on {client.name}")

        self.page = MemoryPage(vm, host)
        self._build()
        self.page.edits_changed.connect(self._update_buttons)
        self.page.validity_changed.connect(lambda _valid: self._update_buttons())
        self._update_buttons()
        self.resize(760, 600)

    def _build(self) -> None:
        sections = QListWidget()
        sections.addItem("Memory")
        sections.setCurrentRow(0)
        sections.setFixedWidth(130)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
            | QDialogButtonBox.StandardButton.Apply
            | QDialogButtonBox.StandardButton.Reset)
        self.ok_button: QPushButton = self.buttons.button(
            QDialogButtonBox.StandardButton.Ok)
        self.cancel_button: QPushButton = self.buttons.button(
            QDialogButtonBox.StandardButton.Cancel)
        self.apply_button: QPushButton = self.buttons.button(
            QDialogButtonBox.StandardButton.Apply)
        self.revert_button: QPushButton = self.buttons.button(
            QDialogButtonBox.StandardButton.Reset)
        self.ok_button.setText("OK")
        self.apply_button.setText("&Apply")
        self.revert_button.setText("&Revert")
        self.revert_button.setToolTip("Drop your edits and show the host's values")
        self.ok_button.setDefault(True)  # Enter anywhere in the page means OK
        self.ok_button.clicked.connect(lambda: self.apply(close_after=True))
        self.apply_button.clicked.connect(lambda: self.apply(close_after=False))
        self.revert_button.clicked.connect(self.revert)
        self.cancel_button.clicked.connect(self.reject)

        self.busy_label = QLabel("Applying the change on the host…")
        self.busy_bar = QProgressBar()
        self.busy_bar.setRange(0, 0)  # indeterminate: the host says nothing until done
        self.busy_bar.setMaximumWidth(120)
        self.gone_label = QLabel()
        self.gone_label.setStyleSheet(message_style("error", self.gone_label))
        self.gone_label.setVisible(False)
        for widget in (self.busy_label, self.busy_bar):
            widget.setVisible(False)

        body = QHBoxLayout()
        body.addWidget(sections)
        body.addWidget(self.page, 1)
        footer = QHBoxLayout()
        footer.addWidget(self.busy_bar)
        footer.addWidget(self.busy_label)
        footer.addStretch(1)
        footer.addWidget(self.buttons)
        layout = QVBoxLayout(self)
        layout.addWidget(self.gone_label)
        layout.addLayout(body, 1)
        layout.addLayout(footer)

    @property
    def busy(self) -> bool:
        return self.job is not None

    def _update_buttons(self) -> None:
        can_send = not self.busy and not self.gone and not self.page.has_errors()
        self.ok_button.setEnabled(can_send or (not self.busy and self.gone))
        self.apply_button.setEnabled(can_send and not self.page.change().is_empty())
        self.revert_button.setEnabled(not self.busy and bool(self.page.edited))
        self.cancel_button.setEnabled(not self.busy)

    def on_inventory(self, inventory: Inventory) -> None:
        """A fresh inventory from the poller: follow the host, keep the user's edits."""
        vm = inventory.vm(self.vm_id)
        if vm is None:
            self.gone = True
            self.gone_label.setText(f"{self.vm_name} is no longer on {self.client.name}.")
            self.gone_label.setVisible(True)
            self.page.set_busy(True)
        elif not self.busy:
            # During an apply the page keeps the snapshot it sent; the result updates it.
            self.page.refresh(vm, inventory.host)
        self._update_buttons()

    def apply(self, close_after: bool) -> None:
        """Send the edited fields (OK: then close when they all applied)."""
        if self.busy:
            return
        change = self.page.change()
        if change.is_empty() or self.gone:
            if close_after:
                self.accept()
            return

        self.send(change, close_after)

    def send(self, change: MemoryChange, close_after: bool = False,
             origin: MemorySettings | None = None) -> None:
        """Apply `change` to the VM as the page last saw it, through the controller.

        `origin`, for a retry, is the VM's settings before the user's change: Go Back
        to Before returns there, not to what an earlier attempt reached."""
        vm, host = self.page.vm, self.page.host
        log.debug("apply %s to %s", change.as_dict(), vm.name)
        self._set_busy(True)
        self.job = self.runner.submit(
            f"change the memory of {vm.name}",
            lambda: controller.apply(self.client, vm, change, host),
            lambda result: self._on_result(result, close_after, origin),
            self._on_error,
        )

    def revert(self) -> None:
        """Drop the user's edits; every field shows the host's value again."""
        log.debug("user reverts the edits of %s", self.vm_name)
        self.page.forget_edits()
        self._update_buttons()

    def _set_busy(self, busy: bool) -> None:
        self.page.set_busy(busy)
        self.busy_label.setVisible(busy)
        self.busy_bar.setVisible(busy)
        if not busy:
            self.job = None
        self._update_buttons()

    def _on_result(self, result: ApplyResult, close_after: bool,
                   origin: MemorySettings | None = None) -> None:
        self._set_busy(False)
        if result.after is not None:
            self._take_readback(result)

        if result.outcome in ("applied", "unchanged"):
            self.page.forget_edits()
            self.status_message.emit(result.summary(), result)
            if close_after:
                self.accept()
        elif result.outcome == "partial":
            self.notifier.ask(describe_result(result, self.vm_name), PARTIAL_CHOICES,
                              lambda key: self._after_partial(result, key, origin),
                              self,
                              escape="keep", default="keep")
        elif result.outcome == "unknown":
            self._read_again(result)
        else:
            self.notifier.show_result(describe_result(result, self.vm_name), self)
        self.result_arrived.emit(result)
        self._update_buttons()

    def _after_partial(self, result: ApplyResult, choice: str,
                       origin: MemorySettings | None = None) -> None:
        """The user's answer to a partial result: keep, retry, or go back (to `origin`,
        the settings before the first attempt, when this result was a retry's)."""
        log.debug("after a partial result on %s the user chose %s", self.vm_name, choice)
        before = origin if origin is not None else result.before
        if choice == "retry":
            self.send(_change_to(result.requested, result.asked), origin=before)
        elif choice == "back":
            self.send(_change_to(before, result.asked))
        else:
            self.page.forget_edits()
            self.status_message.emit(f"{self.vm_name}: kept what was achieved. "
                                     + result.summary(), result)
        self._update_buttons()

    def _read_again(self, result: ApplyResult) -> None:
        """The connection broke mid-change: read the VM, then say what the host has."""
        def show(message: ResultMessage) -> None:
            self._set_busy(False)
            self.notifier.show_result(message, self)

        def took(answer: tuple[HostSnapshot, VmSnapshot]) -> None:
            host, vm = answer
            self.page.refresh(vm, host)
            show(describe_reread(result, self.vm_name, vm, None))

        self._set_busy(True)
        self.job = self.runner.submit(
            f"read {self.vm_name} again", lambda: self.client.get_vm(self.vm_id), took,
            lambda error: show(describe_reread(result, self.vm_name, None, error)))

    def _take_readback(self, result: ApplyResult) -> None:
        # The VM as the apply read it back, so the page (and its "changed on the host"
        # hints) reflect the host now rather than at the next poll.
        assert result.after is not None
        vm = dataclasses.replace(self.page.vm, memory=result.after)
        if result.assigned_after_mb is not None:
            vm = dataclasses.replace(vm, assigned_mb=result.assigned_after_mb)
        self.page.refresh(vm, self.page.host)

    def _on_error(self, error: HvmemError) -> None:
        self._set_busy(False)
        self.notifier.show_error(error, self)

    def reject(self) -> None:
        if self.busy:
            return  # the host is working on it; the result must find the dialog
        super().reject()

    def discard_and_close(self) -> None:
        """Close without asking (the host goes away or the window closes)."""
        self._closing_anyway = True
        self.done(QDialog.DialogCode.Rejected)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.busy and not self._closing_anyway:
            event.ignore()
            return
        if self.page.has_edits() and not self._closing_anyway and not self.gone:
            # Closed by the title bar with unapplied edits: ask, never drop them silently.
            event.ignore()
            self.notifier.ask(ResultMessage(
                self.windowTitle(), f"Apply your changes to {self.vm_name}?",
                "You changed settings that were not applied yet.", severity="question"),
                CLOSE_CHOICES, self._after_close_question, self, escape="stay",
                default="stay")
            return
        super().closeEvent(event)

    def _after_close_question(self, choice: str) -> None:
        if choice == "apply":
            self.apply(close_after=True)
        elif choice == "discard":
            self.discard_and_close()


CLOSE_CHOICES = (("apply", "&Apply"), ("discard", "&Discard"), ("stay", "&Keep Editing"))


def _change_to(settings: object, names: tuple[str, ...]) -> MemoryChange:
    """The change that asks for `settings`' values of the fields `names`."""
    return MemoryChange(**{name: getattr(settings, name) for name in names
                           if name in SETTING_FIELDS})
