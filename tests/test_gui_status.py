"""The status bar's result line: timed, replaced by the next result, dropped when a
refresh shows the VM otherwise, and elided (full text as tooltip) left of the memory
bar instead of running under it."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt

from hvmem.errors import ErrorKind, HvmemError

from test_gui_results import partial_resize
from test_gui_settings import open_dialog, type_into


def refresh(qtbot: Any, window: Any) -> None:
    with qtbot.waitSignal(window.poller.inventory_arrived, timeout=10_000):
        qtbot.waitUntil(lambda: not window.poller.in_flight, timeout=10_000)
        window.poller_refresh()


def apply_startup(qtbot: Any, window: Any, name: str, mb: int) -> Any:
    dialog = open_dialog(window, name)
    type_into(qtbot, dialog.page.startup_spin, str(mb))
    with qtbot.waitSignal(dialog.result_arrived, timeout=15_000) as arrived:
        qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.poller.in_flight, timeout=10_000)
    return arrived.args[0]


def test_a_result_line_goes_when_a_refresh_shows_the_vm_otherwise(
        demo_window: Any, demo_host: Any, qtbot: Any) -> None:
    result = apply_startup(qtbot, demo_window, "dev-win11", 10240)
    assert result.outcome == "applied"
    assert "10240 MB" in demo_window.status_text()

    refresh(qtbot, demo_window)  # nothing moved: the line still holds
    assert "10240 MB" in demo_window.status_text()

    # Someone else resizes the VM behind the window.
    demo_host.sim_host.set_memory(result.vm_id, {"startup_mb": 12288})
    refresh(qtbot, demo_window)
    assert demo_window.status_text() == ""


def test_a_second_partial_drops_the_first_ones_line(demo_window: Any, qtbot: Any,
                                                   fake_notifier: Any) -> None:
    partial_resize(demo_window, qtbot)
    fake_notifier.answer("keep")
    assert "kept what was achieved" in demo_window.status_text()

    dialog = demo_window.dialogs[next(iter(demo_window.dialogs))]
    type_into(qtbot, dialog.page.startup_spin, "24576")
    with qtbot.waitSignal(dialog.result_arrived, timeout=15_000) as arrived:
        qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)

    assert arrived.args[0].outcome in ("partial", "refused")
    assert demo_window.status_text() == ""  # the new outcome is in the box instead


def test_a_result_line_is_timed(demo_window: Any) -> None:
    demo_window.post_status("build-off is Running now.")
    timer = demo_window.status_line._timer
    assert timer.isActive() and timer.interval() == 15_000

    timer.timeout.emit()
    assert demo_window.status_text() == ""


def test_a_long_line_is_elided_left_of_the_memory_bar(demo_window: Any,
                                                       qtbot: Any) -> None:
    long_text = ("dev-win11: kept what was achieved. Asked for 20480 MB; the VM has "
                 "14234 MB now. Hyper-V: Failed to modify device 'Memory'. Not enough "
                 "memory in the system to start the virtual machine dev-win11.")
    demo_window.resize(1280, 760)
    demo_window.post_status(long_text)
    qtbot.wait(10)  # the status bar lays out

    label = demo_window.status_line.label
    bar = demo_window.host_memory_label
    label_right = label.mapTo(demo_window, QPoint(label.width(), 0)).x()
    bar_left = bar.mapTo(demo_window, QPoint(0, 0)).x()
    assert label.isVisible() and label_right <= bar_left
    assert label.text().endswith("…") and label.text() != long_text
    assert label.fontMetrics().horizontalAdvance(label.text()) <= label.width()
    assert label.toolTip() == long_text
    assert demo_window.status_text() == long_text


@pytest.mark.parametrize(("kind", "word"), [
    (ErrorKind.AUTH, "Sign-in refused"),
    (ErrorKind.TLS, "Certificate not trusted"),
    (ErrorKind.TIMEOUT, "Not responding"),
    (ErrorKind.UNREACHABLE, "Not responding"),
    (ErrorKind.AGENT, "Refresh failed"),
])
def test_a_failing_host_is_worded_by_its_failure_as_in_the_hosts_pane(
        demo_window: Any, kind: ErrorKind, word: str) -> None:
    error = HvmemError(kind, "The credentials were rejected", host="127.0.0.1")
    demo_window.poller._on_error(error)  # as a failed poll delivers it

    line = demo_window.poll_label.full_text()
    assert demo_window.hosts_pane.state_text(0).endswith(word)
    assert line == f"{demo_window.current_host.name}: {word} — {error.summary}"
    assert word != "Not responding" or kind in (ErrorKind.TIMEOUT, ErrorKind.UNREACHABLE)
    assert "not responding" not in line.lower() or word == "Not responding"
