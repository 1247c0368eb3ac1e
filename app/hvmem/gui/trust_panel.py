"""The untrusted-certificate panel of Connect to Server: what was presented, how to check
it on the host, and the two ways to trust it.

It shows the SHA-256 fingerprint of the certificate the host presented (selectable, and
copyable in one piece), how to compute the same fingerprint on the host (WinRM itself
shows only SHA-1 thumbprints), and two explicit choices: trust exactly this certificate
for this host, or choose a CA file. It only asks; the dialog fills its fields and the
user connects again. There is deliberately no way here to skip the check.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hvmem.errors import HvmemError
from hvmem.gui.theme import message_style

# Run on the host, in PowerShell; works on Windows PowerShell 5.1 and any .NET.
HOST_COMMAND = (
    "$c = Get-Item Cert:\\LocalMachine\\My\\<thumbprint>\n"
    "$sha = [Security.Cryptography.SHA256]::Create()\n"
    "[BitConverter]::ToString($sha.ComputeHash($c.RawData))"
)
_SELECTABLE = (Qt.TextInteractionFlag.TextSelectableByMouse
               | Qt.TextInteractionFlag.TextSelectableByKeyboard)


def split_fingerprint(fingerprint: str) -> str:
    """A colon-separated fingerprint on two lines of 16 pairs, to compare by eye.

    The first line keeps its trailing colon, so joining the lines gives the fingerprint
    back unchanged.
    """
    pairs = fingerprint.split(":")
    if len(pairs) <= 16:
        return fingerprint
    return ":".join(pairs[:16]) + ":\n" + ":".join(pairs[16:])


class TrustPanel(QFrame):
    """Shown in the dialog when a host's certificate is not trusted.

    Signals:
        trust_requested(str, str): the user trusts the certificate with this
            fingerprint (colon-separated) for this host URL.
        ca_file_requested(): the user wants to choose a CA file.
    """

    trust_requested = Signal(str, str)
    ca_file_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.fingerprint = ""
        self.url = ""
        fixed = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)

        self.heading = QLabel()
        self.heading.setWordWrap(True)
        self.algorithm = QLabel("SHA-256:")
        self.fingerprint_label = QLabel()
        self.fingerprint_label.setFont(fixed)
        self.fingerprint_label.setTextInteractionFlags(_SELECTABLE)
        self.copy_button = QPushButton("Cop&y")
        self.copy_button.setAutoDefault(False)
        self.copy_button.setToolTip("Copy the fingerprint, in one line")
        self.copy_button.clicked.connect(self._copy)
        shown = QHBoxLayout()
        shown.addWidget(self.algorithm, 0, Qt.AlignmentFlag.AlignTop)
        shown.addWidget(self.fingerprint_label, 1)
        shown.addWidget(self.copy_button, 0, Qt.AlignmentFlag.AlignTop)

        self.advice = QLabel()
        self.advice.setWordWrap(True)
        self.command = QLabel(HOST_COMMAND)
        self.command.setFont(fixed)
        self.command.setTextInteractionFlags(_SELECTABLE)
        self.command.setStyleSheet(message_style("note", self.command))

        self.trust_button = QPushButton()
        self.trust_button.setAutoDefault(False)
        self.trust_button.clicked.connect(
            lambda: self.trust_requested.emit(self.fingerprint, self.url))
        self.ca_button = QPushButton("Choose CA fi&le…")
        self.ca_button.setAutoDefault(False)
        self.ca_button.clicked.connect(self.ca_file_requested)
        choices = QHBoxLayout()
        choices.addWidget(self.trust_button)
        choices.addWidget(self.ca_button)
        choices.addStretch(1)

        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addLayout(shown)
        layout.addWidget(self.advice)
        layout.addWidget(self.command)
        layout.addLayout(choices)

    def show_error(self, error: HvmemError, url: str, pinned: str = "") -> None:
        """Show `error` (kind TLS) for the host at `url`.

        Args:
            error: the failure; its `cert_fingerprint` is what the host presented.
            url: the address that was tried; a trust choice applies to it only.
            pinned: the fingerprint the dialog had pinned, normalised, if any.
        """
        host = error.host or url
        self.fingerprint = error.cert_fingerprint
        self.url = url
        known = bool(self.fingerprint)
        presented = self.fingerprint.replace(":", "").lower()
        if pinned and known and pinned != presented:
            heading = (f"The certificate of {host} is not trusted: it is not the one "
                       f"whose fingerprint is pinned. It may have been renewed, or "
                       f"someone may be in between.")
        else:
            heading = f"The certificate of {host} is not trusted."
        self.heading.setText(heading)
        self.heading.setStyleSheet(message_style("error", self.heading))
        self.heading.setToolTip(error.details)

        self.fingerprint_label.setText(split_fingerprint(self.fingerprint))
        for widget in (self.algorithm, self.fingerprint_label, self.copy_button):
            widget.setVisible(known)
        self.advice.setText(
            f"Compare it with the certificate on {host} before you trust it. WinRM "
            f"lists SHA-1 thumbprints (winrm enumerate winrm/config/listener); for "
            f"the SHA-256, run this in PowerShell on {host} (it joins the pairs with "
            f"'-'):"
            if known else
            "The host's certificate could not be read to show its fingerprint (hover "
            "the line above for the reason). Choose the CA file that signed it.")
        for widget in (self.command, self.trust_button):
            widget.setVisible(known)
        self.trust_button.setText(f"&Trust this certificate for {host}")
        self.setVisible(True)

    def _copy(self) -> None:
        QGuiApplication.clipboard().setText(self.fingerprint)
