"""Connect to Server and an untrusted certificate (F10): the fingerprint shown in the
dialog, trust by fingerprint or by CA file for that host only, and never a retry by
itself. Against a real HTTPS WS-Management server on loopback with a trustme CA that
the client does not trust."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt

from hvmem.errors import ErrorKind, HvmemError
from hvmem.gui.connect_dialog import ConnectDialog
from hvmem.gui.runner import runners_with_work
from hvmem.hosts import SavedHost, load_hosts, save_host
from hvmem.hyperv.connect import open_client
from hvmem.sim.agent import SimAgent
from hvmem.sim.scenario import load_scenario
from hvmem.sim.wsman import WsmanServer
from wsman_fakes import PASSWORD, USER, Pki, colon_fingerprint, make_pki


class FakeCredentials:
    available = True
    why_not = ""

    def get(self, user: str, url: str) -> str | None:
        return None

    def set(self, user: str, url: str, password: str) -> None:
        raise AssertionError("nothing asked to remember a password")


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def https_host(pki: Pki) -> Iterator[WsmanServer]:
    """The desktop scenario behind HTTPS, its certificate from the test CA."""
    sim_host = load_scenario("desktop", seed=1)
    with WsmanServer(lambda: SimAgent(sim_host), {USER: PASSWORD},
                     ssl_context=pki.server_context(), receive_wait=0.2) as server:
        yield server


@pytest.fixture
def sessions() -> Iterator[list[Any]]:
    """The sessions the dialogs connected, closed after the test."""
    connected: list[Any] = []
    yield connected
    for session in connected:
        session.close()


def open_dialog(qtbot: Any, sessions: list[Any], saved: list[SavedHost] | None = None,
                chosen_file: str = "") -> ConnectDialog:
    dialog = ConnectDialog(None, saved=saved or [], credentials=FakeCredentials(),
                           ca_file_chooser=lambda _parent: chosen_file)
    qtbot.addWidget(dialog)
    dialog.connected.connect(sessions.append)
    dialog.show()
    return dialog


def fill(dialog: ConnectDialog, url: str) -> None:
    dialog.host_edit.setText(url)
    dialog.auth_box.setCurrentIndex(dialog.auth_box.findData("basic"))
    dialog.other_user.setChecked(True)
    dialog.user_edit.setText(USER)
    dialog.password_edit.setText(PASSWORD)


def press_connect(qtbot: Any, dialog: ConnectDialog) -> None:
    qtbot.mouseClick(dialog.connect_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.connecting, timeout=15_000)


def shown_fingerprint(dialog: ConnectDialog) -> str:
    """The fingerprint as the panel shows it, its two lines joined."""
    return dialog.trust_panel.fingerprint_label.text().replace("\n", "")


def test_an_untrusted_certificate_shows_its_fingerprint_and_nothing_retries(
        qtbot: Any, https_host: WsmanServer, pki: Pki, sessions: list[Any]) -> None:
    dialog = open_dialog(qtbot, sessions)
    fill(dialog, https_host.url)

    press_connect(qtbot, dialog)

    panel = dialog.trust_panel
    assert not panel.isHidden() and dialog.problem.isHidden()
    assert panel.heading.text() == "The certificate of 127.0.0.1 is not trusted."
    assert shown_fingerprint(dialog) == colon_fingerprint(pki.fingerprint)
    assert panel.fingerprint_label.textInteractionFlags() & (
        Qt.TextInteractionFlag.TextSelectableByMouse)
    assert "SHA256" in panel.command.text() and "Cert:\\LocalMachine\\My" in (
        panel.command.text())
    assert panel.trust_button.text() == "&Trust this certificate for 127.0.0.1"
    # No button anywhere in the dialog offers to skip the check.
    labels = [b.text().replace("&", "").lower()
              for b in dialog.findChildren(type(dialog.connect_button))]
    assert not [label for label in labels if "skip" in label or "ignore" in label]

    # The one verified handshake failed; the only other connection read the
    # certificate for its fingerprint. No request went out, and none is pending.
    stats = https_host.stats
    assert (stats.tls_failures, stats.tcp_accepts, stats.http_requests) == (1, 2, 0)
    assert not runners_with_work() and not dialog.connecting
    assert sessions == [] and dialog.isVisible()


def test_trusting_the_fingerprint_fills_it_and_connect_saves_it_with_that_host_only(
        qtbot: Any, https_host: WsmanServer, pki: Pki, sessions: list[Any]) -> None:
    dialog = open_dialog(qtbot, sessions)
    fill(dialog, https_host.url)
    press_connect(qtbot, dialog)

    qtbot.mouseClick(dialog.trust_panel.trust_button, Qt.MouseButton.LeftButton)

    assert dialog.fingerprint_edit.text() == colon_fingerprint(pki.fingerprint)
    assert dialog.trust_panel.isHidden() and "Press Connect" in dialog.problem.text()
    assert https_host.stats.tcp_accepts == 2 and sessions == []  # nothing connected

    press_connect(qtbot, dialog)

    assert len(sessions) == 1 and not dialog.isVisible()
    assert https_host.stats.tls_failures == 1
    [saved] = load_hosts()
    assert saved.url == https_host.url and saved.cert_fingerprint == pki.fingerprint


def test_another_host_is_not_trusted_by_that_fingerprint(
        qtbot: Any, https_host: WsmanServer, pki: Pki, sessions: list[Any]) -> None:
    trusted = SavedHost(url=https_host.url, auth="basic", user=USER,
                        cert_fingerprint=pki.fingerprint)
    other = SavedHost(url=f"https://localhost:{https_host.port}/wsman", auth="basic",
                      user=USER)
    save_host(trusted)
    save_host(other)
    dialog = open_dialog(qtbot, sessions, load_hosts())

    dialog.saved_box.setCurrentIndex(2)
    dialog.password_edit.setText(PASSWORD)
    press_connect(qtbot, dialog)

    assert dialog.fingerprint_edit.text() == ""
    assert dialog.trust_panel.heading.text() == (
        "The certificate of localhost is not trusted.")
    assert sessions == []
    assert {host.url: host.cert_fingerprint for host in load_hosts()} == {
        trusted.url: pki.fingerprint, other.url: None}


def test_a_trusted_fingerprint_does_not_follow_a_changed_address(
        qtbot: Any, https_host: WsmanServer, pki: Pki, sessions: list[Any]) -> None:
    dialog = open_dialog(qtbot, sessions)
    fill(dialog, https_host.url)
    press_connect(qtbot, dialog)
    qtbot.mouseClick(dialog.trust_panel.trust_button, Qt.MouseButton.LeftButton)

    dialog.host_edit.setText(f"https://localhost:{https_host.port}/wsman")

    assert dialog.fingerprint_edit.text() == ""


def test_a_chosen_ca_file_is_trusted_and_saved_with_the_host(
        qtbot: Any, https_host: WsmanServer, pki: Pki, sessions: list[Any]) -> None:
    dialog = open_dialog(qtbot, sessions, chosen_file=str(pki.ca_file))
    fill(dialog, https_host.url)
    press_connect(qtbot, dialog)

    qtbot.mouseClick(dialog.trust_panel.ca_button, Qt.MouseButton.LeftButton)

    assert dialog.ca_edit.text() == str(pki.ca_file)
    assert dialog.fingerprint_edit.text() == "" and sessions == []
    press_connect(qtbot, dialog)

    assert len(sessions) == 1
    [saved] = load_hosts()
    assert saved.ca_file == str(pki.ca_file) and saved.cert_fingerprint is None


def test_a_cancelled_file_chooser_changes_nothing(qtbot: Any,
                                                  sessions: list[Any]) -> None:
    dialog = open_dialog(qtbot, sessions, chosen_file="")
    dialog.ca_edit.setText("/etc/lab-ca.pem")

    qtbot.mouseClick(dialog.browse_button, Qt.MouseButton.LeftButton)

    assert dialog.ca_edit.text() == "/etc/lab-ca.pem"


def test_a_certificate_that_is_not_the_pinned_one_is_named_so(
        qtbot: Any, https_host: WsmanServer, pki: Pki, sessions: list[Any]) -> None:
    dialog = open_dialog(qtbot, sessions)
    fill(dialog, https_host.url)
    dialog.fingerprint_edit.setText("00" * 32)

    press_connect(qtbot, dialog)

    assert "not the one whose fingerprint is pinned" in (
        dialog.trust_panel.heading.text())
    assert shown_fingerprint(dialog) == colon_fingerprint(pki.fingerprint)


def test_other_failures_stay_in_the_problem_line(qtbot: Any,
                                                 sessions: list[Any]) -> None:
    dialog = open_dialog(qtbot, sessions)

    dialog._on_failed(HvmemError(ErrorKind.AUTH, "The credentials were rejected"),
                      "https://hv01:5986/wsman")

    assert dialog.trust_panel.isHidden()
    assert dialog.problem.text() == "The credentials were rejected"


def test_an_unknown_fingerprint_offers_only_the_ca_file(qtbot: Any,
                                                         sessions: list[Any]) -> None:
    dialog = open_dialog(qtbot, sessions)

    dialog._on_failed(HvmemError(ErrorKind.TLS, "The certificate of hv01 is not "
                                 "trusted", host="hv01"), "https://hv01:5986/wsman")

    panel = dialog.trust_panel
    assert not panel.isHidden() and panel.trust_button.isHidden()
    assert not panel.ca_button.isHidden()


def test_the_tls_error_carries_the_fingerprint_as_data(
        https_host: WsmanServer, pki: Pki) -> None:

    client = open_client(SavedHost(url=https_host.url, auth="basic", user=USER)
                         .to_target(PASSWORD))
    with pytest.raises(HvmemError) as caught:
        client.list()
    client.close()

    assert caught.value.kind is ErrorKind.TLS
    assert caught.value.cert_fingerprint == colon_fingerprint(pki.fingerprint)


def test_every_field_and_choice_has_its_own_mnemonic(qtbot: Any,
                                                      sessions: list[Any]) -> None:
    from PySide6.QtWidgets import QAbstractButton, QGroupBox, QLabel

    dialog = open_dialog(qtbot, sessions)
    texts = [w.text() for w in dialog.findChildren(QLabel) if w.buddy()]
    texts += [w.text() for w in dialog.findChildren(QAbstractButton)]
    texts += [w.title() for w in dialog.findChildren(QGroupBox)]

    keys = [text[text.index("&") + 1].lower() for text in texts if "&" in text]
    assert len(keys) == len(set(keys)), " ".join(sorted(keys))


def test_advanced_settings_unfold_when_ticked(qtbot: Any, sessions: list[Any]) -> None:
    dialog = open_dialog(qtbot, sessions)
    assert not dialog.agent_box.isVisible()

    dialog.advanced.setChecked(True)

    assert dialog.agent_box.isVisible() and dialog.read_spin.isVisible()
