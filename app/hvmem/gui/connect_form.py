"""Connect to Server's fields and layout: the groups of the dialog, built once.

`ConnectFormMixin` is the part of `ConnectDialog` that builds its widgets: the Computer,
Account and Trust groups, the folding Advanced group, the problem area, the trust panel
and the buttons, each stored on the dialog under the name the dialog's handlers use. It
is kept apart so that each file stays readable; it relies on the dialog's handlers
(`pick_ca_file`, `start_connect`, `reject`) and on `_fit_height`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QMargins, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from hvmem.gui.trust_panel import TrustPanel
from hvmem.hyperv.connect import AGENT_MODES

if TYPE_CHECKING:
    from hvmem.hosts import SavedHost

AUTH_CHOICES = (("ntlm", "NTLM (Windows account)"), ("kerberos", "Kerberos (domain)"),
                ("basic", "Basic (HTTPS, or HTTP to loopback)"), ("credssp", "CredSSP"),
                ("certificate", "Client certificate"))


class ConnectFormMixin:
    """The widgets of a `ConnectDialog` (mixed into it, before `QDialog`)."""

    if TYPE_CHECKING:  # what the dialog provides
        saved: list[SavedHost]

        def pick_ca_file(self) -> None: ...
        def start_connect(self) -> None: ...
        def reject(self) -> None: ...
        def _fit_height(self, shrink: bool = False) -> None: ...

    def _build(self) -> None:
        self.saved_box = QComboBox()
        self.saved_box.addItem("(type a new address)")
        for host in self.saved:
            self.saved_box.addItem(f"{host.display_name} — {host.url}")
        self.host_edit = QLineEdit()
        self.host_edit.setPlaceholderText(
            "hv01, hv01.lab.local or https://hv01:5986/wsman")
        self.auth_box = QComboBox()
        for key, label in AUTH_CHOICES:
            self.auth_box.addItem(label, key)
        where = QGroupBox("Computer")
        form = QFormLayout(where)
        form.addRow(self._label("&Saved hosts:", self.saved_box), self.saved_box)
        form.addRow(self._label("&Host:", self.host_edit), self.host_edit)
        form.addRow(self._label("&Authentication:", self.auth_box), self.auth_box)

        self.other_user = QCheckBox("Connect as another &user")
        self.user_edit = QLineEdit()
        self.user_edit.setPlaceholderText("DOMAIN\\user or user@domain")
        self.password_edit = QLineEdit()
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.remember = QCheckBox("&Remember the password in the system keyring")
        self.keyring_note = QLabel()
        self.keyring_note.setWordWrap(True)
        who = QGroupBox("Account")
        account = QFormLayout()
        account.addRow(self.other_user)
        account.addRow(self._label("User &name:", self.user_edit), self.user_edit)
        account.addRow(self._label("&Password:", self.password_edit), self.password_edit)
        account.addRow(self.remember)
        # Outside the form: a form row does not give a wrapped label its height.
        who_layout = QVBoxLayout(who)
        who_layout.addLayout(account)
        who_layout.addWidget(self.keyring_note)

        self.ca_edit = QLineEdit()
        self.ca_edit.setPlaceholderText("PEM file of CAs trusted for this host only")
        self.fingerprint_edit = QLineEdit()
        self.fingerprint_edit.setPlaceholderText("SHA-256 of this host's certificate")
        self.unencrypted = QCheckBox("Allo&w Basic over plain HTTP (sends the password "
                                     "unencrypted)")
        self.browse_button = QPushButton("&Browse…")
        self.browse_button.setAutoDefault(False)
        self.browse_button.clicked.connect(self.pick_ca_file)
        ca_row = QHBoxLayout()
        ca_row.addWidget(self.ca_edit, 1)
        ca_row.addWidget(self.browse_button)
        trust = QGroupBox("Trust")
        trust_form = QFormLayout(trust)
        trust_form.addRow(self._label("CA &file:", self.ca_edit), ca_row)
        trust_form.addRow(self._label("F&ingerprint:", self.fingerprint_edit),
                          self.fingerprint_edit)
        trust_form.addRow(self.unencrypted)

        self.advanced = self._build_advanced()
        self.save_box = QCheckBox("Sa&ve this host for next time")
        self.save_box.setChecked(True)
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem_area = self._build_problem_area(self.problem)
        self.trust_panel = TrustPanel()
        self.trust_panel.setVisible(False)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.connect_button = QPushButton("&Connect")
        self.buttons.addButton(self.connect_button,
                               QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setAutoDefault(False)
        self.connect_button.setDefault(True)  # Enter connects
        self.connect_button.clicked.connect(self.start_connect)
        self.buttons.rejected.connect(self.reject)

        # Why the dialog opened by itself (a saved host without a usable password).
        self.reason = QLabel()
        self.reason.setWordWrap(True)
        self.reason.setVisible(False)

        layout = QVBoxLayout(self)
        # Wrapped notes need their height for the dialog's width; a minimum-size
        # constraint makes the dialog grow to it instead of clipping them.
        layout.setSizeConstraint(QLayout.SizeConstraint.SetMinimumSize)
        self.setMinimumWidth(460)
        top: tuple[QWidget, ...] = (self.reason, where, who, trust, self.advanced,
                                    self.save_box)
        for widget in top:
            layout.addWidget(widget)
        layout.addStretch(1)  # spare height goes here, not into a folded group
        for widget in (self.trust_panel, self.problem_area, self.buttons):
            layout.addWidget(widget)

    def _build_advanced(self) -> QGroupBox:
        box = QGroupBox("Advanc&ed")
        box.setCheckable(True)
        box.setChecked(False)
        self.agent_box = QComboBox()
        self.agent_box.addItems(list(AGENT_MODES))
        self.operation_spin = QSpinBox()
        self.operation_spin.setRange(1, 3600)
        self.operation_spin.setValue(20)
        self.operation_spin.setSuffix(" s")
        self.read_spin = QSpinBox()
        self.read_spin.setRange(2, 3600)
        self.read_spin.setValue(30)
        self.read_spin.setSuffix(" s")
        fields = QWidget()
        form = QFormLayout(fields)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow(self._label("A&gent mode:", self.agent_box), self.agent_box)
        form.addRow(self._label("&Operation timeout:", self.operation_spin),
                    self.operation_spin)
        form.addRow(self._label("Rea&d timeout:", self.read_spin), self.read_spin)
        outer = QVBoxLayout(box)
        outer.addWidget(fields)
        margins = outer.contentsMargins()

        # Folded while unticked, so the dialog keeps its height for what matters now.
        def fold(unfolded: bool) -> None:
            box.setFlat(not unfolded)
            fields.setVisible(unfolded)
            outer.setContentsMargins(margins if unfolded else QMargins())
            self._fit_height(shrink=not unfolded)

        fold(False)
        box.toggled.connect(fold)
        box.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        return box

    @staticmethod
    def _build_problem_area(label: QLabel) -> QScrollArea:
        # A long hint scrolls in a few lines instead of pushing the fields together.
        area = QScrollArea()
        area.setWidget(label)
        area.setWidgetResizable(True)
        area.setFrameShape(QScrollArea.Shape.NoFrame)
        area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        area.setVisible(False)
        return area

    @staticmethod
    def _label(text: str, buddy: QWidget) -> QLabel:
        label = QLabel(text)
        label.setBuddy(buddy)
        return label
