"""Connect to Server: the dialog that adds a host to the window, as Hyper-V Manager's.

The user picks a saved host or types an address, may connect as another user (the
password goes to the OS keyring when asked, never to a file), chooses the
authentication method and what to trust (a CA file or one certificate's SHA-256
fingerprint), and under Advanced the agent mode and timeouts. Settings that cannot work
are refused before anything is sent, with the rule shown in the dialog. Connecting runs
on the dialog's own runner (the window never waits on it); a failure is shown in the
dialog, with the host's text in its tooltip, and the dialog stays open to fix it.

An untrusted certificate opens the trust panel (`trust_panel.TrustPanel`) in the dialog:
its fingerprint, and two choices that only fill the Trust fields for that host. Nothing
connects again until the user presses Connect, and nothing ever skips the check.

The dialog's widgets are built by `connect_form.ConnectFormMixin`; this module holds
what they do: filling, checking, connecting and trusting.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from urllib.parse import urlsplit

from PySide6.QtCore import QMargins, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFileDialog, QWidget

from hvmem.errors import ErrorKind, HvmemError
from hvmem.gui.connect_form import ConnectFormMixin
from hvmem.gui.runner import Runner
from hvmem.gui.session import HostSession
from hvmem.gui.startup import PasswordRequest
from hvmem.gui.theme import message_style
from hvmem.hosts import CredentialStore, SavedHost, load_hosts, save_host
from hvmem.hyperv.client import HostClient
from hvmem.hyperv.connect import (
    PASSWORD_METHODS,
    HostTarget,
    normalise_fingerprint,
    open_client,
    parse_host_url,
)

log = logging.getLogger("hvmem.gui")

# The most lines of a failure shown at once; a longer one scrolls (all of it also
# in the tooltip).
PROBLEM_LINES = 6


def choose_ca_file(parent: QWidget) -> str:
    """Ask for a PEM file of CAs; "" when the user cancels."""
    path, _filter = QFileDialog.getOpenFileName(
        parent, "CA file to trust for this host", "",
        "PEM certificates (*.pem *.crt *.cer);;All files (*)")
    return path


class ConnectDialog(ConnectFormMixin, QDialog):
    """Asks where and how to connect, then connects off the GUI thread.

    Signals:
        connected(object): a `HostSession` for the new host, already answering.
    """

    connected = Signal(object)

    def __init__(self, parent: QWidget | None = None,
                 saved: list[SavedHost] | None = None,
                 credentials: CredentialStore | None = None,
                 client_factory: Callable[[HostTarget], HostClient] = open_client,
                 ca_file_chooser: Callable[[QWidget], str] = choose_ca_file,
                 ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Connect to Server")
        self.saved = saved if saved is not None else []
        self.credentials = credentials or CredentialStore()
        self.client_factory = client_factory
        self.ca_file_chooser = ca_file_chooser
        self.runner = Runner(self)
        self.connecting = False
        # The URL whose certificate the Trust button pinned: the pin is for it only.
        self.trusted_url = ""
        self._build()
        self.host_edit.textChanged.connect(self._host_edited)
        self.trust_panel.trust_requested.connect(self.trust_certificate)
        self.trust_panel.ca_file_requested.connect(self.pick_ca_file)
        self.other_user.toggled.connect(self._update_fields)
        self.auth_box.currentIndexChanged.connect(lambda _i: self._update_fields())
        self.saved_box.currentIndexChanged.connect(self._fill_from_saved)
        self._update_fields()
        self.host_edit.setFocus()

    # --- filling and showing -------------------------------------------------------

    def _show_problem_area(self, visible: bool) -> None:
        # The label's wrapped height is not counted by a minimum-size layout; the
        # area's fixed height is, so the dialog grows for it (up to PROBLEM_LINES).
        self.problem.setVisible(visible)
        self.problem_area.setVisible(visible)
        if visible:
            layout = self.layout()
            margins = layout.contentsMargins() if layout else QMargins()
            scroll_bar = self.problem_area.verticalScrollBar().sizeHint().width()
            width = (max(self.width(), self.minimumWidth()) - margins.left()
                     - margins.right() - scroll_bar)
            wanted = self.problem.heightForWidth(width)
            most = self.problem.fontMetrics().lineSpacing() * PROBLEM_LINES + 8
            self.problem_area.setFixedHeight(min(max(wanted, 0), most) + 2)
        self._fit_height(shrink=not visible)

    def _update_fields(self) -> None:
        other = self.other_user.isChecked()
        for widget in (self.user_edit, self.password_edit):
            widget.setEnabled(other)
        can_remember = other and self.credentials.available
        self.remember.setEnabled(can_remember)
        if not self.credentials.available:
            self.remember.setChecked(False)
            self.keyring_note.setText("hvmem will ask for the password each time: "
                                      f"{self.credentials.why_not}.")
            self.keyring_note.setStyleSheet(message_style("note", self.keyring_note))
        self.keyring_note.setVisible(not self.credentials.available)
        self.unencrypted.setEnabled(self.auth_box.currentData() == "basic")

    def _fill_from_saved(self, index: int) -> None:
        if not 1 <= index <= len(self.saved):
            return
        host = self.saved[index - 1]
        self.host_edit.setText(host.url)
        self.auth_box.setCurrentIndex(max(self.auth_box.findData(host.auth), 0))
        self.other_user.setChecked(bool(host.user))
        self.user_edit.setText(host.user)
        self.ca_edit.setText(host.ca_file or "")
        self.fingerprint_edit.setText(host.cert_fingerprint or "")
        self.unencrypted.setChecked(host.allow_unencrypted)
        self.agent_box.setCurrentText(host.agent_mode)
        self.operation_spin.setValue(host.operation_timeout_s)
        self.read_spin.setValue(host.read_timeout_s)

    def ask_for(self, host: SavedHost, reason: str) -> None:
        """Fill the dialog with the saved `host` and say (`reason`) why it asks."""
        urls = [saved.url for saved in self.saved]
        if host.url not in urls:
            self.saved.append(host)
            self.saved_box.addItem(f"{host.display_name} — {host.url}")
            urls.append(host.url)
        self.saved_box.setCurrentIndex(urls.index(host.url) + 1)  # fills the fields
        self.setWindowTitle(f"Connect to {host.display_name}")
        self.reason.setText(reason)
        self.reason.setStyleSheet(message_style("banner", self.reason))
        self.reason.setVisible(True)
        wanted = self.password_edit if self.password_edit.isEnabled() else self.host_edit
        wanted.setFocus()

    # --- connecting -------------------------------------------------------------------

    def saved_host(self) -> SavedHost:
        """The host as typed, checked (raises HvmemError naming the broken rule)."""
        user = self.user_edit.text().strip() if self.other_user.isChecked() else ""
        url = self.host_edit.text()
        # A saved host keeps the name it was saved under when it is saved again.
        picked = self.saved_box.currentIndex() - 1
        name = ""
        if 0 <= picked < len(self.saved) and url.strip() in (
                self.saved[picked].url, self.saved[picked].host):
            name = self.saved[picked].name
        return SavedHost(
            url=url, name=name, auth=self.auth_box.currentData(), user=user,
            ca_file=self.ca_edit.text().strip() or None,
            cert_fingerprint=self.fingerprint_edit.text().strip() or None,
            allow_unencrypted=self.unencrypted.isChecked(),
            agent_mode=self.agent_box.currentText(),  # type: ignore[arg-type]
            operation_timeout_s=self.operation_spin.value(),
            read_timeout_s=self.read_spin.value())

    def show_problem(self, error: HvmemError | None) -> None:
        """Show why the connection cannot be made (or nothing, for None)."""
        self.trust_panel.setVisible(False)
        if error is None:
            self._show_problem_area(False)
            return
        text = error.summary + (f"\n{error.hint}" if error.hint else "")
        self.problem.setText(text)
        self.problem.setToolTip("\n\n".join(p for p in (text, error.details) if p))
        self.problem.setStyleSheet(message_style("error", self.problem))
        self._show_problem_area(True)

    def start_connect(self) -> None:
        """Check what was typed, then connect on the dialog's runner."""
        if self.connecting:
            return
        try:
            host = self.saved_host()
            self._check_user_given(host)
            typed = self.password_edit.text()
            host.to_target(typed).check()
        except HvmemError as error:
            self.show_problem(error)
            return

        self.show_problem(None)
        self._set_connecting(True)
        remember = self.remember.isChecked() and bool(typed)
        log.debug("user connects to %s as %r", host.url, host.user)
        self.runner.submit(f"connect to {host.url}",
                           lambda: self._connect(host, typed, remember),
                           self._on_connected,
                           lambda error: self._on_failed(error, host.url))

    def _check_user_given(self, host: SavedHost) -> None:
        # The user name field is greyed out while the box is unticked: say to tick it.
        if host.user or host.auth not in PASSWORD_METHODS or self.other_user.isChecked():
            return
        method = self.auth_box.currentText().split(" (")[0]
        raise HvmemError(ErrorKind.CONFIG, f"{method} authentication needs a user name",
                         hint="Tick Connect as another user and enter a user name.")

    def _connect(self, host: SavedHost, typed: str, remember: bool) -> HostSession:
        # On a worker: the keyring and the first request may both take a while.
        password = typed
        if not password and host.user and self.credentials.available:
            password = self.credentials.get(host.user, host.url) or ""
        target = host.to_target(password)
        target.check()
        client = self.client_factory(target)
        try:
            # hello says whether the host is a simulated one (`hvmem sim serve`), which
            # the window then says as it does for the demo host.
            hello = client.hello()
            client.list()
        except BaseException:
            client.close()
            raise
        if remember:
            self.credentials.set(host.user, host.url, password)
        return HostSession(client, client.name, simulated=hello.simulated,
                           closers=[client.close], url=target.url)

    def _on_connected(self, session: HostSession) -> None:
        self._set_connecting(False)
        if self.save_box.isChecked():
            try:
                save_host(self.saved_host())
            except HvmemError as error:
                log.warning("could not save %s: %s", session.name, error)
        self.connected.emit(session)
        self.accept()

    def _on_failed(self, error: HvmemError, url: str) -> None:
        self._set_connecting(False)
        if error.kind is not ErrorKind.TLS:
            self.show_problem(error)
            return

        # Not in a box: the choices belong beside the fields they fill.
        self.show_problem(None)
        pinned = normalise_fingerprint(self.fingerprint_edit.text())
        self.trust_panel.show_error(error, url, pinned)
        self.trust_panel.trust_button.setFocus()
        self._fit_height()

    # --- trust --------------------------------------------------------------------------

    def trust_certificate(self, fingerprint: str, url: str) -> None:
        """Pin `fingerprint` for the host at `url`; nothing connects until the user
        presses Connect again."""
        host = urlsplit(url).hostname or url
        self.fingerprint_edit.setText(fingerprint)
        # A pin replaces the CA check, so a CA file beside it would only mislead.
        self.ca_edit.clear()
        self.trusted_url = url
        log.info("user trusts the certificate %s for %s", fingerprint, url)
        self.fingerprint_edit.setCursorPosition(0)
        self._say_trusted(f"This certificate (by the fingerprint above) is now trusted "
                          f"for {host} only.")

    def pick_ca_file(self) -> None:
        """Ask for a CA file (through the injectable chooser) and put it in its field."""
        path = self.ca_file_chooser(self)
        if not path:
            return

        self.ca_edit.setText(path)
        # The pin would win over the CA file: leave only the user's new choice.
        self.fingerprint_edit.clear()
        self.trusted_url = ""
        if self.trust_panel.isVisible():
            host = urlsplit(self.trust_panel.url).hostname or self.trust_panel.url
            self._say_trusted(f"Certificates from this CA are now trusted for {host} "
                              f"only.")

    def _say_trusted(self, text: str) -> None:
        saved = ("It is saved with the host when it connects." if
                 self.save_box.isChecked() else
                 "It is not saved: Save this host is off.")
        self.trust_panel.setVisible(False)
        self.problem.setText(f"{text} {saved} Press Connect to connect.")
        self.problem.setToolTip("")
        self.problem.setStyleSheet(message_style("note", self.problem))
        self._show_problem_area(True)
        self.connect_button.setFocus()
        self._fit_height(shrink=True)

    def _host_edited(self, text: str) -> None:
        url = self._canonical(text)
        if self.problem_area.isVisible() and not self.connecting:
            self._show_problem_area(False)  # it was about the address as it was
        if self.trust_panel.isVisible() and url != self.trust_panel.url:
            self.trust_panel.setVisible(False)
        if self.trusted_url and url != self.trusted_url:
            # The pinned certificate is another host's: it must not follow the address.
            self.fingerprint_edit.clear()
            self.trusted_url = ""

    @staticmethod
    def _canonical(text: str) -> str:
        try:
            return parse_host_url(text)
        except HvmemError:
            return ""

    def _set_connecting(self, connecting: bool) -> None:
        self.connecting = connecting
        self.connect_button.setEnabled(not connecting)
        self.connect_button.setText("Connecting…" if connecting else "&Connect")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setEnabled(
            not connecting)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._fit_height()

    def _fit_height(self, shrink: bool = False) -> None:
        # A window's size may stay below what its wrapped notes need: a minimum-size
        # constraint does not count a wrapped label's height for the width it has.
        # `shrink` gives back the room of a panel that went away.
        layout = self.layout()
        if layout is None:
            return
        layout.activate()
        wanted = layout.totalHeightForWidth(self.width())
        if wanted > self.height() or (shrink and 0 < wanted < self.height()):
            self.resize(self.width(), wanted)

    def reject(self) -> None:
        if not self.connecting:  # the answer must find the dialog
            super().reject()


def open_connect_dialog(window: QWidget,
                        request: PasswordRequest | None = None) -> ConnectDialog:
    """Open Connect to Server over `window`; a new host goes to `window.add_session`.
    With a `request`, the dialog opens filled with that saved host and says why."""
    notifier = getattr(window, "notifier", None)
    try:
        saved = load_hosts()
    except HvmemError as error:
        # A damaged hosts file should not keep anyone from connecting.
        if notifier is not None:
            notifier.show_error(error, window)
        saved = []
    dialog = ConnectDialog(window, saved)
    if request is not None:
        dialog.ask_for(request.host, request.reason)
    dialog.connected.connect(window.add_session)  # type: ignore[attr-defined]
    dialog.finished.connect(lambda _code: dialog.deleteLater())
    dialog.open()
    return dialog
