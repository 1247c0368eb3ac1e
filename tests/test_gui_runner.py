"""The runner and the poller: work off the GUI thread, answers on it, no overlap."""

from __future__ import annotations

import logging
import threading
from typing import Any

import pytest
from PySide6.QtCore import QThread

from hvmem.errors import ErrorKind, HvmemError
from hvmem.gui.poller import HostPoller, PollState
from hvmem.gui.runner import Runner
from hvmem.model import HostSnapshot, Inventory


@pytest.fixture
def runner(qapp: Any) -> Any:
    runner = Runner()
    yield runner
    runner.shutdown()


def on_gui_thread() -> bool:
    from PySide6.QtWidgets import QApplication

    return QThread.currentThread() is QApplication.instance().thread()


def test_result_comes_back_on_the_gui_thread(runner: Any, qtbot: Any) -> None:
    seen: dict[str, Any] = {}

    def work() -> str:
        seen["worker_is_gui"] = on_gui_thread()
        return "done"

    def success(value: str) -> None:
        seen["value"], seen["callback_is_gui"] = value, on_gui_thread()

    job = runner.submit("test work", work, success)
    with qtbot.waitSignal(job.finished, timeout=5000):
        pass

    assert seen == {"worker_is_gui": False, "value": "done", "callback_is_gui": True}
    assert runner.active_count() == 0


def test_hvmem_error_reaches_on_error(runner: Any, qtbot: Any) -> None:
    failure = HvmemError(ErrorKind.AUTH, "The host refused the credentials", host="HV01")
    errors: list[Any] = []

    def work() -> None:
        raise failure

    job = runner.submit("failing work", work, on_error=errors.append)
    with qtbot.waitSignal(job.failed, timeout=5000) as failed:
        pass

    assert errors == [failure] and failed.args == [failure]


def test_other_exceptions_are_wrapped_and_logged(runner: Any, qtbot: Any,
                                                 caplog: Any) -> None:
    errors: list[HvmemError] = []

    def work() -> None:
        raise KeyError("startup_bytes")

    with caplog.at_level(logging.DEBUG, logger="hvmem.gui"):
        job = runner.submit("parse the answer", work, on_error=errors.append)
        with qtbot.waitSignal(job.finished, timeout=5000):
            pass

    [error] = errors
    assert error.kind is ErrorKind.INTERNAL
    assert "parse the answer" in error.summary
    assert "KeyError" in error.details
    assert any(record.exc_info for record in caplog.records)  # the traceback, in the log
    assert not any(record.exc_info for record in caplog.records
                   if record.levelno >= logging.WARNING)  # not on stderr


class BlockingClient:
    """A client whose `list` waits until released, counting calls."""

    name = "HV01"

    def __init__(self) -> None:
        self.release = threading.Event()
        self.calls = 0
        self.fail = False

    def list(self) -> Inventory:
        self.calls += 1
        self.release.wait(5)
        if self.fail:
            raise HvmemError(ErrorKind.UNREACHABLE, "HV01 does not answer", host="HV01")
        return Inventory(HostSnapshot("HV01", 1024, 512), ())


def test_a_poll_never_overlaps_the_previous_one(runner: Any, qtbot: Any) -> None:
    client = BlockingClient()
    poller = HostPoller(client, runner, interval_ms=60_000)  # type: ignore[arg-type]

    assert poller.poll_now() is True
    assert poller.poll_now() is False
    with qtbot.waitSignal(poller.inventory_arrived, timeout=5000):
        client.release.set()

    assert client.calls == 1
    assert poller.state is PollState.OK
    assert poller.poll_now() is True
    with qtbot.waitSignal(poller.inventory_arrived, timeout=5000):
        pass
    assert client.calls == 2


def test_repeated_failures_warn_once(runner: Any, qtbot: Any, caplog: Any) -> None:
    client = BlockingClient()
    client.fail = True
    client.release.set()
    poller = HostPoller(client, runner, interval_ms=60_000)  # type: ignore[arg-type]
    states: list[PollState] = []
    poller.state_changed.connect(states.append)

    with caplog.at_level(logging.DEBUG, logger="hvmem.gui"):
        for _ in range(3):
            with qtbot.waitSignal(poller.poll_failed, timeout=5000):
                poller.poll_now()

    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "HV01 does not answer" in warnings[0].getMessage()
    assert states == [PollState.FAILING]
    assert poller.last_error is not None
    assert poller.last_error.kind is ErrorKind.UNREACHABLE
