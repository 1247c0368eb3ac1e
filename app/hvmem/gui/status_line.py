"""The status bar's result line: what the last action did, for a while, never stale.

`ElidedLabel` shows one line cut with "…" to the room it has, the full text in its
tooltip, so a long message never runs under the host's memory bar. `StatusLine` puts
one such label in the status bar and shows the outcome of the last apply or power
action in it: for 15 s, until the next result replaces it, or until a refresh started
after it shows the VM no longer as the message says (`StatusSubject.holds`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, QSize, Qt, QTimer
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QStatusBar, QWidget

from hvmem.controller import ApplyResult
from hvmem.model import Inventory, VmSnapshot
from hvmem.power import TARGET_STATES, PowerResult

RESULT_TIMEOUT_MS = 15_000


class ElidedLabel(QLabel):
    """A one-line label that elides its text to its width; the full text as tooltip
    (unless the owner gives a tooltip of its own)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._full = ""
        self._own_tip = ""
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setTextFormat(Qt.TextFormat.PlainText)

    def set_full_text(self, text: str, tooltip: str = "") -> None:
        """Show `text` (elided when it does not fit); `tooltip` or the text on hover."""
        self._full = text
        self._own_tip = tooltip
        self.updateGeometry()  # a longer text may get more room at the next layout
        self._elide()

    def full_text(self) -> str:
        return self._full

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        return QSize(self.fontMetrics().horizontalAdvance(self._full) + 8, hint.height())

    def minimumSizeHint(self) -> QSize:
        return QSize(0, super().minimumSizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        # Not laid out yet: its width means nothing; the resize at show elides.
        room = self.contentsRect().width() if self.isVisible() else 1 << 20
        shown = self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight,
                                              room)
        self.setText(shown)
        self.setToolTip(self._own_tip or (self._full if shown != self._full else ""))


@dataclass(frozen=True)
class StatusSubject:
    """What a message is about: one VM of one host, and what it says of that VM.

    `holds(vm)` tells whether the VM as a refresh shows it still matches the message;
    only refreshes started after the message (`after_poll`) are asked.
    """

    host: object
    vm_id: str
    holds: Callable[[VmSnapshot], bool]
    after_poll: int


def apply_holds(result: ApplyResult) -> Callable[[VmSnapshot], bool]:
    """Whether a VM still has what `result`'s message says: the asked settings as read
    back (assigned memory for a runtime resize)."""
    def holds(vm: VmSnapshot) -> bool:
        for name in result.asked:
            runtime = name == "startup_mb" and result.runtime_resize
            has = vm.assigned_mb if runtime else getattr(vm.memory, name)
            if has != result.has_value(name):
                return False
        return True

    return holds


def power_holds(result: PowerResult) -> Callable[[VmSnapshot], bool]:
    """Whether a VM is still in the state `result`'s message names."""
    said = (result.vm_after.state if result.vm_after is not None
            else TARGET_STATES[result.action])
    return lambda vm: vm.state == said


class StatusLine(QObject):
    """The result line of a status bar (left of its permanent widgets)."""

    def __init__(self, bar: QStatusBar, timeout_ms: int = RESULT_TIMEOUT_MS) -> None:
        super().__init__(bar)
        self.label = ElidedLabel()
        self.label.setObjectName("result_line")
        # A normal (not permanent) widget with stretch: it gets the room the bar and
        # the refresh time leave, and elides within it instead of running under them.
        bar.addWidget(self.label, 1)
        self.subject: StatusSubject | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(timeout_ms)
        self._timer.timeout.connect(self.clear)

    def show(self, text: str, subject: StatusSubject | None = None) -> None:
        """Show `text` in place of any earlier message, for the timeout."""
        self.subject = subject
        self.label.set_full_text(text)
        self._timer.start()

    def clear(self) -> None:
        self.subject = None
        self.label.set_full_text("")
        self._timer.stop()

    def text(self) -> str:
        """The whole message shown now ('' for none)."""
        return self.label.full_text()

    def withdraw(self, host: object, vm_id: str) -> None:
        """A newer outcome for this VM is on its way or shown elsewhere (in a box):
        drop a message about the VM, since it may no longer be true."""
        subject = self.subject
        if subject is not None and subject.host is host and subject.vm_id == vm_id:
            self.clear()

    def check(self, host: object, inventory: Inventory, poll_number: int) -> None:
        """A refresh of `host` (poll `poll_number`) landed: drop the message if the VM
        it is about has gone or no longer matches it."""
        subject = self.subject
        if subject is None or subject.host is not host:
            return
        if poll_number <= subject.after_poll:
            return  # a refresh that started before the message may predate it
        vm = inventory.vm(subject.vm_id)
        if vm is None or not subject.holds(vm):
            self.clear()
