"""Connect to Server: a second host joins the window; bad settings are refused there."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt

from hvmem.errors import ErrorKind, HvmemError
from hvmem.gui.connect_dialog import ConnectDialog
from hvmem.hosts import SavedHost, load_hosts


class FakeCredentials:
    """A keyring that works and remembers in memory."""

    available = True
    why_not = ""

    def __init__(self) -> None:
        self.stored: dict[tuple[str, str], str] = {}

    def get(self, user: str, url: str) -> str | None:
        return self.stored.get((user, url))

    def set(self, user: str, url: str, password: str) -> None:
        self.stored[(user, url)] = password


def make_dialog(qtbot: Any, window: Any, saved: list[SavedHost] | None = None) -> Any:
    credentials = FakeCredentials()
    dialog = ConnectDialog(window, saved=saved or [], credentials=credentials)
    qtbot.addWidget(dialog)
    dialog.connected.connect(window.add_session)
    dialog.show()
    return dialog


def fill(dialog: Any, url: str, auth: str, user: str, password: str) -> None:
    dialog.host_edit.setText(url)
    dialog.auth_box.setCurrentIndex(dialog.auth_box.findData(auth))
    dialog.other_user.setChecked(True)
    dialog.user_edit.setText(user)
    dialog.password_edit.setText(password)


def test_connecting_adds_the_host_saves_it_and_keeps_the_password_in_the_keyring(
        demo_window: Any, demo_host: Any, qtbot: Any) -> None:
    dialog = make_dialog(qtbot, demo_window)
    fill(dialog, demo_host.url, "basic", demo_host.user, demo_host.password)
    dialog.remember.setChecked(True)

    with qtbot.waitSignal(dialog.connected, timeout=15_000):
        qtbot.mouseClick(dialog.connect_button, Qt.MouseButton.LeftButton)

    assert len(demo_window.hosts) == 2 and demo_window.hosts_pane.list.count() == 2
    assert demo_window.current_host is demo_window.hosts[1]
    # The agent said it is simulated, so the window says so too.
    assert demo_window.hosts[1].session.simulated is True
    [saved] = load_hosts()
    assert saved.url == demo_host.url and saved.user == demo_host.user
    assert dialog.credentials.stored == {(demo_host.user, demo_host.url):
                                         demo_host.password}
    assert not dialog.isVisible()


def test_a_bad_address_is_refused_in_the_dialog(demo_window: Any, qtbot: Any) -> None:
    dialog = make_dialog(qtbot, demo_window)
    fill(dialog, "https://hv01:5986/api", "ntlm", "LAB\\admin", "pw")

    qtbot.mouseClick(dialog.connect_button, Qt.MouseButton.LeftButton)

    assert "path must be /wsman" in dialog.problem.text()
    assert not dialog.problem.isHidden() and not dialog.connecting
    assert len(demo_window.hosts) == 1


def test_basic_over_http_to_another_host_is_refused_with_its_rule(
        demo_window: Any, qtbot: Any) -> None:
    dialog = make_dialog(qtbot, demo_window)
    fill(dialog, "http://hv01:5985/wsman", "basic", "admin", "pw")

    qtbot.mouseClick(dialog.connect_button, Qt.MouseButton.LeftButton)

    assert "unencrypted" in dialog.problem.text()
    assert not dialog.connecting


def test_a_refused_password_is_shown_and_the_dialog_stays(demo_window: Any,
                                                          demo_host: Any,
                                                          qtbot: Any) -> None:
    dialog = make_dialog(qtbot, demo_window)
    fill(dialog, demo_host.url, "basic", demo_host.user, "wrong")
    dialog.save_box.setChecked(False)

    qtbot.mouseClick(dialog.connect_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.connecting, timeout=15_000)

    assert dialog.isVisible() and not dialog.problem.isHidden()
    assert dialog.problem.text()
    assert len(demo_window.hosts) == 1 and load_hosts() == []


def test_a_saved_host_fills_the_fields(demo_window: Any, qtbot: Any) -> None:
    saved = SavedHost(url="hv02.lab.local", auth="kerberos", user="LAB\\ops",
                      read_timeout_s=60)
    dialog = make_dialog(qtbot, demo_window, [saved])

    dialog.saved_box.setCurrentIndex(1)

    assert dialog.host_edit.text() == "https://hv02.lab.local:5986/wsman"
    assert dialog.auth_box.currentData() == "kerberos"
    assert dialog.user_edit.text() == "LAB\\ops" and dialog.read_spin.value() == 60


def test_a_long_failure_never_squeezes_the_login_fields(demo_window: Any,
                                                         demo_host: Any,
                                                         qtbot: Any) -> None:
    dialog = make_dialog(qtbot, demo_window)
    fill(dialog, demo_host.url, "basic", demo_host.user, "wrong")
    dialog.save_box.setChecked(False)
    long_hint = " ".join(["Check the user name, the password and the method."] * 12)

    qtbot.mouseClick(dialog.connect_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.connecting, timeout=15_000)
    dialog.show_problem(HvmemError(ErrorKind.AUTH, "The credentials were rejected",
                                   hint=long_hint))
    qtbot.wait(50)

    for field in (dialog.user_edit, dialog.password_edit):
        assert field.height() >= field.sizeHint().height()
    assert long_hint in dialog.problem.toolTip() + dialog.problem.text()


def test_editing_the_host_clears_the_old_failure(demo_window: Any, qtbot: Any) -> None:
    dialog = make_dialog(qtbot, demo_window)
    dialog.show_problem(HvmemError(ErrorKind.UNREACHABLE, "hv01 did not answer"))

    dialog.host_edit.setText("hv02")

    assert dialog.problem.isHidden()


def test_connecting_to_an_open_host_picks_it_instead_of_adding_it_again(
        demo_window: Any, demo_host: Any, qtbot: Any) -> None:
    # The second address is written another way: the same host, the same URL.
    for url in (demo_host.url, demo_host.url.removesuffix("/wsman").upper()):
        dialog = make_dialog(qtbot, demo_window)
        fill(dialog, url, "basic", demo_host.user, demo_host.password)
        dialog.save_box.setChecked(False)
        demo_window.hosts_pane.set_current(0)
        with qtbot.waitSignal(dialog.connected, timeout=15_000):
            qtbot.mouseClick(dialog.connect_button, Qt.MouseButton.LeftButton)

    assert len(demo_window.hosts) == 2 and demo_window.hosts_pane.list.count() == 2
    assert demo_window.current_host is demo_window.hosts[1]
    assert "already open" in demo_window.status_line.text()


def test_basic_is_not_called_https_only(demo_window: Any, qtbot: Any) -> None:
    dialog = make_dialog(qtbot, demo_window)

    label = dialog.auth_box.itemText(dialog.auth_box.findData("basic"))

    assert "only" not in label and "loopback" in label


def test_a_missing_user_name_says_to_tick_connect_as_another_user(
        demo_window: Any, qtbot: Any) -> None:
    dialog = make_dialog(qtbot, demo_window)
    dialog.host_edit.setText("hv01")
    dialog.auth_box.setCurrentIndex(dialog.auth_box.findData("ntlm"))
    dialog.other_user.setChecked(False)

    qtbot.mouseClick(dialog.connect_button, Qt.MouseButton.LeftButton)

    assert "tick connect as another user" in dialog.problem.text().lower()
    assert not dialog.connecting
