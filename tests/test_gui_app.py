"""`hvmem` with no command: the demo session, and a start failure told in a sentence."""

from __future__ import annotations

import argparse
import logging
from typing import Any

import pytest

from hvmem.errors import ErrorKind, HvmemError
from hvmem.gui import app


class _CurrentStderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is when a record comes (capsys swaps it)."""

    def emit(self, record: logging.LogRecord) -> None:
        import sys

        self.stream = sys.stderr
        super().emit(record)


@pytest.fixture
def hvmem_log_to_stderr(monkeypatch: Any) -> None:
    """hvmem's logger as `hvmem` sets it up: warnings and up on stderr."""
    handler = _CurrentStderrHandler()
    handler.setLevel(logging.WARNING)
    monkeypatch.setattr(logging.getLogger("hvmem"), "handlers", [handler])


def test_demo_session_names_the_simulated_host_and_stops_it(qapp: Any) -> None:
    session = app.open_demo_session(seed=1)
    try:
        inventory = session.client.list()
    finally:
        session.close()

    assert session.simulated
    assert session.title == f"{inventory.host.name} (simulated Hyper-V host)"
    assert session.closers == []  # each ran once; the thread guard checks the server


def test_a_start_failure_is_a_sentence_and_a_box(qapp: Any, fake_notifier: Any,
                                                 capsys: Any,
                                                 hvmem_log_to_stderr: None) -> None:
    def no_session(_args: argparse.Namespace) -> Any:
        raise HvmemError(ErrorKind.UNREACHABLE, "HV01 does not answer on port 5985",
                         details="ConnectTimeout", hint="Check that WinRM is enabled.")

    status = app.run(argparse.Namespace(), notifier_factory=lambda: fake_notifier,
                     session_factory=no_session)

    err = capsys.readouterr().err
    assert status == 1
    assert "hvmem cannot start: HV01 does not answer on port 5985" in err
    assert "Traceback" not in err
    [shown] = fake_notifier.shown
    assert shown.kind == "blocking" and "Check that WinRM" in shown.message.informative


def test_an_unexpected_start_failure_is_still_a_sentence(
        qapp: Any, fake_notifier: Any, capsys: Any, hvmem_log_to_stderr: None) -> None:
    def broken(_args: argparse.Namespace) -> Any:
        raise ValueError("scenario file is empty")

    status = app.run(argparse.Namespace(), notifier_factory=lambda: fake_notifier,
                     session_factory=broken)

    err = capsys.readouterr().err
    assert status == 1
    assert "ValueError: scenario file is empty" in err and "Traceback" not in err


def test_a_named_host_opens_as_hvmem_list_would(qapp: Any, demo_host: Any,
                                                monkeypatch: Any) -> None:
    from hvmem.cli_commands import PASSWORD_ENV

    monkeypatch.setenv(PASSWORD_ENV, demo_host.password)
    args = argparse.Namespace(host=demo_host.url, auth="basic", user=demo_host.user)

    session = app.open_session(args)
    try:
        inventory = session.client.list()
    finally:
        session.close()

    assert not session.simulated
    assert session.title == session.name == session.client.name
    assert len(inventory.vms) == len(demo_host.sim_host.vms())


def test_run_shows_the_demo_and_stops_it_when_the_window_closes(
        qapp: Any, qtbot: Any, fake_notifier: Any) -> None:
    import sys

    from PySide6.QtCore import QTimer

    from hvmem.gui.main_window import MainWindow

    sessions: list[Any] = []
    titles: list[str] = []

    def demo(_args: argparse.Namespace) -> Any:
        sessions.append(app.open_demo_session(seed=1))
        return sessions[-1]

    def close_when_shown() -> None:
        windows = [w for w in qapp.topLevelWidgets() if isinstance(w, MainWindow)
                   and w.isVisible() and w.inventory is not None]
        if not windows:
            QTimer.singleShot(50, close_when_shown)
            return
        titles.append(windows[0].windowTitle())
        windows[0].close()

    hook = sys.excepthook
    QTimer.singleShot(50, close_when_shown)
    status = app.run(argparse.Namespace(), notifier_factory=lambda: fake_notifier,
                     session_factory=demo)

    assert status == 0
    assert titles == ["hvmem — DESKTOP-HV (simulated Hyper-V host)"]
    assert sessions[0].closers == []  # client closed and demo stopped
    assert sys.excepthook is hook
