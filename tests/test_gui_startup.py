"""What the window opens with: the host given, the saved hosts, or the demo host.

Each test has its own HVMEM_CONFIG_DIR (conftest) for hosts.json, a keyring back end
of its own (an in-memory one, or keyring's "no keyring" back end), and the demo host
over real WinRM on loopback as the host.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
from collections.abc import Iterator
from typing import Any

import keyring
import keyring.backend
import keyring.errors
import pytest
from keyring.backends import fail
from PySide6.QtCore import Qt, QTimer

from hvmem.cli import build_parser, main
from hvmem.gui import app
from hvmem.gui.connect_dialog import ConnectDialog
from hvmem.gui.poller import PollState
from hvmem.gui.startup import plan_startup
from hvmem.hosts import KEYRING_SERVICE, SavedHost, credential_key, hosts_path, save_host


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring that works and keeps its passwords in memory."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.passwords: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.passwords.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.passwords[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.passwords.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError(username)

    def store(self, host: SavedHost, password: str) -> None:
        self.passwords[(KEYRING_SERVICE, credential_key(host.user, host.url))] = password


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    before = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(before)


@pytest.fixture
def no_keyring() -> Iterator[None]:
    before = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        yield
    finally:
        keyring.set_keyring(before)


def window_args(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(list(argv))


def saved_demo(demo: Any, name: str = "lab") -> SavedHost:
    host = SavedHost(url=demo.url, name=name, auth="basic", user=demo.user)
    save_host(host)
    return host


def dead_url() -> str:
    """A loopback address where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/wsman"


@pytest.fixture
def opened(qtbot: Any, fake_notifier: Any) -> Iterator[Any]:
    """Opens the window as `hvmem` would for the given startup; shut down after."""
    windows: list[Any] = []
    startups: list[Any] = []

    def open_for(startup: Any) -> Any:
        startups.append(startup)
        window = app.open_window(startup, fake_notifier)
        qtbot.addWidget(window)
        windows.append(window)
        return window

    yield open_for
    for window in windows:
        if window._asking is not None:
            window._password_requests.clear()
            window._asking.reject()
        window.shutdown()
    for startup in startups:
        startup.close()


# --- which hosts ------------------------------------------------------------------------


def test_no_host_given_or_saved_starts_the_demo(qapp: Any, memory_keyring: Any) -> None:
    startup = plan_startup(window_args())
    try:
        [session] = startup.sessions
        assert session.simulated and session.name == "DESKTOP-HV"
        assert startup.ask == [] and startup.problems == []
    finally:
        startup.close()


def test_demo_flag_opens_the_demo_even_with_hosts_saved(qapp: Any, demo_host: Any,
                                                       memory_keyring: Any) -> None:
    memory_keyring.store(saved_demo(demo_host), demo_host.password)

    startup = plan_startup(window_args("--demo"))
    try:
        assert [s.simulated for s in startup.sessions] == [True]
    finally:
        startup.close()


def test_host_option_opens_that_host_with_the_keyring_password(
        qapp: Any, demo_host: Any, memory_keyring: Any) -> None:
    memory_keyring.store(SavedHost(url=demo_host.url, user=demo_host.user),
                         demo_host.password)

    startup = plan_startup(window_args("--host", demo_host.url, "--auth", "basic",
                                       "--user", demo_host.user))
    try:
        [session] = startup.sessions
        inventory = session.client.list()
    finally:
        startup.close()
    assert not session.simulated
    assert inventory.host.name == demo_host.sim_host.name


def test_window_options_before_a_command_are_a_usage_error(capsys: Any) -> None:
    assert main(["--host", "hv01", "list"]) == 2
    assert "give --host after the command: hvmem list --host" in capsys.readouterr().err
    assert main(["--demo", "list"]) == 2


def test_a_damaged_hosts_file_is_told_and_no_demo_starts(
        qtbot: Any, opened: Any, fake_notifier: Any, memory_keyring: Any) -> None:
    hosts_path().parent.mkdir(parents=True, exist_ok=True)
    hosts_path().write_text("{not json", encoding="utf-8")

    window = opened(plan_startup(window_args()))

    assert window.hosts == []
    [shown] = fake_notifier.shown
    assert "saved hosts file" in shown.message.summary and "damaged" in (
        shown.message.summary)


# --- saved hosts ------------------------------------------------------------------------


def test_hvmem_opens_saved_hosts_and_a_dead_one_shows_failed(
        qapp: Any, demo_host: Any, memory_keyring: Any, fake_notifier: Any) -> None:
    good = saved_demo(demo_host, "lab")
    dead = SavedHost(url=dead_url(), name="gone", auth="basic", user="demo")
    save_host(dead)
    memory_keyring.store(good, demo_host.password)
    memory_keyring.store(dead, "whatever")
    seen: dict[str, Any] = {}

    def look_then_close() -> None:
        windows = [w for w in qapp.topLevelWidgets()
                   if type(w).__name__ == "MainWindow" and w.isVisible()]
        states = [h.state for h in windows[0].hosts] if windows else []
        if states != [PollState.OK, PollState.FAILING]:
            QTimer.singleShot(50, look_then_close)
            return
        window = windows[0]
        seen["names"] = [h.name for h in window.hosts]
        seen["lines"] = [window.hosts_pane.state_text(row) for row in range(2)]
        seen["tip"] = window.hosts_pane.list.item(1).toolTip()
        seen["rows"] = window.model.rowCount()
        window.close()

    hook = sys.excepthook
    QTimer.singleShot(50, look_then_close)
    status = app.run(window_args(), notifier_factory=lambda: fake_notifier)

    assert status == 0 and sys.excepthook is hook
    assert seen["names"] == ["lab", "gone"]
    assert seen["lines"] == ["Connected", "Not responding"]
    assert "127.0.0.1" in seen["tip"]
    # The hint is said once: str(error) already ends with it.
    hint = seen["tip"].rsplit("\n\n", 1)[-1]
    assert hint and seen["tip"].count(hint) == 1
    assert seen["rows"] == len(demo_host.sim_host.vms())
    assert fake_notifier.shown == []  # a failing host is a state, never a box


