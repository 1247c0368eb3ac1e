"""The Hyper-V Manager layout: hosts pane, column chooser, filter, pause, remembered view,
several hosts where a stalled one never delays another."""

from __future__ import annotations

import threading
from typing import Any

from hvmem.gui.main_window import MainWindow
from hvmem.gui.poller import PollState
from hvmem.gui.session import HostSession
from hvmem.gui.settings_store import GuiSettings
from hvmem.gui.vm_table import COLUMN_INDEX
from hvmem.hyperv.client import HostClient


def visible_names(window: Any) -> list[str]:
    return sorted(window.proxy.index(r, 0).data() for r in range(window.proxy.rowCount()))


def test_hosts_pane_shows_the_host_and_its_state(demo_window: Any) -> None:
    pane = demo_window.hosts_pane

    assert pane.list.count() == 1
    assert pane.list.item(0).text().startswith("DESKTOP-HV\n")
    assert pane.state_text(0) == "Simulated · Connected"
    assert demo_window.actions_pane.host_section.header.text() == "DESKTOP-HV"


def test_filter_box_keeps_only_matching_names(demo_window: Any, qtbot: Any) -> None:
    qtbot.keyClicks(demo_window.filter_edit, "WIN")

    assert visible_names(demo_window) == ["dev-win11", "win10-paused"]
    demo_window.filter_edit.clear()
    assert len(visible_names(demo_window)) == len(demo_window.inventory.vms)


def test_column_chooser_hides_a_column_and_remembers_it(demo_window: Any) -> None:
    chooser = demo_window.columns
    uptime = COLUMN_INDEX["Uptime"]
    assert not demo_window.table.isColumnHidden(uptime)
    assert demo_window.table.isColumnHidden(COLUMN_INDEX["Startup Memory"])  # default

    chooser.actions["Uptime"].trigger()

    assert demo_window.table.isColumnHidden(uptime)
    assert "Uptime" in GuiSettings(demo_window.settings.path).hidden_columns
    assert not chooser.actions["Name"].isEnabled()  # the name always stays


def test_pause_stops_the_timer_and_is_remembered(demo_window: Any) -> None:
    demo_window.set_interval(60_000)  # keep tests free of timed polls
    demo_window.window_actions.pause.trigger()

    assert demo_window.poller.paused
    assert "refresh paused" in demo_window.poll_label.full_text()
    assert GuiSettings(demo_window.settings.path).paused

    demo_window.window_actions.pause.trigger()
    assert not demo_window.poller.paused
    assert not GuiSettings(demo_window.settings.path).paused


def test_interval_is_remembered(demo_window: Any) -> None:
    demo_window.set_interval(10_000)

    assert demo_window.poller._timer.interval() == 10_000
    assert GuiSettings(demo_window.settings.path).interval_ms == 10_000


def test_geometry_and_columns_come_back_in_a_new_window(qtbot: Any, tmp_path: Any,
                                                        fake_notifier: Any) -> None:
    settings = GuiSettings(tmp_path / "gui.ini")
    first = MainWindow(notifier=fake_notifier, settings=settings)
    qtbot.addWidget(first)
    first.resize(700, 500)  # within the offscreen screen's 800 x 600
    first.columns.actions["CPU Usage"].trigger()
    first.save_view()

    second = MainWindow(notifier=fake_notifier,
                        settings=GuiSettings(tmp_path / "gui.ini"))
    qtbot.addWidget(second)

    assert second.size().width() == 700 and second.size().height() == 500
    assert second.table.isColumnHidden(COLUMN_INDEX["CPU Usage"])
    assert second.windowTitle() == "hvmem"
    assert "Connect to Server" in second.poll_label.full_text()


class _StalledChannel:
    """A channel whose every request waits until the test lets it go."""

    def __init__(self) -> None:
        self.release = threading.Event()

    description = "a host that never answers"

    def call(self, op: str, args: Any, timeout: float) -> Any:
        self.release.wait(10)
        from hvmem.errors import ErrorKind, HvmemError

        raise HvmemError(ErrorKind.TIMEOUT, "HV-STALLED did not answer in time")

    def close(self) -> None:
        self.release.set()


def test_a_stalled_host_does_not_delay_another(demo_window: Any, demo_host: Any,
                                               qtbot: Any) -> None:
    stalled = _StalledChannel()
    slow = HostClient(stalled, "HV-STALLED", retry_reads=False)  # type: ignore[arg-type]
    stalled_host = demo_window.add_session(HostSession(slow, "HV-STALLED"))
    demo_window.start()
    try:
        assert stalled_host.poller.in_flight  # its first poll hangs
        healthy = demo_window.hosts[0]

        for _ in range(2):  # the healthy host answers again and again meanwhile
            with qtbot.waitSignal(healthy.poller.inventory_arrived, timeout=10_000):
                healthy.poller.poll_now()

        assert stalled_host.poller.in_flight
        assert demo_window.hosts_pane.state_text(1) == "Connecting…"
        assert demo_window.windowTitle().endswith("HV-STALLED")  # the new host is current
    finally:
        stalled.release.set()
    with qtbot.waitSignal(stalled_host.poller.poll_failed, timeout=10_000):
        pass
    assert stalled_host.state is PollState.FAILING
    assert demo_window.hosts_pane.state_text(1) == "Not responding"


def test_disconnect_drops_the_host_and_closes_its_session(demo_window: Any,
                                                          qtbot: Any) -> None:
    host = demo_window.current_host
    closed: list[bool] = []
    host.session.closers.append(lambda: closed.append(True))

    demo_window.window_actions.disconnect_host.trigger()
    qtbot.waitUntil(lambda: closed == [True], timeout=10_000)

    assert demo_window.hosts == [] and demo_window.hosts_pane.list.count() == 0
    assert demo_window.model.rowCount() == 0
    assert not demo_window.window_actions.refresh.isEnabled()
