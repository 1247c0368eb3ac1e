"""Closing the window while a host hangs: it stops the pollers, waits about a second in
all (never the old 30 s) for running work on the GUI thread, closes the sessions on
daemon threads, and drops the hung call's late answer. Nothing left running is a
non-daemon thread, so the process can exit at once."""

from __future__ import annotations

import threading
from typing import Any

from hvmem.gui.poller import PollState
from hvmem.gui.runner import SHUTDOWN_WAIT_MS
from hvmem.gui.session import HostSession
from hvmem.hyperv.client import HostClient


class _HungChannel:
    """A host that never answers: every call, and closing, wait until released."""

    description = "a host that hangs"

    def __init__(self) -> None:
        self.release = threading.Event()
        self.started = threading.Event()
        self.finished = 0
        self.closed = 0

    def call(self, op: str, args: Any, timeout: float) -> Any:
        self.started.set()
        self.release.wait(10)
        self.finished += 1
        from hvmem.errors import ErrorKind, HvmemError

        raise HvmemError(ErrorKind.TIMEOUT, "HV-HUNG did not answer in time")

    def close(self) -> None:
        self.release.wait(10)  # as a WinRM close waits for the call in flight
        self.closed += 1


def hvmem_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("hvmem-")]


def test_closing_while_a_host_hangs_waits_a_second_at_most(
        demo_window: Any, qtbot: Any, fake_notifier: Any) -> None:
    hung = _HungChannel()
    client = HostClient(hung, "HV-HUNG", retry_reads=False)  # type: ignore[arg-type]
    hung_host = demo_window.add_session(
        HostSession(client, "HV-HUNG", closers=[client.close]))
    demo_window.start()
    assert hung.started.wait(5) and hung_host.poller.in_flight

    waited: dict[str, list[int]] = {}
    for host in demo_window.hosts:
        def recording(msecs: int = 30000, real: Any = host.runner.wait_for_done,
                      name: str = host.name) -> bool:
            waited.setdefault(name, []).append(msecs)
            return bool(real(msecs))

        host.runner.wait_for_done = recording
    try:
        demo_window.close()

        # The close returned while the call and the session's close still hang.
        assert hung.finished == 0 and hung.closed == 0
        # Each host's runner was given a share of one second, the hung one included.
        assert set(waited) == {"DESKTOP-HV", "HV-HUNG"}
        assert all(0 <= ms <= SHUTDOWN_WAIT_MS for ms in sum(waited.values(), []))
        left = hvmem_threads()
        assert any(t.name == "hvmem-close-HV-HUNG" for t in left)
        assert all(t.daemon for t in left)  # none of them holds the process
    finally:
        hung.release.set()

    qtbot.waitUntil(lambda: not hvmem_threads(), timeout=10_000)
    qtbot.wait(50)  # the hung poll's late answer reaches the event loop, unheard
    assert hung.finished == 1 and hung.closed == 1
    assert hung_host.poller.state is PollState.STOPPED
    assert hung_host.runner.active_count() == 0
    assert fake_notifier.shown == []
