"""The left pane: the hosts this window is connected to, each with its connection state.

One entry per open host session, as Hyper-V Manager lists servers in its left tree.
Each entry shows the host's name, whether it is simulated, and how it answered lately
(connecting, connected, not responding or why not, with the reason as a tooltip).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from hvmem.errors import ErrorKind
from hvmem.gui.poller import PollState
from hvmem.gui.theme import icon

STATE_TEXTS = {
    PollState.CONNECTING: "Connecting…",
    PollState.OK: "Connected",
    PollState.FAILING: "Not responding",
    PollState.STOPPED: "Disconnected",
}
# A failing host's line names the failures that waiting will not cure.
FAILURE_TEXTS = {
    ErrorKind.AUTH: "Sign-in refused",
    ErrorKind.TLS: "Certificate not trusted",
    ErrorKind.ACCESS_DENIED: "Access denied",
    ErrorKind.NO_RIGHTS: "No Hyper-V rights",
    ErrorKind.CONFIG: "Settings cannot work",
}
# Only these mean the host itself is silent; any other failure answered with a reason.
NOT_RESPONDING_ON = frozenset({ErrorKind.UNREACHABLE, ErrorKind.TIMEOUT})


def failure_text(kind: ErrorKind | None) -> str:
    """A failing host's state in a few words, by the kind of its failure: the same in
    the Hosts pane and the status bar."""
    if kind in FAILURE_TEXTS:
        return FAILURE_TEXTS[kind]
    if kind is None or kind in NOT_RESPONDING_ON:
        return STATE_TEXTS[PollState.FAILING]
    return "Refresh failed"


_STATE_ICONS = {PollState.CONNECTING: "host-connecting", PollState.OK: "host-ok",
                PollState.FAILING: "host-failing", PollState.STOPPED: "host-failing"}


class HostsPane(QWidget):
    """The list of connected hosts.

    Signals:
        current_changed(int): the row of the host the user picked (-1 for none).
    """

    current_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        title = QLabel("H&osts")
        font = title.font()
        font.setBold(True)
        title.setFont(font)
        self.list = QListWidget()
        self.list.setAccessibleName("Hosts")
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        title.setBuddy(self.list)
        self.list.currentRowChanged.connect(self.current_changed.emit)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 0, 0)
        layout.addWidget(title)
        layout.addWidget(self.list)

    def add_host(self, title: str, simulated: bool = False) -> int:
        """Add a host (as connecting); returns its row."""
        item = QListWidgetItem(title)
        self.list.addItem(item)
        row = self.list.count() - 1
        self.set_state(row, title, PollState.CONNECTING, "", simulated)
        return row

    def remove_host(self, row: int) -> None:
        self.list.takeItem(row)

    def set_current(self, row: int) -> None:
        self.list.setCurrentRow(row)

    def set_state(self, row: int, title: str, state: PollState, reason: str,
                  simulated: bool = False, failure: ErrorKind | None = None) -> None:
        """Show the host's state: an icon, a second line, the reason as a tooltip
        (`failure`, the kind of a failing host's error, may name it on the line)."""
        item = self.list.item(row)
        if item is None:
            return
        kind = "Simulated · " if simulated else ""
        text = STATE_TEXTS[state]
        if state is PollState.FAILING:
            text = failure_text(failure)
        item.setText(f"{title}\n{kind}{text}")
        item.setIcon(icon(_STATE_ICONS[state]))
        item.setToolTip(reason or STATE_TEXTS[state])

    def state_text(self, row: int) -> str:
        """The state line of a host's entry (for tests and accessibility)."""
        item = self.list.item(row)
        return item.text().split("\n", 1)[-1] if item is not None else ""
