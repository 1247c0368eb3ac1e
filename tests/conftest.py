"""Shared test fixtures: Qt offscreen, no real modal boxes, no threads left behind.

* Qt runs on the offscreen platform unless QT_QPA_PLATFORM says otherwise.
* A session-wide guard makes every way of opening a modal box raise at once (F25), so an
  error path that forgets the injectable notifier fails the test instead of hanging it.
* A guard fails any test that leaves a Python thread or a runner job behind.
* GUI fixtures: a recording notifier, a demo host over real WinRM on loopback (always
  stopped), and the main window on it.
"""

from __future__ import annotations

import os

# Before anything imports Qt: offscreen by default, overridable from the environment.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import threading  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402

# Qt messages the offscreen platform itself prints; they say nothing about hvmem.
QT_LOG_ALLOWED = (
    "This plugin does not support propagateSizeHints()",
    "This plugin does not support raise()",
    "This plugin does not support grabbing the keyboard",
)


def pytest_configure(config: pytest.Config) -> None:
    for pattern in QT_LOG_ALLOWED:
        config.addinivalue_line("qt_log_ignore", pattern.replace("(", r"\(")
                                .replace(")", r"\)"))


# --- no real modal boxes (F25) ------------------------------------------------------


class ModalDialogReached(AssertionError):
    """A test reached a real modal dialog; it must go through a fake notifier."""


def _refuse(name: str) -> Any:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise ModalDialogReached(f"{name} reached in a test; inject a fake notifier")

    return refuse


@pytest.fixture(scope="session", autouse=True)
def _no_modal_dialogs() -> Iterator[None]:
    from PySide6.QtWidgets import QDialog, QMessageBox

    patch = pytest.MonkeyPatch()
    for method in ("exec", "exec_", "open"):
        if hasattr(QMessageBox, method):
            patch.setattr(QMessageBox, method, _refuse(f"QMessageBox.{method}"))
    patch.setattr(QMessageBox, "show", _refuse("QMessageBox.show"))
    patch.setattr(QDialog, "exec", _refuse("QDialog.exec"))
    for helper in ("information", "warning", "critical", "question", "about", "aboutQt"):
        patch.setattr(QMessageBox, helper, staticmethod(_refuse(f"QMessageBox.{helper}")))
    yield
    patch.undo()


# --- no threads or jobs left behind -------------------------------------------------


def _live_threads() -> set[threading.Thread]:
    # Dummy threads are Qt's pool threads seen from Python; the runner check covers them.
    return {t for t in threading.enumerate()
            if t.is_alive() and not isinstance(t, threading._DummyThread)}


@pytest.fixture(autouse=True)
def _no_threads_left() -> Iterator[None]:
    before = _live_threads()
    yield

    deadline = time.monotonic() + 3.0
    left = _live_threads() - before
    while left and time.monotonic() < deadline:
        time.sleep(0.02)
        left = _live_threads() - before
    names = sorted(t.name for t in left)
    assert not left, f"threads left running after the test: {names}"

    import sys

    if "hvmem.gui.runner" in sys.modules:
        from hvmem.gui.runner import runners_with_work

        busy = runners_with_work()
        assert not busy, f"runner jobs left undelivered: {busy}"


# --- GUI fixtures ---------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _gui_settings_in_tmp(tmp_path_factory: Any, monkeypatch: Any) -> None:
    """Settings and logs go to fresh folders, never the user's: a test run beside a
    running hvmem must not rotate its log file under it."""
    monkeypatch.setenv("HVMEM_CONFIG_DIR", str(tmp_path_factory.mktemp("config")))
    monkeypatch.setenv("HVMEM_LOG_DIR", str(tmp_path_factory.mktemp("log")))


@dataclass
class Shown:
    """One box a fake notifier was asked to show (for `ask`: its choices, and the
    callback that `RecordingNotifier.answer` calls as the user would)."""

    kind: str
    message: Any
    parent: Any
    on_gui_thread: bool
    choices: tuple[tuple[str, str], ...] = ()
    on_answer: Any = None
    default: str = ""


@pytest.fixture
def fake_notifier(qapp: Any) -> Any:
    """A notifier that records what it would show, and where it was called from."""
    from PySide6.QtCore import QThread

    from hvmem.gui.notifier import Notifier

    class RecordingNotifier(Notifier):
        def __init__(self) -> None:
            super().__init__()
            self.shown: list[Shown] = []

        def _record(self, kind: str, message: Any, parent: Any) -> None:
            on_gui = QThread.currentThread() is qapp.thread()
            self.shown.append(Shown(kind, message, parent, on_gui))

        def show_message(self, message: Any, parent: Any = None) -> None:
            self._record("message", message, parent)

        def show_blocking(self, message: Any, parent: Any = None) -> None:
            self._record("blocking", message, parent)

        def ask(self, message: Any, choices: Any, on_answer: Any, parent: Any = None,
                escape: str = "", default: str = "") -> None:
            self._record("ask", message, parent)
            self.shown[-1].choices = tuple(choices)
            self.shown[-1].on_answer = on_answer
            # What Enter would take, as the real box works it out.
            self.shown[-1].default = default or escape or tuple(choices)[-1][0]

        def answer(self, key: str) -> None:
            """Answer the last question still open, as the user would."""
            asked = [s for s in self.shown if s.kind == "ask" and s.on_answer]
            assert asked, "nothing was asked"
            question = asked[-1]
            assert key in [k for k, _label in question.choices], question.choices
            on_answer, question.on_answer = question.on_answer, None
            on_answer(key)

    return RecordingNotifier()


@pytest.fixture
def demo_host() -> Iterator[Any]:
    """The desktop scenario served over real WinRM on loopback, stopped after the test."""
    from hvmem.sim.demo import start_demo

    demo = start_demo("desktop", seed=1)
    try:
        yield demo
    finally:
        demo.stop()


@pytest.fixture
def demo_window(qtbot: Any, demo_host: Any, fake_notifier: Any) -> Iterator[Any]:
    """The main window on the demo host, its first inventory shown; shut down after."""
    from hvmem.gui.main_window import MainWindow
    from hvmem.gui.session import HostSession

    client = demo_host.client()
    session = HostSession(client, demo_host.sim_host.name, simulated=True,
                          closers=[client.close])
    # A long interval: tests poll when they mean to, so nothing races them.
    window = MainWindow(session, notifier=fake_notifier, poll_interval_ms=60_000)
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(window.poller.inventory_arrived, timeout=10_000):
        window.start()
    try:
        yield window
    finally:
        window.shutdown()
        session.close()