def test_a_refused_saved_password_stops_asking_the_host(
        qtbot: Any, opened: Any, demo_host: Any, memory_keyring: Any,
        fake_notifier: Any) -> None:
    memory_keyring.store(saved_demo(demo_host), "not-the-password")

    window = opened(plan_startup(window_args()))
    [host] = window.hosts
    qtbot.waitUntil(lambda: host.state is PollState.FAILING, timeout=10_000)

    assert window.hosts_pane.state_text(0) == "Sign-in refused"
    assert host.poller.paused  # no retry loop with refused credentials (F06)
    assert fake_notifier.shown == []


def test_a_saved_host_without_a_stored_password_opens_connect_filled_in(
        qtbot: Any, opened: Any, demo_host: Any, memory_keyring: Any) -> None:
    host = saved_demo(demo_host, "lab")

    startup = plan_startup(window_args())
    window = opened(startup)

    assert window.hosts == []
    dialog = window._asking
    assert isinstance(dialog, ConnectDialog) and dialog.isVisible()
    assert dialog.host_edit.text() == demo_host.url
    assert dialog.user_edit.text() == demo_host.user
    assert dialog.auth_box.currentData() == "basic"
    assert dialog.reason.isVisible()
    assert dialog.reason.text().startswith(
        "The system keyring holds no password for demo on lab.")
    assert dialog.remember.isEnabled()

    dialog.password_edit.setText(demo_host.password)
    dialog.remember.setChecked(True)
    with qtbot.waitSignal(dialog.connected, timeout=15_000):
        qtbot.mouseClick(dialog.connect_button, Qt.MouseButton.LeftButton)

    assert [h.session.client.name for h in window.hosts] == ["127.0.0.1"]
    assert memory_keyring.passwords == {
        (KEYRING_SERVICE, credential_key(host.user, host.url)): demo_host.password}
    saved = json.loads(hosts_path().read_text(encoding="utf-8"))
    assert [entry["name"] for entry in saved["hosts"]] == ["lab"]  # kept its name
    assert demo_host.password not in hosts_path().read_text(encoding="utf-8")


def test_without_a_keyring_each_saved_host_is_asked_for_in_turn(
        qtbot: Any, opened: Any, demo_host: Any, no_keyring: Any) -> None:
    saved_demo(demo_host, "lab")
    other = SavedHost(url=dead_url(), name="other", auth="basic", user="ops")
    save_host(other)

    window = opened(plan_startup(window_args()))

    first = window._asking
    assert first.host_edit.text() == demo_host.url
    assert first.reason.text() == (
        "No password is saved for demo on lab, and hvmem cannot save one on this "
        "computer (see Account). Type it to connect.")
    assert "no system keyring was found" in first.keyring_note.text()
    assert first.keyring_note.isVisibleTo(first)
    assert not first.remember.isEnabled()
    first.password_edit.setText(demo_host.password)
    with qtbot.waitSignal(first.connected, timeout=15_000):
        qtbot.mouseClick(first.connect_button, Qt.MouseButton.LeftButton)

    second = window._asking  # only now, after the first was done
    assert second is not first and second.host_edit.text() == other.url
    assert second.user_edit.text() == "ops"
    second.reject()
    assert window._asking is None
    assert len(window.hosts) == 1
    assert demo_host.password not in hosts_path().read_text(encoding="utf-8")


def test_connecting_without_remember_keeps_the_password_out_of_the_keyring(
        qtbot: Any, opened: Any, demo_host: Any, memory_keyring: Any) -> None:
    window = opened(plan_startup(window_args("--demo")))
    from hvmem.gui.connect_dialog import open_connect_dialog

    dialog = open_connect_dialog(window)
    dialog.host_edit.setText(demo_host.url)
    dialog.auth_box.setCurrentIndex(dialog.auth_box.findData("basic"))
    dialog.other_user.setChecked(True)
    dialog.user_edit.setText(demo_host.user)
    dialog.password_edit.setText(demo_host.password)
    assert dialog.save_box.isChecked()  # offered, on by default
    with qtbot.waitSignal(dialog.connected, timeout=15_000):
        qtbot.mouseClick(dialog.connect_button, Qt.MouseButton.LeftButton)

    assert len(window.hosts) == 2
    assert memory_keyring.passwords == {}
    text = hosts_path().read_text(encoding="utf-8")
    assert demo_host.url in text and demo_host.password not in text
